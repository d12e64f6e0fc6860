#include "transparency/checkpoint.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/transparency/test_util.h"

namespace duurzaam::transparency {
namespace {

using duurzaam::testing::TempDir;

// RFC 8032 §7.1 TEST 1, its secret key wrapped as PKCS#8.
constexpr char kRfc8032Test1Pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kRfc8032Test1Public[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfc8032Test1EmptySignature[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

SigningKey GenerateOrDie() {
  absl::StatusOr<SigningKey> key = SigningKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

Checkpoint Sample() {
  Checkpoint c;
  c.origin = "duurzaam.example/log";
  c.tree_size = 40;
  c.root = LeafHash("root");
  c.timestamp_micros = 1'700'000'000'123'456;
  return c;
}

TEST(CheckpointTest, SignedBodyIsTheDocumentedText) {
  Checkpoint c = Sample();
  EXPECT_EQ(c.SignedBody(), "duurzaam checkpoint v1\nduurzaam.example/log\n40\n" + HexOf(c.root) +
                                "\n1700000000123456\n");
}

TEST(CheckpointTest, SignedBodyEscapesNewlinesAndBackslashesInTheOrigin) {
  Checkpoint c = Sample();
  c.origin = "a\\b\nc";
  EXPECT_EQ(c.SignedBody(),
            "duurzaam checkpoint v1\na\\\\b\\nc\n40\n" + HexOf(c.root) + "\n1700000000123456\n");
  // An origin that smuggles in a fake size line differs from a real one.
  Checkpoint smuggled = Sample();
  smuggled.origin = "log\n41";
  Checkpoint plain = Sample();
  plain.origin = "log\\n41";
  EXPECT_NE(smuggled.SignedBody(), plain.SignedBody());
}

TEST(CheckpointTest, SignAndVerifyRoundTrip) {
  SigningKey key = GenerateOrDie();
  const Checkpoint c = Sample();
  const std::string sig = SignCheckpoint(c, key);
  EXPECT_EQ(sig.size(), 64u);
  absl::Status s = VerifyCheckpoint(c, sig, key.PublicKeyRaw());
  EXPECT_TRUE(s.ok()) << s;
}

TEST(CheckpointTest, AnyChangedFieldFailsVerification) {
  SigningKey key = GenerateOrDie();
  const Checkpoint c = Sample();
  const std::string sig = SignCheckpoint(c, key);
  std::vector<Checkpoint> changed(5, c);
  changed[0].origin = "duurzaam.example/log2";
  changed[1].tree_size = 41;
  changed[2].root[31] ^= 1;
  changed[3].timestamp_micros += 1;
  changed[4].origin = "";
  for (const Checkpoint& other : changed) {
    absl::Status s = VerifyCheckpoint(other, sig, key.PublicKeyRaw());
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << other.SignedBody();
  }
  absl::Status s = VerifyCheckpoint(changed[1], sig, key.PublicKeyRaw());
  EXPECT_NE(s.message().find("size 41"), std::string::npos) << s;
}

TEST(CheckpointTest, AnyChangedSignatureByteFailsVerification) {
  SigningKey key = GenerateOrDie();
  const Checkpoint c = Sample();
  const std::string sig = SignCheckpoint(c, key);
  for (size_t i = 0; i < sig.size(); ++i) {
    std::string bad = sig;
    bad[i] ^= 0x04;
    EXPECT_EQ(VerifyCheckpoint(c, bad, key.PublicKeyRaw()).code(),
              absl::StatusCode::kUnauthenticated)
        << "byte " << i;
  }
  EXPECT_EQ(VerifyCheckpoint(c, sig.substr(0, 63), key.PublicKeyRaw()).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyCheckpoint(c, "", key.PublicKeyRaw()).code(), absl::StatusCode::kUnauthenticated);
}

TEST(CheckpointTest, AnotherKeyFailsVerification) {
  SigningKey key = GenerateOrDie();
  SigningKey other = GenerateOrDie();
  ASSERT_NE(key.PublicKeyRaw(), other.PublicKeyRaw());
  const Checkpoint c = Sample();
  EXPECT_EQ(VerifyCheckpoint(c, SignCheckpoint(c, key), other.PublicKeyRaw()).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyCheckpoint(c, SignCheckpoint(c, key), "short").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SigningKeyTest, MatchesRfc8032TestVector) {
  TempDir dir;
  WriteFile(dir.Sub("key.pem"), kRfc8032Test1Pem);
  absl::StatusOr<SigningKey> key = SigningKey::Load(dir.Sub("key.pem"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(absl::BytesToHexString(key->PublicKeyRaw()), kRfc8032Test1Public);
  EXPECT_EQ(absl::BytesToHexString(key->Sign("")), kRfc8032Test1EmptySignature);
  EXPECT_TRUE(
      VerifySignature(key->PublicKeyRaw(), "", absl::HexStringToBytes(kRfc8032Test1EmptySignature))
          .ok());
  // First 8 bytes of SHA-256 of the raw public key.
  EXPECT_EQ(key->KeyId(), "21fe31dfa154a261");
  EXPECT_NE(key->PublicKeyPem().find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
}

TEST(SigningKeyTest, LoadOrCreateCreatesOnceWithMode0600) {
  TempDir dir;
  const std::string path = dir.Sub("checkpoint.pem");
  absl::StatusOr<SigningKey> first = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string first_line;
  std::getline(in, first_line);
  EXPECT_EQ(first_line, "-----BEGIN PRIVATE KEY-----");

  absl::StatusOr<SigningKey> second = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->PublicKeyRaw(), first->PublicKeyRaw());
  EXPECT_EQ(second->KeyId(), first->KeyId());
  EXPECT_EQ(second->KeyId().size(), 16u);
  // The reloaded key signs what the original key's public key accepts.
  const Checkpoint c = Sample();
  EXPECT_TRUE(VerifyCheckpoint(c, SignCheckpoint(c, *second), first->PublicKeyRaw()).ok());
  // No temporary file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(SigningKeyTest, LoadReportsMissingAndMalformedFiles) {
  TempDir dir;
  EXPECT_EQ(SigningKey::Load(dir.Sub("missing.pem")).status().code(), absl::StatusCode::kNotFound);
  WriteFile(dir.Sub("garbage.pem"), "not a key\n");
  EXPECT_EQ(SigningKey::Load(dir.Sub("garbage.pem")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::LoadOrCreate(dir.Sub("garbage.pem")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SigningKeyTest, MovedKeyStillSigns) {
  SigningKey key = GenerateOrDie();
  const std::string pub = key.PublicKeyRaw();
  SigningKey moved = std::move(key);
  SigningKey assigned = GenerateOrDie();
  assigned = std::move(moved);
  EXPECT_EQ(assigned.PublicKeyRaw(), pub);
  EXPECT_TRUE(VerifySignature(pub, "m", assigned.Sign("m")).ok());
  EXPECT_EQ(VerifySignature(pub, "n", assigned.Sign("m")).code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace duurzaam::transparency
