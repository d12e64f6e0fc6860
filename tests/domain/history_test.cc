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

// A second version, as the project will publish one when the rules change:
// SUSTAINABLE only after two years in post, from 2026-01-01 on.
RulesetHistory TwoVersions() {
  Ruleset first;  // the published one's thresholds
  first.version = "test.1";
  Ruleset second;
  second.version = "test.2";
  second.in_force_from = D(2026, 1, 1);
  second.sustainable_after_days = 730;
  return RulesetHistory({first, second});
}

TEST(RulesetVersionsTest, EachDayIsJudgedByTheVersionInForce) {
  const RulesetHistory rules = TwoVersions();
  EXPECT_EQ(rules.InForce(D(2024, 3, 1)).version, "test.1");
  EXPECT_EQ(rules.InForce(D(2025, 12, 31)).version, "test.1");
  EXPECT_EQ(rules.InForce(D(2026, 1, 1)).version, "test.2");
  EXPECT_EQ(rules.InForce(D(1960, 1, 1)).version, "test.1");  // before every version: the first
  EXPECT_EQ(rules.Current().version, "test.2");
  ASSERT_NE(rules.Find("test.2"), nullptr);
  EXPECT_EQ(rules.Find("test.2")->sustainable_after_days, 730);
  EXPECT_EQ(rules.Find("1999.9"), nullptr);
  // The project's own: one version so far, in force from the start.
  EXPECT_EQ(&CurrentRuleset(), &PublishedRulesets().Current());
  EXPECT_EQ(RulesetInForce(D(2023, 5, 1)).version, CurrentRuleset().version);
  EXPECT_EQ(FindRuleset(CurrentRuleset().version), &CurrentRuleset());
}

TEST(StatusHistoryTest, ADayUnderAnOlderRulesetKeepsThatRulesetsJudgement) {
  // Hired 2023-01-02, permanent from 2023-06-01: SUSTAINABLE from
  // 2024-01-02 under the first version. The second version (from 2026)
  // wants two years in post, which the placement has by then: it stays
  // SUSTAINABLE, and 2024 keeps the first version's answer.
  History h = SustainablePlacement();
  const auto events = Refs(h);
  const RulesetHistory rules = TwoVersions();
  CaseStatus then = StatusOn(events, D(2024, 3, 1), Clock::kAsKnown, rules);
  EXPECT_EQ(then.ruleset_version, "test.1");
  EXPECT_EQ(then.level, StatusLevel::kSustainable);
  // Judged by today's version instead, 2024-03-01 would read VULNERABLE.
  EXPECT_EQ(Evaluate(FoldAsOf(h.events(), D(2024, 3, 1)), D(2024, 3, 1), rules.Current()).level,
            StatusLevel::kVulnerable);

  auto changes = StatusHistory(events, D(2026, 6, 1), Clock::kAsNowKnown, rules);
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(changes.front().first);
  bool sustainable_2024 = false;
  for (const LevelChange& c : changes) {
    EXPECT_EQ(c.ruleset_version, rules.InForce(c.on).version);
    EXPECT_EQ(c.status.ruleset_version, c.ruleset_version);
    if (c.to == StatusLevel::kSustainable && c.on.year() == 2024) sustainable_2024 = true;
  }
  EXPECT_TRUE(sustainable_2024);

  // A placement hired in October 2024 is SUSTAINABLE after one year under the
  // first version, then VULNERABLE again when the second comes into force
  // (under two years in post): the change names the new version as its cause.
  History late;
  late.Add(D(2024, 9, 20), CaseOpened{"w", "employer:acme", "Groot Amsterdam", "Wajong"});
  late.Add(D(2024, 10, 1), Hired{ContractType::kPermanent, std::nullopt, 32, "magazijn", ""});
  late.Add(D(2024, 10, 8), ContactMoment{ContactKind::kThreeWayConversation, "start"});
  for (Date d = D(2024, 10, 22); d < D(2025, 4, 20); d += 21) {
    late.Add(d, ContactMoment{ContactKind::kVisit, "visit"});
  }
  late.Add(D(2025, 9, 15), testing::CheckIn(Respondent::kEmployer, testing::AllFours()));
  late.Add(D(2025, 9, 16), testing::CheckIn(Respondent::kWorker, testing::AllFours()));
  auto late_changes = StatusHistory(Refs(late), D(2026, 3, 1), Clock::kAsNowKnown, rules);
  ASSERT_GE(late_changes.size(), 2u);
  const LevelChange& back = late_changes.back();
  EXPECT_EQ(back.on, D(2026, 1, 1));
  EXPECT_EQ(back.from, StatusLevel::kSustainable);
  EXPECT_EQ(back.to, StatusLevel::kVulnerable);
  EXPECT_TRUE(back.ruleset_changed);
  EXPECT_EQ(back.ruleset_version, "test.2");
  EXPECT_TRUE(back.events.empty());
}

TEST(StatusHistoryTest, EveryDayOfTheHistoryIsTheFoldOfThatDay) {
  // Same-day events in both clocks, a late record, employer-wide events:
  // the level StatusHistory holds on each day is StatusOn's.
  History h = SustainablePlacement();
  h.AddRecorded(D(2023, 6, 1), D(2023, 8, 1), ContactMoment{ContactKind::kPhone, "late"});
  h.Add(D(2023, 8, 1), OrganisationChanged{OrganisationChangeKind::kReorganisation, "x"});
  h.AddRecorded(D(2023, 7, 20), D(2023, 9, 1), EmploymentEnded{EndReason::kResignation});
  const auto events = Refs(h);
  for (Clock clock : {Clock::kAsKnown, Clock::kAsNowKnown}) {
    auto changes = StatusHistory(events, D(2024, 6, 1), clock);
    ASSERT_FALSE(changes.empty());
    size_t i = 0;
    for (Date d = changes.front().on; d <= D(2024, 6, 1); ++d) {
      while (i + 1 < changes.size() && changes[i + 1].on <= d) ++i;
      ASSERT_EQ(changes[i].to, StatusOn(events, d, clock).level) << domain::FormatDate(d);
    }
  }
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
