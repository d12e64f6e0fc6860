#include "services/server_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace duurzaam::services {
namespace {

TEST(ServerConfigTest, RefusesToServeWithoutTlsOutsideDevMode) {
  auto config = ParseServerConfig({"duurzaamd"});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(config.status().message().find("--dev"), absl::string_view::npos);
}

TEST(ServerConfigTest, RefusesToStorePersonalDataWithoutAMasterKeyOutsideDevMode) {
  auto config = ParseServerConfig({"duurzaamd", "--tls_cert=s.pem", "--tls_key=s.key",
                                   "--tls_client_ca=ca.pem", "--revoked_serials=r"});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(config.status().message().find("--master_key_file"), absl::string_view::npos)
      << config.status();
  config = ParseServerConfig({"duurzaamd", "--tls_cert=s.pem", "--tls_key=s.key",
                              "--tls_client_ca=ca.pem", "--revoked_serials=r",
                              "--master_key_file=/etc/m.keys"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->master_key_file, "/etc/m.keys");
}

TEST(ServerConfigTest, RefusesToServeWithoutARevocationListOutsideDevMode) {
  auto config = ParseServerConfig({"duurzaamd", "--tls_cert=s.pem", "--tls_key=s.key",
                                   "--tls_client_ca=ca.pem", "--master_key_file=/etc/m.keys"});
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(config.status().message().find("--revoked_serials"), absl::string_view::npos)
      << config.status();
}

// A production config file can never turn a start into a plaintext server,
// whatever spelling of "true" it uses.
TEST(ServerConfigTest, DevModeCannotComeFromAConfigFile) {
  duurzaam::testing::TempDir dir;
  for (const char* value : {"true", "1", "yes", "", "TRUE", "false"}) {
    std::string path = dir.Sub("prod.conf");
    std::ofstream(path, std::ios::trunc)
        << "tls_cert = s.pem\ntls_key = s.key\ntls_client_ca = ca.pem\nrevoked_serials = r\n"
        << "master_key_file = /etc/m.keys\ndev = " << value << "\n";
    auto config = ParseServerConfig({"duurzaamd", "--config", path});
    EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition) << value;
    EXPECT_NE(config.status().message().find("prod.conf:6"), absl::string_view::npos)
        << config.status();
  }
}

TEST(ServerConfigTest, DevModeIsRefusedBesideTlsSettings) {
  for (const char* tls :
       {"--tls_cert=s.pem", "--tls_key=s.key", "--tls_client_ca=ca.pem", "--revoked_serials=r"}) {
    auto config = ParseServerConfig({"duurzaamd", "--dev", tls});
    EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition) << tls;
    EXPECT_NE(
        config.status().message().find(std::string(tls).substr(0, std::string(tls).find('='))),
        absl::string_view::npos)
        << config.status();
  }
}

TEST(ServerConfigTest, DevModeServesOnLoopbackOnly) {
  for (const char* listen : {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:1",
                             "127.0.0.1.example:1", "localhost.evil:1", "128.0.0.1:1"}) {
    auto config = ParseServerConfig({"duurzaamd", "--dev", std::string("--listen=") + listen});
    EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition) << listen;
    EXPECT_FALSE(IsLoopbackListen(listen)) << listen;
  }
  for (const char* listen : {"127.0.0.1:0", "127.1.2.3:50051", "[::1]:50051", "localhost:1"}) {
    auto config = ParseServerConfig({"duurzaamd", "--dev", std::string("--listen=") + listen});
    EXPECT_TRUE(config.ok()) << listen << ": " << config.status();
  }
  // The server checks it as well, for configs not made by the parser.
  ServerConfig direct;
  direct.dev = true;
  direct.listen = "0.0.0.0:0";
  EXPECT_EQ(CheckDevMode(direct).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ServerConfigTest, TheDeployedExampleConfigIsValid) {
  std::string path = DUURZAAM_PKI;  // deploy/duurzaam-pki
  path = path.substr(0, path.rfind('/')) + "/duurzaamd.conf.example";
  auto config = ParseServerConfig({"duurzaamd", "--config=" + path});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->dev);
  EXPECT_EQ(config->master_key_file, "/etc/duurzaam/master.keys");
}

TEST(ServerConfigTest, FlagsInBothSpellings) {
  auto config = ParseServerConfig({"duurzaamd", "--dev", "--listen=127.0.0.1:0", "--data-dir",
                                   "/tmp/x", "--max_event_bytes=9"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->dev);
  EXPECT_EQ(config->listen, "127.0.0.1:0");
  EXPECT_EQ(config->data_dir, "/tmp/x");
  EXPECT_EQ(config->max_event_bytes, 9u);
}

TEST(ServerConfigTest, ConfigFileThenFlagsWin) {
  duurzaam::testing::TempDir dir;
  std::string path = dir.Sub("duurzaamd.conf");
  std::ofstream(path) << "# comment\nlisten = 127.0.0.1:6000\ndata_dir = /srv/d\n";
  auto config =
      ParseServerConfig({"duurzaamd", "--config", path, "--dev", "--listen=127.0.0.1:7000"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:7000");
  EXPECT_EQ(config->data_dir, "/srv/d");
  EXPECT_TRUE(config->dev);
}

TEST(ServerConfigTest, MistakesAreNamed) {
  auto unknown = ParseServerConfig({"duurzaamd", "--dev", "--lisen=x"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("lisen"), absl::string_view::npos);
  auto bad_number = ParseServerConfig({"duurzaamd", "--dev", "--max_event_bytes=lots"});
  EXPECT_EQ(bad_number.status().code(), absl::StatusCode::kInvalidArgument);
  duurzaam::testing::TempDir dir;
  std::string path = dir.Sub("bad.conf");
  std::ofstream(path) << "listen = 127.0.0.1:1\nthis line is wrong\n";
  auto bad_file = ParseServerConfig({"duurzaamd", "--dev", "--config", path});
  EXPECT_EQ(bad_file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_file.status().message().find("bad.conf:2"), absl::string_view::npos);
  auto too_big = ParseServerConfig({"duurzaamd", "--dev", "--max_event_bytes=8388608"});
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("max_message_bytes"), absl::string_view::npos);
  auto missing = ParseServerConfig({"duurzaamd", "--config", dir.Sub("nope.conf")});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace duurzaam::services

namespace duurzaam::services {
namespace {

TEST(ServerConfigTest, TheCheckpointOriginNamesTheLogAndIsAKeyName) {
  auto config = ParseServerConfig({"duurzaamd", "--dev", "--listen=127.0.0.1:0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->checkpoint_origin, "duurzaam");
  config = ParseServerConfig({"duurzaamd", "--dev", "--listen=127.0.0.1:0",
                              "--checkpoint_origin=duurzaam.gemeente.example/log"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->checkpoint_origin, "duurzaam.gemeente.example/log");
  for (const char* bad :
       {"--checkpoint_origin=", "--checkpoint_origin=a b", "--checkpoint_origin=a+b"}) {
    config = ParseServerConfig({"duurzaamd", "--dev", "--listen=127.0.0.1:0", bad});
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace duurzaam::services
