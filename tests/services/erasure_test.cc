// Erasable personal data on a real mutual-TLS server: sealed fields never
// reach the raw store files (grepped before and after erasure, next to a
// public field that does), erasure by an administrator makes them read as
// erased everywhere while the hash chain and every proof stay valid, a copy
// of the data folder made after the erasure cannot recover them, and
// master-key rotation re-wraps data keys without touching a single event.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "codec/placement_codec.h"
#include "crypto/master_keyring.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "services/admin_service.h"
#include "tests/services/mtls_fixture.h"
#include "tests/services/proof_check.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;
using ::testing::HasSubstr;

// Random tokens that share no 4-byte run with anything else stored, so a
// compressed block still holds them literally.
constexpr char kSecret[] = "Rv2yT8mN3hXc5Gd1";  // in a sealed field
constexpr char kPublic[] = "Qw7xJ4zK9pLm2Vb8";  // in an employer-visible field

class ErasureTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() {
    MakePki({"EXPERT jdevries", "EMPLOYER acme-hr --org acme", "AUDITOR audit", "ADMIN beheer"});
  }
  static void TearDownTestSuite() { DeletePki(); }

  void SetUp() override { Start(/*seed=*/true); }
  void Start(bool seed) { StartAll({.seed = seed, .audit = true}); }
  // Stops the server and closes every store (flushing them to their files).
  void Restart() {
    StopAll();
    Start(/*seed=*/false);
  }

  // Opens case `id` at acme (jdevries), hires with the public marker as job
  // title, records the secret as a private-life change.
  void OpenCaseWithSecret(const std::string& id) {
    v1::PlacementEvent open = Today();
    auto* opened = open.mutable_case_opened();
    opened->set_worker_ref("werknemer-" + id);
    opened->set_employer_id("acme");
    opened->set_region("Rijnmond");
    opened->set_target_group("banenafspraak");
    ASSERT_TRUE(Record("jdevries", id, open).ok());
    v1::PlacementEvent hire = Today();
    hire.mutable_hired()->set_contract(v1::CONTRACT_TYPE_PERMANENT);
    hire.mutable_hired()->set_hours_per_week(24);
    hire.mutable_hired()->set_job_title(kPublic);
    grpc::Status hired = Record("jdevries", id, hire);
    ASSERT_TRUE(hired.ok()) << hired.error_message();
    grpc::Status secret = Record("jdevries", id, PrivateLife(kSecret));
    ASSERT_TRUE(secret.ok()) << secret.error_message();
  }

  void CloseCase(const std::string& id) {
    v1::PlacementEvent close = Today();
    close.mutable_case_closed()->set_reason("plaatsing beëindigd");
    grpc::Status closed = Record("jdevries", id, close);
    ASSERT_TRUE(closed.ok()) << closed.error_message();
  }

  grpc::Status Erase(const std::string& who, const std::string& case_id,
                     v1::EraseCaseResponse* out = nullptr,
                     const std::string& reason = "verzoek betrokkene, art. 17 AVG") {
    return EraseCase(who, case_id, reason, out);
  }

  grpc::Status Rotate(const std::string& who, v1::RotateMasterKeyResponse* out = nullptr) {
    v1::RotateMasterKeyResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status status =
        v1::Admin::NewStub(Channel(who))->RotateMasterKey(&context, {}, &response);
    if (out) *out = response;
    return status;
  }

  v1::Timeline Timeline(const std::string& who, const std::string& case_id) {
    v1::GetTimelineRequest request;
    request.set_case_id(case_id);
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status status =
        v1::Cases::NewStub(Channel(who))->GetTimeline(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // The private-life entry of a timeline (fails the test if there is none).
  static v1::PlacementEvent PrivateLifeEntry(const v1::Timeline& timeline) {
    for (const auto& entry : timeline.entries()) {
      if (entry.event().has_private_life_changed()) return entry.event();
    }
    ADD_FAILURE() << "no private-life entry in the timeline";
    return {};
  }

  // Every file under `root` whose bytes contain `needle`, relative to root.
  static std::vector<std::string> FilesContaining(const std::string& root,
                                                  const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      if (Slurp(entry.path().string()).find(needle) != std::string::npos) {
        out.push_back(std::filesystem::relative(entry.path(), root).string());
      }
    }
    return out;
  }

  v1::SignedCheckpoint Checkpoint() {
    grpc::ClientContext context;
    Deadline(&context);
    v1::SignedCheckpoint out;
    grpc::Status s = v1::Audit::NewStub(Channel("audit"))->GetCheckpoint(&context, {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Every entry of the case's proofs verifies against the signed checkpoint.
  void ExpectCaseProofsVerify(const std::string& case_id) {
    v1::GetCaseProofsRequest request;
    request.set_case_id(case_id);
    v1::CaseProofs proofs;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s =
        v1::Audit::NewStub(Channel("audit"))->GetCaseProofs(&context, request, &proofs);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_FALSE(proofs.entries().empty());
    const transparency::Hash root = ToHash(proofs.checkpoint().root_hash());
    for (const auto& entry : proofs.entries()) {
      EXPECT_TRUE(VerifyEntry(entry, root).ok()) << entry.position();
      // What the proofs cover is ciphertext.
      EXPECT_EQ(entry.record().data().find(kSecret), std::string::npos);
    }
  }

  // The chain hash of the last record (the head of the hash chain).
  eventstore::Hash LastHash() {
    auto last = store_->ReadAt(store_->CommittedEnd() - 1);
    EXPECT_TRUE(last.ok()) << last.status();
    return last.ok() ? last->hash : eventstore::Hash{};
  }

  void ExpectChainValid() {
    auto chain = store_->VerifyChain(0, store_->CommittedEnd());
    ASSERT_TRUE(chain.ok()) << chain.status();
    EXPECT_TRUE(chain->ok()) << chain->detail;
  }
};

TEST_F(ErasureTest, SealedFieldsNeverReachTheStoreFilesAndReadAsErasedAfterErasure) {
  OpenCaseWithSecret("wis");
  // The case's expert reads the secret; the employer does not.
  EXPECT_EQ(PrivateLifeEntry(Timeline("jdevries", "wis")).private_life_changed().details(),
            kSecret);
  const v1::Timeline employer = Timeline("acme-hr", "wis");
  ASSERT_GT(employer.entries_size(), 0);
  for (const auto& entry : employer.entries()) {
    EXPECT_FALSE(entry.event().has_private_life_changed());
  }

  // Before erasure: the public field is in the files (the grep sees stored
  // data), the sealed one in none of them.
  Restart();
  EXPECT_FALSE(FilesContaining(dir_.path(), kPublic).empty());
  EXPECT_EQ(FilesContaining(dir_.path(), kSecret), std::vector<std::string>{});
  EXPECT_EQ(PrivateLifeEntry(Timeline("jdevries", "wis")).private_life_changed().details(),
            kSecret);

  // Erasure wants a closed case and an administrator.
  grpc::Status open = Erase("beheer", "wis");
  EXPECT_EQ(open.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(open.error_message(), HasSubstr("close it"));
  CloseCase("wis");
  EXPECT_EQ(Erase("jdevries", "wis").error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Erase("audit", "wis").error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Erase("beheer", "wis", nullptr, "").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Erase("beheer", "bestaat-niet").error_code(), StatusCode::NOT_FOUND);

  const v1::SignedCheckpoint before = Checkpoint();
  const eventstore::Hash head_before = LastHash();
  v1::EraseCaseResponse erased;
  grpc::Status s = Erase("beheer", "wis", &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(erased.erased());
  // Idempotent: the first erasure's time stays.
  v1::EraseCaseResponse again;
  ASSERT_TRUE(Erase("beheer", "wis", &again).ok());
  EXPECT_FALSE(again.erased());
  EXPECT_EQ(again.erased_at().seconds(), erased.erased_at().seconds());

  // The API: the secret is gone and says so; everything else is intact.
  const v1::Timeline after = Timeline("jdevries", "wis");
  const v1::PlacementEvent gone = PrivateLifeEntry(after);
  EXPECT_TRUE(gone.personal_data_erased());
  EXPECT_EQ(gone.private_life_changed().details(), "");
  bool hire_intact = false;
  for (const auto& entry : after.entries()) {
    if (entry.event().has_hired()) hire_intact = entry.event().hired().job_title() == kPublic;
    if (entry.event().has_case_opened()) {
      EXPECT_EQ(entry.event().case_opened().worker_ref(), "");  // sealed too
      EXPECT_EQ(entry.event().case_opened().employer_id(), "acme");
    }
  }
  EXPECT_TRUE(hire_intact);
  // An erased case takes no new events.
  grpc::Status reopen = Record("jdevries", "wis", [] {
    v1::PlacementEvent e = Today();
    e.mutable_case_reopened()->set_reason("terug");
    return e;
  }());
  EXPECT_EQ(reopen.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(reopen.error_message(), HasSubstr("erased"));

  // The log only grew (the erasure record), its chain and every proof hold.
  ExpectChainValid();
  ExpectCaseProofsVerify("wis");
  const v1::SignedCheckpoint now = Checkpoint();
  ASSERT_GT(now.tree_size(), before.tree_size());
  v1::GetConsistencyProofRequest request;
  request.set_first_size(before.tree_size());
  request.set_second_size(now.tree_size());
  v1::ConsistencyProof proof;
  grpc::ClientContext context;
  Deadline(&context);
  ASSERT_TRUE(
      v1::Audit::NewStub(Channel("audit"))->GetConsistencyProof(&context, request, &proof).ok());
  EXPECT_TRUE(transparency::VerifyConsistency(before.tree_size(), now.tree_size(),
                                              ToHash(before.root_hash()), ToHash(now.root_hash()),
                                              Path(proof.path()))
                  .ok());
  EXPECT_NE(LastHash(), head_before);

  // The erasure is on record for auditors.
  auto record = store_->ReadStream(std::string(services::kErasuresStream), 0,
                                   eventstore::Direction::kForwards, 10);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->size(), 1u);
  v1::CaseErasure erasure;
  ASSERT_TRUE(erasure.ParseFromString(record->front().data));
  EXPECT_EQ(erasure.case_id(), "wis");
  EXPECT_THAT(erasure.erased_by(), HasSubstr("beheer"));

  // After a restart (every store flushed to its files): still erased, and
  // still in no file.
  Restart();
  EXPECT_TRUE(PrivateLifeEntry(Timeline("jdevries", "wis")).personal_data_erased());
  StopAll();
  EXPECT_EQ(FilesContaining(dir_.path(), kSecret), std::vector<std::string>{});
  EXPECT_FALSE(FilesContaining(dir_.path(), kPublic).empty());
}

TEST_F(ErasureTest, ACopyOfTheDataFolderMadeAfterErasureCannotRecoverIt) {
  OpenCaseWithSecret("kopie");
  CloseCase("kopie");
  ASSERT_TRUE(Erase("beheer", "kopie").ok());
  StopAll();
  // A backup of the data folder after the erasure, opened with the master
  // key (the worst case: the operator's key is available too).
  TempDir backup;
  std::filesystem::copy(dir_.path(), backup.Sub("data"), std::filesystem::copy_options::recursive);
  auto keyring = crypto::MasterKeyring::Load(MasterKeyFile());
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  auto keys = crypto::DataKeyStore::Open(backup.Sub("data/keys"), *std::move(keyring));
  ASSERT_TRUE(keys.ok()) << keys.status();
  eventstore::Options options;
  options.path = backup.Sub("data/events");
  auto store = eventstore::Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto records = (*store)->ReadStream("case-kopie", 0, eventstore::Direction::kForwards, 100);
  ASSERT_TRUE(records.ok()) << records.status();
  const codec::DataKeySealer sealer(keys->get());
  int private_life = 0;
  for (const auto& record : *records) {
    auto event = codec::Decode(record, &sealer);
    ASSERT_TRUE(event.ok()) << event.status();
    if (const auto* p = std::get_if<domain::PrivateLifeChanged>(&event->body)) {
      ++private_life;
      EXPECT_TRUE(event->personal_data_erased);
      EXPECT_EQ(p->details, "");
    }
  }
  EXPECT_EQ(private_life, 1);
}

TEST_F(ErasureTest, MasterKeyRotationRewrapsDataKeysWithoutTouchingEvents) {
  OpenCaseWithSecret("rot");
  const uint64_t end = store_->CommittedEnd();
  const eventstore::Hash head = LastHash();
  auto log_before = store_->ReadStream("case-rot", 0, eventstore::Direction::kForwards, 100);
  ASSERT_TRUE(log_before.ok());

  EXPECT_EQ(Rotate("jdevries").error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Rotate("audit").error_code(), StatusCode::PERMISSION_DENIED);

  auto old_keys = crypto::MasterKeyring::Load(MasterKeyFile());
  ASSERT_TRUE(old_keys.ok());
  const std::string old_id = old_keys->current_id();
  auto new_id = crypto::MasterKeyring::AddKey(MasterKeyFile());
  ASSERT_TRUE(new_id.ok()) << new_id.status();
  v1::RotateMasterKeyResponse rotated;
  grpc::Status s = Rotate("beheer", &rotated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rotated.current_key_id(), *new_id);
  EXPECT_GE(rotated.rewrapped(), 2);  // the demo cases' keys and this one's
  EXPECT_EQ(std::vector<std::string>(rotated.key_ids().begin(), rotated.key_ids().end()),
            (std::vector<std::string>{old_id, *new_id}));
  // Again: nothing left to re-wrap.
  ASSERT_TRUE(Rotate("beheer", &rotated).ok());
  EXPECT_EQ(rotated.rewrapped(), 0);

  // Not one event changed.
  EXPECT_EQ(store_->CommittedEnd(), end);
  EXPECT_EQ(LastHash(), head);
  auto log_after = store_->ReadStream("case-rot", 0, eventstore::Direction::kForwards, 100);
  ASSERT_TRUE(log_after.ok());
  ASSERT_EQ(log_after->size(), log_before->size());
  for (size_t i = 0; i < log_after->size(); ++i) {
    EXPECT_EQ((*log_after)[i].data, (*log_before)[i].data);
  }

  // The old master key retired from the file: after a restart everything
  // still opens, with the new key only.
  ASSERT_TRUE(crypto::MasterKeyring::Retire(MasterKeyFile(), old_id).ok());
  Restart();
  EXPECT_EQ(PrivateLifeEntry(Timeline("jdevries", "rot")).private_life_changed().details(),
            kSecret);
  EXPECT_EQ(PrivateLifeEntry(Timeline("jdevries", "fleur")).private_life_changed().details(),
            "mantelzorg voor een ouder");
}

}  // namespace
}  // namespace duurzaam::testing
