#include "domain/validation.h"

#include <gtest/gtest.h>

#include "common/field_violation.h"
#include "tests/domain/domain_test_util.h"

namespace duurzaam::domain {
namespace {

using namespace duurzaam::domain::testing;

Event At(Date on, EventBody body, Role role = Role::kExpert) {
  return Event{"new", on, on, {"expert:a", role}, std::move(body)};
}

CaseState Opened() {
  History h;
  h.Add(D(2024, 1, 1), CaseOpened{"w", "employer:acme", "Twente", "Wajong"});
  return FoldAsOf(h.events(), D(2024, 1, 1));
}

CaseState Employed() {
  History h;
  h.Add(D(2024, 1, 1), CaseOpened{"w", "employer:acme", "Twente", "Wajong"});
  h.Add(D(2024, 1, 8), Hired{ContractType::kFixedTerm, D(2024, 12, 31), 24, "", ""});
  return FoldAsOf(h.events(), D(2024, 1, 8));
}

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  auto v = GetFieldViolation(s);
  ASSERT_TRUE(v.has_value()) << s;
  EXPECT_EQ(v->field, field) << s;
}

TEST(ValidationTest, NothingBeforeTheCaseIsOpened) {
  EXPECT_EQ(ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), ContactMoment{})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), CaseOpened{"w", "e", "Twente", "Wajong"}))
          .ok());
  ExpectInvalid(
      ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), CaseOpened{"w", "", "Twente", "Wajong"})),
      "body.employer_id");
  EXPECT_EQ(ValidateCaseEvent(Opened(), At(D(2024, 1, 2), CaseOpened{"w", "e", "Twente", "Wajong"}))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

void ExpectRule(const absl::Status& s, const std::string& rule_id) {
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(GetRuleId(s).value_or("(none)"), rule_id) << s;
}

TEST(ValidationTest, EveryHistoryRefusalCarriesItsRuleId) {
  ExpectRule(ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), ContactMoment{})), "CASE_NOT_OPENED");
  ExpectRule(
      ValidateCaseEvent(Opened(), At(D(2024, 1, 2), CaseOpened{"w", "e", "Twente", "Wajong"})),
      "CASE_ALREADY_OPENED");
  ExpectRule(ValidateCaseEvent(Opened(), At(D(2024, 2, 1), ContractChanged{ContractType::kPermanent,
                                                                           std::nullopt, 24})),
             "NOT_HIRED");
  CaseState closed = Apply(Employed(), At(D(2024, 3, 1), CaseClosed{"moved"}));
  ExpectRule(ValidateCaseEvent(closed, At(D(2024, 3, 2), ContactMoment{})), "CASE_CLOSED");
  ExpectRule(ValidateCaseEvent(Employed(), At(D(2024, 3, 2), CaseReopened{"x"})),
             "CASE_NOT_CLOSED");
  ExpectRule(ValidateCaseEvent(Employed(), At(D(2024, 3, 2), AbsenceEnded{})), "NO_ABSENCE_OPEN");
  ExpectRule(ValidateCaseEvent(Employed(), At(D(2024, 3, 2), TeamMemberAdded{"expert:a"})),
             "TEAM_MEMBER_PRESENT");
  ExpectRule(ValidateCaseEvent(Employed(), At(D(2024, 3, 2), TeamMemberRemoved{"expert:x"})),
             "TEAM_MEMBER_ABSENT");
}

TEST(ValidationTest, AReopeningCannotPredateTheClosingItUndoes) {
  CaseState closed = Apply(Employed(), At(D(2024, 3, 10), CaseClosed{"moved"}));
  ExpectRule(ValidateCaseEvent(closed, At(D(2024, 3, 9), CaseReopened{"back"})),
             "REOPEN_BEFORE_CLOSE");
  EXPECT_TRUE(ValidateCaseEvent(closed, At(D(2024, 3, 10), CaseReopened{"back"})).ok());
}

// A junk id on the team would let the last real expert leave.
TEST(ValidationTest, TeamMembersAreExpertPrincipalIds) {
  for (const char* id : {"", "jdevries", "employer:acme", "expert:", "expert:Jan", "expert:a b"}) {
    ExpectInvalid(ValidateCaseEvent(Opened(), At(D(2024, 2, 1), TeamMemberAdded{id})),
                  "body.expert_id");
  }
  EXPECT_TRUE(
      ValidateCaseEvent(Opened(), At(D(2024, 2, 1), TeamMemberAdded{"expert:p.visser"})).ok());
}

TEST(ValidationTest, TheLastExpertCannotLeaveTheCase) {
  // Opened() has one expert on the team: the opener.
  ExpectRule(ValidateCaseEvent(Opened(), At(D(2024, 2, 1), TeamMemberRemoved{"expert:a"})),
             "TEAM_LAST_EXPERT");
  CaseState two = Apply(Opened(), At(D(2024, 1, 5), TeamMemberAdded{"expert:b"}));
  EXPECT_TRUE(ValidateCaseEvent(two, At(D(2024, 2, 1), TeamMemberRemoved{"expert:a"})).ok());
}

TEST(ValidationTest, RegionAndTargetGroupComeFromTheDocumentedLists) {
  ExpectInvalid(
      ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), CaseOpened{"w", "e", "Atlantis", "Wajong"})),
      "body.region");
  ExpectInvalid(
      ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), CaseOpened{"w", "e", "twente", "Wajong"})),
      "body.region");
  ExpectInvalid(
      ValidateCaseEvent(CaseState{}, At(D(2024, 1, 1), CaseOpened{"w", "e", "Twente", "wajong "})),
      "body.target_group");
  for (const char* region : {"Groningen", "Groot Amsterdam", "Zaanstreek/Waterland", "Flevoland",
                             "Helmond-De Peel", "Midden-Utrecht", "Rijnmond"}) {
    EXPECT_TRUE(ValidateCaseEvent(CaseState{},
                                  At(D(2024, 1, 1), CaseOpened{"w", "e", region, "banenafspraak"}))
                    .ok())
        << region;
  }
}

TEST(ValidationTest, NoContractChangeBeforeAHire) {
  absl::Status s = ValidateCaseEvent(
      Opened(), At(D(2024, 2, 1), ContractChanged{ContractType::kPermanent, std::nullopt, 24}));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("PlacementHired"), absl::string_view::npos) << s;
  EXPECT_TRUE(ValidateCaseEvent(
                  Employed(),
                  At(D(2024, 2, 1), ContractChanged{ContractType::kPermanent, std::nullopt, 24}))
                  .ok());
}

TEST(ValidationTest, NoEventsOnAClosedCaseUnlessReopened) {
  CaseState closed = Apply(Employed(), At(D(2024, 3, 1), CaseClosed{"moved"}));
  EXPECT_EQ(ValidateCaseEvent(closed, At(D(2024, 3, 2), ContactMoment{})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ValidateCaseEvent(closed, At(D(2024, 3, 2), CaseReopened{"back"})).ok());
  CaseState reopened = Apply(closed, At(D(2024, 3, 2), CaseReopened{"back"}));
  EXPECT_TRUE(ValidateCaseEvent(reopened, At(D(2024, 3, 3), ContactMoment{})).ok());
  EXPECT_EQ(ValidateCaseEvent(reopened, At(D(2024, 3, 3), CaseReopened{"again"})).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ValidationTest, DatesInASaneRangeAndNotBeforeTheHire) {
  ExpectInvalid(ValidateCaseEvent(Employed(), At(D(1989, 12, 31), ContactMoment{})), "occurred_on");
  Event future = At(D(2024, 5, 10), ContactMoment{});
  future.recorded_on = D(2024, 5, 1);
  ExpectInvalid(ValidateCaseEvent(Employed(), future), "occurred_on");
  ExpectInvalid(
      ValidateCaseEvent(Employed(), At(D(2024, 1, 7), CheckIn(Respondent::kWorker, AllFours()))),
      "occurred_on");
  EXPECT_TRUE(
      ValidateCaseEvent(Employed(), At(D(2024, 1, 8), CheckIn(Respondent::kWorker, AllFours())))
          .ok());
}

TEST(ValidationTest, ScoresAreOneToFive) {
  ExpectInvalid(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), CheckIn(Respondent::kWorker, {}))),
                "body.scores");
  absl::Status six = ValidateCaseEvent(
      Employed(), At(D(2024, 2, 1), CheckIn(Respondent::kWorker, {{Item::kFit, 6}})));
  EXPECT_EQ(six.code(), absl::StatusCode::kInvalidArgument);
  absl::Status zero = ValidateCaseEvent(
      Employed(), At(D(2024, 2, 1), CheckIn(Respondent::kWorker, {{Item::kCoping, 0}})));
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidationTest, ContractsAreConsistent) {
  ExpectInvalid(ValidateCaseEvent(Opened(), At(D(2024, 1, 8), Hired{ContractType::kFixedTerm,
                                                                    std::nullopt, 24, "", ""})),
                "body.contract_end");
  ExpectInvalid(ValidateCaseEvent(Opened(), At(D(2024, 1, 8), Hired{ContractType::kPermanent,
                                                                    D(2025, 1, 1), 24, "", ""})),
                "body.contract_end");
  ExpectInvalid(ValidateCaseEvent(Opened(), At(D(2024, 1, 8), Hired{ContractType::kFixedTerm,
                                                                    D(2024, 1, 8), 24, "", ""})),
                "body.contract_end");
  ExpectInvalid(ValidateCaseEvent(Opened(), At(D(2024, 1, 8), Hired{ContractType::kPermanent,
                                                                    std::nullopt, 0, "", ""})),
                "body.hours_per_week");
  EXPECT_EQ(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), Hired{ContractType::kPermanent,
                                                                  std::nullopt, 24, "", ""}))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ValidationTest, OrganisationChangesBelongToTheEmployer) {
  OrganisationChanged reorg{OrganisationChangeKind::kReorganisation, "new structure"};
  ExpectInvalid(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), reorg)), "body");
  EXPECT_TRUE(ValidateEmployerEvent(At(D(2024, 2, 1), reorg)).ok());
  ExpectInvalid(ValidateEmployerEvent(At(D(2024, 2, 1), ContactMoment{})), "body");
}

TEST(ValidationTest, OnlyExpertsJudge) {
  ExpertJudgement j{StatusLevel::kVulnerable, "manager leaves", D(2024, 6, 1)};
  EXPECT_TRUE(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), j)).ok());
  EXPECT_EQ(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), j, Role::kEmployer)).code(),
            absl::StatusCode::kPermissionDenied);
  j.expires_on = D(2024, 2, 1);
  ExpectInvalid(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), j)), "body.expires_on");
}

TEST(ValidationTest, AbsencesAndSubsidiesFollowTheirState) {
  EXPECT_EQ(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), AbsenceEnded{})).code(),
            absl::StatusCode::kFailedPrecondition);
  CaseState absent = Apply(Employed(), At(D(2024, 2, 1), AbsenceReported{}));
  EXPECT_EQ(ValidateCaseEvent(absent, At(D(2024, 2, 2), AbsenceReported{})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ValidateCaseEvent(absent, At(D(2024, 2, 9), AbsenceEnded{})).ok());
  EXPECT_EQ(
      ValidateCaseEvent(Employed(), At(D(2024, 2, 1), SubsidyEnded{SubsidyKind::kWageCostSubsidy}))
          .code(),
      absl::StatusCode::kFailedPrecondition);
  ExpectInvalid(
      ValidateCaseEvent(Employed(), At(D(2024, 2, 1), SubsidyGranted{SubsidyKind::kWageCostSubsidy,
                                                                     120, std::nullopt})),
      "body.wage_value_percent");
  ExpectInvalid(ValidateCaseEvent(Employed(), At(D(2024, 2, 1), NoticeGiven{true, D(2024, 1, 31)})),
                "body.effective_on");
}

}  // namespace
}  // namespace duurzaam::domain
