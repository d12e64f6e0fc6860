// What duurzaamd offers the employer portal, on a real mutual-TLS server with
// certificates from deploy/duurzaam-pki: a PORTAL certificate acts only for
// the employer user each call names, within that user's organisation, and
// only as an employer (a stolen portal certificate reaches no expert data);
// the access log names the user and the portal; Cases.ListPlacements lists
// an organisation's placements with what needs its attention, filtered,
// ordered and paged.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "tests/services/mtls_fixture.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;

constexpr char kPortal[] = "werkgeversportaal";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PortalApiTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() {
    MakePki({std::string("PORTAL ") + kPortal, "EXPERT jdevries", "EMPLOYER acme-hr --org acme",
             "AUDITOR audit"});
  }
  static void TearDownTestSuite() { DeletePki(); }

  void SetUp() override {
    revoked_ = dir_.Sub("revoked-serials");
    std::ofstream(revoked_) << "# none yet\n";
    StartAll({.seed = true, .revoked_serials = revoked_, .audit = true});
  }

  // A call of the portal for `user` at `organisation` (either left out when
  // empty), with any `extra` metadata a thief might add.
  static void ActingFor(grpc::ClientContext* context, const std::string& user,
                        const std::string& organisation,
                        const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    Deadline(context);
    if (!user.empty()) context->AddMetadata("x-duurzaam-on-behalf-of", user);
    if (!organisation.empty()) context->AddMetadata("x-duurzaam-organisation", organisation);
    for (const auto& [k, v] : extra) context->AddMetadata(k, v);
  }

  grpc::Status List(const std::string& user, const std::string& organisation,
                    const v1::ListPlacementsRequest& request, v1::PlacementList* out,
                    const std::string& cert = kPortal) {
    grpc::ClientContext context;
    ActingFor(&context, user, organisation);
    return v1::Cases::NewStub(Channel(cert))->ListPlacements(&context, request, out);
  }

  static std::vector<std::string> Ids(const v1::PlacementList& list) {
    std::vector<std::string> ids;
    for (const auto& p : list.placements()) ids.push_back(p.case_id());
    return ids;
  }

  std::vector<v1::AccessRecord> AccessLogOf(const std::string& case_id) {
    v1::ListAccessRecordsRequest request;
    request.set_case_id(case_id);
    v1::ListAccessRecordsResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    EXPECT_TRUE(
        v1::Audit::NewStub(Channel("audit"))->ListAccessRecords(&context, request, &response).ok());
    return {response.records().begin(), response.records().end()};
  }

  std::string revoked_;
};

TEST_F(PortalApiTest, APortalCallActsForOneEmployerUserAndListsThatOrganisationOnly) {
  v1::PlacementList list;
  ASSERT_TRUE(List("jan@techniek.nl", "techniek-bv", {}, &list).ok());
  EXPECT_EQ(list.employer_id(), "techniek-bv");
  EXPECT_EQ(list.total(), 3);
  // AT_RISK first (emre's contract ends in 40 days: the soonest), then gijs,
  // then jasmijn (VULNERABLE).
  EXPECT_EQ(Ids(list), (std::vector<std::string>{"emre", "gijs", "jasmijn"}));
  const v1::PlacementSummary& emre = list.placements(0);
  EXPECT_EQ(emre.level(), v1::STATUS_LEVEL_AT_RISK);
  EXPECT_EQ(emre.contract(), v1::CONTRACT_TYPE_FIXED_TERM);
  ASSERT_EQ(emre.attention_size(), 1);
  EXPECT_EQ(emre.attention(0).kind(), v1::PlacementAttention::CONTRACT_END);
  EXPECT_EQ(emre.attention(0).days(), 40);
  EXPECT_TRUE(absl::StrContains(emre.attention(0).text(), "tijdelijke contract eindigt"))
      << emre.attention(0).text();
  for (const auto& p : list.placements()) {
    for (const auto& r : p.reasons())
      EXPECT_EQ(r.audience(), v1::VISIBILITY_EMPLOYER) << r.rule_id();
  }
  // English on request.
  v1::ListPlacementsRequest english;
  english.set_language("en");
  ASSERT_TRUE(List("jan@techniek.nl", "techniek-bv", english, &list).ok());
  EXPECT_TRUE(absl::StrContains(list.placements(0).attention(0).text(), "contract ends"));
  // The access log names the user and the portal.
  bool logged = false;
  for (const v1::AccessRecord& r : AccessLogOf("emre")) {
    logged = logged ||
             (r.principal() == "employer:techniek-bv/jan@techniek.nl" && r.role() == "EMPLOYER" &&
              r.view() == "placements" && r.via() == std::string("portal:") + kPortal);
  }
  EXPECT_TRUE(logged);
  // Another organisation's user sees only theirs.
  ASSERT_TRUE(List("piet", "acme", {}, &list).ok());
  const std::vector<std::string> acme = Ids(list);
  EXPECT_EQ(std::set<std::string>(acme.begin(), acme.end()),
            (std::set<std::string>{"anna", "bram", "ivo"}));
}

TEST_F(PortalApiTest, WithoutAUserOrForAnUnknownOrganisationThePortalIsRefused) {
  v1::PlacementList list;
  EXPECT_EQ(List("", "", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List("jan", "", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List("", "acme", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List("Jan Smit", "acme", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List("jan", "ACME;drop", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
  // Not a registered employer: refused, whatever the portal says.
  grpc::Status unknown = List("jan", "nergens-bv", {}, &list);
  EXPECT_EQ(unknown.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(unknown.error_message(), "not a registered employer"));
  {  // Two organisations in one call: ambiguous.
    grpc::ClientContext context;
    ActingFor(&context, "jan", "acme", {{"x-duurzaam-organisation", "techniek-bv"}});
    EXPECT_EQ(v1::Cases::NewStub(Channel(kPortal))
                  ->ListPlacements(&context, v1::ListPlacementsRequest(), &list)
                  .error_code(),
              StatusCode::UNAUTHENTICATED);
  }
  // Employers use their own certificates as before; experts may not list.
  grpc::ClientContext employer;
  Deadline(&employer);
  EXPECT_TRUE(v1::Cases::NewStub(Channel("acme-hr"))
                  ->ListPlacements(&employer, v1::ListPlacementsRequest(), &list)
                  .ok());
  EXPECT_EQ(list.total(), 3);
  grpc::ClientContext expert;
  Deadline(&expert);
  EXPECT_EQ(v1::Cases::NewStub(Channel("jdevries"))
                ->ListPlacements(&expert, v1::ListPlacementsRequest(), &list)
                .error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(PortalApiTest, AStolenPortalCertificateReachesNoExpertData) {
  const std::string secret = "geheim-mantelzorg-7781";
  const std::string note = "gesprek-over-thuissituatie-5521";
  ASSERT_TRUE(Record("jdevries", "anna", PrivateLife(secret)).ok());
  v1::PlacementEvent contact = Today();
  contact.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_VISIT);
  contact.mutable_contact_moment()->set_summary(note);
  ASSERT_TRUE(Record("jdevries", "anna", contact).ok());
  // The thief claims to be the expert as well: the certificate decides.
  const std::vector<std::pair<std::string, std::string>> claims = {
      {"x-duurzaam-principal", "expert:jdevries"}, {"x-duurzaam-role", "EXPERT"}};
  auto thief = [&](grpc::ClientContext* c) { ActingFor(c, "jdevries", "acme", claims); };
  std::string seen;  // every byte the thief received
  auto cases = v1::Cases::NewStub(Channel(kPortal));
  {
    v1::GetTimelineRequest request;
    request.set_case_id("anna");
    v1::Timeline timeline;
    grpc::ClientContext c;
    thief(&c);
    ASSERT_TRUE(cases->GetTimeline(&c, request, &timeline).ok());
    seen += timeline.SerializeAsString();
    for (const auto& e : timeline.entries()) {
      EXPECT_NE(e.event_type(), "PrivateLifeChanged");
      EXPECT_NE(e.event_type(), "ContactMoment");
    }
  }
  {
    v1::GetStatusRequest request;
    request.set_case_id("anna");
    v1::CaseStatus status;
    grpc::ClientContext c;
    thief(&c);
    ASSERT_TRUE(cases->GetStatus(&c, request, &status).ok());
    seen += status.SerializeAsString();
  }
  {
    v1::PlacementList list;
    grpc::ClientContext c;
    thief(&c);
    ASSERT_TRUE(cases->ListPlacements(&c, v1::ListPlacementsRequest(), &list).ok());
    seen += list.SerializeAsString();
  }
  {  // The whole log, as the certificate may see it: redacted, acme only.
    v1::SubscribeRequest request;
    request.mutable_all()->set_from_position(0);
    grpc::ClientContext c;
    thief(&c);
    auto reader = v1::EventStore::NewStub(Channel(kPortal))->Subscribe(&c, request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      seen += message.SerializeAsString();
      if (message.has_caught_up()) break;
    }
    c.TryCancel();
    reader->Finish().IgnoreError();
  }
  EXPECT_FALSE(absl::StrContains(seen, secret));
  EXPECT_FALSE(absl::StrContains(seen, note));
  EXPECT_TRUE(absl::StrContains(seen, "anna"));  // it did read something
  // The positive control: the expert reads both.
  {
    v1::GetTimelineRequest request;
    request.set_case_id("anna");
    v1::Timeline timeline;
    grpc::ClientContext c;
    Deadline(&c);
    ASSERT_TRUE(v1::Cases::NewStub(Channel("jdevries"))->GetTimeline(&c, request, &timeline).ok());
    EXPECT_TRUE(absl::StrContains(timeline.SerializeAsString(), secret));
    EXPECT_TRUE(absl::StrContains(timeline.SerializeAsString(), note));
  }
  // What only experts and auditors may ask for is refused outright.
  {
    grpc::ClientContext c;
    thief(&c);
    v1::Portfolio portfolio;
    EXPECT_EQ(cases->ListPortfolio(&c, v1::ListPortfolioRequest(), &portfolio).error_code(),
              StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext c;
    thief(&c);
    auto reader = cases->Pull(&c, v1::PullRequest());
    v1::PullResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext c;
    thief(&c);
    v1::ListAccessRecordsRequest request;
    request.set_case_id("anna");
    v1::ListAccessRecordsResponse response;
    EXPECT_EQ(v1::Audit::NewStub(Channel(kPortal))
                  ->ListAccessRecords(&c, request, &response)
                  .error_code(),
              StatusCode::PERMISSION_DENIED);
  }
  {  // Another organisation's placement.
    v1::GetTimelineRequest request;
    request.set_case_id("fleur");
    v1::Timeline timeline;
    grpc::ClientContext c;
    thief(&c);
    EXPECT_EQ(cases->GetTimeline(&c, request, &timeline).error_code(),
              StatusCode::PERMISSION_DENIED);
  }
}

TEST_F(PortalApiTest, PlacementsAreFilteredOrderedAndPaged) {
  // All of acme's, one per page, following the tokens.
  v1::ListPlacementsRequest request;
  request.set_page_size(1);
  std::vector<std::string> paged;
  for (int page = 0; page < 10; ++page) {
    v1::PlacementList list;
    ASSERT_TRUE(List("piet", "acme", request, &list).ok());
    EXPECT_EQ(list.total(), 3);
    ASSERT_EQ(list.placements_size(), 1);
    paged.push_back(list.placements(0).case_id());
    if (list.next_page_token().empty()) break;
    request.set_page_token(list.next_page_token());
  }
  v1::PlacementList whole;
  ASSERT_TRUE(List("piet", "acme", {}, &whole).ok());
  EXPECT_EQ(paged, Ids(whole));
  EXPECT_TRUE(whole.next_page_token().empty());
  // A token of one query does not page another.
  v1::ListPlacementsRequest other;
  other.set_page_size(1);
  v1::PlacementList first;
  ASSERT_TRUE(List("piet", "acme", other, &first).ok());
  other.set_page_token(first.next_page_token());
  other.set_order(v1::ListPlacementsRequest::CASE_ID);
  v1::PlacementList list;
  grpc::Status mismatched = List("piet", "acme", other, &list);
  EXPECT_EQ(mismatched.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(mismatched.error_message(), "page_token"));
  other.set_page_token("bm9uc2Vuc2U");
  EXPECT_EQ(List("piet", "acme", other, &list).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::ListPlacementsRequest big;
  big.set_page_size(101);
  EXPECT_EQ(List("piet", "acme", big, &list).error_code(), StatusCode::INVALID_ARGUMENT);
  // By case id, backwards.
  v1::ListPlacementsRequest by_id;
  by_id.set_order(v1::ListPlacementsRequest::CASE_ID);
  by_id.set_descending(true);
  ASSERT_TRUE(List("piet", "acme", by_id, &list).ok());
  EXPECT_EQ(Ids(list), (std::vector<std::string>{"ivo", "bram", "anna"}));
  // Only AT_RISK.
  v1::ListPlacementsRequest at_risk;
  at_risk.add_levels(v1::STATUS_LEVEL_AT_RISK);
  ASSERT_TRUE(List("piet", "acme", at_risk, &list).ok());
  EXPECT_EQ(list.total(), 2);
  for (const auto& p : list.placements()) EXPECT_EQ(p.level(), v1::STATUS_LEVEL_AT_RISK);
  at_risk.add_levels(v1::STATUS_LEVEL_UNSPECIFIED);
  grpc::Status bad_level = List("piet", "acme", at_risk, &list);
  EXPECT_EQ(bad_level.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(bad_level.error_message(), "levels[1]"));
}

TEST_F(PortalApiTest, AContractChangeThroughThePortalIsTheUsersAndARevokedPortalIsOut) {
  v1::PlacementList list;
  ASSERT_TRUE(List("jan@acme.nl", "acme", {}, &list).ok());
  int64_t revision = -2;
  for (const auto& p : list.placements()) {
    if (p.case_id() == "anna") revision = p.employer_revision();
  }
  ASSERT_GE(revision, 0);
  v1::RecordCaseEventRequest request;
  request.set_case_id("anna");
  request.set_event_id(eventstore::EventId::Random().ToString());
  request.set_expected_revision(revision);
  *request.mutable_event() = Today();
  request.mutable_event()->mutable_contract_changed()->set_contract(v1::CONTRACT_TYPE_PERMANENT);
  request.mutable_event()->mutable_contract_changed()->set_hours_per_week(36);
  v1::RecordCaseEventResponse response;
  {
    grpc::ClientContext context;
    ActingFor(&context, "jan@acme.nl", "acme");
    grpc::Status recorded =
        v1::Cases::NewStub(Channel(kPortal))->RecordCaseEvent(&context, request, &response);
    ASSERT_TRUE(recorded.ok()) << recorded.error_message();
  }
  auto stored = store_->ReadStream("case-anna", -1, eventstore::Direction::kBackwards, 1);
  ASSERT_TRUE(stored.ok() && stored->size() == 1);
  EXPECT_TRUE(absl::StrContains(stored->front().data, "employer:acme/jan@acme.nl"));
  // The portal's certificate revoked: out within the next call.
  RunPki("revoke " + pki_dir_->Sub("pki") + " " + kPortal);
  std::ofstream(revoked_, std::ios::trunc) << ReadAll(Pki("revoked-serials"));
  EXPECT_EQ(List("jan@acme.nl", "acme", {}, &list).error_code(), StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace duurzaam::testing
