#include "tests/services/mtls_fixture.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "codec/placement_codec.h"
#include "common/clock.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace duurzaam::testing {

TempDir* MtlsServerTest::pki_dir_ = nullptr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RunPki(const std::string& args) {
  std::string cmd = std::string(DUURZAAM_PKI) + " " + args + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

void MtlsServerTest::MakePki(const std::vector<std::string>& issues) {
  pki_dir_ = new TempDir();
  const std::string pki = pki_dir_->Sub("pki");
  RunPki("init " + pki);
  for (const std::string& issue : issues) RunPki("issue " + pki + " " + issue);
}

void MtlsServerTest::DeletePki() {
  delete pki_dir_;
  pki_dir_ = nullptr;
}

std::string MtlsServerTest::Pki(const std::string& file) { return pki_dir_->Sub("pki/" + file); }

void MtlsServerTest::StartAll(const Options& options) {
  if (absl::Status created = crypto::MasterKeyring::Create(MasterKeyFile());
      !created.ok() && !absl::IsAlreadyExists(created)) {
    FAIL() << created;
  }
  server::StackOptions stack;
  services::ServerConfig& config = stack.config;
  config.data_dir = dir_.path();
  config.listen = "127.0.0.1:0";
  config.tls_cert = Pki("server.pem");
  config.tls_key = Pki("server.key");
  config.tls_client_ca = Pki("ca.pem");
  // The server requires a revocation list: the suite CA's (empty) one
  // unless the test brings its own.
  config.revoked_serials =
      options.revoked_serials.empty() ? Pki("revoked-serials") : options.revoked_serials;
  config.master_key_file = MasterKeyFile();
  config.demo = options.seed;
  stack.audit = options.audit;
  stack.plugins = options.plugins;
  stack.follower = options.follower;
  auto started = server::ServerStack::Start(std::move(stack));
  ASSERT_TRUE(started.ok()) << started.status();
  stack_ = std::move(*started);
  key_ = stack_->signing_key();
  store_ = stack_->store();
  access_store_ = stack_->access_store();
  projection_ = stack_->projection();
  merkle_ = stack_->merkle();
  keys_ = stack_->keys();
  server_ = stack_->server();
}

void MtlsServerTest::StopAll() {
  if (stack_) stack_->Shutdown(absl::Milliseconds(500));
  stack_.reset();
  key_ = nullptr;
  store_ = nullptr;
  access_store_ = nullptr;
  projection_ = nullptr;
  merkle_ = nullptr;
  keys_ = nullptr;
  server_ = nullptr;
}

std::shared_ptr<grpc::Channel> MtlsServerTest::Channel(const std::string& name,
                                                       const std::string& pki_dir) {
  const std::string dir = pki_dir.empty() ? pki_dir_->Sub("pki") : pki_dir;
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Slurp(Pki("ca.pem"));
  if (!name.empty()) {
    ssl.pem_private_key = Slurp(dir + "/clients/" + name + ".key");
    ssl.pem_cert_chain = Slurp(dir + "/clients/" + name + ".pem");
  }
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);  // a fresh connection per identity
  return grpc::CreateCustomChannel("localhost:" + std::to_string(server_->port()),
                                   grpc::SslCredentials(ssl), args);
}

void MtlsServerTest::Deadline(grpc::ClientContext* context, int seconds) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

}  // namespace duurzaam::testing

namespace duurzaam::testing {

v1::PlacementEvent MtlsServerTest::Today() {
  v1::PlacementEvent e;
  domain::Date today = codec::RecordedDay(SystemMicros());
  e.mutable_occurred_on()->set_year(static_cast<int>(today.year()));
  e.mutable_occurred_on()->set_month(today.month());
  e.mutable_occurred_on()->set_day(today.day());
  return e;
}

v1::PlacementEvent MtlsServerTest::PrivateLife(const std::string& details) {
  v1::PlacementEvent e = Today();
  e.mutable_private_life_changed()->set_details(details);
  return e;
}

int64_t MtlsServerTest::Revision(const std::string& case_id) {
  auto r = store_->StreamRevision("case-" + case_id);
  return r.ok() ? *r : -1;
}

grpc::Status MtlsServerTest::EraseCase(const std::string& who, const std::string& case_id,
                                       const std::string& reason, v1::EraseCaseResponse* out) {
  v1::EraseCaseRequest request;
  request.set_case_id(case_id);
  request.set_reason(reason);
  v1::EraseCaseResponse response;
  grpc::ClientContext context;
  Deadline(&context);
  grpc::Status status = v1::Admin::NewStub(Channel(who))->EraseCase(&context, request, &response);
  if (out != nullptr) *out = response;
  return status;
}

grpc::Status MtlsServerTest::Record(const std::string& who, const std::string& case_id,
                                    const v1::PlacementEvent& event) {
  v1::RecordCaseEventRequest request;
  request.set_case_id(case_id);
  request.set_event_id(eventstore::EventId::Random().ToString());
  request.set_expected_revision(Revision(case_id));
  *request.mutable_event() = event;
  v1::RecordCaseEventResponse response;
  auto stub = v1::Cases::NewStub(Channel(who));
  grpc::Status status;
  {
    grpc::ClientContext context;
    Deadline(&context);
    status = stub->RecordCaseEvent(&context, request, &response);
  }
  // As a client does: a stale revision names the current one (an employer
  // sees employer revisions), and the write is retried once with it.
  google::rpc::Status rich;
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
      rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info) && info.reason() == "WRONG_EXPECTED_REVISION") {
        request.set_expected_revision(std::stoll(info.metadata().at("actual_revision")));
        grpc::ClientContext retry;
        Deadline(&retry);
        return stub->RecordCaseEvent(&retry, request, &response);
      }
    }
  }
  return status;
}

}  // namespace duurzaam::testing
