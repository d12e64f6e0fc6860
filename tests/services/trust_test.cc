// The trust layer on a real mutual-TLS server with real certificates made by
// deploy/duurzaam-pki: every role x operation x case-ownership cell, bad
// certificates of every kind, and an employer following the global log
// while private-life events are appended.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "codec/placement_codec.h"
#include "common/clock.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "services/server.h"
#include "tests/services/mtls_fixture.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;

class TrustTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() {
    MakePki({"EXPERT jdevries", "EXPERT pvisser", "EMPLOYER acme-hr --org acme",
             "EMPLOYER korf-hr --org bakkerij-de-korf", "AUDITOR audit", "ADMIN beheer",
             "SUPERUSER boss", "EXPERT lapsed --start 20200101000000Z --end 20200201000000Z",
             "EXPERT leaver"});
    other_dir_ = new TempDir();
    RunPki("init " + other_dir_->Sub("pki"));
    RunPki("issue " + other_dir_->Sub("pki") + " EXPERT jdevries");
  }
  static void TearDownTestSuite() {
    DeletePki();
    delete other_dir_;
  }

  void SetUp() override {
    revoked_ = dir_.Sub("revoked-serials");
    std::ofstream(revoked_) << "# none yet\n";
    StartAll({.seed = true, .revoked_serials = revoked_});
  }

  // A record of `type` on `stream` whose bytes do not read, appended
  // straight to the store; its position.
  uint64_t AppendUnreadable(const std::string& stream, const std::string& type) {
    auto appended = store_->Append({stream,
                                    eventstore::Expectation::Any(),
                                    {{eventstore::EventId::Random(), type, "\xff garbage", ""}}});
    EXPECT_TRUE(appended.ok()) << appended.status();
    return appended.ok() ? appended->last_position : 0;
  }

  StatusCode Timeline(const std::string& who, const std::string& case_id,
                      v1::Timeline* out = nullptr) {
    v1::GetTimelineRequest request;
    request.set_case_id(case_id);
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    auto status = v1::Cases::NewStub(Channel(who))->GetTimeline(&context, request, &response);
    if (out) *out = response;
    return status.error_code();
  }

  StatusCode Status(const std::string& who, const std::string& case_id,
                    v1::CaseStatus* out = nullptr) {
    v1::GetStatusRequest request;
    request.set_case_id(case_id);
    v1::CaseStatus response;
    grpc::ClientContext context;
    Deadline(&context);
    auto status = v1::Cases::NewStub(Channel(who))->GetStatus(&context, request, &response);
    if (out) *out = response;
    return status.error_code();
  }

  static v1::PlacementEvent Contact(const std::string& summary = "belafspraak") {
    v1::PlacementEvent e = Today();
    e.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
    e.mutable_contact_moment()->set_summary(summary);
    return e;
  }
  static v1::PlacementEvent Contract() {
    v1::PlacementEvent e = Today();
    e.mutable_contract_changed()->set_contract(v1::CONTRACT_TYPE_PERMANENT);
    e.mutable_contract_changed()->set_hours_per_week(32);
    return e;
  }
  static v1::PlacementEvent TeamAdd(const std::string& expert) {
    v1::PlacementEvent e = Today();
    e.mutable_team_member_added()->set_expert_id(expert);
    return e;
  }
  static v1::PlacementEvent Subsidy() {
    v1::PlacementEvent e = Today();
    e.mutable_subsidy_granted()->set_kind(v1::SUBSIDY_KIND_WAGE_COST_SUBSIDY);
    e.mutable_subsidy_granted()->set_wage_value_percent(60);
    return e;
  }

  StatusCode Portfolio(const std::string& who, const std::string& expert = "") {
    v1::ListPortfolioRequest request;
    request.set_expert_id(expert);
    v1::Portfolio response;
    grpc::ClientContext context;
    Deadline(&context);
    return v1::Cases::NewStub(Channel(who))
        ->ListPortfolio(&context, request, &response)
        .error_code();
  }

  // Reads the whole global log as `who` (ReadAll pages).
  StatusCode ReadAll(const std::string& who, std::vector<v1::RecordedEvent>* out = nullptr) {
    auto stub = v1::EventStore::NewStub(Channel(who));
    uint64_t from = 0;
    for (int page = 0; page < 1000; ++page) {
      v1::ReadAllRequest request;
      request.set_from_position(from);
      request.set_max_count(1000);
      v1::ReadAllResponse response;
      grpc::ClientContext context;
      Deadline(&context);
      auto status = stub->ReadAll(&context, request, &response);
      if (!status.ok()) return status.error_code();
      if (out) out->insert(out->end(), response.events().begin(), response.events().end());
      if (response.end_of_log()) break;
      from = response.next_position();
    }
    return StatusCode::OK;
  }

  // Subscribes to the global log as `who` until caught up.
  StatusCode SubscribeAll(const std::string& who, std::vector<v1::RecordedEvent>* out = nullptr) {
    v1::SubscribeRequest request;
    request.mutable_all()->set_from_position(0);
    grpc::ClientContext context;
    Deadline(&context);
    auto reader = v1::EventStore::NewStub(Channel(who))->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      if (out) {
        for (const auto& e : message.events().events()) out->push_back(e);
      }
      if (message.has_caught_up()) {
        context.TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    return status.error_code() == StatusCode::CANCELLED ? StatusCode::OK : status.error_code();
  }

  StatusCode SubscribeCase(const std::string& who, const std::string& case_id) {
    v1::SubscribeCaseRequest request;
    request.set_case_id(case_id);
    grpc::ClientContext context;
    Deadline(&context);
    auto reader = v1::Cases::NewStub(Channel(who))->SubscribeCase(&context, request);
    v1::CaseUpdate update;
    while (reader->Read(&update)) {
      if (update.caught_up()) {
        context.TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    return status.error_code() == StatusCode::CANCELLED ? StatusCode::OK : status.error_code();
  }

  StatusCode AppendRaw(const std::string& who, const std::string& stream) {
    v1::AppendRequest request;
    request.set_stream(stream);
    auto* e = request.add_events();
    e->set_event_id(eventstore::EventId::Random().ToString());
    e->set_event_type("ToolingNote");
    e->set_data("x");
    v1::AppendResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    return v1::EventStore::NewStub(Channel(who))->Append(&context, request, &response).error_code();
  }

  static TempDir* other_dir_;
  std::string revoked_;
};
TempDir* TrustTest::other_dir_ = nullptr;

constexpr StatusCode OK = StatusCode::OK;
constexpr StatusCode DENIED = StatusCode::PERMISSION_DENIED;

// anna: placement at acme; fleur: at bakkerij-de-korf; jdevries is on both
// teams, pvisser on none.
TEST_F(TrustTest, ReadMatrix) {
  struct Row {
    std::string who;
    StatusCode timeline_anna, timeline_fleur, status_anna, subscribe_anna, portfolio, read_all,
        subscribe_all;
  };
  const std::vector<Row> rows = {
      {"jdevries", OK, OK, OK, OK, OK, OK, OK},
      {"pvisser", DENIED, DENIED, DENIED, DENIED, OK, OK, OK},
      {"acme-hr", OK, DENIED, OK, OK, DENIED, OK, OK},
      {"korf-hr", DENIED, OK, DENIED, DENIED, DENIED, OK, OK},
      {"audit", OK, OK, OK, OK, DENIED /* own portfolio: an auditor has none */, OK, OK},
      {"beheer", DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.who);
    EXPECT_EQ(Timeline(row.who, "anna"), row.timeline_anna);
    EXPECT_EQ(Timeline(row.who, "fleur"), row.timeline_fleur);
    EXPECT_EQ(Status(row.who, "anna"), row.status_anna);
    EXPECT_EQ(SubscribeCase(row.who, "anna"), row.subscribe_anna);
    if (row.who == "audit") {
      EXPECT_EQ(Portfolio(row.who, "expert:jdevries"), OK);
    } else {
      EXPECT_EQ(Portfolio(row.who), row.portfolio);
    }
    EXPECT_EQ(ReadAll(row.who), row.read_all);
    EXPECT_EQ(SubscribeAll(row.who), row.subscribe_all);
  }
  // An expert may not list a colleague's portfolio.
  EXPECT_EQ(Portfolio("pvisser", "expert:jdevries"), DENIED);
}

// A reader who may not see every record (an expert) learns how far the
// subscription has looked every checkpoint_interval records, during
// catch-up too, without any filter of its own.
TEST_F(TrustTest, ASubscriptionWithWithheldRecordsReportsProgressAtItsInterval) {
  const uint64_t end = store_->CommittedEnd();
  ASSERT_GT(end, 20u);
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  request.set_checkpoint_interval(5);
  grpc::ClientContext context;
  Deadline(&context);
  auto reader = v1::EventStore::NewStub(Channel("pvisser"))->Subscribe(&context, request);
  v1::SubscribeResponse message;
  uint64_t reported = 0;  // the last position an event or checkpoint covered
  int checkpoints = 0;
  while (reader->Read(&message) && !message.has_caught_up()) {
    for (const auto& e : message.events().events()) reported = e.position() + 1;
    if (message.has_checkpoint()) {
      // A checkpoint follows a batch that ends 5 or more records past the
      // last report (batches look at no more than 5 records each).
      EXPECT_LE(message.checkpoint().position() - reported, 2u * 5u);
      reported = message.checkpoint().position();
      ++checkpoints;
    }
  }
  ASSERT_TRUE(message.has_caught_up());
  EXPECT_EQ(message.caught_up().position(), end);
  EXPECT_GE(checkpoints, static_cast<int>(end / 10));
  context.TryCancel();
  reader->Finish().IgnoreError();
}

// The expert app's push: two experts' devices on one case, offline.
class PushTest : public TrustTest {
 protected:
  static v1::Intent Intent(const std::string& case_id, int64_t seen, v1::PlacementEvent event) {
    v1::Intent intent;
    intent.set_case_id(case_id);
    intent.set_event_id(eventstore::EventId::Random().ToString());
    intent.set_seen_revision(seen);
    *intent.mutable_event() = std::move(event);
    return intent;
  }
  grpc::Status Push(const std::string& who, const std::vector<v1::Intent>& intents,
                    v1::PushIntentsResponse* response) {
    v1::PushIntentsRequest request;
    for (const auto& i : intents) *request.add_intents() = i;
    grpc::ClientContext context;
    Deadline(&context);
    return v1::Cases::NewStub(Channel(who))->PushIntents(&context, request, response);
  }
  int64_t Revision(const std::string& case_id) {
    v1::Timeline timeline;
    EXPECT_EQ(Timeline("jdevries", case_id, &timeline), OK);
    return timeline.revision();
  }
  static v1::PlacementEvent FixedTerm() {
    v1::PlacementEvent e = Today();
    e.mutable_contract_changed()->set_contract(v1::CONTRACT_TYPE_FIXED_TERM);
    e.mutable_contract_changed()->mutable_contract_end()->set_year(2027);
    e.mutable_contract_changed()->mutable_contract_end()->set_month(6);
    e.mutable_contract_changed()->mutable_contract_end()->set_day(30);
    e.mutable_contract_changed()->set_hours_per_week(24);
    return e;
  }
};

TEST_F(PushTest, IntentsAreAppendedRebasedOrConflictedAndARetryIsDuplicate) {
  ASSERT_TRUE(Record("jdevries", "anna", TeamAdd("expert:pvisser")).ok());
  const int64_t seen = Revision("anna");  // both devices synced here, then went offline

  // Commuting: a contact on each side; the later push is rebased.
  v1::PushIntentsResponse theirs, mine;
  ASSERT_TRUE(Push("pvisser", {Intent("anna", seen, Contact("B"))}, &theirs).ok());
  ASSERT_EQ(theirs.outcomes_size(), 1);
  EXPECT_EQ(theirs.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  EXPECT_EQ(theirs.outcomes(0).revision(), seen + 1);
  ASSERT_TRUE(Push("jdevries", {Intent("anna", seen, Contact("A"))}, &mine).ok());
  ASSERT_EQ(mine.outcomes_size(), 1);
  EXPECT_EQ(mine.outcomes(0).kind(), v1::IntentOutcome::REBASED);
  EXPECT_EQ(mine.outcomes(0).revision(), seen + 2);

  // Conflicting: a contract change on each side. Mine is not recorded; the
  // contact I made after it (on my own view) still commutes and is rebased.
  ASSERT_TRUE(Push("pvisser", {Intent("anna", seen + 2, Contract())}, &theirs).ok());
  EXPECT_EQ(theirs.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  const std::vector<v1::Intent> offline = {Intent("anna", seen + 2, FixedTerm()),
                                           Intent("anna", seen + 2, Contact("after"))};
  ASSERT_TRUE(Push("jdevries", offline, &mine).ok());
  ASSERT_EQ(mine.outcomes_size(), 2);
  const v1::IntentOutcome& conflict = mine.outcomes(0);
  EXPECT_EQ(conflict.event_id(), offline[0].event_id());
  EXPECT_EQ(conflict.kind(), v1::IntentOutcome::CONFLICT);
  EXPECT_EQ(conflict.rule_id(), "SYNC_EMPLOYMENT_CHANGED");
  ASSERT_EQ(conflict.conflicting_revisions_size(), 1);
  EXPECT_EQ(conflict.conflicting_revisions(0), seen + 3);
  // The message names revisions and the rule, never what the events hold
  // (that is read from the case, access-logged).
  EXPECT_NE(conflict.message().find("revision(s) " + std::to_string(seen + 3)), std::string::npos)
      << conflict.message();
  EXPECT_EQ(conflict.message().find("pvisser"), std::string::npos) << conflict.message();
  EXPECT_EQ(mine.outcomes(1).kind(), v1::IntentOutcome::REBASED);
  EXPECT_EQ(mine.outcomes(1).revision(), seen + 4);

  // The same push again (the answer was lost): the contact is a duplicate
  // with its original revision and position, the conflict stays one, and
  // nothing more is recorded.
  v1::PushIntentsResponse again;
  ASSERT_TRUE(Push("jdevries", offline, &again).ok());
  ASSERT_EQ(again.outcomes_size(), 2);
  EXPECT_EQ(again.outcomes(0).kind(), v1::IntentOutcome::CONFLICT);
  EXPECT_EQ(again.outcomes(1).kind(), v1::IntentOutcome::DUPLICATE);
  EXPECT_EQ(again.outcomes(1).revision(), mine.outcomes(1).revision());
  EXPECT_EQ(again.outcomes(1).position(), mine.outcomes(1).position());
  EXPECT_EQ(Revision("anna"), seen + 4);

  // The expert keeps theirs after reading the case: a new intent on the
  // current revision.
  v1::PushIntentsResponse kept;
  ASSERT_TRUE(Push("jdevries", {Intent("anna", seen + 4, FixedTerm())}, &kept).ok());
  EXPECT_EQ(kept.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  EXPECT_EQ(kept.outcomes(0).revision(), seen + 5);
}

// A retried push is DUPLICATE with its original result whatever happened
// since: a conflicting change, even the author's removal from the team
// (the device then learns its entry was recorded, not that it was refused).
TEST_F(PushTest, ARetryIsDuplicateAfterAConflictingChangeAndAfterLeavingTheTeam) {
  ASSERT_TRUE(Record("jdevries", "anna", TeamAdd("expert:pvisser")).ok());
  const int64_t seen = Revision("anna");
  const v1::Intent mine = Intent("anna", seen, Contract());
  v1::PushIntentsResponse first;
  ASSERT_TRUE(Push("pvisser", {mine}, &first).ok());
  ASSERT_EQ(first.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  // Since: a contract change that would conflict, then pvisser leaves.
  ASSERT_TRUE(Push("jdevries", {Intent("anna", seen + 1, FixedTerm())}, &first).ok());
  v1::PlacementEvent leave = Today();
  leave.mutable_team_member_removed()->set_expert_id("expert:pvisser");
  ASSERT_TRUE(Record("jdevries", "anna", leave).ok());
  v1::PushIntentsResponse again;
  ASSERT_TRUE(Push("pvisser", {mine, Intent("anna", seen, Contact("nieuw"))}, &again).ok());
  ASSERT_EQ(again.outcomes_size(), 2);
  EXPECT_EQ(again.outcomes(0).kind(), v1::IntentOutcome::DUPLICATE);
  EXPECT_EQ(again.outcomes(0).revision(), seen + 1);
  // The control: a new entry of a former member is refused.
  EXPECT_EQ(again.outcomes(1).kind(), v1::IntentOutcome::REJECTED);
  // Another caller with the same id learns nothing of it.
  v1::PushIntentsResponse other;
  ASSERT_TRUE(Push("jdevries", {mine}, &other).ok());
  EXPECT_NE(other.outcomes(0).kind(), v1::IntentOutcome::DUPLICATE);
}

TEST_F(PushTest, IntentsOnOneCaseKeepTheirOrderWhileCasesRunSideBySide) {
  const int64_t anna = Revision("anna"), fleur = Revision("fleur");
  std::vector<v1::Intent> intents;
  for (int i = 0; i < 40; ++i) {
    const bool on_anna = i % 3 != 0;
    intents.push_back(Intent(on_anna ? "anna" : "fleur", on_anna ? anna : fleur,
                             Contact("contact " + std::to_string(i))));
  }
  v1::PushIntentsResponse response;
  ASSERT_TRUE(Push("jdevries", intents, &response).ok());
  ASSERT_EQ(response.outcomes_size(), 40);
  int64_t next_anna = anna + 1, next_fleur = fleur + 1;
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE(i);
    const v1::IntentOutcome& o = response.outcomes(i);
    EXPECT_EQ(o.event_id(), intents[i].event_id());
    // The first on each case finds it as seen; the rest find it moved on
    // by intents they did not list (contacts commute).
    const bool on_anna = i % 3 != 0;
    const int64_t expected = on_anna ? next_anna++ : next_fleur++;
    EXPECT_EQ(o.revision(), expected);
    EXPECT_EQ(o.kind(), expected == (on_anna ? anna : fleur) + 1 ? v1::IntentOutcome::APPENDED
                                                                 : v1::IntentOutcome::REBASED);
  }
  EXPECT_EQ(Revision("anna"), next_anna - 1);
  EXPECT_EQ(Revision("fleur"), next_fleur - 1);
}

TEST_F(PushTest, ADevicesOwnEarlierIntentsAreNotChangesItDidNotSee) {
  const int64_t seen = Revision("anna");
  // Offline: a fixed-term extension, then (the same aspect) a permanent
  // contract, both on the revision last pulled.
  v1::Intent first = Intent("anna", seen, FixedTerm());
  v1::Intent second = Intent("anna", seen, Contract());
  second.add_own_earlier_event_ids(first.event_id());
  v1::PushIntentsResponse response;
  ASSERT_TRUE(Push("jdevries", {first, second}, &response).ok());
  ASSERT_EQ(response.outcomes_size(), 2);
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  EXPECT_EQ(response.outcomes(1).kind(), v1::IntentOutcome::APPENDED);
  EXPECT_EQ(response.outcomes(1).revision(), seen + 2);
  // Without saying so, the second meets the first as a change it did not see.
  v1::Intent third = Intent("anna", seen, Contract());
  ASSERT_TRUE(Push("jdevries", {third}, &response).ok());
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::CONFLICT);
}

TEST_F(PushTest, AnIntentThatCannotBeTrueIsRejectedNamingTheField) {
  const int64_t seen = Revision("anna");
  v1::PushIntentsResponse response;
  // A revision the server never had.
  ASSERT_TRUE(Push("jdevries", {Intent("anna", seen + 5, Contact())}, &response).ok());
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::REJECTED);
  EXPECT_EQ(response.outcomes(0).field(), "intents[0].seen_revision");
  // An event id already recorded with other content.
  v1::Intent contact = Intent("anna", seen, Contact("first"));
  ASSERT_TRUE(Push("jdevries", {contact}, &response).ok());
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::APPENDED);
  *contact.mutable_event() = Contact("other words");
  ASSERT_TRUE(Push("jdevries", {contact}, &response).ok());
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::REJECTED);
  EXPECT_EQ(response.outcomes(0).code(), static_cast<int>(StatusCode::ALREADY_EXISTS));
}

TEST_F(PushTest, RefusedIntentsAreRejectedWithTheirReasonAndTheRestGoOn) {
  const int64_t seen = Revision("anna");
  v1::PlacementEvent no_end = FixedTerm();
  no_end.mutable_contract_changed()->clear_contract_end();
  v1::PlacementEvent reopen = Today();
  reopen.mutable_case_reopened()->set_reason("again");
  const std::vector<v1::Intent> intents = {Intent("anna", seen, no_end),
                                           Intent("anna", seen, reopen),
                                           Intent("anna", seen, Contact("still fine"))};
  v1::PushIntentsResponse response;
  ASSERT_TRUE(Push("jdevries", intents, &response).ok());
  ASSERT_EQ(response.outcomes_size(), 3);
  EXPECT_EQ(response.outcomes(0).kind(), v1::IntentOutcome::REJECTED);
  EXPECT_EQ(response.outcomes(0).code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.outcomes(0).field(), "intents[0].event.contract_changed.contract_end");
  EXPECT_EQ(response.outcomes(1).kind(), v1::IntentOutcome::REJECTED);
  EXPECT_EQ(response.outcomes(1).rule_id(), "CASE_NOT_CLOSED");
  EXPECT_EQ(response.outcomes(2).kind(), v1::IntentOutcome::APPENDED);
  EXPECT_EQ(response.outcomes(2).revision(), seen + 1);

  // Access, per intent: pvisser is not on anna's team.
  v1::PushIntentsResponse denied;
  ASSERT_TRUE(Push("pvisser", {Intent("anna", seen + 1, Contact())}, &denied).ok());
  ASSERT_EQ(denied.outcomes_size(), 1);
  EXPECT_EQ(denied.outcomes(0).kind(), v1::IntentOutcome::REJECTED);
  EXPECT_EQ(denied.outcomes(0).code(), static_cast<int>(StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(Revision("anna"), seen + 1);

  // The push itself is for experts, and bounded.
  EXPECT_EQ(Push("acme-hr", {Intent("anna", seen + 1, Contract())}, &denied).error_code(), DENIED);
  std::vector<v1::Intent> too_many(1001, Intent("anna", seen + 1, Contact()));
  EXPECT_EQ(Push("jdevries", too_many, &denied).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(TrustTest, WriteMatrix) {
  // Case content writes.
  EXPECT_EQ(Record("jdevries", "anna", Contact()).error_code(), OK);
  EXPECT_EQ(Record("pvisser", "anna", Contact()).error_code(), DENIED);
  EXPECT_EQ(Record("acme-hr", "anna", Contact()).error_code(), DENIED);
  EXPECT_EQ(Record("acme-hr", "anna", Contract()).error_code(), OK);
  EXPECT_EQ(Record("korf-hr", "anna", Contract()).error_code(), DENIED);
  EXPECT_EQ(Record("audit", "anna", Contact()).error_code(), DENIED);
  EXPECT_EQ(Record("beheer", "anna", Contact()).error_code(), DENIED);
  // Case teams: the administrator manages them; then pvisser may read.
  EXPECT_EQ(Record("beheer", "anna", TeamAdd("expert:pvisser")).error_code(), OK);
  EXPECT_EQ(Timeline("pvisser", "anna"), OK);
  EXPECT_EQ(Record("pvisser", "anna", Contact()).error_code(), OK);
  // Raw appends: only the administrator, only to tooling streams.
  for (const std::string who : {"jdevries", "acme-hr", "audit"}) {
    EXPECT_EQ(AppendRaw(who, "ext-tooling-notes"), DENIED) << who;
  }
  EXPECT_EQ(AppendRaw("beheer", "ext-tooling-notes"), OK);
  EXPECT_EQ(AppendRaw("beheer", "case-anna"), DENIED);
  EXPECT_EQ(AppendRaw("beheer", "employer-acme"), DENIED);
  // The server's own trail and any other name are reserved, too.
  for (const char* reserved : {"erasures", "tooling-notes", "access-anna", "casex", "EXT-a"}) {
    EXPECT_EQ(AppendRaw("beheer", reserved), DENIED) << reserved;
  }
}

TEST_F(TrustTest, DeniedWritesWriteNothing) {
  const uint64_t before = store_->CommittedEnd();
  EXPECT_EQ(Record("acme-hr", "fleur", Contract()).error_code(), DENIED);
  EXPECT_EQ(Record("audit", "anna", Contact()).error_code(), DENIED);
  EXPECT_EQ(AppendRaw("jdevries", "ext-tooling-notes"), DENIED);
  EXPECT_EQ(store_->CommittedEnd(), before);
}

TEST_F(TrustTest, EmployerViewIsRedacted) {
  ASSERT_EQ(Record("jdevries", "anna", Contact("zorgen over slaapproblemen")).error_code(), OK);
  ASSERT_EQ(Record("jdevries", "anna", PrivateLife("scheiding, verhuisd naar moeder")).error_code(),
            OK);
  v1::Timeline expert, employer;
  ASSERT_EQ(Timeline("jdevries", "anna", &expert), OK);
  ASSERT_EQ(Timeline("acme-hr", "anna", &employer), OK);
  EXPECT_NE(expert.DebugString().find("scheiding"), std::string::npos);
  EXPECT_LT(employer.entries_size(), expert.entries_size());
  const std::string seen = employer.SerializeAsString();
  EXPECT_EQ(seen.find("scheiding"), std::string::npos);
  EXPECT_EQ(seen.find("slaapproblemen"), std::string::npos);
  EXPECT_EQ(seen.find("worker-anna"), std::string::npos);  // worker_ref is EXPERT-only
  for (const auto& entry : employer.entries()) {
    EXPECT_NE(entry.event_type(), "PrivateLifeChanged");
    EXPECT_NE(entry.event_type(), "ContactMoment");
  }
  // The status: no reason an employer may not read, no actions, no judgement.
  v1::CaseStatus status;
  ASSERT_EQ(Status("acme-hr", "anna", &status), OK);
  for (const auto& reason : status.reasons()) {
    EXPECT_EQ(reason.audience(), v1::VISIBILITY_EMPLOYER) << reason.rule_id();
  }
  EXPECT_EQ(status.suggested_actions_size(), 0);
  EXPECT_FALSE(status.has_judgement());
}

// DOMAIN.md: RESTRICTED (private life, health-derived details) is for the
// case's experts only. Auditors get the same level and rule ids, with the
// restricted sentences withheld and the actions they suggest left out.
TEST_F(TrustTest, AuditorsNeverReadRestrictedReasons) {
  int restricted_for_expert = 0;
  for (const char* case_id : {"anna", "bram", "chris", "dewi", "emre", "fleur", "gijs", "hanna",
                              "ilse", "jan", "kees", "lotte"}) {
    v1::CaseStatus expert, auditor;
    if (Status("jdevries", case_id, &expert) != OK) continue;  // not on this team
    ASSERT_EQ(Status("audit", case_id, &auditor), OK) << case_id;
    EXPECT_EQ(auditor.level(), expert.level()) << case_id;
    ASSERT_EQ(auditor.reasons_size(), expert.reasons_size()) << case_id;
    for (int i = 0; i < expert.reasons_size(); ++i) {
      EXPECT_EQ(auditor.reasons(i).rule_id(), expert.reasons(i).rule_id());
      EXPECT_NE(auditor.reasons(i).audience(), v1::VISIBILITY_RESTRICTED) << case_id;
      if (expert.reasons(i).audience() == v1::VISIBILITY_RESTRICTED) {
        ++restricted_for_expert;
        EXPECT_NE(auditor.reasons(i).text(), expert.reasons(i).text());
        for (const auto& action : expert.suggested_actions()) {
          for (const auto& seen : auditor.suggested_actions()) {
            if (action.rule_id() == expert.reasons(i).rule_id()) {
              EXPECT_NE(seen.rule_id(), action.rule_id()) << case_id;
            }
          }
        }
      }
    }
    for (const auto& item : auditor.watch_items()) {
      EXPECT_NE(item.audience(), v1::VISIBILITY_RESTRICTED) << case_id;
    }
  }
  // The demo data has private-life disruptions: the check above is not empty.
  EXPECT_GT(restricted_for_expert, 0);
}

// An employer's revision counts only what an employer may see: events hidden
// from it do not move it, and it is what the employer writes against.
TEST_F(TrustTest, TheEmployersConcurrencyTokenRevealsNoHiddenEvents) {
  auto timeline_revision = [this](const std::string& who) {
    v1::Timeline timeline;
    EXPECT_EQ(Timeline(who, "anna", &timeline), OK);
    return std::make_pair(timeline.revision(), timeline.entries_size());
  };
  auto [employer_before, entries] = timeline_revision("acme-hr");
  auto [expert_before, unused] = timeline_revision("jdevries");
  EXPECT_LT(employer_before, expert_before);  // anna has events hidden from employers
  ASSERT_EQ(Record("jdevries", "anna", PrivateLife("geheim")).error_code(), OK);
  EXPECT_EQ(timeline_revision("acme-hr").first, employer_before) << "a hidden event moved it";
  EXPECT_EQ(timeline_revision("jdevries").first, expert_before + 1);

  // The employer writes against its own token.
  v1::PlacementEvent change = Today();
  change.mutable_contract_changed()->set_contract(v1::CONTRACT_TYPE_PERMANENT);
  change.mutable_contract_changed()->set_hours_per_week(32);
  v1::RecordCaseEventRequest request;
  request.set_case_id("anna");
  request.set_event_id(eventstore::EventId::Random().ToString());
  request.set_expected_revision(employer_before);
  *request.mutable_event() = change;
  v1::RecordCaseEventResponse response;
  {
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s =
        v1::Cases::NewStub(Channel("acme-hr"))->RecordCaseEvent(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(response.revision(), employer_before + 1);
  // A stale token is a conflict that names the employer's current one.
  request.set_event_id(eventstore::EventId::Random().ToString());
  grpc::ClientContext stale;
  Deadline(&stale);
  grpc::Status conflict =
      v1::Cases::NewStub(Channel("acme-hr"))->RecordCaseEvent(&stale, request, &response);
  EXPECT_EQ(conflict.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(conflict.error_message().find(std::to_string(employer_before + 1)), std::string::npos)
      << conflict.error_message();
  EXPECT_EQ(conflict.error_message().find(std::to_string(expert_before + 2)), std::string::npos)
      << "the stream revision leaked: " << conflict.error_message();

  // Stream revisions of a case never reach an employer: a case stream is
  // read through the Cases API, and records on the global log carry none.
  v1::ReadStreamRequest read;
  read.set_stream("case-anna");
  v1::ReadStreamResponse stream;
  grpc::ClientContext read_context;
  Deadline(&read_context);
  EXPECT_EQ(v1::EventStore::NewStub(Channel("acme-hr"))
                ->ReadStream(&read_context, read, &stream)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::ReadAllRequest all;
  v1::ReadAllResponse log;
  grpc::ClientContext all_context;
  Deadline(&all_context);
  all.set_max_count(1000);
  ASSERT_TRUE(v1::EventStore::NewStub(Channel("acme-hr"))->ReadAll(&all_context, all, &log).ok());
  int anna_records = 0;
  for (const auto& e : log.events()) {
    if (e.stream() == "case-anna") {
      ++anna_records;
      EXPECT_EQ(e.revision(), 0u);
    }
  }
  EXPECT_GT(anna_records, 1);
}

// A stored record that does not decode (damage, or data written around the
// domain's checks before raw appends were fenced off) never takes a case,
// the projection or the statistics down: it is set aside and reported. One
// that decides access fails the read instead (fail closed).
TEST_F(TrustTest, AnUnreadableRecordIsQuarantinedNotFatal) {
  v1::Timeline before;
  ASSERT_EQ(Timeline("jdevries", "anna", &before), OK);
  const uint64_t bad_case = AppendUnreadable("case-anna", "ContactMoment");
  AppendUnreadable("employer-acme", "OrganisationChanged");
  AppendUnreadable("case-chris", "TeamMemberAdded");   // feeds the projection's index
  AppendUnreadable("case-bram", "TeamMemberRemoved");  // decides access to bram

  // The case is served without the record, which is reported.
  v1::Timeline after;
  ASSERT_EQ(Timeline("jdevries", "anna", &after), OK);
  EXPECT_EQ(after.entries_size(), before.entries_size());
  ASSERT_EQ(after.quarantined_size(), 2);  // its own record and its employer's
  EXPECT_EQ(after.quarantined(0).stream(), "case-anna");
  EXPECT_EQ(after.quarantined(0).position(), bad_case);
  EXPECT_EQ(after.revision(), before.revision() + 1);  // the next write still lines up
  v1::CaseStatus status;
  ASSERT_EQ(Status("jdevries", "anna", &status), OK);
  EXPECT_EQ(status.quarantined_size(), 2);
  // Nothing is recorded on a history with holes (the rules cannot be checked).
  grpc::Status refused = Record("jdevries", "anna", Contact());
  EXPECT_EQ(refused.error_code(), StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_NE(refused.error_message().find("cannot be read"), std::string::npos);
  // Employers are not told (it would count hidden records).
  v1::Timeline employer;
  ASSERT_EQ(Timeline("acme-hr", "anna", &employer), OK);
  EXPECT_EQ(employer.quarantined_size(), 0);
  // The projection went on: portfolios and statistics still answer.
  {
    v1::ListPortfolioRequest request;
    v1::Portfolio portfolio;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s =
        v1::Cases::NewStub(Channel("jdevries"))->ListPortfolio(&context, request, &portfolio);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_GT(portfolio.items_size(), 0);
    // bram (its team change unreadable) is listed as such, not dropped.
    bool bram = false;
    for (const auto& q : portfolio.quarantined()) bram |= q.stream() == "case-bram";
    EXPECT_TRUE(bram);
  }
  {
    v1::GetRegionalStatisticsRequest request;
    v1::RegionalStatistics statistics;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s = v1::Cases::NewStub(Channel("jdevries"))
                         ->GetRegionalStatistics(&context, request, &statistics);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // A record that decides access cannot be set aside: reading bram fails.
  EXPECT_EQ(Timeline("jdevries", "bram"), StatusCode::DATA_LOSS);
}

// A refusal says the same for a case that exists and one that does not.
TEST_F(TrustTest, RefusalsAreNoExistenceOracle) {
  auto message = [this](const std::string& who, const std::string& case_id) {
    v1::GetTimelineRequest request;
    request.set_case_id(case_id);
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s = v1::Cases::NewStub(Channel(who))->GetTimeline(&context, request, &response);
    EXPECT_EQ(s.error_code(), DENIED) << who << " " << case_id;
    std::string text = s.error_message();
    text.replace(text.find(case_id), case_id.size(), "<case>");
    return text;
  };
  EXPECT_EQ(message("pvisser", "anna"), message("pvisser", "zzzz"));  // expert, not on the team
  EXPECT_EQ(message("korf-hr", "anna"), message("korf-hr", "zzzz"));  // another employer's
}

TEST_F(TrustTest, EmployerFollowingTheLogNeverReceivesPrivateLifeEvents) {
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  grpc::ClientContext context;
  Deadline(&context, 30);
  auto reader = v1::EventStore::NewStub(Channel("korf-hr"))->Subscribe(&context, request);
  std::string received;  // every byte the employer got
  std::vector<v1::RecordedEvent> events;
  v1::SubscribeResponse message;
  bool caught_up = false;
  while (!caught_up && reader->Read(&message)) {
    received += message.SerializeAsString();
    for (const auto& e : message.events().events()) events.push_back(e);
    caught_up = message.has_caught_up();
  }
  ASSERT_TRUE(caught_up);
  // Live: private-life events on fleur (at this employer), then a marker.
  ASSERT_EQ(Record("jdevries", "fleur", PrivateLife("geheim-XK7 mantelzorg")).error_code(), OK);
  ASSERT_EQ(Record("jdevries", "fleur", PrivateLife("geheim-XK8 verhuizing")).error_code(), OK);
  ASSERT_EQ(Record("jdevries", "fleur", Subsidy()).error_code(), OK);
  bool marker = false;
  while (!marker && reader->Read(&message)) {
    received += message.SerializeAsString();
    for (const auto& e : message.events().events()) {
      events.push_back(e);
      marker = marker || (e.stream() == "case-fleur" && e.event_type() == "SubsidyGranted");
    }
  }
  context.TryCancel();
  reader->Finish();
  ASSERT_TRUE(marker) << "the employer never saw the employer-visible marker event";
  EXPECT_EQ(received.find("geheim-XK"), std::string::npos);
  EXPECT_EQ(received.find("mantelzorg"), std::string::npos);  // the demo's private event too
  for (const auto& e : events) {
    EXPECT_NE(e.event_type(), "PrivateLifeChanged");
    for (const std::string other :
         {"case-anna", "case-bram", "case-dewi", "case-emre", "employer-acme"}) {
      EXPECT_NE(e.stream(), other) << "an employer received another organisation's event";
    }
  }
  // The same through a global-log read.
  std::vector<v1::RecordedEvent> read;
  ASSERT_EQ(ReadAll("korf-hr", &read), OK);
  for (const auto& e : read) EXPECT_EQ(e.SerializeAsString().find("geheim-XK"), std::string::npos);
}

TEST_F(TrustTest, ExpertOffTheTeamSeesNoCaseEventsInTheLog) {
  std::vector<v1::RecordedEvent> events;
  ASSERT_EQ(SubscribeAll("pvisser", &events), OK);
  // Not vacuous: the employer-wide records do reach this expert.
  ASSERT_FALSE(events.empty());
  bool employer_wide = false;
  for (const auto& e : events) {
    EXPECT_EQ(e.stream().rfind("case-", 0), std::string::npos) << e.stream();
    employer_wide |= e.stream().rfind("employer-", 0) == 0;
  }
  EXPECT_TRUE(employer_wide);
  std::vector<v1::RecordedEvent> all;
  ASSERT_EQ(SubscribeAll("audit", &all), OK);
  EXPECT_EQ(all.size(), store_->CommittedEnd());  // auditors see every record
}

TEST_F(TrustTest, BadCertificatesAreRefused) {
  EXPECT_EQ(Timeline("jdevries", "anna"), OK);
  EXPECT_EQ(Timeline("boss", "anna"), StatusCode::UNAUTHENTICATED);    // unknown role
  EXPECT_EQ(Timeline("lapsed", "anna"), StatusCode::UNAUTHENTICATED);  // expired
  {
    v1::GetTimelineRequest request;
    request.set_case_id("anna");
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    // Issued by another deployment's CA.
    auto status = v1::Cases::NewStub(Channel("jdevries", other_dir_->Sub("pki")))
                      ->GetTimeline(&context, request, &response);
    EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED) << status.error_message();
    EXPECT_NE(status.error_message().find("not issued by this deployment"), std::string::npos)
        << status.error_message();
  }
  // No client certificate at all: refused with the reason.
  EXPECT_EQ(Timeline("", "anna"), StatusCode::UNAUTHENTICATED);
  // Plaintext against the TLS listener.
  {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::InsecureChannelCredentials());
    v1::GetTimelineRequest request;
    request.set_case_id("anna");
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context, 3);
    EXPECT_EQ(v1::Cases::NewStub(channel)->GetTimeline(&context, request, &response).error_code(),
              StatusCode::UNAVAILABLE);
  }
}

TEST_F(TrustTest, RevocationTakesEffectWithoutRestart) {
  EXPECT_EQ(Record("beheer", "anna", TeamAdd("expert:leaver")).error_code(), OK);
  EXPECT_EQ(Timeline("leaver", "anna"), OK);
  RunPki("revoke " + pki_dir_->Sub("pki") + " leaver");
  // The deployment's deny list is what this server was started with.
  std::ofstream(revoked_, std::ios::trunc) << Slurp(Pki("revoked-serials"));
  EXPECT_EQ(Timeline("leaver", "anna"), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Timeline("jdevries", "anna"), OK);
}

TEST_F(TrustTest, HostileAuthenticatedClientGetsPreciseErrors) {
  v1::RecordCaseEventRequest request;
  request.set_case_id("anna");
  request.set_event_id("not-a-uuid");
  request.set_expected_revision(Revision("anna"));
  *request.mutable_event() = Contact();
  v1::RecordCaseEventResponse response;
  {
    grpc::ClientContext context;
    Deadline(&context);
    auto status =
        v1::Cases::NewStub(Channel("jdevries"))->RecordCaseEvent(&context, request, &response);
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  }
  {  // Bigger than the server accepts.
    request.set_event_id(eventstore::EventId::Random().ToString());
    request.mutable_event()->mutable_contact_moment()->set_summary(std::string(9 << 20, 'x'));
    grpc::ClientContext context;
    Deadline(&context);
    auto status =
        v1::Cases::NewStub(Channel("jdevries"))->RecordCaseEvent(&context, request, &response);
    EXPECT_EQ(status.error_code(), StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  }
  {  // A case id that is not one.
    v1::GetTimelineRequest bad;
    bad.set_case_id("../../etc/passwd");
    v1::Timeline timeline;
    grpc::ClientContext context;
    Deadline(&context);
    EXPECT_EQ(
        v1::Cases::NewStub(Channel("jdevries"))->GetTimeline(&context, bad, &timeline).error_code(),
        StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(Timeline("jdevries", "anna"), OK);  // still serving
}

TEST_F(TrustTest, EveryReadOfCaseContentIsInTheAccessLog) {
  const uint64_t before = access_store_->CommittedEnd();
  ASSERT_EQ(Timeline("acme-hr", "anna"), OK);
  ASSERT_EQ(Status("jdevries", "anna"), OK);
  EXPECT_EQ(Timeline("korf-hr", "anna"), DENIED);  // refused: nothing was read
  auto records = access_store_->ReadStream("case-anna", 0, eventstore::Direction::kForwards, 1000);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> seen;
  for (const auto& r : *records) {
    if (r.position < before) continue;
    v1::AccessRecord record;
    ASSERT_TRUE(record.ParseFromString(r.data));
    seen.push_back(record.principal() + " " + record.view());
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"employer:acme/acme-hr timeline", "expert:jdevries status"}));
}

// The expert app's pull: every change to the caller's cases from a cursor.
class PullTest : public PushTest {
 protected:
  struct Pulled {
    std::vector<v1::PullResponse> responses;
    grpc::Status status;
    // Non-backlog events as "case/revision" or "employer:E/revision".
    std::vector<std::string> Events(bool backlog = false) const {
      std::vector<std::string> out;
      for (const auto& r : responses) {
        for (const auto& c : r.changes()) {
          if (!c.has_event() || c.event().backlog() != backlog) continue;
          const auto& e = c.event();
          out.push_back(e.case_id().empty()
                            ? absl::StrCat("employer:", e.employer_id(), "/", e.revision())
                            : absl::StrCat(e.case_id(), "/", e.revision()));
        }
      }
      return out;
    }
    std::vector<std::string> Removals() const {
      std::vector<std::string> out;
      for (const auto& r : responses) {
        for (const auto& c : r.changes()) {
          if (c.has_removed()) {
            out.push_back(absl::StrCat(c.removed().case_id(), " ",
                                       v1::CaseRemoved::Reason_Name(c.removed().reason())));
          }
        }
      }
      return out;
    }
    uint64_t Cursor() const { return responses.empty() ? 0 : responses.back().cursor(); }
  };
  // Pulls as `who` from `cursor` until caught up (then cancels).
  Pulled Pull(const std::string& who, uint64_t cursor) {
    v1::PullRequest request;
    request.set_cursor(cursor);
    grpc::ClientContext context;
    Deadline(&context);
    auto reader = v1::Cases::NewStub(Channel(who))->Pull(&context, request);
    Pulled out;
    v1::PullResponse response;
    while (reader->Read(&response)) {
      out.responses.push_back(response);
      if (response.caught_up()) {
        context.TryCancel();
        break;
      }
    }
    out.status = reader->Finish();
    if (out.status.error_code() == StatusCode::CANCELLED) out.status = grpc::Status::OK;
    return out;
  }
  static int Count(const std::vector<std::string>& v, const std::string& prefix) {
    return static_cast<int>(std::count_if(
        v.begin(), v.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
  }
};

TEST_F(PullTest, AnExpertPullsTheirCasesOnceAndAJoinedCaseComesWithItsPast) {
  const Pulled first = Pull("pvisser", 0);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_FALSE(first.responses.empty());
  EXPECT_TRUE(first.responses.back().caught_up());
  EXPECT_EQ(first.Cursor(), first.responses.back().log_end());
  EXPECT_EQ(Count(first.Events(), "anna/"), 0);  // not on its team

  const Pulled mine = Pull("jdevries", 0);
  ASSERT_TRUE(mine.status.ok());
  const int64_t anna = Revision("anna");
  EXPECT_EQ(Count(mine.Events(), "anna/"), anna + 1);  // every event, once
  EXPECT_GT(Count(mine.Events(), "fleur/"), 0);
  EXPECT_GT(Count(mine.Events(), "employer:acme/"), 0);  // joined in

  // pvisser joins anna: the next pull from the kept cursor brings the case
  // so far (backlog) and the join, nothing from before the cursor twice.
  ASSERT_TRUE(Record("jdevries", "anna", TeamAdd("expert:pvisser")).ok());
  const Pulled joined = Pull("pvisser", first.Cursor());
  ASSERT_TRUE(joined.status.ok()) << joined.status.error_message();
  EXPECT_EQ(joined.Events(), (std::vector<std::string>{absl::StrCat("anna/", anna + 1)}));
  EXPECT_EQ(Count(joined.Events(true), "anna/"), anna + 1);
  EXPECT_GT(Count(joined.Events(true), "employer:acme/"), 0);
  // The event carries the content, opened: a case's own data.
  bool saw_worker = false;
  for (const auto& r : joined.responses) {
    for (const auto& c : r.changes()) {
      if (c.event().event().has_case_opened()) {
        saw_worker = !c.event().event().case_opened().worker_ref().empty();
      }
    }
  }
  EXPECT_TRUE(saw_worker);

  // Nothing new: a pull from the last cursor sends no events.
  const Pulled again = Pull("pvisser", joined.Cursor());
  EXPECT_TRUE(again.Events().empty());
  EXPECT_TRUE(again.Events(true).empty());
}

TEST_F(PullTest, ResumingFromAnyCursorGivesEveryChangeOnceWithNoGap) {
  const Pulled whole = Pull("jdevries", 0);
  ASSERT_TRUE(whole.status.ok());
  const std::vector<std::string> all = whole.Events();
  ASSERT_GT(all.size(), 10u);
  // Resume at every event's position in turn (a device that kept the
  // changes before it): the rest comes once, in order, with no gap.
  std::vector<uint64_t> positions;
  for (const auto& r : whole.responses) {
    for (const auto& c : r.changes()) {
      if (c.has_event() && !c.event().backlog()) positions.push_back(c.event().position());
    }
  }
  ASSERT_EQ(positions.size(), all.size());
  for (size_t k = 0; k < positions.size(); k += 7) {
    const Pulled rest = Pull("jdevries", positions[k]);
    ASSERT_TRUE(rest.status.ok());
    EXPECT_EQ(rest.Events(), std::vector<std::string>(all.begin() + k, all.end()))
        << "from position " << positions[k];
  }
  // Live: a pull that has caught up receives the next event as it commits.
  v1::PullRequest request;
  request.set_cursor(whole.Cursor());
  grpc::ClientContext context;
  Deadline(&context);
  auto reader = v1::Cases::NewStub(Channel("jdevries"))->Pull(&context, request);
  v1::PullResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_TRUE(response.caught_up());
  ASSERT_TRUE(Record("jdevries", "fleur", Contact("live")).ok());
  bool live = false;
  while (!live && reader->Read(&response)) {
    for (const auto& c : response.changes()) {
      live = live || (c.event().case_id() == "fleur" &&
                      c.event().event().contact_moment().summary() == "live");
    }
  }
  EXPECT_TRUE(live);
  context.TryCancel();
  reader->Finish().IgnoreError();
}

TEST_F(PullTest, LeavingTheTeamAndErasureTellTheDeviceToPurge) {
  ASSERT_TRUE(Record("jdevries", "anna", TeamAdd("expert:pvisser")).ok());
  const Pulled on = Pull("pvisser", 0);
  ASSERT_GT(Count(on.Events(), "anna/"), 0);
  v1::PlacementEvent leave = Today();
  leave.mutable_team_member_removed()->set_expert_id("expert:pvisser");
  ASSERT_TRUE(Record("jdevries", "anna", leave).ok());
  const Pulled off = Pull("pvisser", on.Cursor());
  ASSERT_TRUE(off.status.ok());
  EXPECT_EQ(off.Removals(), (std::vector<std::string>{"anna LEFT_TEAM"}));
  EXPECT_EQ(Count(off.Events(), "anna/"), 0);
  // From the start, a case the caller may no longer read is not sent at all.
  const Pulled fresh = Pull("pvisser", 0);
  EXPECT_EQ(Count(fresh.Events(), "anna/"), 0);
  EXPECT_EQ(Count(fresh.Events(true), "anna/"), 0);

  // An erased case: a removal, and from the start none of its events.
  const Pulled before = Pull("jdevries", 0);
  ASSERT_GT(Count(before.Events(), "anna/"), 0);
  v1::PlacementEvent close = Today();
  close.mutable_case_closed()->set_reason("plaatsing beëindigd");
  ASSERT_TRUE(Record("jdevries", "anna", close).ok());
  grpc::Status erased = EraseCase("beheer", "anna");
  ASSERT_TRUE(erased.ok()) << erased.error_message();
  const Pulled after = Pull("jdevries", before.Cursor());
  EXPECT_EQ(after.Removals(), (std::vector<std::string>{"anna ERASED"}));
  // A device that left the team and has not pulled since hears of both.
  const Pulled late = Pull("pvisser", on.Cursor());
  EXPECT_EQ(late.Removals(), (std::vector<std::string>{"anna LEFT_TEAM", "anna ERASED"}));
  const Pulled from_start = Pull("jdevries", 0);
  EXPECT_EQ(Count(from_start.Events(), "anna/"), 0);
  EXPECT_EQ(from_start.Removals(), (std::vector<std::string>{"anna ERASED"}));
  EXPECT_GT(Count(from_start.Events(), "fleur/"), 0);
}

TEST_F(PullTest, OnlyExpertsPullAndABadCursorIsNamed) {
  EXPECT_EQ(Pull("acme-hr", 0).status.error_code(), DENIED);
  EXPECT_EQ(Pull("audit", 0).status.error_code(), DENIED);
  EXPECT_EQ(Pull("beheer", 0).status.error_code(), DENIED);
  const Pulled bad = Pull("jdevries", uint64_t{1} << 40);
  EXPECT_EQ(bad.status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.status.error_message().find("cursor"), std::string::npos);
  // Served cases are in the access log, view "sync".
  const uint64_t before = access_store_->CommittedEnd();
  ASSERT_TRUE(Pull("jdevries", 0).status.ok());
  auto records = access_store_->ReadStream("case-anna", 0, eventstore::Direction::kForwards, 1000);
  ASSERT_TRUE(records.ok());
  int syncs = 0;
  for (const auto& r : *records) {
    v1::AccessRecord record;
    ASSERT_TRUE(record.ParseFromString(r.data));
    if (r.position >= before && record.view() == "sync") ++syncs;
  }
  EXPECT_EQ(syncs, 1);
}

// A record that does not read is passed over (as every reader does), but
// one that decides who may see its case stops the pull, naming it: the
// device is not sent a case nobody can say it may have.
TEST_F(PullTest, AnUnreadableRecordIsPassedOverUnlessItDecidesAccess) {
  const Pulled before = Pull("jdevries", 0);
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  AppendUnreadable("case-anna", "ContactMoment");
  const Pulled passed = Pull("jdevries", 0);
  ASSERT_TRUE(passed.status.ok()) << passed.status.error_message();
  EXPECT_EQ(passed.Events(), before.Events());
  const uint64_t bad = AppendUnreadable("case-bram", "TeamMemberRemoved");
  const Pulled stopped = Pull("jdevries", 0);
  EXPECT_EQ(stopped.status.error_code(), StatusCode::DATA_LOSS);
  EXPECT_NE(stopped.status.error_message().find(
                absl::StrCat("case 'bram' cannot be synced: who may access it cannot be decided: "
                             "its TeamMemberRemoved record at position ",
                             bad)),
            std::string::npos)
      << stopped.status.error_message();
}

TEST_F(PullTest, ARevokedDeviceIsCutOffWhilePulling) {
  ASSERT_EQ(Record("beheer", "anna", TeamAdd("expert:leaver")).error_code(), OK);
  v1::PullRequest request;
  grpc::ClientContext context;
  Deadline(&context);
  auto reader = v1::Cases::NewStub(Channel("leaver"))->Pull(&context, request);
  v1::PullResponse response;
  while (reader->Read(&response) && !response.caught_up()) {
  }
  ASSERT_TRUE(response.caught_up());
  RunPki("revoke " + pki_dir_->Sub("pki") + " leaver");
  std::ofstream(revoked_, std::ios::trunc) << Slurp(Pki("revoked-serials"));
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace duurzaam::testing
