// Identity and revocation fail closed (issue 10, class 1), on a real
// mutual-TLS server. Certificates the deployment tool would never issue
// (ambiguous subjects, CA certificates, control characters) are made here
// with OpenSSL and signed by the suite's own CA, so only the server's
// checks stand between them and a principal.
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/log.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "services/principal.h"
#include "tests/services/mtls_fixture.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;

struct SubjectEntry {
  int nid;
  std::string value;
  bool same_rdn = false;  // joins the previous entry's RDN (multi-valued)
};

struct CertOptions {
  bool ca = false;                // basicConstraints CA:TRUE
  int64_t valid_seconds = 86400;  // from now
};

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

class IdentityTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() { MakePki({"EXPERT jdevries", "AUDITOR audit"}); }
  static void TearDownTestSuite() { DeletePki(); }

  void SetUp() override {
    revoked_ = dir_.Sub("revoked-serials");
    std::ofstream(revoked_) << "# none yet\n";
    StartAll({.seed = true, .revoked_serials = revoked_});
  }

  // Issues clients/<name>.{pem,key} under the suite's CA with exactly
  // `subject`; returns the serial (upper-case hex).
  static std::string Issue(const std::string& name, const std::vector<SubjectEntry>& subject,
                           CertOptions options = {}) {
    std::string ca_key_pem = Slurp(Pki("ca.key")), ca_pem = Slurp(Pki("ca.pem"));
    BIO* bio = BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size()));
    EVP_PKEY* ca_key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EXPECT_NE(ca_key, nullptr);
    EXPECT_NE(ca, nullptr);

    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    BIGNUM* serial = BN_new();
    BN_rand(serial, 120, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
    char* hex = BN_bn2hex(serial);
    std::string serial_hex = hex;
    OPENSSL_free(hex);
    BN_free(serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(options.valid_seconds));
    X509_set_pubkey(cert, key);
    X509_NAME* name_field = X509_get_subject_name(cert);
    for (const SubjectEntry& e : subject) {
      EXPECT_EQ(
          X509_NAME_add_entry_by_NID(name_field, e.nid, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(e.value.data()),
                                     static_cast<int>(e.value.size()), -1, e.same_rdn ? -1 : 0),
          1);
    }
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca, cert, nullptr, nullptr, 0);
    const std::pair<int, const char*> extensions[] = {
        {NID_basic_constraints, options.ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "clientAuth"},
    };
    for (const auto& [nid, value] : extensions) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      EXPECT_NE(ext, nullptr);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    EXPECT_GT(X509_sign(cert, ca_key, EVP_sha256()), 0);

    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, cert);
    std::ofstream(Pki("clients/" + name + ".pem"), std::ios::trunc) << BioString(out);
    BIO_free(out);
    out = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::ofstream(Pki("clients/" + name + ".key"), std::ios::trunc) << BioString(out);
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return serial_hex;
  }

  static std::vector<SubjectEntry> Subject(const std::string& cn, const std::string& role) {
    return {{NID_commonName, cn}, {NID_organizationalUnitName, role}};
  }

  grpc::Status Timeline(const std::string& who, const std::string& case_id = "anna") {
    v1::GetTimelineRequest request;
    request.set_case_id(case_id);
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    return v1::Cases::NewStub(Channel(who))->GetTimeline(&context, request, &response);
  }

  void Revoke(const std::string& serial) {
    std::ofstream(revoked_, std::ios::app) << serial << "  # revoked by the test\n";
  }

  std::string revoked_;
};

TEST_F(IdentityTest, AWellFormedCertificateFromTheSameMakerIsServed) {
  // The control for every refusal below: the maker itself is sound.
  Issue("auditor2", Subject("auditor2", "AUDITOR"));
  EXPECT_EQ(Timeline("auditor2").error_code(), StatusCode::OK);
}

TEST_F(IdentityTest, SubjectsWithAnAmbiguousRoleOrOrganisationAreRefused) {
  struct Case {
    const char* name;
    std::vector<SubjectEntry> subject;
  };
  const std::vector<Case> cases = {
      {"two-ou",
       {{NID_commonName, "two-ou"},
        {NID_organizationalUnitName, "AUDITOR"},
        {NID_organizationalUnitName, "ADMIN"}}},
      {"multi-rdn",
       {{NID_commonName, "multi-rdn"},
        {NID_organizationalUnitName, "AUDITOR"},
        {NID_organizationalUnitName, "EXPERT", /*same_rdn=*/true}}},
      {"two-o",
       {{NID_commonName, "two-o"},
        {NID_organizationalUnitName, "EMPLOYER"},
        {NID_organizationName, "acme"},
        {NID_organizationName, "bakkerij-de-korf"}}},
      {"two-cn",
       {{NID_commonName, "two-cn"},
        {NID_commonName, "jdevries"},
        {NID_organizationalUnitName, "AUDITOR"}}},
  };
  for (const Case& c : cases) {
    Issue(c.name, c.subject);
    grpc::Status status = Timeline(c.name);
    EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED) << c.name;
    EXPECT_NE(status.error_message().find("more than one"), std::string::npos)
        << c.name << ": " << status.error_message();
  }
}

TEST_F(IdentityTest, AnEmployersOrganisationMustBeAnEmployerId) {
  Issue("hr-acme", {{NID_commonName, "hr"},
                    {NID_organizationalUnitName, "EMPLOYER"},
                    {NID_organizationName, "acme"}});
  EXPECT_EQ(Timeline("hr-acme").error_code(), StatusCode::OK);  // anna is at acme
  Issue("hr-bad", {{NID_commonName, "hr"},
                   {NID_organizationalUnitName, "EMPLOYER"},
                   {NID_organizationName, "Acme Corp"}});
  grpc::Status bad = Timeline("hr-bad");
  EXPECT_EQ(bad.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_NE(bad.error_message().find("not an employer id"), std::string::npos)
      << bad.error_message();
}

TEST_F(IdentityTest, CaCertificatesAreRefusedAsClients) {
  Issue("minter", Subject("minter", "AUDITOR"), {.ca = true});
  grpc::Status status = Timeline("minter");
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("CA:TRUE"), std::string::npos) << status.error_message();
}

TEST_F(IdentityTest, RolesTheServerDoesNotServeAreRefusedAtAuthentication) {
  for (const char* role : {"WORKER", "expert", "", "SUPERUSER"}) {
    const std::string name = std::string("role-") + (*role ? role : "none");
    std::vector<SubjectEntry> subject = {{NID_commonName, "someone"}};
    if (*role) subject.push_back({NID_organizationalUnitName, role});
    Issue(name, subject);
    EXPECT_EQ(Timeline(name).error_code(), StatusCode::UNAUTHENTICATED) << role;
  }
  EXPECT_EQ(services::Authenticator::ParseRole("WORKER").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(IdentityTest, ACallWithoutAClientCertificateIsToldWhy) {
  grpc::Status status = Timeline("");
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("no client certificate"), std::string::npos)
      << status.error_message();
}

TEST_F(IdentityTest, ControlCharactersFromACertificateNeverReachTheLogRaw) {
  Issue("forger", Subject("x\nduurzaamd: expert:jdevries erased case anna\r", "AUDITOR"));
  ::testing::internal::CaptureStderr();
  grpc::Status status = Timeline("forger");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED);
  // The refusal was logged, on one line, with the newline escaped.
  EXPECT_NE(log.find("refused"), std::string::npos) << log;
  EXPECT_NE(log.find("x\\x0aduurzaamd: expert:jdevries erased"), std::string::npos) << log;
  EXPECT_EQ(log.find("\nduurzaamd: expert:jdevries erased"), std::string::npos) << log;
  EXPECT_EQ(log.find('\r'), std::string::npos) << log;
}

TEST(LogSafeTest, EscapesEveryControlCharacterAndTheBackslash) {
  EXPECT_EQ(LogSafe("plain text: é ü"), "plain text: é ü");
  EXPECT_EQ(LogSafe("a\nb\rc\td\x1b[31m\x7f"), "a\\x0ab\\x0dc\\x09d\\x1b[31m\\x7f");
  EXPECT_EQ(LogSafe("\xc2\x85next line"), "\\xc2\\x85next line");  // U+0085 NEL
  // An escape in the input cannot pass for one made by LogSafe.
  EXPECT_EQ(LogSafe("\\x0a"), "\\\\x0a");
}

// Reads `reader` until caught-up; then, once `act` ran, until the call ends.
// Returns the final status; `after` gets the messages read after `act`.
template <typename Message, typename IsCaughtUp>
grpc::Status CatchUpActThenDrain(grpc::ClientReader<Message>* reader, IsCaughtUp caught_up,
                                 const std::function<void()>& act, std::vector<Message>* after) {
  Message message;
  while (reader->Read(&message)) {
    if (caught_up(message)) break;
  }
  act();
  while (reader->Read(&message)) after->push_back(message);
  return reader->Finish();
}

TEST_F(IdentityTest, RevocationEndsOpenSubscriptionsAndNothingCommittedAfterItIsSent) {
  const std::string serial = Issue("watcher", Subject("watcher", "AUDITOR"));
  auto channel = Channel("watcher");

  grpc::ClientContext log_context, case_context;
  Deadline(&log_context, 20);
  Deadline(&case_context, 20);
  v1::SubscribeRequest log_request;
  log_request.mutable_all()->set_from_position(0);
  auto log_reader = v1::EventStore::NewStub(channel)->Subscribe(&log_context, log_request);
  v1::SubscribeCaseRequest case_request;
  case_request.set_case_id("anna");
  auto case_reader = v1::Cases::NewStub(channel)->SubscribeCase(&case_context, case_request);

  // Both calls are open and caught up; then the certificate is revoked and,
  // after that, new events are committed (one the log subscription would
  // show, one on the subscribed case).
  std::vector<v1::CaseUpdate> case_after;
  std::vector<v1::SubscribeResponse> log_after;
  std::chrono::steady_clock::time_point revoked_at;
  const std::string marker = "recorded after the revocation";
  auto revoke_then_write = [&] {
    Revoke(serial);
    revoked_at = std::chrono::steady_clock::now();
    ASSERT_EQ(Record("jdevries", "anna", PrivateLife(marker)).error_code(), StatusCode::OK);
  };
  grpc::Status case_status = CatchUpActThenDrain<v1::CaseUpdate>(
      case_reader.get(), [](const v1::CaseUpdate& u) { return u.caught_up(); }, revoke_then_write,
      &case_after);
  const auto case_ended = std::chrono::steady_clock::now();
  grpc::Status log_status = CatchUpActThenDrain<v1::SubscribeResponse>(
      log_reader.get(), [](const v1::SubscribeResponse& r) { return r.has_caught_up(); }, [] {},
      &log_after);
  const auto log_ended = std::chrono::steady_clock::now();

  EXPECT_EQ(case_status.error_code(), StatusCode::UNAUTHENTICATED) << case_status.error_message();
  EXPECT_EQ(log_status.error_code(), StatusCode::UNAUTHENTICATED) << log_status.error_message();
  EXPECT_NE(case_status.error_message().find("revoked"), std::string::npos);
  EXPECT_LT(case_ended - revoked_at, std::chrono::milliseconds(1500));
  EXPECT_LT(log_ended - revoked_at, std::chrono::milliseconds(1500));
  // Nothing committed after the revocation reached the revoked holder.
  EXPECT_TRUE(case_after.empty()) << case_after.size() << " case updates after revocation";
  const uint64_t end_before = store_->CommittedEnd() - 1;  // the event recorded afterwards
  for (const auto& response : log_after) {
    for (const auto& e : response.events().events()) {
      EXPECT_LT(e.position(), end_before) << "sent after revocation: " << e.stream();
    }
  }
}

TEST_F(IdentityTest, ExpiryEndsAnOpenSubscription) {
  Issue("shortlived", Subject("shortlived", "AUDITOR"), {.valid_seconds = 3});
  grpc::ClientContext context;
  Deadline(&context, 20);
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  auto reader = v1::EventStore::NewStub(Channel("shortlived"))->Subscribe(&context, request);
  v1::SubscribeResponse response;
  bool caught_up = false;
  while (reader->Read(&response)) caught_up |= response.has_caught_up();
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(caught_up);  // it was served until it expired
  EXPECT_EQ(status.error_code(), StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("expired"), std::string::npos) << status.error_message();
}

TEST_F(IdentityTest, ABrokenRevocationListKeepsTheLastGoodOne) {
  const std::string serial = Issue("leaver", Subject("leaver", "AUDITOR"));
  Revoke(serial);
  EXPECT_EQ(Timeline("leaver").error_code(), StatusCode::UNAUTHENTICATED);
  // Malformed: the last good list stays in force (leaver still refused, a
  // valid certificate still served).
  std::ofstream(revoked_, std::ios::trunc) << "this is not a serial\n";
  EXPECT_EQ(Timeline("leaver").error_code(), StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Timeline("jdevries").error_code(), StatusCode::OK);
  // Missing: the same.
  std::filesystem::remove(revoked_);
  EXPECT_EQ(Timeline("leaver").error_code(), StatusCode::UNAUTHENTICATED);
  // Fixed: the new list applies.
  std::ofstream(revoked_, std::ios::trunc) << "# nobody\n";
  EXPECT_EQ(Timeline("leaver").error_code(), StatusCode::OK);
}

TEST_F(IdentityTest, AMissingOrMalformedRevocationListRefusesTheStart) {
  const std::string ca = Pki("ca.pem");
  auto missing = services::Authenticator::Create({false, ca, dir_.Sub("no-such-list")});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition) << missing.status();
  const std::string bad = dir_.Sub("bad-list");
  std::ofstream(bad) << "01A2\nnot hex\n";
  auto malformed = services::Authenticator::Create({false, ca, bad});
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(malformed.status().message().find("line 2"), std::string::npos) << malformed.status();
  // No list configured at all (a hand-built config outside dev mode).
  auto none = services::Authenticator::Create({false, ca, ""});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition) << none.status();
  const std::string good = dir_.Sub("good-list");
  std::ofstream(good) << "# comment\n01:a2  # someone\n\n";
  EXPECT_TRUE(services::Authenticator::Create({false, ca, good}).ok());
}

TEST(RevokedSerialsTest, ParsesHexWithColonsCommentsAndLeadingZeros) {
  std::istringstream in("# list\n00:0A:b3  # who\n\n0\nFF\n");
  auto serials = services::ParseRevokedSerials(in);
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_EQ(serials->size(), 3u);
  EXPECT_TRUE(serials->contains("AB3"));
  EXPECT_TRUE(serials->contains("0"));
  EXPECT_TRUE(serials->contains("FF"));
  std::istringstream bad("AB\nG1\n");
  EXPECT_EQ(services::ParseRevokedSerials(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IdentityTest, ASecondServerCannotShareTheListeningPort) {
  services::ServerConfig config;
  config.dev = true;
  config.listen = "127.0.0.1:" + std::to_string(server_->port());
  services::ServerDeps deps;
  deps.store = store_;
  deps.projection = projection_;
  deps.follower = stack_->follower();
  auto second = services::Server::Start(config, deps);
  EXPECT_FALSE(second.ok()) << "a second server bound the port of the first";
  EXPECT_EQ(Timeline("jdevries").error_code(), StatusCode::OK);  // the first still serves
}

}  // namespace
}  // namespace duurzaam::testing
