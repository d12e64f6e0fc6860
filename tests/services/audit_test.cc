// The Audit service on a real mutual-TLS server with certificates made by
// deploy/duurzaam-pki: signed checkpoints, inclusion and consistency proofs
// verified client-side, tampering with checkpoints and with a stored record,
// a case's records with proofs, and the access log.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/clock.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/record_codec.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/merkle_projection.h"
#include "rocksdb/db.h"
#include "rocksdb/slice_transform.h"
#include "services/server.h"
#include "tests/services/mtls_fixture.h"
#include "tests/services/proof_check.h"
#include "tests/services/tamper.h"
#include "tests/support/temp_dir.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verify/leaf.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;
using ::testing::HasSubstr;

class AuditTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() { MakePki({"EXPERT jdevries", "AUDITOR audit", "ADMIN beheer"}); }
  static void TearDownTestSuite() { DeletePki(); }

  void SetUp() override { StartAll(/*seed=*/true); }
  void StartAll(bool seed) { MtlsServerTest::StartAll({.seed = seed, .audit = true}); }

  std::unique_ptr<v1::Audit::Stub> Audit(const std::string& name) {
    return v1::Audit::NewStub(Channel(name));
  }

  v1::SignedCheckpoint Checkpoint(const std::string& who = "audit") {
    grpc::ClientContext context;
    Deadline(&context);
    v1::SignedCheckpoint out;
    grpc::Status s = Audit(who)->GetCheckpoint(&context, {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Inclusion(uint64_t position, uint64_t tree_size, v1::InclusionProof* out) {
    v1::GetInclusionProofRequest request;
    request.set_position(position);
    request.set_tree_size(tree_size);
    grpc::ClientContext context;
    Deadline(&context);
    return Audit("audit")->GetInclusionProof(&context, request, out);
  }

  std::vector<eventstore::RecordedEvent> CaseRecords(const std::string& case_id) {
    auto records =
        store_->ReadStream("case-" + case_id, 0, eventstore::Direction::kForwards, 10000);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<eventstore::RecordedEvent>{};
  }

  void AppendNotes(int n) {
    eventstore::StreamAppend append;
    append.stream = "audit-test-notes";
    for (int i = 0; i < n; ++i) {
      append.events.push_back(
          {eventstore::EventId::Random(), "Note", "note " + std::to_string(i), ""});
    }
    auto appended = store_->Append(append);
    ASSERT_TRUE(appended.ok()) << appended.status();
  }
};

TEST(LeafDataTest, OwnedAndViewEncodeTheSameBytesAndFieldsAreUnambiguous) {
  eventstore::RecordedEvent r;
  r.stream = "case-anna";
  r.revision = 3;
  r.position = 42;
  r.id = eventstore::EventId::Random();
  r.type = "ContactMoment";
  r.recorded_at_micros = 1'700'000'000'000'000;
  r.data = "abc";
  r.metadata = "m";
  r.hash[0] = 7;
  eventstore::EventView v;
  v.stream = r.stream;
  v.revision = r.revision;
  v.position = r.position;
  v.id_bytes = r.id.Bytes();
  v.type = r.type;
  v.recorded_at_micros = r.recorded_at_micros;
  v.data = r.data;
  v.metadata = r.metadata;
  v.hash = std::string_view(reinterpret_cast<const char*>(r.hash.data()), r.hash.size());
  EXPECT_EQ(verify::LeafData(r), verify::LeafData(v));
  EXPECT_THAT(verify::LeafData(r), ::testing::StartsWith(std::string("\0\0\0\0\0\0\0\x10"
                                                                     "duurzaam.leaf.v1",
                                                                     24)));
  // Moving a byte from data to metadata changes the leaf.
  eventstore::RecordedEvent moved = r;
  moved.data = "ab";
  moved.metadata = "cm";
  EXPECT_NE(verify::LeafData(r), verify::LeafData(moved));
  eventstore::RecordedEvent later = r;
  later.position = 43;
  EXPECT_NE(verify::LeafData(r), verify::LeafData(later));
}

TEST_F(AuditTest, CheckpointSignatureAndInclusionProofsVerify) {
  v1::SignedCheckpoint signed_cp = Checkpoint();
  ASSERT_EQ(signed_cp.tree_size(), store_->CommittedEnd());
  EXPECT_EQ(signed_cp.origin(), "duurzaam");
  EXPECT_EQ(signed_cp.public_key(), key_->PublicKeyRaw());
  EXPECT_EQ(signed_cp.key_id(), key_->KeyId());
  transparency::Checkpoint cp = FromProto(signed_cp);
  EXPECT_EQ(cp.SignedBody(), signed_cp.signed_body());
  // The key is pinned out of band: the test's own key, not the response's.
  ASSERT_TRUE(transparency::VerifyCheckpoint(cp, signed_cp.signature(), key_->PublicKeyRaw()).ok());

  const uint64_t n = cp.tree_size;
  ASSERT_GT(n, 3u);
  for (uint64_t position : {uint64_t{0}, uint64_t{1}, n / 2, n - 2, n - 1}) {
    v1::InclusionProof proof;
    grpc::Status s = Inclusion(position, n, &proof);
    ASSERT_TRUE(s.ok()) << position << ": " << s.error_message();
    EXPECT_EQ(proof.position(), position);
    EXPECT_EQ(proof.record().position(), position);
    auto record = codec::FromProto(proof.record());
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(ToHash(proof.leaf_hash()), transparency::LeafHash(verify::LeafData(*record)));
    EXPECT_TRUE(VerifyEntry(proof, cp.root).ok())
        << position << ": " << VerifyEntry(proof, cp.root);
  }

  // tree_size 0: the current tree; too large: OUT_OF_RANGE.
  v1::InclusionProof latest;
  ASSERT_TRUE(Inclusion(1, 0, &latest).ok());
  EXPECT_EQ(latest.tree_size(), n);
  v1::InclusionProof none;
  EXPECT_EQ(Inclusion(0, n + 100, &none).error_code(), StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(Inclusion(n + 5, 0, &none).error_code(), StatusCode::OUT_OF_RANGE);
}

// A client in another language has only the .proto: rebuild the signed body
// and the leaf bytes from audit.proto's text alone (no server code), and
// verify the signature with the key GetSigningKey serves.
TEST_F(AuditTest, TheProtoDocumentsEnoughToVerifyWithoutServerCode) {
  v1::SigningKeyInfo key;
  {
    grpc::ClientContext context;
    Deadline(&context);
    ASSERT_TRUE(Audit("audit")->GetSigningKey(&context, {}, &key).ok());
  }
  EXPECT_EQ(key.algorithm(), "Ed25519");
  EXPECT_EQ(key.public_key(), key_->PublicKeyRaw());
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(key.public_key().data()), key.public_key().size(),
         digest);
  const std::string fingerprint =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), 32));
  EXPECT_EQ(key.fingerprint_sha256(), fingerprint);
  EXPECT_EQ(key.key_id(), fingerprint.substr(0, 16));
  EXPECT_NE(key.public_key_pem().find("BEGIN PUBLIC KEY"), std::string::npos);
  {  // Only auditors.
    grpc::ClientContext context;
    v1::SigningKeyInfo refused;
    EXPECT_EQ(Audit("jdevries")->GetSigningKey(&context, {}, &refused).error_code(),
              StatusCode::PERMISSION_DENIED);
  }

  // The checkpoint body, line by line as documented.
  v1::SignedCheckpoint cp = Checkpoint();
  const std::string body =
      absl::StrCat("duurzaam checkpoint v1\n", cp.origin(), "\n", cp.tree_size(), "\n",
                   absl::BytesToHexString(cp.root_hash()), "\n",
                   cp.signed_at().seconds() * 1000000 + cp.signed_at().nanos() / 1000, "\n");
  EXPECT_EQ(body, cp.signed_body());
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key.public_key().data()),
      key.public_key().size());
  ASSERT_NE(pkey, nullptr);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(cp.signature().data()),
                             cp.signature().size(),
                             reinterpret_cast<const unsigned char*>(body.data()), body.size()),
            1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);

  // The leaf bytes, field by field as documented.
  auto u64 = [](uint64_t v) {
    std::string out(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
    return out;
  };
  auto bytes = [&u64](const std::string& b) { return u64(b.size()) + b; };
  for (uint64_t position : {uint64_t{0}, cp.tree_size() - 1}) {
    v1::InclusionProof proof;
    ASSERT_TRUE(Inclusion(position, cp.tree_size(), &proof).ok());
    const v1::RecordedEvent& r = proof.record();
    auto id = eventstore::EventId::Parse(r.event_id());
    ASSERT_TRUE(id.ok());
    const std::string leaf = bytes("duurzaam.leaf.v1") + u64(r.position()) + bytes(r.stream()) +
                             u64(r.revision()) + std::string(id->Bytes()) + bytes(r.event_type()) +
                             u64(static_cast<uint64_t>(r.recorded_at().seconds() * 1000000 +
                                                       r.recorded_at().nanos() / 1000)) +
                             bytes(r.data()) + bytes(r.metadata()) + r.hash();
    const std::string prefixed = std::string(1, '\0') + leaf;
    SHA256(reinterpret_cast<const unsigned char*>(prefixed.data()), prefixed.size(), digest);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(digest), 32), proof.leaf_hash()) << position;
  }
}

TEST_F(AuditTest, ConsistencyProofShowsTheLogOnlyGrew) {
  v1::SignedCheckpoint old_signed = Checkpoint();
  transparency::Checkpoint old_cp = FromProto(old_signed);
  AppendNotes(7);
  v1::SignedCheckpoint new_signed = Checkpoint();
  transparency::Checkpoint new_cp = FromProto(new_signed);
  ASSERT_EQ(new_cp.tree_size, old_cp.tree_size + 7);
  ASSERT_TRUE(
      transparency::VerifyCheckpoint(new_cp, new_signed.signature(), key_->PublicKeyRaw()).ok());

  v1::GetConsistencyProofRequest request;
  request.set_first_size(old_cp.tree_size);
  request.set_second_size(new_cp.tree_size);
  v1::ConsistencyProof proof;
  grpc::ClientContext context;
  Deadline(&context);
  ASSERT_TRUE(Audit("audit")->GetConsistencyProof(&context, request, &proof).ok());
  EXPECT_TRUE(transparency::VerifyConsistency(old_cp.tree_size, new_cp.tree_size, old_cp.root,
                                              new_cp.root, Path(proof.path()))
                  .ok());
  // A forged old root does not verify.
  transparency::Hash forged = old_cp.root;
  forged[0] ^= 1;
  EXPECT_EQ(transparency::VerifyConsistency(old_cp.tree_size, new_cp.tree_size, forged, new_cp.root,
                                            Path(proof.path()))
                .code(),
            absl::StatusCode::kDataLoss);

  // second_size 0 is the current tree; beyond it is OUT_OF_RANGE.
  request.set_second_size(0);
  v1::ConsistencyProof latest;
  grpc::ClientContext c2;
  Deadline(&c2);
  ASSERT_TRUE(Audit("audit")->GetConsistencyProof(&c2, request, &latest).ok());
  EXPECT_EQ(latest.second_size(), new_cp.tree_size);
  request.set_second_size(new_cp.tree_size + 1);
  grpc::ClientContext c3;
  Deadline(&c3);
  EXPECT_EQ(Audit("audit")->GetConsistencyProof(&c3, request, &latest).error_code(),
            StatusCode::OUT_OF_RANGE);
}

TEST_F(AuditTest, TamperedCheckpointFailsVerification) {
  v1::SignedCheckpoint signed_cp = Checkpoint();
  const transparency::Checkpoint cp = FromProto(signed_cp);
  const std::string pub = key_->PublicKeyRaw();
  ASSERT_TRUE(transparency::VerifyCheckpoint(cp, signed_cp.signature(), pub).ok());

  transparency::Checkpoint bigger = cp;
  bigger.tree_size += 1;
  EXPECT_FALSE(transparency::VerifyCheckpoint(bigger, signed_cp.signature(), pub).ok());
  transparency::Checkpoint other_root = cp;
  other_root.root[31] ^= 0x80;
  EXPECT_FALSE(transparency::VerifyCheckpoint(other_root, signed_cp.signature(), pub).ok());
  std::string signature = signed_cp.signature();
  signature[10] ^= 0x01;
  EXPECT_EQ(transparency::VerifyCheckpoint(cp, signature, pub).code(),
            absl::StatusCode::kUnauthenticated);
  auto other_key = transparency::SigningKey::Generate();
  ASSERT_TRUE(other_key.ok());
  EXPECT_FALSE(
      transparency::VerifyCheckpoint(cp, signed_cp.signature(), other_key->PublicKeyRaw()).ok());
}

TEST_F(AuditTest, TamperedStoredRecordNoLongerProves) {
  // A record of anna's case, not the last of the log.
  std::vector<eventstore::RecordedEvent> anna = CaseRecords("anna");
  ASSERT_GE(anna.size(), 2u);
  const uint64_t position = anna[1].position;
  ASSERT_LT(position + 1, store_->CommittedEnd());
  v1::SignedCheckpoint signed_cp = Checkpoint();
  const transparency::Checkpoint cp = FromProto(signed_cp);
  v1::InclusionProof before;
  ASSERT_TRUE(Inclusion(position, cp.tree_size, &before).ok());
  ASSERT_TRUE(VerifyEntry(before, cp.root).ok());

  StopAll();
  // Flip the case of a letter inside the record's data (a string field of
  // the stored event, so the record still decodes).
  ChangeStoredRecord(dir_.Sub("events"), position);
  StartAll(/*seed=*/false);

  // The old checkpoint still matches the tree (derived before the change)...
  v1::SignedCheckpoint again = Checkpoint();
  EXPECT_EQ(again.tree_size(), cp.tree_size);
  EXPECT_EQ(ToHash(again.root_hash()), cp.root);
  // ...but the record the server now returns is not the leaf it signed.
  v1::InclusionProof after;
  grpc::Status s = Inclusion(position, cp.tree_size, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(after.record().data(), before.record().data());
  absl::Status verified = VerifyEntry(after, cp.root);
  EXPECT_EQ(verified.code(), absl::StatusCode::kDataLoss) << verified;
  EXPECT_THAT(std::string(verified.message()), HasSubstr("leaf " + std::to_string(position)));
  // Other records still prove.
  v1::InclusionProof other;
  ASSERT_TRUE(Inclusion(anna[0].position, cp.tree_size, &other).ok());
  EXPECT_TRUE(VerifyEntry(other, cp.root).ok());
}

TEST_F(AuditTest, CaseProofsVerifyEveryEntry) {
  v1::GetCaseProofsRequest request;
  request.set_case_id("anna");
  v1::CaseProofs proofs;
  grpc::ClientContext context;
  Deadline(&context);
  grpc::Status s = Audit("audit")->GetCaseProofs(&context, request, &proofs);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const transparency::Checkpoint cp = FromProto(proofs.checkpoint());
  ASSERT_TRUE(
      transparency::VerifyCheckpoint(cp, proofs.checkpoint().signature(), key_->PublicKeyRaw())
          .ok());
  std::vector<eventstore::RecordedEvent> anna = CaseRecords("anna");
  ASSERT_FALSE(anna.empty());
  ASSERT_EQ(proofs.entries_size(), static_cast<int>(anna.size()));
  for (int i = 0; i < proofs.entries_size(); ++i) {
    const v1::InclusionProof& entry = proofs.entries(i);
    EXPECT_EQ(entry.record().stream(), "case-anna");
    EXPECT_EQ(entry.position(), anna[i].position);
    EXPECT_EQ(entry.tree_size(), cp.tree_size);
    EXPECT_TRUE(VerifyEntry(entry, cp.root).ok()) << i << ": " << VerifyEntry(entry, cp.root);
  }

  // The read of anna's stored records is in the access log.
  v1::ListAccessRecordsRequest list;
  list.set_case_id("anna");
  v1::ListAccessRecordsResponse records;
  grpc::ClientContext c2;
  Deadline(&c2);
  ASSERT_TRUE(Audit("audit")->ListAccessRecords(&c2, list, &records).ok());
  bool found = false;
  for (const auto& r : records.records()) {
    found = found || (r.view() == "proofs" && r.principal() == "auditor:audit");
  }
  EXPECT_TRUE(found);
}

TEST_F(AuditTest, OnlyAuditorsReadProofsAndTheAccessLog) {
  for (const std::string who : {"jdevries", "beheer"}) {
    grpc::ClientContext c1;
    Deadline(&c1);
    v1::SignedCheckpoint cp;
    EXPECT_EQ(Audit(who)->GetCheckpoint(&c1, {}, &cp).error_code(), StatusCode::PERMISSION_DENIED)
        << who;
    v1::ListAccessRecordsRequest list;
    list.set_case_id("anna");
    v1::ListAccessRecordsResponse records;
    grpc::ClientContext c2;
    Deadline(&c2);
    EXPECT_EQ(Audit(who)->ListAccessRecords(&c2, list, &records).error_code(),
              StatusCode::PERMISSION_DENIED)
        << who;
    v1::GetCaseProofsRequest proofs_request;
    proofs_request.set_case_id("anna");
    v1::CaseProofs proofs;
    grpc::ClientContext c3;
    Deadline(&c3);
    EXPECT_EQ(Audit(who)->GetCaseProofs(&c3, proofs_request, &proofs).error_code(),
              StatusCode::PERMISSION_DENIED)
        << who;
  }
}

TEST_F(AuditTest, AccessLogListsAnExpertsTimelineRead) {
  v1::GetTimelineRequest timeline_request;
  timeline_request.set_case_id("anna");
  v1::Timeline timeline;
  grpc::ClientContext c1;
  Deadline(&c1);
  grpc::Status read =
      v1::Cases::NewStub(Channel("jdevries"))->GetTimeline(&c1, timeline_request, &timeline);
  ASSERT_TRUE(read.ok()) << read.error_message();

  v1::ListAccessRecordsRequest list;
  list.set_case_id("anna");
  v1::ListAccessRecordsResponse records;
  grpc::ClientContext c2;
  Deadline(&c2);
  grpc::Status s = Audit("audit")->ListAccessRecords(&c2, list, &records);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool found = false;
  for (const auto& r : records.records()) {
    if (r.principal() == "expert:jdevries" && r.view() == "timeline") {
      found = true;
      EXPECT_EQ(r.case_id(), "anna");
      EXPECT_EQ(r.role(), "EXPERT");
    }
  }
  EXPECT_TRUE(found) << records.DebugString();
}

}  // namespace
}  // namespace duurzaam::testing
