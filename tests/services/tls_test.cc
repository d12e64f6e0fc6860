// Outside dev mode the listener speaks TLS only.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/store.h"
#include "services/server.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A self-signed certificate for localhost / 127.0.0.1 made with the openssl CLI.
void MakeCertificate(const std::string& dir, const std::string& name) {
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
      "-keyout " +
      dir + "/" + name + ".key -out " + dir + "/" + name + ".pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCertificate(dir_.path(), "server");
    MakeCertificate(dir_.path(), "other");
    eventstore::Options options;
    options.path = dir_.Sub("store");
    auto store = eventstore::Store::Open(options);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    services::ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.dev = false;
    config.tls_cert = dir_.Sub("server.pem");
    config.tls_key = dir_.Sub("server.key");
    auto projection = projections::CaseProjection::Open(dir_.Sub("projections"));
    ASSERT_TRUE(projection.ok());
    projection_ = std::move(*projection);
    auto server = services::Server::Start(config, store_.get(), projection_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  grpc::Status Append(std::shared_ptr<grpc::Channel> channel) {
    auto stub = v1::EventStore::NewStub(channel);
    v1::AppendRequest request;
    request.set_stream("case-1");
    auto* e = request.add_events();
    e->set_event_id("6b2f1c1e-4a8d-4f3e-9d2a-0c1b2a3d4e5f");
    e->set_event_type("PlacementHired");
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub->Append(&context, request, &response);
  }

  std::shared_ptr<grpc::Channel> TlsChannel(const std::string& root_pem) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(root_pem);
    return grpc::CreateChannel("localhost:" + std::to_string(server_->port()),
                               grpc::SslCredentials(ssl));
  }

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<projections::CaseProjection> projection_;
  std::unique_ptr<services::Server> server_;
};

TEST_F(TlsTest, ClientTrustingTheServerCertificateIsServed) {
  grpc::Status status = Append(TlsChannel(dir_.Sub("server.pem")));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(store_->CommittedEnd(), 1u);
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  grpc::Status status = Append(grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                                   grpc::InsecureChannelCredentials()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(store_->CommittedEnd(), 0u);
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  grpc::Status status = Append(TlsChannel(dir_.Sub("other.pem")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(store_->CommittedEnd(), 0u);
}

TEST(TlsConfigTest, MissingCertificateFileIsNamed) {
  TempDir dir;
  eventstore::Options options;
  options.path = dir.path();
  auto store = eventstore::Store::Open(options);
  ASSERT_TRUE(store.ok());
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.tls_cert = dir.Sub("missing.pem");
  config.tls_key = dir.Sub("missing.key");
  auto projection = projections::CaseProjection::Open(dir.Sub("projections"));
  ASSERT_TRUE(projection.ok());
  auto server = services::Server::Start(config, store->get(), projection->get());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(server.status().message().find("missing.pem"), absl::string_view::npos);
}

}  // namespace
}  // namespace duurzaam::testing
