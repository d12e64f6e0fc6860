#include "tests/services/mtls_fixture.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "codec/placement_codec.h"
#include "common/clock.h"
#include "demo/demo_data.h"
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
  eventstore::Options events;
  events.path = dir_.Sub("events");
  auto store = eventstore::Store::Open(events);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  if (absl::Status created = crypto::MasterKeyring::Create(MasterKeyFile());
      !created.ok() && !absl::IsAlreadyExists(created)) {
    FAIL() << created;
  }
  auto keyring = crypto::MasterKeyring::Load(MasterKeyFile());
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  auto keys = crypto::DataKeyStore::Open(dir_.Sub("keys"), *std::move(keyring));
  ASSERT_TRUE(keys.ok()) << keys.status();
  keys_ = std::move(*keys);
  if (options.seed) {
    codec::Sealer sealer(keys_.get());
    ASSERT_TRUE(demo::Seed(store_.get(), codec::RecordedDay(SystemMicros()), &sealer).ok());
  }
  eventstore::Options access;
  access.path = dir_.Sub("access");
  auto access_store = eventstore::Store::Open(access);
  ASSERT_TRUE(access_store.ok()) << access_store.status();
  access_store_ = std::move(*access_store);
  auto projection = projections::CaseProjection::Open(dir_.Sub("projections"));
  ASSERT_TRUE(projection.ok()) << projection.status();
  projection_ = std::move(*projection);
  projection_->Start(store_.get());
  services::ServerDeps deps;
  deps.store = store_.get();
  deps.projection = projection_.get();
  deps.access_store = access_store_.get();
  deps.keys = keys_.get();
  if (options.audit) {
    if (!key_) {
      auto key = transparency::SigningKey::Generate();
      ASSERT_TRUE(key.ok()) << key.status();
      key_ = std::make_unique<transparency::SigningKey>(*std::move(key));
    }
    auto merkle = projections::MerkleProjection::Open(dir_.Sub("merkle"));
    ASSERT_TRUE(merkle.ok()) << merkle.status();
    merkle_ = std::move(*merkle);
    merkle_->Start(store_.get());
    deps.merkle = merkle_.get();
    deps.signing_key = key_.get();
  }
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.tls_cert = Pki("server.pem");
  config.tls_key = Pki("server.key");
  config.tls_client_ca = Pki("ca.pem");
  // The server requires a revocation list: the suite CA's (empty) one
  // unless the test brings its own.
  config.revoked_serials =
      options.revoked_serials.empty() ? Pki("revoked-serials") : options.revoked_serials;
  config.master_key_file = MasterKeyFile();
  auto server = services::Server::Start(config, deps);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
}

void MtlsServerTest::StopAll() {
  if (server_) server_->Shutdown(absl::Milliseconds(500));
  server_.reset();
  if (merkle_) merkle_->Stop();
  merkle_.reset();
  if (projection_) projection_->Stop();
  projection_.reset();
  access_store_.reset();
  store_.reset();
  keys_.reset();
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
