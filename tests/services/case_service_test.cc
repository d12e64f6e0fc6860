// The case API end to end on a real server over loopback.
#include "absl/strings/str_format.h"
#include "clients/lib/error_details.h"
#include "codec/employer_registry.h"
#include "codec/placement_codec.h"
#include "common/clock.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "tests/services/server_fixture.h"

namespace duurzaam::testing {
namespace {

v1::CalendarDate Day(int y, int m, int d) {
  v1::CalendarDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

class CaseApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    cases_ = v1::Cases::NewStub(channel_);
    // The employers these tests open cases at (the registry admins keep).
    for (const char* employer : {"acme", "other"}) {
      ASSERT_TRUE(codec::RegisterEmployer(store_, employer, employer, "admin:test", 0).ok());
    }
  }

  void As(grpc::ClientContext* context, const std::string& who = "expert:jdevries",
          const std::string& role = "EXPERT") {
    context->AddMetadata("x-duurzaam-principal", who);
    context->AddMetadata("x-duurzaam-role", role);
    if (role == "EMPLOYER") {
      context->AddMetadata("x-duurzaam-organisation", who.substr(who.find(':') + 1));
    }
  }

  grpc::Status Record(const std::string& case_id, int64_t expected, const v1::PlacementEvent& e,
                      v1::RecordCaseEventResponse* response,
                      std::string event_id = eventstore::EventId::Random().ToString()) {
    v1::RecordCaseEventRequest request;
    request.set_case_id(case_id);
    request.set_event_id(event_id);
    request.set_expected_revision(expected);
    *request.mutable_event() = e;
    grpc::ClientContext context;
    As(&context);
    return cases_->RecordCaseEvent(&context, request, response);
  }

  int64_t MustRecord(const std::string& case_id, int64_t expected, const v1::PlacementEvent& e) {
    v1::RecordCaseEventResponse response;
    grpc::Status status = Record(case_id, expected, e, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.revision();
  }

  static v1::PlacementEvent On(v1::CalendarDate day) {
    v1::PlacementEvent e;
    *e.mutable_occurred_on() = day;
    return e;
  }
  static v1::PlacementEvent Opened(v1::CalendarDate day, const std::string& employer) {
    v1::PlacementEvent e = On(day);
    auto* b = e.mutable_case_opened();
    b->set_worker_ref("worker-1");
    b->set_employer_id(employer);
    b->set_region("Groot Amsterdam");
    b->set_target_group("Wajong");
    return e;
  }
  static v1::PlacementEvent Hired(v1::CalendarDate day) {
    v1::PlacementEvent e = On(day);
    auto* b = e.mutable_hired();
    b->set_contract(v1::CONTRACT_TYPE_PERMANENT);
    b->set_hours_per_week(24);
    return e;
  }

  std::unique_ptr<v1::Cases::Stub> cases_;
};

TEST_F(CaseApiTest, CommandsAppendWithOptimisticConcurrency) {
  EXPECT_EQ(MustRecord("c1", -1, Opened(Day(2023, 1, 1), "acme")), 0);
  EXPECT_EQ(MustRecord("c1", 0, Hired(Day(2023, 1, 2))), 1);

  // A stale revision: FAILED_PRECONDITION with the current revision.
  v1::PlacementEvent contact = On(Day(2023, 1, 10));
  contact.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_THREE_WAY_CONVERSATION);
  v1::RecordCaseEventResponse response;
  grpc::Status stale = Record("c1", 0, contact, &response);
  ASSERT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorInfoOf(stale)->metadata().at("actual_revision"), "1");
  EXPECT_NE(stale.error_message().find("current revision: 1"), std::string::npos);

  // A retry with the same event id returns the original result.
  std::string id = eventstore::EventId::Random().ToString();
  ASSERT_TRUE(Record("c1", 1, contact, &response, id).ok());
  EXPECT_EQ(response.revision(), 2);
  uint64_t end = store_->CommittedEnd();
  v1::RecordCaseEventResponse retry;
  grpc::Status again = Record("c1", 1, contact, &retry, id);
  ASSERT_TRUE(again.ok()) << again.error_message();
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.revision(), 2);
  EXPECT_EQ(store_->CommittedEnd(), end);
  contact.mutable_contact_moment()->set_summary("different");
  EXPECT_EQ(Record("c1", 2, contact, &retry, id).error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(CaseApiTest, RejectedCommandsSayWhyAndWriteNothing) {
  MustRecord("c2", -1, Opened(Day(2023, 1, 1), "acme"));
  uint64_t end = store_->CommittedEnd();
  v1::RecordCaseEventResponse response;

  v1::PlacementEvent change = On(Day(2023, 2, 1));
  change.mutable_contract_changed()->set_contract(v1::CONTRACT_TYPE_PERMANENT);
  change.mutable_contract_changed()->set_hours_per_week(24);
  grpc::Status before_hire = Record("c2", 0, change, &response);
  EXPECT_EQ(before_hire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(before_hire.error_message().find("hire"), std::string::npos);

  v1::PlacementEvent checkin = On(Day(2023, 2, 1));
  checkin.mutable_monitoring_check_in()->set_respondent(v1::RESPONDENT_WORKER);
  auto* score = checkin.mutable_monitoring_check_in()->add_scores();
  score->set_item(v1::ITEM_FIT);
  score->set_score(7);
  MustRecord("c2", 0, Hired(Day(2023, 1, 2)));
  end = store_->CommittedEnd();
  grpc::Status bad_score = Record("c2", 1, checkin, &response);
  EXPECT_EQ(bad_score.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The path from the request root, with the item's index in the request.
  EXPECT_EQ(BadRequestOf(bad_score)->field_violations(0).field(),
            "event.monitoring_check_in.scores[0].score");

  v1::PlacementEvent no_body = On(Day(2023, 2, 1));
  grpc::Status missing = Record("c2", 1, no_body, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(missing)->field_violations(0).field(), "event.body");

  v1::PlacementEvent bad_day = Hired(Day(2023, 2, 30));
  grpc::Status impossible = Record("c2", 1, bad_day, &response);
  EXPECT_EQ(BadRequestOf(impossible)->field_violations(0).field(), "event.occurred_on");

  v1::RecordCaseEventRequest bad_case;
  bad_case.set_case_id("Case One");
  bad_case.set_event_id(eventstore::EventId::Random().ToString());
  *bad_case.mutable_event() = Hired(Day(2023, 1, 2));
  grpc::ClientContext c1;
  As(&c1);
  grpc::Status bad_id = cases_->RecordCaseEvent(&c1, bad_case, &response);
  EXPECT_EQ(BadRequestOf(bad_id)->field_violations(0).field(), "case_id");

  grpc::ClientContext anonymous;
  bad_case.set_case_id("c2");
  EXPECT_EQ(cases_->RecordCaseEvent(&anonymous, bad_case, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  v1::PlacementEvent reorg = On(Day(2023, 3, 1));
  reorg.mutable_organisation_changed()->set_kind(v1::ORGANISATION_CHANGE_KIND_REORGANISATION);
  reorg.mutable_organisation_changed()->set_description("x");
  grpc::Status on_case = Record("c2", 1, reorg, &response);
  EXPECT_EQ(BadRequestOf(on_case)->field_violations(0).field(), "event.organisation_changed");
  EXPECT_EQ(store_->CommittedEnd(), end) << "no rejected command may write";
}

absl::CivilDay DaysFromTodayCivil(int days) { return codec::RecordedDay(SystemMicros()) + days; }

v1::CalendarDate DaysFromToday(int days) {
  absl::CivilDay d = DaysFromTodayCivil(days);
  return Day(static_cast<int>(d.year()), d.month(), d.day());
}

TEST_F(CaseApiTest, EmployerReorganisationAppearsInEveryAffectedCase) {
  for (const std::string id : {"a1", "a2"}) {
    MustRecord(id, -1, Opened(DaysFromToday(-401), "acme"));
    MustRecord(id, 0, Hired(DaysFromToday(-400)));
  }
  MustRecord("b1", -1, Opened(DaysFromToday(-401), "other"));
  v1::RecordEmployerEventRequest request;
  request.set_employer_id("acme");
  request.set_event_id(eventstore::EventId::Random().ToString());
  request.set_expected_revision(-1);
  const v1::CalendarDate reorg_day = DaysFromToday(-31);
  *request.mutable_event() = On(reorg_day);
  request.mutable_event()->mutable_organisation_changed()->set_kind(
      v1::ORGANISATION_CHANGE_KIND_REORGANISATION);
  request.mutable_event()->mutable_organisation_changed()->set_description("new structure");
  v1::RecordEmployerEventResponse response;
  grpc::ClientContext context;
  As(&context, "employer:acme", "EMPLOYER");
  ASSERT_TRUE(cases_->RecordEmployerEvent(&context, request, &response).ok());

  for (const std::string id : {"a1", "a2", "b1"}) {
    v1::GetTimelineRequest get;
    get.set_case_id(id);
    get.set_language("en");
    v1::Timeline timeline;
    grpc::ClientContext c;
    As(&c);
    ASSERT_TRUE(cases_->GetTimeline(&c, get, &timeline).ok());
    int wide = 0;
    for (const auto& entry : timeline.entries()) {
      if (entry.employer_wide()) {
        ++wide;
        EXPECT_EQ(entry.title(), "Reorganisation at the employer");
        EXPECT_EQ(entry.event_type(), "OrganisationChanged");
        EXPECT_EQ(entry.event_id(), request.event_id());
      }
    }
    EXPECT_EQ(wide, id == "b1" ? 0 : 1) << id;
  }

  // Without a follow-up for 30 days it puts each acme placement at risk.
  v1::GetStatusRequest status_request;
  status_request.set_case_id("a1");
  *status_request.mutable_as_of() = DaysFromToday(0);
  status_request.set_language("en");
  v1::CaseStatus status;
  grpc::ClientContext sc;
  As(&sc);
  ASSERT_TRUE(cases_->GetStatus(&sc, status_request, &status).ok());
  EXPECT_EQ(status.level(), v1::STATUS_LEVEL_AT_RISK);
  bool found = false;
  for (const auto& r : status.reasons()) {
    if (r.rule_id() == "AT_RISK.DISRUPTION_UNADDRESSED") {
      found = true;
      EXPECT_EQ(r.evidence_event_ids(0), request.event_id());
      EXPECT_NE(r.text().find(absl::StrFormat("%04d-%02d-%02d", reorg_day.year(), reorg_day.month(),
                                              reorg_day.day())),
                std::string::npos)
          << r.text();
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(status.suggested_actions().empty());

  // In Dutch, as of yesterday: the reorganisation was recorded today, so
  // yesterday's status does not know it (and never will).
  status_request.set_language("nl");
  *status_request.mutable_as_of() = DaysFromToday(-1);
  grpc::ClientContext nc;
  As(&nc);
  ASSERT_TRUE(cases_->GetStatus(&nc, status_request, &status).ok());
  for (const auto& r : status.reasons()) {
    EXPECT_NE(r.rule_id(), "AT_RISK.DISRUPTION_UNADDRESSED");
  }
  EXPECT_FALSE(status.reasons().empty());
  EXPECT_EQ(status.ruleset_version(), "2026.1");

  status_request.set_language("fr");
  grpc::ClientContext fc;
  As(&fc);
  grpc::Status french = cases_->GetStatus(&fc, status_request, &status);
  EXPECT_EQ(BadRequestOf(french)->field_violations(0).field(), "language");
  v1::GetTimelineRequest missing;
  missing.set_case_id("nobody");
  v1::Timeline none;
  grpc::ClientContext mc;
  As(&mc);
  // An expert cannot tell a missing case from someone else's: both refused.
  EXPECT_EQ(cases_->GetTimeline(&mc, missing, &none).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ac;
  As(&ac, "auditor:a", "AUDITOR");  // an auditor may read every case, so learns it is missing
  EXPECT_EQ(cases_->GetTimeline(&ac, missing, &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace duurzaam::testing

#include "demo/demo_data.h"

namespace duurzaam::testing {
namespace {

TEST_F(CaseApiTest, PortfolioListsTheExpertsCasesMostUrgentFirst) {
  auto seeded = demo::Seed(store_, DaysFromTodayCivil(0), nullptr);
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  // Another expert joins one case and the demo expert leaves another.
  v1::PlacementEvent leave = On(DaysFromToday(0));
  leave.mutable_team_member_removed()->set_expert_id("expert:jdevries");
  v1::Timeline koen;
  {
    v1::GetTimelineRequest get;
    get.set_case_id("koen");
    grpc::ClientContext c;
    As(&c);
    ASSERT_TRUE(cases_->GetTimeline(&c, get, &koen).ok());
  }
  // The last expert cannot leave: a colleague takes over first.
  v1::PlacementEvent join = On(DaysFromToday(0));
  join.mutable_team_member_added()->set_expert_id("expert:colleague");
  const int64_t joined = MustRecord("koen", koen.revision(), join);
  MustRecord("koen", joined, leave);

  v1::ListPortfolioRequest request;
  request.set_language("en");
  v1::Portfolio portfolio;
  grpc::ClientContext context;
  As(&context);  // expert:jdevries
  ASSERT_TRUE(cases_->ListPortfolio(&context, request, &portfolio).ok());
  EXPECT_EQ(portfolio.expert_id(), "expert:jdevries");
  ASSERT_EQ(portfolio.items_size(), 11) << "12 demo cases minus the one left";
  int previous = 0;
  for (const auto& item : portfolio.items()) {
    EXPECT_NE(item.case_id(), "koen");
    int urgency = item.level() == v1::STATUS_LEVEL_AT_RISK       ? 0
                  : item.level() == v1::STATUS_LEVEL_VULNERABLE  ? 1
                  : item.level() == v1::STATUS_LEVEL_SUSTAINABLE ? 2
                                                                 : 3;
    EXPECT_GE(urgency, previous) << item.case_id();
    previous = urgency;
  }
  EXPECT_EQ(portfolio.items(0).level(), v1::STATUS_LEVEL_AT_RISK);
  EXPECT_FALSE(portfolio.items(0).attention().empty());
  EXPECT_EQ(portfolio.items(portfolio.items_size() - 1).case_id(), "hanna");  // ENDED last

  v1::ListPortfolioRequest someone_else;
  someone_else.set_expert_id("expert:nobody");
  v1::Portfolio empty;
  grpc::ClientContext c2;
  As(&c2);  // an expert lists only their own portfolio
  EXPECT_EQ(cases_->ListPortfolio(&c2, someone_else, &empty).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext c3;
  As(&c3, "auditor:a", "AUDITOR");  // an auditor may list anyone's
  ASSERT_TRUE(cases_->ListPortfolio(&c3, someone_else, &empty).ok());
  EXPECT_EQ(empty.items_size(), 0);
}

}  // namespace
}  // namespace duurzaam::testing

namespace duurzaam::testing {
namespace {

TEST_F(CaseApiTest, RegionalStatisticsAreAnonymisedCounts) {
  auto seeded = demo::Seed(store_, DaysFromTodayCivil(0), nullptr, 5);  // 60 placements
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  v1::GetRegionalStatisticsRequest request;
  v1::RegionalStatistics stats;
  grpc::ClientContext context;
  As(&context, "researcher:uu", "AUDITOR");
  ASSERT_TRUE(cases_->GetRegionalStatistics(&context, request, &stats).ok());
  int placements = 0, groups = 0;
  bool followed_up_reorganisation = false;
  for (const auto& g : stats.groups()) {
    ++groups;
    if (g.suppressed()) continue;
    EXPECT_GE(g.placements(), 5);
    placements += g.placements();
    ASSERT_EQ(g.years_size(), 3);
    EXPECT_LE(g.years(2).placements(), g.years(0).placements());
    for (const auto& d : g.disruptions()) {
      if (d.source() == v1::DISRUPTION_SOURCE_ORGANISATION && d.followed_up_within_30_days() > 0) {
        followed_up_reorganisation = true;
      }
    }
    // Nothing identifying: no case ids, worker refs or free text anywhere.
    EXPECT_EQ(g.SerializeAsString().find("worker-"), std::string::npos);
    EXPECT_EQ(g.SerializeAsString().find("case-"), std::string::npos);
  }
  EXPECT_GE(groups, 3);
  EXPECT_EQ(placements, 60);
  EXPECT_TRUE(followed_up_reorganisation);
}

}  // namespace
}  // namespace duurzaam::testing

namespace duurzaam::testing {
namespace {

// Employers exist only once an administrator registered them, and only
// their own principals or an expert with a case there record employer-wide
// events (which shift every placement's status there).
TEST_F(CaseApiTest, EmployersComeFromTheRegistryAdminsKeep) {
  v1::RecordCaseEventResponse response;
  grpc::Status unregistered =
      Record("nowhere-1", -1, Opened(DaysFromToday(-10), "nowhere"), &response);
  ASSERT_EQ(unregistered.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << unregistered.error_message();
  EXPECT_EQ(ErrorInfoOf(unregistered)->reason(), "EMPLOYER_NOT_REGISTERED");
  auto admin = v1::Admin::NewStub(channel_);
  v1::RegisterEmployerRequest add;
  add.set_employer_id("nowhere");
  add.set_name("Nergens BV");
  {  // Experts do not register employers.
    v1::RegisterEmployerResponse added;
    grpc::ClientContext context;
    As(&context);
    EXPECT_EQ(admin->RegisterEmployer(&context, add, &added).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  for (bool first : {true, false}) {  // idempotent
    v1::RegisterEmployerResponse added;
    grpc::ClientContext context;
    As(&context, "admin:beheer", "ADMIN");
    ASSERT_TRUE(admin->RegisterEmployer(&context, add, &added).ok());
    EXPECT_EQ(added.registered(), first);
  }
  MustRecord("nowhere-1", -1, Opened(DaysFromToday(-10), "nowhere"));

  // Employer-wide events: an expert with a case at the employer may, an
  // expert with none may not.
  auto reorganise = [this](const std::string& employer) {
    v1::RecordEmployerEventRequest reorg;
    reorg.set_employer_id(employer);
    reorg.set_event_id(eventstore::EventId::Random().ToString());
    reorg.set_expected_revision(-1);
    *reorg.mutable_event() = On(DaysFromToday(0));
    reorg.mutable_event()->mutable_organisation_changed()->set_kind(
        v1::ORGANISATION_CHANGE_KIND_REORGANISATION);
    reorg.mutable_event()->mutable_organisation_changed()->set_description("new structure");
    v1::RecordEmployerEventResponse reply;
    grpc::ClientContext context;
    As(&context);  // expert:jdevries, who opened nowhere-1
    return cases_->RecordEmployerEvent(&context, reorg, &reply);
  };
  EXPECT_TRUE(reorganise("nowhere").ok());
  EXPECT_EQ(reorganise("other").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reorganise("unknown").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// The expert app acts on rule ids, not on prose.
TEST_F(CaseApiTest, HistoryRefusalsCarryAStableRuleId) {
  auto rule_of = [this](const grpc::Status& status) {
    std::pair<std::string, std::string> out;
    google::rpc::Status rich = Details(status);
    for (const auto& any : rich.details()) {
      google::rpc::ErrorInfo info;
      google::rpc::PreconditionFailure failure;
      if (any.UnpackTo(&info)) out.first = info.reason();
      if (any.UnpackTo(&failure) && failure.violations_size() > 0) {
        out.second = failure.violations(0).type();
      }
    }
    return out;
  };
  v1::RecordCaseEventResponse response;
  v1::PlacementEvent contact = On(DaysFromToday(-1));
  contact.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
  // A new case whose first event is not CaseOpened.
  grpc::Status first = Record("fresh", -1, contact, &response);
  EXPECT_EQ(first.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << first.error_message();
  EXPECT_EQ(rule_of(first),
            std::make_pair(std::string("CASE_NOT_OPENED"), std::string("CASE_NOT_OPENED")));
  // A closed case, and a reopening dated before the closing.
  MustRecord("shut", -1, Opened(DaysFromToday(-100), "acme"));
  v1::PlacementEvent close = On(DaysFromToday(-10));
  close.mutable_case_closed()->set_reason("moved");
  MustRecord("shut", 0, close);
  grpc::Status closed = Record("shut", 1, contact, &response);
  EXPECT_EQ(rule_of(closed).first, "CASE_CLOSED");
  v1::PlacementEvent reopen = On(DaysFromToday(-20));
  reopen.mutable_case_reopened()->set_reason("back");
  EXPECT_EQ(rule_of(Record("shut", 1, reopen, &response)).first, "REOPEN_BEFORE_CLOSE");
  // The last expert leaving.
  v1::PlacementEvent leave = On(DaysFromToday(-1));
  leave.mutable_team_member_removed()->set_expert_id("expert:jdevries");
  MustRecord("team", -1, Opened(DaysFromToday(-100), "acme"));
  EXPECT_EQ(rule_of(Record("team", 0, leave, &response)).first, "TEAM_LAST_EXPERT");
}

TEST_F(CaseApiTest, AStatusForADayThatHasNotComeIsRefused) {
  MustRecord("later", -1, Opened(DaysFromToday(-100), "acme"));
  v1::GetStatusRequest request;
  request.set_case_id("later");
  *request.mutable_as_of() = DaysFromToday(2);
  v1::CaseStatus status;
  grpc::ClientContext context;
  As(&context);
  grpc::Status refused = cases_->GetStatus(&context, request, &status);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_EQ(BadRequestOf(refused)->field_violations(0).field(), "as_of");
  *request.mutable_as_of() = DaysFromToday(0);
  grpc::ClientContext today;
  As(&today);
  EXPECT_TRUE(cases_->GetStatus(&today, request, &status).ok());
}

TEST_F(CaseApiTest, CaseSubscriptionCatchesUpThenGoesLive) {
  MustRecord("live", -1, Opened(DaysFromToday(-100), "acme"));
  MustRecord("live", 0, Hired(DaysFromToday(-90)));
  v1::SubscribeCaseRequest request;
  request.set_case_id("live");
  request.set_language("en");
  grpc::ClientContext context;
  As(&context);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = cases_->SubscribeCase(&context, request);
  v1::CaseUpdate update;
  std::vector<std::string> titles;
  std::vector<int64_t> revisions;
  while (reader->Read(&update) && !update.caught_up()) {
    titles.push_back(update.entry().title());
    revisions.push_back(update.revision());
  }
  ASSERT_TRUE(update.caught_up());
  EXPECT_EQ(titles, (std::vector<std::string>{"Case opened", "Hired (permanent contract)"}));
  EXPECT_EQ(revisions, (std::vector<int64_t>{0, 1})) << "each entry carries its own revision";
  EXPECT_EQ(update.revision(), 1);

  // Live: an event on the case, then a reorganisation at its employer.
  v1::PlacementEvent contact = On(DaysFromToday(-1));
  contact.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
  MustRecord("live", 1, contact);
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.entry().title(), "Contact");
  EXPECT_EQ(update.revision(), 2);
  v1::RecordEmployerEventRequest reorg;
  reorg.set_employer_id("acme");
  reorg.set_event_id(eventstore::EventId::Random().ToString());
  reorg.set_expected_revision(-1);
  *reorg.mutable_event() = On(DaysFromToday(0));
  reorg.mutable_event()->mutable_organisation_changed()->set_kind(
      v1::ORGANISATION_CHANGE_KIND_MANAGEMENT_CHANGE);
  reorg.mutable_event()->mutable_organisation_changed()->set_description("new manager");
  v1::RecordEmployerEventResponse response;
  grpc::ClientContext ec;
  As(&ec, "employer:acme", "EMPLOYER");
  ASSERT_TRUE(cases_->RecordEmployerEvent(&ec, reorg, &response).ok());
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_TRUE(update.entry().employer_wide());
  EXPECT_EQ(update.entry().title(), "Change of manager");
  // No duplicate or extra update: the next one is exactly the next event.
  v1::PlacementEvent visit = On(DaysFromToday(0));
  visit.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_VISIT);
  MustRecord("live", 2, visit);
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_FALSE(update.entry().employer_wide()) << update.DebugString();
  EXPECT_EQ(update.revision(), 3) << update.DebugString();
  context.TryCancel();
  reader->Finish().IgnoreError();
}

// The client library's typed reader (clients/lib/error_details.h) reads
// what the server really sends: a rule id with its precondition, field paths
// from the request root, and the revision a conflict reports.
TEST_F(CaseApiTest, TheClientLibraryReadsTheServersErrorDetails) {
  v1::RecordCaseEventResponse response;
  v1::PlacementEvent contact = On(DaysFromToday(-1));
  contact.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
  const client::ErrorDetails rule =
      client::ReadErrorDetails(Record("nieuw", -1, contact, &response));
  EXPECT_EQ(rule.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::CodeName(rule.code), "FAILED_PRECONDITION");
  EXPECT_EQ(rule.reason, "CASE_NOT_OPENED");
  ASSERT_EQ(rule.preconditions.size(), 1u);
  EXPECT_EQ(rule.preconditions[0].type, "CASE_NOT_OPENED");
  EXPECT_FALSE(rule.message.empty());

  v1::PlacementEvent bad = Opened(DaysFromToday(-5), "acme");
  bad.mutable_case_opened()->set_region("atlantis");
  const client::ErrorDetails field = client::ReadErrorDetails(Record("nieuw", -1, bad, &response));
  EXPECT_EQ(field.code, grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(field.field_violations.size(), 1u) << field.message;
  EXPECT_EQ(field.field_violations[0].field, "event.case_opened.region");

  MustRecord("nieuw", -1, Opened(DaysFromToday(-5), "acme"));
  const client::ErrorDetails conflict =
      client::ReadErrorDetails(Record("nieuw", -1, Opened(DaysFromToday(-5), "acme"), &response));
  EXPECT_EQ(conflict.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(conflict.reason, "WRONG_EXPECTED_REVISION");
  EXPECT_EQ(conflict.actual_revision(), std::optional<int64_t>(0));

  const client::ErrorDetails plain = client::ReadErrorDetails(grpc::Status::OK);
  EXPECT_EQ(plain.code, grpc::StatusCode::OK);
  EXPECT_TRUE(plain.reason.empty() && plain.field_violations.empty());
  EXPECT_EQ(plain.actual_revision(), std::nullopt);
}

}  // namespace
}  // namespace duurzaam::testing
