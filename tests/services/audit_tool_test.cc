// duurzaam-audit's library (clients/audit) against a real mutual-TLS server:
// a case's evidence verified against a pinned key and replayed to the
// server's own status; every kind of tampering caught and named (a proof, a
// checkpoint, a bundle byte, a record changed on the server's disk); a
// server forked after a common prefix caught by the checkpoint check; the
// whole log verified record by record to the signed root. And the C2SP
// signed notes and the log verifier on their own.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "clients/audit/evidence.h"
#include "clients/audit/log_check.h"
#include "clients/lib/log_reader.h"
#include "codec/eventstore_codec.h"
#include "domain/history.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/chain.h"
#include "tests/services/mtls_fixture.h"
#include "tests/services/tamper.h"
#include "tests/support/temp_dir.h"
#include "transparency/note.h"
#include "verify/leaf.h"
#include "verify/log_verifier.h"

namespace duurzaam::testing {
namespace {

using ::testing::HasSubstr;

// --- C2SP notes, without a server ---

TEST(SignedNoteTest, SignParseVerifyAndEveryChangeIsCaught) {
  auto key = transparency::SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  transparency::Hash root{};
  root[0] = 7;
  const std::string body = transparency::CheckpointNoteBody("example.org/log", 42, root);
  const std::string text = transparency::SignNote(body, "example.org/log", *key).Format();
  EXPECT_THAT(text, HasSubstr("\n\n\xE2\x80\x94 example.org/log "));
  const transparency::VerifierKey vkey = transparency::MakeVerifierKey(
      "example.org/log", transparency::kNoteEd25519, key->PublicKeyRaw());
  auto parsed_key = transparency::ParseVerifierKey(vkey.Format());
  ASSERT_TRUE(parsed_key.ok()) << parsed_key.status();
  EXPECT_EQ(parsed_key->key, key->PublicKeyRaw());

  auto note = transparency::ParseNote(text);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_TRUE(transparency::VerifyNote(*note, vkey).ok());
  auto cp = transparency::ParseCheckpointNoteBody(note->body);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->origin, "example.org/log");
  EXPECT_EQ(cp->tree_size, 42u);
  EXPECT_EQ(cp->root, root);

  // Every single byte changed: it no longer parses, or no longer verifies.
  for (size_t i = 0; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] ^= 0x01;
    auto n = transparency::ParseNote(changed);
    if (!n.ok()) continue;
    EXPECT_FALSE(transparency::VerifyNote(*n, vkey).ok()) << "byte " << i;
  }
  // Another key of the same name does not verify it.
  auto other = transparency::SigningKey::Generate();
  EXPECT_FALSE(transparency::VerifyNote(
                   *note, transparency::MakeVerifierKey(
                              "example.org/log", transparency::kNoteEd25519, other->PublicKeyRaw()))
                   .ok());
  // A verifier key whose hash does not fit is refused.
  std::string bad = vkey.Format();
  bad[bad.find('+') + 1] = bad[bad.find('+') + 1] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(transparency::ParseVerifierKey(bad).ok());
}

TEST(SignedNoteTest, AWitnessCosignatureVerifiesForItsCheckpointOnly) {
  auto log_key = transparency::SigningKey::Generate();
  auto witness = transparency::SigningKey::Generate();
  ASSERT_TRUE(log_key.ok() && witness.ok());
  const std::string body = transparency::CheckpointNoteBody("log", 3, transparency::Hash{});
  transparency::Note note = transparency::SignNote(body, "log", *log_key);
  note.signatures.push_back(transparency::Cosign(body, "witness.example", *witness, 1765000000));
  auto reparsed = transparency::ParseNote(note.Format());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  const auto wkey = transparency::MakeVerifierKey(
      "witness.example", transparency::kNoteCosignatureV1, witness->PublicKeyRaw());
  EXPECT_TRUE(transparency::VerifyNote(*reparsed, wkey).ok());
  // Moved onto another checkpoint, the cosignature fails.
  transparency::Note moved = *reparsed;
  moved.body = transparency::CheckpointNoteBody("log", 4, transparency::Hash{});
  EXPECT_FALSE(transparency::VerifyNote(moved, wkey).ok());
  // A witness that did not cosign.
  auto absent = transparency::SigningKey::Generate();
  absl::Status none = transparency::VerifyNote(
      *reparsed, transparency::MakeVerifierKey("other.witness", transparency::kNoteCosignatureV1,
                                               absent->PublicKeyRaw()));
  EXPECT_THAT(std::string(none.message()), HasSubstr("no signature of other.witness"));
}

TEST(SignedNoteTest, Base64IsStrict) {
  EXPECT_EQ(*transparency::FromBase64(transparency::Base64("abcde")), "abcde");
  EXPECT_FALSE(transparency::FromBase64("YWJj ZA==").ok());
  EXPECT_FALSE(transparency::FromBase64("YWJjZA=").ok());
  EXPECT_FALSE(transparency::FromBase64("YWJjZB==").ok());  // not canonical
}

// --- the log verifier, without a server ---

transparency::Hash ReferenceRoot(const std::vector<transparency::Hash>& leaves, size_t from,
                                 size_t n) {
  if (n == 1) return leaves[from];
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return transparency::NodeHash(ReferenceRoot(leaves, from, k),
                                ReferenceRoot(leaves, from + k, n - k));
}

std::vector<eventstore::RecordedEvent> Chain(int n) {
  std::vector<eventstore::RecordedEvent> records;
  eventstore::Hash previous{};
  for (int i = 0; i < n; ++i) {
    eventstore::RecordedEvent r;
    r.stream = absl::StrCat("s-", i % 3);
    r.revision = i / 3;
    r.position = i;
    r.id = eventstore::EventId::Random();
    r.type = "Note";
    r.recorded_at_micros = 1'700'000'000'000'000 + i;
    r.data = absl::StrCat("data ", i);
    r.hash = *eventstore::RecordHash(r, previous);
    previous = r.hash;
    records.push_back(r);
  }
  return records;
}

eventstore::EventView View(const eventstore::RecordedEvent& r, std::string* id_bytes) {
  *id_bytes = r.id.Bytes();
  return eventstore::EventView{
      r.stream,  r.revision, r.position,
      *id_bytes, r.type,     r.recorded_at_micros,
      r.data,    r.metadata, std::string_view(reinterpret_cast<const char*>(r.hash.data()), 32)};
}

TEST(LogVerifierTest, RootMatchesTheReferenceTreeForEverySizeAndResumes) {
  const auto records = Chain(70);
  std::vector<transparency::Hash> leaves;
  for (const auto& r : records) leaves.push_back(verify::RecordLeafHash(r));
  verify::LogVerifier verifier;
  EXPECT_EQ(verifier.Root(), transparency::EmptyRoot());
  std::string id;
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(verifier.Add(View(records[i], &id)).ok()) << i;
    ASSERT_EQ(verifier.Root(), ReferenceRoot(leaves, 0, i + 1)) << "size " << i + 1;
    // Saved and resumed at any point, it goes on to the same root.
    if (i == 36) {
      auto state = verify::LogVerifier::State::Parse(verifier.state().Serialize());
      ASSERT_TRUE(state.ok()) << state.status();
      verify::LogVerifier resumed(*state);
      for (size_t j = i + 1; j < records.size(); ++j)
        ASSERT_TRUE(resumed.Add(View(records[j], &id)).ok());
      EXPECT_EQ(resumed.Root(), ReferenceRoot(leaves, 0, records.size()));
    }
  }
}

TEST(LogVerifierTest, AChangedRecordOrAGapIsTheFirstBadRecord) {
  auto records = Chain(10);
  records[6].data = "changed";
  verify::LogVerifier verifier;
  std::string id;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(verifier.Add(View(records[i], &id)).ok());
  absl::Status bad = verifier.Add(View(records[6], &id));
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("position 6 (s-0 revision 2)"));
  EXPECT_EQ(verifier.size(), 6u);  // nothing taken
  absl::Status gap = verifier.Add(View(records[7], &id));
  EXPECT_THAT(std::string(gap.message()), HasSubstr("expected the record at position 6"));
  EXPECT_FALSE(verify::LogVerifier::State::Parse("duurzaam.logverify.v1\n3\n00\n").ok());
}

TEST(AccessCsvTest, QuotesAsRfc4180Says) {
  v1::ListAccessRecordsResponse records;
  v1::AccessRecord* r = records.add_records();
  r->set_principal("employer:acme/\"hr\", desk");
  r->set_role("EMPLOYER");
  r->set_view("timeline");
  r->set_method("duurzaam.v1.Cases/GetTimeline");
  r->set_case_id("anna");
  r->set_via("portal:werkgeversportaal");
  r->mutable_read_at()->set_seconds(1765000000);
  EXPECT_EQ(audit::AccessCsv(records),
            "read_at,principal,role,via,view,method,case_id\r\n"
            "2025-12-06T05:46:40.000000Z,\"employer:acme/\"\"hr\"\", desk\",EMPLOYER,"
            "portal:werkgeversportaal,timeline,duurzaam.v1.Cases/GetTimeline,anna\r\n");
}

// --- against a real server ---

class AuditToolTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() { MakePki({"EXPERT jdevries", "AUDITOR audit", "ADMIN beheer"}); }
  static void TearDownTestSuite() { DeletePki(); }
  void SetUp() override { Start(); }
  void Start() { StartAll({.seed = true, .audit = true}); }

  transparency::VerifierKey Pinned() {
    return transparency::MakeVerifierKey("duurzaam", transparency::kNoteEd25519,
                                         key_->PublicKeyRaw());
  }

  v1::CaseProofs Proofs(const std::string& case_id) {
    v1::GetCaseProofsRequest request;
    request.set_case_id(case_id);
    v1::CaseProofs out;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s = v1::Audit::NewStub(Channel("audit"))->GetCaseProofs(&context, request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::SignedCheckpoint Checkpoint() {
    v1::SignedCheckpoint out;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status s = v1::Audit::NewStub(Channel("audit"))->GetCheckpoint(&context, {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  audit::ConsistencyProver Prover() {
    return
        [this](uint64_t first, uint64_t second) -> absl::StatusOr<std::vector<transparency::Hash>> {
          v1::GetConsistencyProofRequest request;
          request.set_first_size(first);
          request.set_second_size(second);
          v1::ConsistencyProof proof;
          grpc::ClientContext context;
          Deadline(&context);
          grpc::Status s =
              v1::Audit::NewStub(Channel("audit"))->GetConsistencyProof(&context, request, &proof);
          if (!s.ok()) return absl::UnavailableError(s.error_message());
          std::vector<transparency::Hash> path;
          for (const std::string& h : proof.path()) {
            transparency::Hash node{};
            std::copy(h.begin(), h.end(), node.begin());
            path.push_back(node);
          }
          return path;
        };
  }

  void AppendNote(const std::string& text) {
    eventstore::StreamAppend append;
    append.stream = "ext-audit-notes";
    append.events.push_back({eventstore::EventId::Random(), "Note", text, ""});
    ASSERT_TRUE(store_->Append(append).ok());
  }
};

TEST_F(AuditToolTest, ACaseVerifiesAgainstThePinnedKeyAndReplaysToTheServersStatus) {
  const v1::CaseProofs proofs = Proofs("bram");
  const audit::Verification v = audit::VerifyCaseProofs(proofs, "bram", Pinned());
  ASSERT_TRUE(v.ok()) << v.FirstFailure()->item << ": " << v.FirstFailure()->detail;
  auto stream = store_->ReadStream("case-bram", 0, eventstore::Direction::kForwards, 10000);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(v.records, stream->size());
  EXPECT_GE(v.related, 1u);  // the employer's reorganisation
  EXPECT_EQ(v.tree_size, store_->CommittedEnd());

  // Replayed from the verified records alone, the status is the server's.
  const audit::ReplayedCase replay = audit::Replay(proofs, "bram");
  EXPECT_TRUE(replay.unreadable.empty());
  EXPECT_EQ(replay.case_events.size(), stream->size());
  EXPECT_FALSE(replay.employer_events.empty());
  const domain::Date today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const domain::CaseStatus mine = domain::StatusOn(replay.Joined(), today, domain::Clock::kAsKnown);
  v1::GetStatusRequest request;
  request.set_case_id("bram");
  v1::CaseStatus theirs;
  grpc::ClientContext context;
  Deadline(&context);
  ASSERT_TRUE(v1::Cases::NewStub(Channel("audit"))->GetStatus(&context, request, &theirs).ok());
  EXPECT_EQ(static_cast<int>(theirs.level()), static_cast<int>(mine.level) + 1)
      << "server " << theirs.level() << ", replay " << domain::LevelName(mine.level);
  ASSERT_EQ(static_cast<size_t>(theirs.reasons_size()), mine.reasons.size());
  for (int i = 0; i < theirs.reasons_size(); ++i) {
    EXPECT_EQ(theirs.reasons(i).rule_id(), mine.reasons[i].rule_id);
  }
  // Sealed personal data stays sealed: the tool reads no text of it.
  bool sealed = false;
  for (const auto& [id, meta] : replay.meta) sealed = sealed || meta.sealed;
  EXPECT_TRUE(sealed);
}

TEST_F(AuditToolTest, AnErasedCaseReplaysWithItsPersonalDataMarkedErased) {
  v1::PlacementEvent close = Today();
  close.mutable_case_closed()->set_reason("plaatsing beeindigd");
  grpc::Status closed = Record("jdevries", "bram", close);
  ASSERT_TRUE(closed.ok()) << closed.error_message();
  const audit::ReplayedCase before = audit::Replay(Proofs("bram"), "bram");
  EXPECT_FALSE(before.erasure.has_value());
  ASSERT_TRUE(EraseCase("beheer", "bram", "verzoek betrokkene, art. 17 AVG").ok());

  const v1::CaseProofs proofs = Proofs("bram");
  const audit::Verification v = audit::VerifyCaseProofs(proofs, "bram", Pinned());
  ASSERT_TRUE(v.ok()) << v.FirstFailure()->item << ": " << v.FirstFailure()->detail;
  const audit::ReplayedCase after = audit::Replay(proofs, "bram");
  ASSERT_TRUE(after.erasure.has_value());  // the erasure record, proved
  EXPECT_EQ(after.erasure->reason, "verzoek betrokkene, art. 17 AVG");
  EXPECT_EQ(after.erasure->erased_by.empty(), false);
  size_t erased = 0, sealed = 0;
  for (const domain::Event& e : after.case_events) {
    const audit::RecordMeta* meta = after.MetaOf(e);
    ASSERT_NE(meta, nullptr);
    sealed += meta->sealed;
    erased += e.personal_data_erased;
    EXPECT_EQ(e.personal_data_erased, meta->sealed) << meta->type;  // exactly the sealed ones
  }
  EXPECT_GT(sealed, 0u);
  EXPECT_EQ(erased, sealed);
  // The case's history and status still replay: erasure removes no event.
  EXPECT_EQ(after.case_events.size(), before.case_events.size());
}

TEST_F(AuditToolTest, EveryKindOfTamperingIsCaughtAndNamed) {
  const v1::CaseProofs good = Proofs("bram");
  ASSERT_TRUE(audit::VerifyCaseProofs(good, "bram", Pinned()).ok());
  auto fails = [&](const v1::CaseProofs& p, const std::string& item, const std::string& detail,
                   const transparency::VerifierKey& key) {
    const audit::Verification v = audit::VerifyCaseProofs(p, "bram", key);
    const audit::Check* bad = v.FirstFailure();
    ASSERT_NE(bad, nullptr) << "not caught: " << item;
    EXPECT_THAT(bad->item, HasSubstr(item));
    EXPECT_THAT(bad->detail, HasSubstr(detail)) << bad->item;
  };
  const auto key = Pinned();
  v1::CaseProofs p = good;
  // A record's bytes.
  (*p.mutable_entries(3)->mutable_record()->mutable_data())[5] ^= 0x01;
  fails(p, "record 3 (case-bram revision 3", "leaf hash differs", key);
  // The leaf hash claimed, changed with it: the path then fails.
  p = good;
  (*p.mutable_entries(2)->mutable_path(0))[0] ^= 0x01;
  fails(p, "record 2 (case-bram revision 2", "audit path does not lead", key);
  // A record left out.
  p = good;
  p.mutable_entries()->DeleteSubrange(4, 1);
  fails(p, "record 4 (case-bram revision 5", "revision 4 was expected", key);
  // A record of another stream slipped in among the related ones.
  p = good;
  *p.add_related() = Proofs("anna").entries(0);
  fails(p, "related record", "not the case's employer", key);
  // Related records reordered, repeated, or the employer's first left out.
  ASSERT_GE(good.related_size(), 2);
  p = good;
  p.mutable_related()->SwapElements(0, 1);
  fails(p, "related record 0 (employer-acme revision 1", "revision 0 of employer-acme was expected",
        key);
  p = good;
  *p.add_related() = good.related(0);
  fails(p, "related record 2", "not in log order, or one is there twice", key);
  p = good;
  p.mutable_related()->DeleteSubrange(0, 1);
  fails(p, "related record 0", "revision 0 of employer-acme was expected", key);
  // A signature line on the note that no check covers.
  p = good;
  auto stranger = transparency::SigningKey::Generate();
  auto parsed = transparency::ParseNote(good.checkpoint().note());
  ASSERT_TRUE(parsed.ok());
  parsed->signatures.push_back(transparency::Cosign(parsed->body, "witness.example", *stranger, 1));
  p.mutable_checkpoint()->set_note(parsed->Format());
  fails(p, "checkpoint", "besides the log's", key);
  // The checkpoint's signature, its root, its key.
  p = good;
  std::string note = p.checkpoint().note();
  note[note.size() - 5] = note[note.size() - 5] == 'A' ? 'B' : 'A';
  p.mutable_checkpoint()->set_note(note);
  fails(p, "checkpoint", "signature", key);
  p = good;
  (*p.mutable_checkpoint()->mutable_root_hash())[0] ^= 0x01;
  fails(p, "checkpoint", "differ from its signed note", key);
  p = good;
  (*p.mutable_checkpoint()->mutable_signature())[0] ^= 0x01;
  fails(p, "checkpoint", "", key);
  // A key the auditor did not pin.
  auto other = transparency::SigningKey::Generate();
  fails(
      good, "checkpoint", "no signature of duurzaam",
      transparency::MakeVerifierKey("duurzaam", transparency::kNoteEd25519, other->PublicKeyRaw()));
}

TEST_F(AuditToolTest, EveryByteOfABundleIsCovered) {
  const std::string bytes = audit::WriteBundle("bram", Proofs("bram"), Pinned().Format());
  v1::EvidenceBundle read;
  const audit::Verification good = audit::VerifyBundle(bytes, Pinned(), &read);
  ASSERT_TRUE(good.ok()) << good.FirstFailure()->detail;
  EXPECT_EQ(read.case_id(), "bram");
  size_t caught = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] ^= 0x01;
    const audit::Verification v = audit::VerifyBundle(changed, Pinned());
    EXPECT_FALSE(v.ok()) << "a changed byte at " << i << " of " << bytes.size() << " went unseen";
    if (!v.ok()) ++caught;
  }
  EXPECT_EQ(caught, bytes.size());
  // Appended bytes (garbage, or a well-formed field the schema does not
  // know), and a cut.
  EXPECT_FALSE(audit::VerifyBundle(bytes + "x", Pinned()).ok());
  const audit::Verification unknown =
      audit::VerifyBundle(bytes + std::string("\x78\x01", 2), Pinned());
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.FirstFailure()->detail, HasSubstr("a field no check covers"));
  EXPECT_THAT(unknown.FirstFailure()->detail_nl, HasSubstr("een veld dat geen controle dekt"));
  EXPECT_FALSE(audit::VerifyBundle(bytes.substr(0, bytes.size() - 1), Pinned()).ok());
}

// Verifies the whole log as served to the auditor; the first failure, or OK
// with the root.
absl::StatusOr<transparency::Hash> VerifyWholeLog(const std::shared_ptr<grpc::Channel>& channel,
                                                  uint64_t tree_size) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  verify::LogVerifier verifier;
  if (absl::Status s = audit::VerifyLogUpTo(channel, &context, tree_size, &verifier); !s.ok()) {
    return s;
  }
  return verifier.Root();
}

TEST_F(AuditToolTest, TheWholeLogVerifiesToTheSignedRootAndAChangedRecordIsFound) {
  const v1::SignedCheckpoint cp = Checkpoint();
  auto root = VerifyWholeLog(Channel("audit"), cp.tree_size());
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(root->data()), 32), cp.root_hash());

  const v1::CaseProofs before = Proofs("anna");
  const uint64_t position = before.entries(1).position();
  StopAll();
  ChangeStoredRecord(dir_.Sub("events"), position);
  Start();
  // The case's evidence now fails at that record, by name...
  const audit::Verification v = audit::VerifyCaseProofs(Proofs("anna"), "anna", Pinned());
  ASSERT_NE(v.FirstFailure(), nullptr);
  EXPECT_THAT(v.FirstFailure()->item,
              HasSubstr(absl::StrCat("record 1 (case-anna revision 1, position ", position, ")")));
  // ...and the whole log's first bad record is that one.
  auto again = VerifyWholeLog(Channel("audit"), cp.tree_size());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()),
              HasSubstr(absl::StrCat("position ", position, " (case-anna revision 1)")));
}

TEST_F(AuditToolTest, AServerForkedAfterACommonPrefixIsCaught) {
  TempDir state;
  audit::CheckpointStore kept(state.Sub("audit"));
  auto first = kept.Accept(Checkpoint().note(), Pinned(), Prover());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->consistency, audit::Consistency::kFirst);

  // The common prefix, copied; the two copies go their own ways.
  StopAll();
  TempDir fork;
  std::filesystem::copy(dir_.path(), fork.Sub("data"), std::filesystem::copy_options::recursive);
  Start();
  AppendNote("history A");
  const std::string a_note = Checkpoint().note();
  auto grew = kept.Accept(a_note, Pinned(), Prover());
  ASSERT_TRUE(grew.ok()) << grew.status();
  EXPECT_EQ(grew->consistency, audit::Consistency::kGrew) << grew->detail;
  StopAll();
  std::filesystem::rename(dir_.path(), fork.Sub("a"));
  std::filesystem::rename(fork.Sub("data"), dir_.path());
  Start();  // the other history, signed with the same key
  AppendNote("history B");
  const v1::SignedCheckpoint b1 = Checkpoint();
  auto same_size = kept.Accept(b1.note(), Pinned(), Prover());
  ASSERT_TRUE(same_size.ok()) << same_size.status();
  EXPECT_EQ(same_size->consistency, audit::Consistency::kFork);
  EXPECT_THAT(same_size->detail, HasSubstr("different roots"));
  EXPECT_THAT(same_size->evidence, HasSubstr(b1.note()));

  AppendNote("history B goes on");
  auto longer = kept.Accept(Checkpoint().note(), Pinned(), Prover());
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_EQ(longer->consistency, audit::Consistency::kFork);
  EXPECT_THAT(longer->detail, HasSubstr("does not extend"));
  // The fork was not accepted: the kept checkpoint is still history A's.
  auto last = kept.Last("duurzaam");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, a_note);
  // Evidence files were written.
  size_t evidence = 0;
  for (const auto& f : std::filesystem::directory_iterator(state.Sub("audit"))) {
    evidence += f.path().filename().string().find(".fork-") != std::string::npos;
  }
  EXPECT_EQ(evidence, 2u);
}

}  // namespace
}  // namespace duurzaam::testing
