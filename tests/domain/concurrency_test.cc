#include "domain/concurrency.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace duurzaam::domain {
namespace {

// Every event type, default-constructed, by its index in EventBody.
template <size_t... I>
std::vector<EventBody> EveryTypeImpl(std::index_sequence<I...>) {
  return {EventBody(std::in_place_index<I>)...};
}
std::vector<EventBody> EveryType() {
  return EveryTypeImpl(std::make_index_sequence<std::variant_size_v<EventBody>>());
}

std::string Rule(const EventBody& command, const EventBody& unseen) {
  std::optional<std::string_view> rule = ConflictRule(command, unseen);
  return rule.has_value() ? std::string(*rule) : "commutes";
}

TEST(ConcurrencyTest, TheTableNamesWhatConflictsWithWhat) {
  struct Row {
    EventBody command, unseen;
    std::string expected;
  };
  const std::vector<Row> rows = {
      // The example: a contract change on each side.
      {ContractChanged{}, ContractChanged{}, "SYNC_EMPLOYMENT_CHANGED"},
      {ContractChanged{}, Hired{}, "SYNC_EMPLOYMENT_CHANGED"},
      {NoticeGiven{}, EmploymentEnded{}, "SYNC_EMPLOYMENT_CHANGED"},
      // Two contacts on one case: both stand.
      {ContactMoment{}, ContactMoment{}, "commutes"},
      {ContactMoment{}, MonitoringCheckIn{}, "commutes"},
      {PrivateLifeChanged{}, InterventionStarted{}, "commutes"},
      // Different aspects commute.
      {ContractChanged{}, ContactMoment{}, "commutes"},
      {SubsidyGranted{}, ContractChanged{}, "commutes"},
      // A judgement (or a closing) weighs the whole case: an unseen fact
      // of any aspect conflicts with it.
      {ExpertJudgement{}, AbsenceReported{}, "SYNC_ABSENCE_CHANGED"},
      {CaseClosed{}, ContractChanged{}, "SYNC_EMPLOYMENT_CHANGED"},
      {ExpertJudgement{}, MonitoringCheckIn{}, "commutes"},
      // The same aspect conflicts.
      {SubsidyGranted{}, SubsidyEnded{}, "SYNC_SUBSIDY_CHANGED"},
      {NoRiskCoverEnded{}, NoRiskCoverGranted{}, "SYNC_NO_RISK_COVER_CHANGED"},
      {AbsenceEnded{}, AbsenceReported{}, "SYNC_ABSENCE_CHANGED"},
      {ExpertJudgement{}, ExpertJudgement{}, "SYNC_JUDGEMENT_CHANGED"},
      {TeamMemberAdded{}, TeamMemberRemoved{}, "SYNC_TEAM_CHANGED"},
      // A change of the case's lifecycle conflicts with every command.
      {ContactMoment{}, CaseClosed{}, "SYNC_CASE_LIFECYCLE_CHANGED"},
      {ContractChanged{}, CaseReopened{}, "SYNC_CASE_LIFECYCLE_CHANGED"},
      {CaseClosed{}, CaseClosed{}, "SYNC_CASE_LIFECYCLE_CHANGED"},
      // ... but a lifecycle command meets other aspects' events like any.
      {CaseClosed{}, ContactMoment{}, "commutes"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(TypeName(row.command)) + " after unseen " + TypeName(row.unseen));
    EXPECT_EQ(Rule(row.command, row.unseen), row.expected);
  }
}

TEST(ConcurrencyTest, EveryPairOfTypesFollowsTheTableRules) {
  const std::vector<EventBody> types = EveryType();
  ASSERT_EQ(types.size(), std::variant_size_v<EventBody>);
  for (const EventBody& command : types) {
    for (const EventBody& unseen : types) {
      SCOPED_TRACE(std::string(TypeName(command)) + " after unseen " + TypeName(unseen));
      const Aspect own = AspectOf(command), seen = AspectOf(unseen);
      const std::string rule = Rule(command, unseen);
      if (seen == Aspect::kLifecycle) {
        EXPECT_EQ(rule, "SYNC_CASE_LIFECYCLE_CHANGED");
      } else if (seen == Aspect::kObservation) {
        EXPECT_EQ(rule, "commutes");
      } else if (own == Aspect::kJudgement || own == Aspect::kLifecycle || own == seen) {
        EXPECT_NE(rule, "commutes");
        EXPECT_EQ(rule, Rule(unseen, unseen));  // named after the unseen event's aspect
      } else {
        EXPECT_EQ(rule, "commutes");
        if (own != Aspect::kObservation && seen != Aspect::kJudgement) {
          EXPECT_EQ(Rule(unseen, command), "commutes");
        }
      }
    }
  }
}

TEST(ConcurrencyTest, FindConflictsListsEveryConflictingUnseenEventInOrder) {
  auto event = [](EventBody body) {
    Event e;
    e.body = std::move(body);
    return e;
  };
  const Event command = event(ContractChanged{});
  const std::vector<Event> unseen = {event(ContactMoment{}), event(ContractChanged{}),
                                     event(MonitoringCheckIn{}), event(NoticeGiven{})};
  std::vector<const Event*> refs;
  for (const Event& e : unseen) refs.push_back(&e);
  std::optional<UnseenConflict> found = FindConflicts(refs, command);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->rule_id, "SYNC_EMPLOYMENT_CHANGED");
  EXPECT_EQ(found->conflicting, (std::vector<size_t>{1, 3}));
  // Only observations since: the command may be rebased.
  EXPECT_FALSE(FindConflicts({refs[0], refs[2]}, command).has_value());
  EXPECT_FALSE(FindConflicts({}, command).has_value());
}

}  // namespace
}  // namespace duurzaam::domain
