// What needs an employer's attention: the ends coming within 180 days (or
// passed while the placement goes on), soonest first, in both languages;
// nothing for a permanent contract without ends, or once it is over.
#include "domain/attention.h"

#include <gtest/gtest.h>

#include "tests/domain/domain_test_util.h"

namespace duurzaam::domain {
namespace {

using testing::D;
using testing::History;

History Hire(ContractType contract, std::optional<Date> end) {
  History h;
  h.Add(D(2026, 1, 5), CaseOpened{"worker-1", "acme", "Twente", "Wajong"});
  h.Add(D(2026, 2, 1), Hired{contract, end, 32, "", ""});
  return h;
}

std::vector<Attention> On(const History& h, Date as_of) {
  return EmployerAttention(FoldAsOf(h.events(), as_of), as_of);
}

TEST(AttentionTest, EndsWithinTheWindowSoonestFirstInBothLanguages) {
  History h = Hire(ContractType::kFixedTerm, D(2027, 1, 31));
  const std::string hire = h.LastId();
  h.Add(D(2026, 3, 1), SubsidyGranted{SubsidyKind::kWageCostSubsidy, 60, D(2026, 12, 31)});
  const std::string subsidy = h.LastId();
  h.Add(D(2026, 3, 1), NoRiskCoverGranted{D(2031, 2, 1)});  // far off: not listed
  const auto items = On(h, D(2026, 12, 6));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, AttentionKind::kSubsidyEnd);
  EXPECT_EQ(items[0].on, D(2026, 12, 31));
  EXPECT_EQ(items[0].days, 25);
  EXPECT_EQ(items[0].event_id, subsidy);
  EXPECT_EQ(items[0].text.nl, "De loonkostensubsidie eindigt op 2026-12-31 (over 25 dagen)");
  EXPECT_EQ(items[0].text.en, "The wage-cost subsidy ends on 2026-12-31 (in 25 days)");
  EXPECT_EQ(items[1].kind, AttentionKind::kContractEnd);
  EXPECT_EQ(items[1].days, 56);
  EXPECT_EQ(items[1].event_id, hire);
  EXPECT_EQ(items[1].text.nl, "Het tijdelijke contract eindigt op 2027-01-31 (over 56 dagen)");
  // 181 days ahead is outside the window; 180 is inside.
  EXPECT_TRUE(On(Hire(ContractType::kFixedTerm, D(2027, 6, 5)), D(2026, 12, 6)).empty());
  EXPECT_EQ(On(Hire(ContractType::kFixedTerm, D(2027, 6, 4)), D(2026, 12, 6)).size(), 1u);
}

TEST(AttentionTest, APassedEndStaysWhileThePlacementGoesOnAndTheCoverCounts) {
  History h = Hire(ContractType::kFixedTerm, D(2026, 11, 30));
  h.Add(D(2026, 3, 1), NoRiskCoverGranted{D(2026, 12, 7)});
  const auto items = On(h, D(2026, 12, 6));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, AttentionKind::kContractEnd);
  EXPECT_EQ(items[0].days, -6);
  EXPECT_EQ(items[0].text.en, "The fixed-term contract ended on 2026-11-30 (6 days ago)");
  EXPECT_EQ(items[1].kind, AttentionKind::kCoverEnd);
  EXPECT_EQ(items[1].text.nl, "De no-riskpolis eindigt op 2026-12-07 (morgen)");
}

TEST(AttentionTest, NothingForAPermanentContractAnEndedCoverOrAClosedCase) {
  History permanent = Hire(ContractType::kPermanent, std::nullopt);
  EXPECT_TRUE(On(permanent, D(2026, 12, 6)).empty());
  // A contract change to permanent drops the fixed-term end.
  History changed = Hire(ContractType::kFixedTerm, D(2027, 1, 31));
  changed.Add(D(2026, 6, 1), ContractChanged{ContractType::kPermanent, std::nullopt, 32});
  EXPECT_TRUE(On(changed, D(2026, 12, 6)).empty());
  // A cover that ended is no longer something to watch.
  History cover = Hire(ContractType::kPermanent, std::nullopt);
  cover.Add(D(2026, 3, 1), NoRiskCoverGranted{D(2026, 12, 31)});
  EXPECT_EQ(On(cover, D(2026, 12, 6)).size(), 1u);
  cover.Add(D(2026, 4, 1), NoRiskCoverEnded{});
  EXPECT_TRUE(On(cover, D(2026, 12, 6)).empty());
  // A closed case: nothing.
  History closed = Hire(ContractType::kFixedTerm, D(2027, 1, 31));
  closed.Add(D(2026, 6, 1), CaseClosed{"verhuisd"});
  EXPECT_TRUE(On(closed, D(2026, 12, 6)).empty());
  // Before the hire, no contract to end.
  History opened;
  opened.Add(D(2026, 1, 5), CaseOpened{"worker-1", "acme", "Twente", "Wajong"});
  EXPECT_TRUE(On(opened, D(2026, 12, 6)).empty());
}

}  // namespace
}  // namespace duurzaam::domain
