// Outside dev mode the listener speaks TLS only.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "crypto/master_keyring.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "server/stack.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

// Serving over (mutual) TLS with real certificates, the refusal of
// plaintext and foreign-CA clients, and every bad certificate: trust_test.cc.

TEST(TlsConfigTest, MissingCertificateFileIsNamed) {
  TempDir dir, keys;
  server::StackOptions options;
  services::ServerConfig& config = options.config;
  config.data_dir = dir.path();
  config.listen = "127.0.0.1:0";
  config.tls_cert = dir.Sub("missing.pem");
  config.tls_key = dir.Sub("missing.key");
  config.tls_client_ca = dir.Sub("missing-ca.pem");
  config.master_key_file = keys.Sub("master.keys");
  ASSERT_TRUE(crypto::MasterKeyring::Create(config.master_key_file).ok());
  auto stack = server::ServerStack::Start(std::move(options));
  EXPECT_EQ(stack.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(stack.status().message().find("missing.pem"), absl::string_view::npos);
}

}  // namespace
}  // namespace duurzaam::testing
