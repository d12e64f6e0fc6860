#include "crypto/envelope.h"

#include <string>

#include "crypto/aead.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_util.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::crypto {
namespace {

using ::duurzaam::testing::TempDir;

const std::string kRecordId("\x01\x02\x00\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
const std::string kOtherRecordId(16, '\x11');
const std::string kPlaintext =
    "{\"naam\":\"Fatima el Amrani\",\"bsn\":\"123456782\",\"beperking\":\"visueel\"}";

class EnvelopeTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open(); }

  std::unique_ptr<DataKeyStore> Open() {
    if (!std::filesystem::exists(tmp_.Sub("master.keys"))) {
      EXPECT_TRUE(MasterKeyring::Create(tmp_.Sub("master.keys")).ok());
    }
    absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(tmp_.Sub("master.keys"));
    EXPECT_TRUE(keyring.ok()) << keyring.status();
    absl::StatusOr<std::unique_ptr<DataKeyStore>> store =
        DataKeyStore::Open(tmp_.Sub("keys"), *std::move(keyring));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::string Seal(std::string_view scope, std::string_view record_id) {
    absl::StatusOr<std::string> envelope =
        SealPayload(*store_, EnvelopeContext{scope, record_id}, kPlaintext);
    EXPECT_TRUE(envelope.ok()) << envelope.status();
    return envelope.ok() ? *envelope : std::string();
  }

  TempDir tmp_;
  std::unique_ptr<DataKeyStore> store_;
};

TEST_F(EnvelopeTest, RoundTripAndFormat) {
  const std::string envelope = Seal("case-1", kRecordId);
  ASSERT_EQ(envelope.size(), 1 + 8 + kAeadOverhead + kPlaintext.size());
  EXPECT_EQ(envelope[0], kEnvelopeFormatV1);
  absl::StatusOr<std::string> opened =
      OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
}

TEST_F(EnvelopeTest, SealingIsDeterministicPerScopeRecordAndPlaintext) {
  const std::string envelope = Seal("case-1", kRecordId);
  ASSERT_FALSE(envelope.empty());
  EXPECT_EQ(Seal("case-1", kRecordId), envelope);  // a retried write is byte-identical
  EXPECT_NE(Seal("case-1", kOtherRecordId), envelope);
  EXPECT_NE(Seal("case-2", kRecordId), envelope);
}

TEST_F(EnvelopeTest, KnownPlaintextDoesNotOccurInEnvelope) {
  const std::string envelope = Seal("case-1", kRecordId);
  ASSERT_FALSE(envelope.empty());
  EXPECT_EQ(envelope.find(kPlaintext), std::string::npos);
  for (std::string_view fragment : {"Fatima", "123456782", "visueel", "naam"}) {
    EXPECT_EQ(envelope.find(fragment), std::string::npos) << fragment;
  }
}

TEST_F(EnvelopeTest, BoundToRecordId) {
  const std::string envelope = Seal("case-1", kRecordId);
  absl::StatusOr<std::string> opened =
      OpenPayload(*store_, EnvelopeContext{"case-1", kOtherRecordId}, envelope);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
  // The record id's bytes after an embedded NUL matter too.
  std::string almost = kRecordId;
  almost[15] ^= 1;
  EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-1", almost}, envelope).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(EnvelopeTest, BoundToScope) {
  const std::string envelope = Seal("case-1", kRecordId);
  // Another scope that has a key of its own.
  ASSERT_FALSE(Seal("case-2", kRecordId).empty());
  EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-2", kRecordId}, envelope).status().code(),
            absl::StatusCode::kDataLoss);
  // A scope that has no key at all.
  EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-3", kRecordId}, envelope).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(EnvelopeTest, AadBindsScopeEvenUnderTheSameDataKey) {
  // Re-seal by hand with case-1's key but case-2's AAD: OpenPayload under
  // case-1 must still reject it, proving the scope is part of the AAD.
  absl::StatusOr<DataKey> key = store_->GetOrCreate("case-1");
  ASSERT_TRUE(key.ok());
  const std::string aad = std::string("duurzaam.envelope.v1\0", 21) + "case-2" +
                          std::string(1, '\0') + kRecordId + std::string(1, '\0') + key->id;
  absl::StatusOr<std::string> sealed = AeadSeal(key->key, aad, kPlaintext);
  ASSERT_TRUE(sealed.ok());
  std::string envelope = Seal("case-1", kRecordId).substr(0, 9) + *sealed;
  EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope).status().code(),
            absl::StatusCode::kDataLoss);
  // The same construction with the right AAD opens: the test above can fail.
  const std::string right_aad = std::string("duurzaam.envelope.v1\0", 21) + "case-1" +
                                std::string(1, '\0') + kRecordId + std::string(1, '\0') + key->id;
  envelope = envelope.substr(0, 9) + *AeadSeal(key->key, right_aad, kPlaintext);
  absl::StatusOr<std::string> opened =
      OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
}

TEST_F(EnvelopeTest, EveryFlippedByteOrTruncationIsDataLoss) {
  const std::string envelope = Seal("case-1", kRecordId);
  for (size_t i = 0; i < envelope.size(); ++i) {
    std::string tampered = envelope;
    tampered[i] ^= 0x20;
    EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, tampered).status().code(),
              absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
  for (size_t length : {size_t{0}, size_t{1}, size_t{9}, size_t{36}, envelope.size() - 1}) {
    EXPECT_EQ(OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope.substr(0, length))
                  .status()
                  .code(),
              absl::StatusCode::kDataLoss)
        << "length " << length;
  }
}

TEST_F(EnvelopeTest, ErasedScopeReportsIsErasedAlsoAfterReopen) {
  const std::string envelope = Seal("case-1", kRecordId);
  const std::string other = Seal("case-2", kRecordId);
  ASSERT_TRUE(store_->Erase("case-1", 1'700'000'000'000'000).ok());

  absl::StatusOr<std::string> opened =
      OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsErased(opened.status())) << opened.status();
  EXPECT_TRUE(IsErased(
      SealPayload(*store_, EnvelopeContext{"case-1", kOtherRecordId}, kPlaintext).status()));

  store_.reset();
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  opened = OpenPayload(*store_, EnvelopeContext{"case-1", kRecordId}, envelope);
  EXPECT_TRUE(IsErased(opened.status())) << opened.status();
  EXPECT_NE(opened.status().message().find("2023-11-14"), std::string::npos) << opened.status();
  // Other scopes are unaffected.
  absl::StatusOr<std::string> still =
      OpenPayload(*store_, EnvelopeContext{"case-2", kRecordId}, other);
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(*still, kPlaintext);
}

}  // namespace
}  // namespace duurzaam::crypto
