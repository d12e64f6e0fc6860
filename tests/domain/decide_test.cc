// The one decision function: a command against its stream's history as
// recorded, in both numberings, and the rules reached from it.
#include "domain/decide.h"

#include <gtest/gtest.h>

#include "common/field_violation.h"
#include "domain/status.h"
#include "domain/visibility.h"

namespace duurzaam::domain {
namespace {

Date D(int y, int m, int d) { return Date(y, m, d); }

Event At(const std::string& id, Date on, EventBody body,
         Principal by = {"expert:a", Role::kExpert, ""}) {
  return Event{id, on, on, std::move(by), std::move(body)};
}

// A stream of events with its fold, as the write path keeps it.
struct Stream {
  std::vector<Event> events;
  CaseState state;
  void Add(Event e) {
    state = Apply(std::move(state), e);
    events.push_back(std::move(e));
  }
  History Of(StreamKind kind = StreamKind::kCase, size_t unreadable = 0) const {
    return {kind, &events, &state, static_cast<int64_t>(events.size()) - 1, unreadable};
  }
};

TEST(DecideTest, AppendsAValidCommandAtTheRevisionTheWriterSaw) {
  Stream s;
  auto first = Decide(s.Of(), {At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "Twente", "Wajong"}),
                               -1, Numbering::kStream});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->stale);
  ASSERT_EQ(first->append.size(), 1u);
  EXPECT_EQ(first->append[0].id, "e1");
  EXPECT_EQ(first->current, -1);
  EXPECT_EQ(first->revision_after, 0);
  s.Add(first->append[0]);
  auto second = Decide(s.Of(), {At("e2", D(2024, 1, 2), ContactMoment{ContactKind::kPhone, ""}), 0,
                                Numbering::kStream});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->revision_after, 1);
}

TEST(DecideTest, AStaleRevisionIsReportedNotJudged) {
  Stream s;
  s.Add(At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "Twente", "Wajong"}));
  s.Add(At("e2", D(2024, 1, 2), ContactMoment{}));
  // Even an invalid command: the writer must first see the current state.
  auto stale = Decide(s.Of(), {At("e3", D(2024, 1, 3), CaseReopened{"x"}), 0, Numbering::kStream});
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->current, 1);
  EXPECT_TRUE(stale->append.empty());
}

TEST(DecideTest, RefusalsCarryTheRuleId) {
  Stream s;
  auto not_opened =
      Decide(s.Of(), {At("e1", D(2024, 1, 1), ContactMoment{}), -1, Numbering::kStream});
  EXPECT_EQ(not_opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetRuleId(not_opened.status()), "CASE_NOT_OPENED");
  s.Add(At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "Twente", "Wajong"}));
  auto holes = Decide(s.Of(StreamKind::kCase, /*unreadable=*/1),
                      {At("e2", D(2024, 1, 2), ContactMoment{}), 0, Numbering::kStream});
  EXPECT_EQ(GetRuleId(holes.status()), "CASE_HAS_UNREADABLE_RECORDS");
}

TEST(DecideTest, EmployerNumberingCountsOnlyWhatEmployersSee) {
  Stream s;
  s.Add(At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "Twente", "Wajong"}));
  s.Add(At("e2", D(2024, 1, 2), PrivateLifeChanged{"verhuisd"}));  // hidden from employers
  const Principal hr{"employer:acme/hr", Role::kEmployer, "acme"};
  const int64_t seen = EmployerRevision(s.events, s.events.size());
  auto hidden_moved =
      Decide(s.Of(), {At("e3", D(2024, 1, 3), ContactMoment{}, hr), seen, Numbering::kEmployer});
  ASSERT_TRUE(hidden_moved.ok()) << hidden_moved.status();
  EXPECT_EQ(hidden_moved->current, seen);  // the hidden event did not move it
  EXPECT_FALSE(hidden_moved->stale);
  EXPECT_EQ(hidden_moved->revision_after, seen + (EmployerMaySee(ContactMoment{}) ? 1 : 0));
}

TEST(DecideTest, EmployerStreamsTakeEmployerWideEventsOnly) {
  Stream s;
  auto ok =
      Decide(s.Of(StreamKind::kEmployer),
             {At("e1", D(2024, 1, 1),
                 OrganisationChanged{OrganisationChangeKind::kReorganisation, "nieuwe afdelingen"}),
              -1, Numbering::kStream});
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto wrong = Decide(s.Of(StreamKind::kEmployer),
                      {At("e1", D(2024, 1, 1), ContactMoment{}), -1, Numbering::kStream});
  EXPECT_FALSE(wrong.ok());
}

TEST(DecideTest, TeamChangesAndTheErasureRule) {
  const auto opened = TeamChanges(At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "T", "W"}));
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].expert_id, "expert:a");  // the opener joins
  EXPECT_TRUE(opened[0].joins);
  EXPECT_TRUE(TeamChanges(At("e1", D(2024, 1, 1), CaseOpened{"w", "acme", "T", "W"},
                             {"admin:x", Role::kAdmin, ""}))
                  .empty());
  const auto left = TeamChanges(At("e2", D(2024, 1, 2), TeamMemberRemoved{"expert:b"}));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_FALSE(left[0].joins);
  CaseState open;
  open.opened = true;
  EXPECT_EQ(GetRuleId(CheckErasable(open)), "CASE_NOT_CLOSED");
  open.closed = true;
  EXPECT_TRUE(CheckErasable(open).ok());
}

TEST(DecideTest, PortfolioUrgencyOrder) {
  CaseStatus at_risk{StatusLevel::kAtRisk}, vulnerable{StatusLevel::kVulnerable},
      sustainable{StatusLevel::kSustainable}, ended{StatusLevel::kEnded};
  EXPECT_TRUE(MoreUrgent(at_risk, vulnerable));
  EXPECT_TRUE(MoreUrgent(vulnerable, sustainable));
  EXPECT_TRUE(MoreUrgent(sustainable, ended));
  EXPECT_FALSE(MoreUrgent(ended, at_risk));
  CaseStatus two_reasons{StatusLevel::kVulnerable};
  two_reasons.reasons.resize(2);
  EXPECT_TRUE(MoreUrgent(two_reasons, vulnerable));
  EXPECT_FALSE(MoreUrgent(vulnerable, vulnerable));
}

// Offline intents (the expert app's push): the outcome is decided by what
// was recorded since the device's view.
class DecideIntentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.Add(At("open", D(2024, 1, 1), CaseOpened{"w", "acme", "Twente", "Wajong"}));
    s_.Add(At("hire", D(2024, 1, 2),
              Hired{ContractType::kFixedTerm, D(2024, 12, 31), 24, "magazijn", ""}));
  }
  Stream s_;
};

TEST_F(DecideIntentTest, AnIntentOnTheStateItSawIsAppended) {
  auto d = DecideIntent(s_.Of(), {At("c1", D(2024, 2, 1), ContactMoment{}), 1});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, IntentDecision::Outcome::kAppend);
  EXPECT_EQ(d->decision.revision_after, 2);
  ASSERT_EQ(d->decision.append.size(), 1u);
  EXPECT_EQ(d->decision.append[0].id, "c1");
}

TEST_F(DecideIntentTest, TwoContactsOnOneCaseBothStandTheLaterOneRebased) {
  s_.Add(At("theirs", D(2024, 2, 1), ContactMoment{ContactKind::kPhone, "B"}));
  auto d = DecideIntent(s_.Of(), {At("mine", D(2024, 2, 2), ContactMoment{}), 1});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, IntentDecision::Outcome::kRebase);
  EXPECT_EQ(d->decision.current, 2);
  EXPECT_EQ(d->decision.revision_after, 3);
}

TEST_F(DecideIntentTest, AContractChangeOnEachSideIsAConflictNamingTheEvents) {
  s_.Add(At("theirs-contact", D(2024, 11, 1), ContactMoment{}));
  s_.Add(At("theirs-permanent", D(2024, 11, 12),
            ContractChanged{ContractType::kPermanent, std::nullopt, 24}));
  auto d = DecideIntent(
      s_.Of(),
      {At("mine", D(2024, 11, 13), ContractChanged{ContractType::kFixedTerm, D(2025, 12, 31), 24}),
       1});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, IntentDecision::Outcome::kConflict);
  EXPECT_EQ(d->rule_id, "SYNC_EMPLOYMENT_CHANGED");
  EXPECT_EQ(d->conflicting, (std::vector<size_t>{3}));  // the permanent contract, not the contact
  EXPECT_TRUE(d->decision.append.empty());
}

TEST_F(DecideIntentTest, ARetriedIntentIsADuplicateUnderAnySeenRevision) {
  s_.Add(At("mine", D(2024, 2, 1), ContactMoment{}));
  s_.Add(At("later", D(2024, 2, 2), ContractChanged{ContractType::kPermanent, std::nullopt, 24}));
  for (int64_t seen : {-1, 0, 1, 3}) {
    SCOPED_TRACE(seen);
    auto d = DecideIntent(s_.Of(), {At("mine", D(2024, 2, 1), ContactMoment{}), seen});
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->outcome, IntentDecision::Outcome::kDuplicate);
    EXPECT_EQ(d->duplicate_of, 2u);
  }
}

TEST_F(DecideIntentTest, AnIntentTheRulesRefuseIsRefusedAfterARebase) {
  s_.Add(At("theirs", D(2024, 2, 1), ContactMoment{}));
  // Nothing since conflicts, but a case that is open cannot be reopened.
  auto d = DecideIntent(s_.Of(), {At("mine", D(2024, 2, 2), CaseReopened{"x"}), 1});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(GetRuleId(d.status()).has_value());
}

TEST_F(DecideIntentTest, TheDevicesOwnEarlierIntentsAreNotUnseen) {
  // Made offline after a contract change of its own: a notice (the same
  // aspect) does not conflict with it, but it does with someone else's.
  s_.Add(At("my-contract", D(2024, 3, 1),
            ContractChanged{ContractType::kPermanent, std::nullopt, 24}));
  Intent notice{
      At("my-notice", D(2024, 3, 2), NoticeGiven{true, D(2024, 4, 1)}), 1, {"my-contract"}};
  auto d = DecideIntent(s_.Of(), notice);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, IntentDecision::Outcome::kAppend);  // only its own since
  EXPECT_EQ(d->decision.revision_after, 3);
  notice.own_earlier_ids.clear();
  d = DecideIntent(s_.Of(), notice);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->outcome, IntentDecision::Outcome::kConflict);
  EXPECT_EQ(d->conflicting, (std::vector<size_t>{2}));
}

TEST_F(DecideIntentTest, ASeenRevisionPastTheEndIsInvalid) {
  auto d = DecideIntent(s_.Of(), {At("mine", D(2024, 2, 2), ContactMoment{}), 5});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  std::optional<FieldViolation> violation = GetFieldViolation(d.status());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "seen_revision");
}

}  // namespace
}  // namespace duurzaam::domain
