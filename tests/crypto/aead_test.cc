#include "crypto/aead.h"

#include <string>

#include "gtest/gtest.h"

namespace duurzaam::crypto {
namespace {

const std::string kKey(32, '\x42');
const std::string kAad = "scope-1";
const std::string kPlaintext = "Naam: J. de Vries; diagnose: burn-out; loonwaarde 60%";

TEST(AeadTest, RoundTrip) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kPlaintext.size() + kAeadOverhead);
  EXPECT_EQ(sealed->find(kPlaintext), std::string::npos);
  absl::StatusOr<std::string> opened = AeadOpen(kKey, kAad, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
}

TEST(AeadTest, EmptyPlaintextAndAadRoundTrip) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, "", "");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kAeadOverhead);
  absl::StatusOr<std::string> opened = AeadOpen(kKey, "", *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "");
}

TEST(AeadTest, NoncesAreFresh) {
  absl::StatusOr<std::string> a = AeadSeal(kKey, kAad, kPlaintext);
  absl::StatusOr<std::string> b = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(0, kAeadNonceSize), b->substr(0, kAeadNonceSize));
  EXPECT_NE(*a, *b);
}

TEST(AeadTest, DeterministicSealingRepeatsOnlyForEqualInput) {
  absl::StatusOr<std::string> a = AeadSealDeterministic(kKey, kAad, kPlaintext);
  absl::StatusOr<std::string> b = AeadSealDeterministic(kKey, kAad, kPlaintext);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->find(kPlaintext), std::string::npos);
  absl::StatusOr<std::string> opened = AeadOpen(kKey, kAad, *a);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
  // Another plaintext, AAD or key: another nonce (and ciphertext).
  const std::string other_key(32, '\x43');
  for (auto other : {AeadSealDeterministic(kKey, kAad, kPlaintext + "."),
                     AeadSealDeterministic(kKey, kAad + "x", kPlaintext),
                     AeadSealDeterministic(other_key, kAad, kPlaintext)}) {
    ASSERT_TRUE(other.ok());
    EXPECT_NE(other->substr(0, kAeadNonceSize), a->substr(0, kAeadNonceSize));
  }
  // The AAD length is bound: moving a byte between AAD and plaintext differs.
  absl::StatusOr<std::string> shifted = AeadSealDeterministic(kKey, "ab", "c");
  absl::StatusOr<std::string> unshifted = AeadSealDeterministic(kKey, "a", "bc");
  ASSERT_TRUE(shifted.ok() && unshifted.ok());
  EXPECT_NE(shifted->substr(0, kAeadNonceSize), unshifted->substr(0, kAeadNonceSize));
}

TEST(AeadTest, EveryFlippedByteIsDataLoss) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string tampered = *sealed;
    tampered[i] ^= 0x01;
    absl::StatusOr<std::string> opened = AeadOpen(kKey, kAad, tampered);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
}

TEST(AeadTest, WrongKeyIsDataLoss) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(sealed.ok());
  std::string other_key = kKey;
  other_key[31] ^= 0x80;
  absl::StatusOr<std::string> opened = AeadOpen(other_key, kAad, *sealed);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(opened.status().message().find("authentication failed"), std::string::npos)
      << opened.status();
}

TEST(AeadTest, WrongAadIsDataLoss) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(AeadOpen(kKey, "scope-2", *sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, "", *sealed).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AeadTest, TruncatedOrAppendedIsRejected) {
  absl::StatusOr<std::string> sealed = AeadSeal(kKey, kAad, kPlaintext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(AeadOpen(kKey, kAad, sealed->substr(0, sealed->size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, kAad, *sealed + "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, kAad, sealed->substr(0, kAeadOverhead - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AeadTest, KeyMustBe32Bytes) {
  EXPECT_EQ(AeadSeal(std::string(16, 'k'), kAad, kPlaintext).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AeadOpen(std::string(33, 'k'), kAad, std::string(40, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace duurzaam::crypto
