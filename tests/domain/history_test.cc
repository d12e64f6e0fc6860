// Status over time for auditors: both clocks, the ruleset in force on each
// day, and the history of level changes.
#include "domain/history.h"

#include <gtest/gtest.h>

#include "tests/domain/domain_test_util.h"

namespace duurzaam::domain {
namespace {

using testing::D;
using testing::History;
using testing::SustainablePlacement;

std::vector<const Event*> Refs(const History& h) {
  std::vector<const Event*> refs;
  for (const Event& e : h.events()) refs.push_back(&e);
  return refs;
}

TEST(RulesetVersionsTest, EachDayIsJudgedByTheVersionInForce) {
  ASSERT_GE(PublishedRulesets().size(), 2u);
  EXPECT_EQ(RulesetInForce(D(2024, 3, 1)).version, "2025.1");
  EXPECT_EQ(RulesetInForce(D(2025, 12, 31)).version, "2025.1");
  EXPECT_EQ(RulesetInForce(D(2026, 1, 1)).version, "2026.1");
  EXPECT_EQ(RulesetInForce(D(2010, 1, 1)).version, "2025.1");  // before every version: the first
  EXPECT_EQ(&CurrentRuleset(), &PublishedRulesets().back());
  ASSERT_NE(FindRuleset("2025.1"), nullptr);
  EXPECT_EQ(FindRuleset("2025.1")->sustainable_after_days, 730);
  EXPECT_EQ(FindRuleset("1999.9"), nullptr);
  for (size_t i = 1; i < PublishedRulesets().size(); ++i) {
    EXPECT_LT(PublishedRulesets()[i - 1].in_force_from, PublishedRulesets()[i].in_force_from);
  }
}

TEST(StatusHistoryTest, ACaseJudgedUnderTheOlderRulesetKeepsThatJudgement) {
  // Sustainable on 2024-03-01 under today's rules (a year in post), but in
  // 2024 the rules in force (2025.1) wanted two years: it was VULNERABLE.
  History h = SustainablePlacement();
  const auto events = Refs(h);
  CaseStatus then = StatusOn(events, D(2024, 3, 1), Clock::kAsKnown);
  EXPECT_EQ(then.ruleset_version, "2025.1");
  EXPECT_EQ(then.level, StatusLevel::kVulnerable);
  EXPECT_EQ(Evaluate(FoldAsOf(h.events(), D(2024, 3, 1)), D(2024, 3, 1), CurrentRuleset()).level,
            StatusLevel::kSustainable);

  // Its history: the level changed to SUSTAINABLE two years after hire
  // under 2025.1 (2025-01-02), and each change names its version.
  auto changes = StatusHistory(events, D(2026, 6, 1), Clock::kAsNowKnown);
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(changes.front().first);
  bool sustainable_2025 = false;
  for (const LevelChange& c : changes) {
    EXPECT_EQ(c.ruleset_version, RulesetInForce(c.on).version);
    EXPECT_EQ(c.status.ruleset_version, c.ruleset_version);
    if (c.to == StatusLevel::kSustainable && c.on.year() == 2025) sustainable_2025 = true;
  }
  EXPECT_TRUE(sustainable_2025);
}

TEST(StatusHistoryTest, EachChangeNamesItsCause) {
  History h;
  h.Add(D(2026, 1, 5), CaseOpened{"w", "employer:acme", "Groot Amsterdam", "Wajong"});
  h.Add(D(2026, 1, 6), Hired{ContractType::kPermanent, std::nullopt, 32, "magazijn", ""});
  h.Add(D(2026, 3, 2), EmploymentEnded{EndReason::kResignation});
  const std::string ended = h.LastId();
  auto changes = StatusHistory(Refs(h), D(2026, 4, 1), Clock::kAsNowKnown);
  ASSERT_GE(changes.size(), 2u);
  const LevelChange& last = changes.back();
  EXPECT_EQ(last.to, StatusLevel::kEnded);
  EXPECT_EQ(last.on, D(2026, 3, 2));
  ASSERT_EQ(last.events.size(), 1u);
  EXPECT_EQ(last.events[0], ended);
  EXPECT_FALSE(last.rules_added.empty());
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_NE(changes[i].from, changes[i].to);
    EXPECT_EQ(changes[i].from, changes[i - 1].to);
    EXPECT_LT(changes[i - 1].on, changes[i].on);
  }
}

TEST(StatusHistoryTest, TheTwoClocksDifferForALateRecord) {
  // The employment ended on 1 March, but was only recorded on 1 May.
  History h;
  h.Add(D(2026, 1, 5), CaseOpened{"w", "employer:acme", "Groot Amsterdam", "Wajong"});
  h.Add(D(2026, 1, 6), Hired{ContractType::kPermanent, std::nullopt, 32, "magazijn", ""});
  h.AddRecorded(D(2026, 3, 1), D(2026, 5, 1), EmploymentEnded{EndReason::kResignation});
  const auto events = Refs(h);
  StatusPair april = StatusBothClocks(events, D(2026, 4, 1));
  EXPECT_TRUE(april.differ);
  EXPECT_NE(april.as_known.level, StatusLevel::kEnded);
  EXPECT_EQ(april.as_now_known.level, StatusLevel::kEnded);
  ASSERT_EQ(april.late_events.size(), 1u);
  EXPECT_EQ(april.late_events[0], h.LastId());
  StatusPair june = StatusBothClocks(events, D(2026, 6, 1));
  EXPECT_FALSE(june.differ);
  EXPECT_TRUE(june.late_events.empty());

  // The as-known history ends on the day it was recorded, the other on
  // the day it happened.
  EXPECT_EQ(StatusHistory(events, D(2026, 6, 1), Clock::kAsKnown).back().on, D(2026, 5, 1));
  EXPECT_EQ(StatusHistory(events, D(2026, 6, 1), Clock::kAsNowKnown).back().on, D(2026, 3, 1));
  // The as-known status equals the bitemporal fold the server uses.
  EXPECT_EQ(FoldOn(events, D(2026, 4, 1), Clock::kAsKnown).ended,
            FoldAsOf(h.events(), D(2026, 4, 1)).ended);
}

TEST(StatusHistoryTest, NoEventsNoHistory) {
  EXPECT_TRUE(StatusHistory({}, D(2026, 1, 1), Clock::kAsKnown).empty());
}

}  // namespace
}  // namespace duurzaam::domain
