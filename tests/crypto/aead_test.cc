#include "crypto/aead.h"

#include <string>
#include <vector>

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

TEST(AeadTest, SealInPlaceOpensAsAeadSealDoesAndLeavesNoPlaintext) {
  std::string buffer(kAeadNonceSize, '\0');
  buffer.append(kPlaintext);
  buffer.append(kAeadTagSize, '\0');
  ASSERT_TRUE(AeadSealInPlace(kKey, kAad, buffer.data(), kPlaintext.size()).ok());
  EXPECT_EQ(buffer.find(kPlaintext), std::string::npos);
  absl::StatusOr<std::string> opened = AeadOpen(kKey, kAad, buffer);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
  // A fresh nonce each time, as AeadSeal.
  std::string again(kAeadNonceSize, '\0');
  again.append(kPlaintext).append(kAeadTagSize, '\0');
  ASSERT_TRUE(AeadSealInPlace(kKey, kAad, again.data(), kPlaintext.size()).ok());
  EXPECT_NE(again.substr(0, kAeadNonceSize), buffer.substr(0, kAeadNonceSize));
  EXPECT_FALSE(AeadSealInPlace("short", kAad, again.data(), kPlaintext.size()).ok());
}

TEST(AeadTest, AnOpenerOpensAsAeadOpenAcrossManyKeys) {
  // More keys than it keeps, in an order that evicts and comes back.
  std::vector<std::string> keys;
  for (size_t k = 0; k < AeadOpener::kKeys + 5; ++k) keys.emplace_back(32, static_cast<char>(k));
  AeadOpener opener;
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < keys.size(); ++k) {
      const std::string plaintext = kPlaintext + std::to_string(k * 7 + round);
      absl::StatusOr<std::string> sealed = AeadSeal(keys[k], kAad, plaintext);
      ASSERT_TRUE(sealed.ok());
      absl::StatusOr<std::string> opened = opener.Open(keys[k], kAad, *sealed);
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(*opened, plaintext);
      // The same opener refuses what AeadOpen refuses: another key, another
      // AAD, a flipped byte; and still opens afterwards.
      EXPECT_TRUE(
          absl::IsDataLoss(opener.Open(keys[(k + 1) % keys.size()], kAad, *sealed).status()));
      EXPECT_TRUE(absl::IsDataLoss(opener.Open(keys[k], "other", *sealed).status()));
      std::string flipped = *sealed;
      flipped[kAeadNonceSize] ^= 1;
      EXPECT_TRUE(absl::IsDataLoss(opener.Open(keys[k], kAad, flipped).status()));
      EXPECT_TRUE(opener.Open(keys[k], kAad, *sealed).ok());
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(opener.Open(kKey, kAad, "short").status()));
}

}  // namespace
}  // namespace duurzaam::crypto
