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

// Serving over (mutual) TLS with real certificates, the refusal of
// plaintext and foreign-CA clients, and every bad certificate: trust_test.cc.

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
  config.tls_client_ca = dir.Sub("missing-ca.pem");
  auto projection = projections::CaseProjection::Open(dir.Sub("projections"));
  ASSERT_TRUE(projection.ok());
  auto server = services::Server::Start(config, {store->get(), projection->get()});
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(server.status().message().find("missing.pem"), absl::string_view::npos);
}

}  // namespace
}  // namespace duurzaam::testing
