#include "domain/statistics.h"

#include <gtest/gtest.h>

#include "tests/domain/domain_test_util.h"

namespace duurzaam::domain {
namespace {

using namespace duurzaam::domain::testing;

CaseHistory Placement(const std::string& region, bool reorganised, bool followed_up) {
  History h = SustainablePlacement();  // hired 2023-01-02
  std::vector<Event> events = h.events();
  for (auto& e : events) {
    if (auto* o = std::get_if<CaseOpened>(&e.body)) o->region = region;
  }
  if (reorganised) {
    events.push_back({"r", D(2023, 9, 1), D(2023, 9, 1), {}, OrganisationChanged{}});
    if (followed_up) {
      events.push_back({"f",
                        D(2023, 9, 10),
                        D(2023, 9, 10),
                        {},
                        InterventionStarted{InterventionKind::kJobCoach, "coach", "r"}});
    }
  }
  CaseHistory out{events};
  out.contributors = Contributors(events);
  return out;
}

// The attack from issue 10: an expert opens three made-up placements in a
// region and target group with two real ones (recorded by others), to lift
// the group over the threshold of 5 and read the real two. Their own
// placements are left out for them, so the group stays suppressed for them.
TEST(RegionalStatisticsTest, ACallersOwnPlacementsCannotUnlockAGroup) {
  std::vector<CaseHistory> cases;
  for (int i = 0; i < 2; ++i) cases.push_back(Placement("Twente", true, false));  // real
  for (int i = 0; i < 3; ++i) {
    CaseHistory fake = Placement("Twente", false, false);
    for (auto& e : fake.events) e.recorded_by.id = "expert:attacker";
    fake.contributors = Contributors(fake.events);
    cases.push_back(fake);
  }
  auto attacker = RegionalStatistics(cases, D(2024, 3, 1), CurrentRuleset(), 5, "expert:attacker");
  ASSERT_EQ(attacker.size(), 1u);
  EXPECT_TRUE(attacker[0].suppressed) << "the attacker's own placements lifted the group";
  EXPECT_EQ(attacker[0].placements, 0);
  // Someone who contributed to none of them sees all five.
  auto other = RegionalStatistics(cases, D(2024, 3, 1), CurrentRuleset(), 5, "expert:someone");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_FALSE(other[0].suppressed);
  EXPECT_EQ(other[0].placements, 5);
  // A team member added later counts as a contributor too.
  std::vector<Event> events = cases[0].events;
  events.push_back({"t",
                    D(2023, 2, 1),
                    D(2023, 2, 1),
                    {"expert:a", Role::kExpert, ""},
                    TeamMemberAdded{"expert:late"}});
  EXPECT_EQ(Contributors(events).count("expert:late"), 1u);
}

TEST(RegionalStatisticsTest, CountsStatusAfterYearsAndFollowUps) {
  std::vector<CaseHistory> cases;
  for (int i = 0; i < 5; ++i) cases.push_back(Placement("Twente", i < 3, i < 2));
  cases.push_back(Placement("Drenthe", false, false));  // a group of one
  auto groups = RegionalStatistics(cases, D(2024, 3, 1), CurrentRuleset(), 5);
  ASSERT_EQ(groups.size(), 2u);
  const GroupStatistics& drenthe = groups[0];
  EXPECT_EQ(drenthe.region, "Drenthe");
  EXPECT_TRUE(drenthe.suppressed);
  EXPECT_EQ(drenthe.placements, 0) << "no counts for a group that small";
  const GroupStatistics& twente = groups[1];
  EXPECT_FALSE(twente.suppressed);
  EXPECT_EQ(twente.placements, 5);
  // One year after the hire (2024-01-02) all five had a year in post;
  // two and three years have not passed by 2024-03-01.
  EXPECT_EQ(twente.years[0].placements, 5);
  EXPECT_EQ(twente.years[1].placements, 0);
  EXPECT_EQ(twente.years[0].sustainable + twente.years[0].vulnerable + twente.years[0].at_risk +
                twente.years[0].ended,
            5);
  const DisruptionCounts& org = twente.disruptions[0];
  EXPECT_EQ(org.kind, DisruptionKind::kOrganisation);
  EXPECT_EQ(org.occurred, 3);
  EXPECT_EQ(org.followed_up_within_30_days, 2);
  EXPECT_EQ(org.interventions_within_90_days.at(InterventionKind::kJobCoach), 2);
}

TEST(RegionalStatisticsTest, ResearchCountsWhatHappenedWheneverRecorded) {
  History h = SustainablePlacement();
  std::vector<Event> events = h.events();
  for (auto& e : events) e.recorded_on = D(2026, 1, 1);  // all backfilled later
  std::vector<CaseHistory> cases(5, CaseHistory{events});
  auto groups = RegionalStatistics(cases, D(2026, 2, 1), CurrentRuleset(), 5);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].years[0].placements, 5);
  EXPECT_EQ(groups[0].years[0].vulnerable + groups[0].years[0].sustainable, 5)
      << "the one-year status uses what had happened by then";
}

}  // namespace
}  // namespace duurzaam::domain
