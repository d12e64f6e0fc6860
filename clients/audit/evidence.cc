#include "clients/audit/evidence.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "codec/sealer.h"
#include "domain/stream_names.h"
#include "domain/timeline.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "transparency/checkpoint.h"
#include "verify/leaf.h"

namespace duurzaam::audit {
namespace {

constexpr char kBundleFormat[] = "duurzaam.evidence.v1";

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}
std::string HexOf(const transparency::Hash& h) { return transparency::HexOf(h); }

bool ToHash(const std::string& bytes, transparency::Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return true;
}

// Hex of the first 8 bytes of SHA-256(key): SignedCheckpoint.key_id.
std::string KeyIdOf(const std::string& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

std::string Name(const char* kind, size_t index, const v1::InclusionProof& p) {
  return absl::StrCat(kind, " ", index, " (", p.record().stream(), " revision ",
                      p.record().revision(), ", position ", p.position(), ")");
}
std::string NameNl(const char* kind, size_t index, const v1::InclusionProof& p) {
  return absl::StrCat(kind, " ", index, " (", p.record().stream(), " revisie ",
                      p.record().revision(), ", positie ", p.position(), ")");
}

// A failed check in both languages: the English message, the Dutch one as
// a payload (read back with Dutch()).
constexpr char kDutch[] = "type.duurzaam.nl/audit.nl";
absl::Status Loss(const std::string& nl, const std::string& en) {
  absl::Status s = absl::DataLossError(en);
  s.SetPayload(kDutch, absl::Cord(nl));
  return s;
}
std::string Dutch(const absl::Status& s) {
  auto nl = s.GetPayload(kDutch);
  return nl ? std::string(*nl) : std::string(s.message());
}
absl::Status Bad(const std::string& nl, const std::string& en) {
  absl::Status s = absl::InvalidArgumentError(en);
  s.SetPayload(kDutch, absl::Cord(nl));
  return s;
}

// Checks one proved record against the checkpoint; OK or what is wrong.
absl::Status CheckEntry(const v1::InclusionProof& p, uint64_t tree_size,
                        const transparency::Hash& root) {
  absl::StatusOr<eventstore::RecordedEvent> record = codec::FromProto(p.record());
  if (!record.ok())
    return Loss(absl::StrCat("de vastlegging is onleesbaar: ", record.status().message()),
                absl::StrCat("the record does not read: ", record.status().message()));
  // Bound byte for byte: the record as it was read must encode back to the
  // very message served (a timestamp's nanoseconds below a microsecond, an
  // unknown field: nothing may ride along unchecked).
  v1::RecordedEvent again;
  codec::ToProto(*record, &again);
  if (again.SerializeAsString() != p.record().SerializeAsString()) {
    return Loss(
        "de vastlegging bevat bytes die het bewijs niet dekt (een veld buiten zijn vaste vorm)",
        "the record holds bytes its proof does not cover (a field out of its canonical form)");
  }
  if (record->position != p.position()) {
    return Loss(absl::StrCat("het bewijs is voor positie ", p.position(), ", de vastlegging zegt ",
                             record->position),
                absl::StrCat("the proof is for position ", p.position(), ", the record says ",
                             record->position));
  }
  if (p.tree_size() != tree_size) {
    return Loss(absl::StrCat("het bewijs is tegen een boom van ", p.tree_size(),
                             " bladeren, het checkpoint heeft er ", tree_size),
                absl::StrCat("the proof is against a tree of ", p.tree_size(),
                             " leaves, the checkpoint has ", tree_size));
  }
  const transparency::Hash leaf = verify::RecordLeafHash(*record);
  transparency::Hash claimed;
  if (!ToHash(p.leaf_hash(), &claimed) || claimed != leaf) {
    return Loss(
        "de bytes van de vastlegging zijn niet de bytes die het bewijs dekt (andere bladhash): "
        "de vastlegging of het bewijs is gewijzigd",
        "the record's bytes are not the bytes its proof covers (its leaf hash differs): the "
        "record or the proof was changed");
  }
  std::vector<transparency::Hash> path;
  for (const std::string& h : p.path()) {
    transparency::Hash node;
    if (!ToHash(h, &node)) {
      return Loss("een hash in het auditpad is geen 32 bytes",
                  "a hash in the audit path is not 32 bytes");
    }
    path.push_back(node);
  }
  absl::Status included = transparency::VerifyInclusion(leaf, p.position(), tree_size, path, root);
  if (!included.ok()) {
    return Loss(absl::StrCat("het auditpad leidt niet naar de wortel van het checkpoint: ",
                             included.message()),
                absl::StrCat("the audit path does not lead to the checkpoint's root: ",
                             included.message()));
  }
  return absl::OkStatus();
}

// The reader's side of sealing: no key is used; it notes which records hold
// sealed personal data and whether the case was erased.
class AuditorSealer final : public codec::Sealer {
 public:
  explicit AuditorSealer(bool erased) : erased_(erased) {}
  absl::Status Seal(std::string_view, const eventstore::EventId&,
                    storage::v1::StoredPlacementEvent*) const override {
    return absl::FailedPreconditionError("the audit tool writes nothing");
  }
  absl::Status Open(std::string_view, const eventstore::EventId&,
                    storage::v1::StoredPlacementEvent* event, bool* erased) const override {
    last_sealed_ = !event->sealed_fields().empty();
    *erased = last_sealed_ && erased_;
    event->clear_sealed_fields();
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> OpenEnvelope(std::string_view,
                                                          const eventstore::EventId&,
                                                          std::string_view) const override {
    return std::optional<std::string>();
  }
  bool last_sealed() const { return last_sealed_; }

 private:
  bool erased_;
  mutable bool last_sealed_ = false;
};

}  // namespace

bool Verification::ok() const { return FirstFailure() == nullptr && !checks.empty(); }

const Check* Verification::FirstFailure() const {
  for (const Check& c : checks) {
    if (!c.ok) return &c;
  }
  return nullptr;
}

Verification VerifyCaseProofs(const v1::CaseProofs& proofs, const std::string& case_id,
                              const transparency::VerifierKey& key) {
  Verification v;
  auto add = [&v](std::string item, std::string item_nl, const absl::Status& s,
                  std::string ok_detail = "", std::string ok_detail_nl = "") {
    Check c;
    c.item = std::move(item);
    c.item_nl = std::move(item_nl);
    c.ok = s.ok();
    c.detail = s.ok() ? std::move(ok_detail) : std::string(s.message());
    c.detail_nl = s.ok() ? std::move(ok_detail_nl) : Dutch(s);
    v.checks.push_back(std::move(c));
    return s.ok();
  };
  const v1::SignedCheckpoint& cp = proofs.checkpoint();
  // 1. The checkpoint, by the pinned key.
  absl::StatusOr<transparency::Note> note = transparency::ParseNote(cp.note());
  absl::Status signed_ok = note.ok() ? transparency::VerifyNote(*note, key) : note.status();
  if (signed_ok.ok() && note->signatures.size() != 1) {
    signed_ok = Loss(
        absl::StrCat("de notitie van het checkpoint draagt ", note->signatures.size() - 1,
                     " handtekening(en) naast die van het logboek, die deze controle niet dekt "
                     "(medeondertekeningen van getuigen: verify-note)"),
        absl::StrCat("the checkpoint's note carries ", note->signatures.size() - 1,
                     " signature(s) besides the log's, which this check does not cover (witness "
                     "cosignatures are checked with verify-note)"));
  }
  absl::StatusOr<transparency::NoteCheckpoint> body =
      signed_ok.ok() ? transparency::ParseCheckpointNoteBody(note->body) : signed_ok;
  if (!body.ok() && !body.status().GetPayload(kDutch)) {
    body =
        Loss(absl::StrCat("niet ondertekend met de vastgepinde sleutel: ", body.status().message()),
             std::string(body.status().message()));
  }
  if (!add("checkpoint", "checkpoint", body.status())) return v;
  transparency::Hash root;
  absl::Status fields = absl::OkStatus();
  if (body->origin != cp.origin() || body->tree_size != cp.tree_size() ||
      !ToHash(cp.root_hash(), &root) || root != body->root) {
    fields = Loss(
        "de velden van het checkpoint (herkomst, omvang, wortel) wijken af van de "
        "ondertekende notitie",
        "the checkpoint's fields (origin, size, root) differ from its signed note");
  } else if (cp.public_key() != key.key || cp.key_id() != KeyIdOf(key.key)) {
    fields = Loss(absl::StrCat("het checkpoint noemt een andere sleutel (", Hex(cp.public_key()),
                               ") dan de vastgepinde"),
                  absl::StrCat("the checkpoint names another key (", Hex(cp.public_key()),
                               ") than the pinned one"));
  } else {
    transparency::Checkpoint legacy{cp.origin(), cp.tree_size(), root,
                                    codec::FromTimestamp(cp.signed_at())};
    google::protobuf::Timestamp canonical;
    codec::ToTimestamp(legacy.timestamp_micros, &canonical);
    if (legacy.SignedBody() != cp.signed_body() ||
        canonical.SerializeAsString() != cp.signed_at().SerializeAsString()) {
      fields = Loss("de ondertekende tekst van het checkpoint wijkt af van zijn velden",
                    "the checkpoint's signed body differs from its fields");
    } else {
      fields = transparency::VerifyCheckpoint(legacy, cp.signature(), key.key);
    }
  }
  if (!fields.ok() && !fields.GetPayload(kDutch)) {
    fields = Loss(absl::StrCat("de handtekening klopt niet: ", fields.message()),
                  std::string(fields.message()));
  }
  if (!add("checkpoint", "checkpoint", fields,
           absl::StrCat("signed by ", key.name, " (key ", Hex(key.hash), "): ", cp.tree_size(),
                        " records, root ", HexOf(root)),
           absl::StrCat("ondertekend door ", key.name, " (sleutel ", Hex(key.hash),
                        "): ", cp.tree_size(), " vastleggingen, wortel ", HexOf(root)))) {
    return v;
  }
  v.origin = body->origin;
  v.tree_size = body->tree_size;
  v.root = body->root;

  // 2. The case's records: its stream from revision 0, each proved.
  const std::string stream = domain::CaseStream(case_id);
  std::string employer_stream;
  uint64_t last_position = 0;
  for (int i = 0; i < proofs.entries_size(); ++i) {
    const v1::InclusionProof& p = proofs.entries(i);
    absl::Status s = CheckEntry(p, v.tree_size, v.root);
    if (s.ok() && p.record().stream() != stream) {
      s = Loss(absl::StrCat("een vastlegging van ", p.record().stream(), ", niet van ", stream),
               absl::StrCat("a record of ", p.record().stream(), ", not of ", stream));
    }
    if (s.ok() && p.record().revision() != static_cast<uint64_t>(i)) {
      s = Loss(
          absl::StrCat("hier hoort revisie ", i,
                       ": er ontbreken vastleggingen of ze staan niet op volgorde"),
          absl::StrCat("revision ", i, " was expected here: records are missing or out of order"));
    }
    if (s.ok() && i > 0 && p.position() <= last_position) {
      s = Loss("de vastleggingen staan niet in de volgorde van het logboek",
               "the records are not in log order");
    }
    last_position = p.position();
    if (s.ok() && i == 0) {
      absl::StatusOr<eventstore::RecordedEvent> record = codec::FromProto(p.record());
      absl::StatusOr<domain::Event> opened =
          record.ok() ? codec::Decode(*record) : absl::StatusOr<domain::Event>(record.status());
      const auto* o = opened.ok() ? std::get_if<domain::CaseOpened>(&opened->body) : nullptr;
      if (o == nullptr) {
        s = Loss("de eerste vastlegging van de zaak is geen leesbare CaseOpened",
                 "the case's first record is not a readable CaseOpened");
      } else {
        employer_stream = domain::EmployerStream(o->employer_id);
      }
    }
    if (add(Name("record", i, p), NameNl("vastlegging", i, p), s, "included", "opgenomen")) {
      ++v.records;
    }
  }
  if (proofs.entries_size() == 0) {
    add("records", "vastleggingen",
        Loss(absl::StrCat("geen vastleggingen van zaak ", case_id, " in het bewijs"),
             absl::StrCat("no records of case ", case_id, " in the evidence")));
  }
  // 3. Related records, in log order, each once: the employer's stream from
  // its first revision with no gap, and at most one erasure of this case.
  uint64_t next_employer_revision = 0;
  int erasures = 0;
  std::optional<uint64_t> previous_position;
  for (int i = 0; i < proofs.related_size(); ++i) {
    const v1::InclusionProof& p = proofs.related(i);
    absl::Status s = CheckEntry(p, v.tree_size, v.root);
    if (s.ok() && previous_position.has_value() && p.position() <= *previous_position) {
      s = Loss("de verwante vastleggingen staan niet op volgorde, of er staat er een dubbel",
               "the related records are not in log order, or one is there twice");
    }
    previous_position = p.position();
    if (s.ok()) {
      if (p.record().stream() == domain::kErasuresStream) {
        v1::CaseErasure erasure;
        if (!erasure.ParseFromString(p.record().data()) || erasure.case_id() != case_id) {
          s = Loss("een wisvastlegging van een andere zaak", "an erasure record of another case");
        } else if (++erasures > 1) {
          s = Loss("een tweede wisvastlegging van de zaak (een wissing wordt één keer vastgelegd)",
                   "a second erasure record of the case (an erasure is recorded once)");
        }
      } else if (employer_stream.empty() || p.record().stream() != employer_stream) {
        s = Loss(absl::StrCat("een vastlegging van ", p.record().stream(),
                              ", niet de werkgever van de zaak"),
                 absl::StrCat("a record of ", p.record().stream(),
                              ", which is not the case's employer"));
      } else if (p.record().revision() != next_employer_revision) {
        s = Loss(absl::StrCat("hier hoort revisie ", next_employer_revision, " van ",
                              employer_stream, ": er ontbreken vastleggingen van de werkgever"),
                 absl::StrCat("revision ", next_employer_revision, " of ", employer_stream,
                              " was expected here: employer records are missing"));
      } else {
        ++next_employer_revision;
      }
    }
    if (add(Name("related record", i, p), NameNl("verwante vastlegging", i, p), s, "included",
            "opgenomen")) {
      ++v.related;
    }
  }
  return v;
}

std::string WriteBundle(const std::string& case_id, const v1::CaseProofs& proofs,
                        const std::string& note_verifier_key) {
  v1::EvidenceBundle bundle;
  bundle.set_format(kBundleFormat);
  bundle.set_case_id(case_id);
  *bundle.mutable_proofs() = proofs;
  bundle.set_note_verifier_key(note_verifier_key);
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    bundle.SerializeToCodedStream(&coded);
  }
  return out;
}

namespace {

// The path of the first field of `message` (recursively) that the schema
// does not know, or "" when there is none: a bundle carries nothing that no
// check looks at.
std::string UnknownFieldIn(const google::protobuf::Message& message, const std::string& path) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return path.empty() ? "(top)" : path;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string here = path.empty() ? f->name() : path + "." + f->name();
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, f); ++i) {
        std::string found = UnknownFieldIn(reflection->GetRepeatedMessage(message, f, i),
                                           absl::StrCat(here, "[", i, "]"));
        if (!found.empty()) return found;
      }
    } else {
      std::string found = UnknownFieldIn(reflection->GetMessage(message, f), here);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<v1::EvidenceBundle> ReadBundle(const std::string& bytes) {
  v1::EvidenceBundle bundle;
  if (!bundle.ParseFromString(bytes)) {
    return Bad(
        "het bestand is geen bewijsbundel: het is niet te lezen (beschadigd of een ander "
        "soort bestand)",
        "the file is not an evidence bundle: it does not parse (damaged or another kind of file)");
  }
  if (const std::string unknown = UnknownFieldIn(bundle, ""); !unknown.empty()) {
    return Bad(absl::StrCat("de bundel bevat een veld dat geen controle dekt (in ", unknown,
                            "): hij is na het maken gewijzigd"),
               absl::StrCat("the bundle holds a field no check covers (in ", unknown,
                            "): it was changed after export"));
  }
  if (bundle.format() != kBundleFormat) {
    return Bad(absl::StrCat("het bestand is geen bewijsbundel ", kBundleFormat),
               absl::StrCat("the file is not a ", kBundleFormat, " evidence bundle"));
  }
  const std::string canonical =
      WriteBundle(bundle.case_id(), bundle.proofs(), bundle.note_verifier_key());
  if (canonical != bytes) {
    size_t at = 0;
    while (at < canonical.size() && at < bytes.size() && canonical[at] == bytes[at]) ++at;
    return Bad(absl::StrCat("de bundel bevat bytes die zijn velden niet verklaren (eerste verschil "
                            "bij byte ",
                            at, " van ", bytes.size(), "): hij is na het maken gewijzigd"),
               absl::StrCat("the bundle holds bytes its fields do not account for (first "
                            "difference at byte ",
                            at, " of ", bytes.size(), "): it was changed after export"));
  }
  return bundle;
}

std::string InDutch(const absl::Status& status) { return Dutch(status); }

Verification VerifyBundle(const std::string& bytes, const transparency::VerifierKey& key,
                          v1::EvidenceBundle* bundle_out) {
  absl::StatusOr<v1::EvidenceBundle> bundle = ReadBundle(bytes);
  if (!bundle.ok()) {
    Verification v;
    v.checks.push_back(Check{"bundle", false, std::string(bundle.status().message()), "bundel",
                             Dutch(bundle.status())});
    return v;
  }
  if (!bundle->note_verifier_key().empty() && bundle->note_verifier_key() != key.Format()) {
    Verification v;
    v.checks.push_back(
        Check{"bundle", false,
              absl::StrCat("the bundle names the key ", bundle->note_verifier_key(),
                           ", not the pinned ", key.Format()),
              "bundel",
              absl::StrCat("de bundel noemt de sleutel ", bundle->note_verifier_key(),
                           ", niet de vastgepinde ", key.Format())});
    return v;
  }
  Verification v = VerifyCaseProofs(bundle->proofs(), bundle->case_id(), key);
  if (bundle_out != nullptr) *bundle_out = *std::move(bundle);
  return v;
}

std::vector<const domain::Event*> ReplayedCase::Joined() const {
  return domain::WithEmployerEventRefs(case_events, employer_events);
}

const RecordMeta* ReplayedCase::MetaOf(const domain::Event& e) const {
  auto it = meta.find(e.id);
  return it == meta.end() ? nullptr : &it->second;
}

ReplayedCase Replay(const v1::CaseProofs& proofs, const std::string& case_id) {
  ReplayedCase out;
  out.case_id = case_id;
  for (const v1::InclusionProof& p : proofs.related()) {
    if (p.record().stream() != domain::kErasuresStream) continue;
    v1::CaseErasure erasure;
    if (erasure.ParseFromString(p.record().data()) && erasure.case_id() == case_id) {
      out.erasure =
          Erasure{codec::FromTimestamp(erasure.erased_at()), erasure.erased_by(), erasure.reason()};
    }
  }
  AuditorSealer sealer(out.erasure.has_value());
  auto take = [&](const v1::InclusionProof& p, std::vector<domain::Event>* into) {
    absl::StatusOr<eventstore::RecordedEvent> record = codec::FromProto(p.record());
    absl::StatusOr<domain::Event> event = record.ok()
                                              ? codec::Decode(*record, &sealer)
                                              : absl::StatusOr<domain::Event>(record.status());
    if (!event.ok()) {
      out.unreadable.push_back(absl::StrCat(p.record().stream(), " revision ",
                                            p.record().revision(), ": ", event.status().message()));
      return;
    }
    out.meta[event->id] = RecordMeta{p.record().stream(),
                                     static_cast<int64_t>(p.record().revision()),
                                     p.position(),
                                     record->recorded_at_micros,
                                     p.record().event_type(),
                                     sealer.last_sealed()};
    into->push_back(std::move(*event));
  };
  for (const v1::InclusionProof& p : proofs.entries()) take(p, &out.case_events);
  for (const v1::InclusionProof& p : proofs.related()) {
    if (domain::IsEmployerStream(p.record().stream())) take(p, &out.employer_events);
  }
  return out;
}

// --- fork detection ---

namespace {

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) {
        ::close(fd);
        return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot sync ", tmp));
    }
    ::close(fd);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot replace ", path, ": ", ec.message()));
  return absl::OkStatus();
}

std::string ReadAll(const std::string& path, bool* found) {
  std::ifstream in(path, std::ios::binary);
  *found = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The checkpoint of a C2SP note signed by `key`.
absl::StatusOr<transparency::NoteCheckpoint> SignedCheckpointIn(
    const std::string& note_text, const transparency::VerifierKey& key) {
  absl::StatusOr<transparency::Note> note = transparency::ParseNote(note_text);
  if (!note.ok()) return note.status();
  if (absl::Status s = transparency::VerifyNote(*note, key); !s.ok()) return s;
  return transparency::ParseCheckpointNoteBody(note->body);
}

}  // namespace

std::string SafeFileName(const std::string& origin) {
  std::string out;
  for (char c : origin) {
    out += (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')
               ? c
               : '_';
  }
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

absl::StatusOr<std::optional<std::string>> CheckpointStore::Last(const std::string& origin) const {
  bool found = false;
  std::string text = ReadAll(dir_ + "/" + SafeFileName(origin) + ".checkpoint", &found);
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(text));
}

absl::StatusOr<CheckpointVerdict> CheckpointStore::Accept(const std::string& note_text,
                                                          const transparency::VerifierKey& key,
                                                          const ConsistencyProver& prove) {
  absl::StatusOr<transparency::NoteCheckpoint> now = SignedCheckpointIn(note_text, key);
  if (!now.ok()) return now.status();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string path = dir_ + "/" + SafeFileName(now->origin) + ".checkpoint";
  absl::StatusOr<std::optional<std::string>> last_text = Last(now->origin);
  if (!last_text.ok()) return last_text.status();
  CheckpointVerdict verdict;
  verdict.size = now->tree_size;
  if (!last_text->has_value()) {
    if (absl::Status s = WriteFileAtomically(path, note_text); !s.ok()) return s;
    verdict.consistency = Consistency::kFirst;
    verdict.detail =
        absl::StrCat("first checkpoint of ", now->origin, " kept: ", now->tree_size, " records");
    return verdict;
  }
  absl::StatusOr<transparency::Note> last_note = transparency::ParseNote(**last_text);
  absl::StatusOr<transparency::NoteCheckpoint> last =
      last_note.ok() ? transparency::ParseCheckpointNoteBody(last_note->body)
                     : absl::StatusOr<transparency::NoteCheckpoint>(last_note.status());
  if (!last.ok()) {
    return absl::DataLossError(
        absl::StrCat("the kept checkpoint ", path, " is damaged: ", last.status().message()));
  }
  if (last->origin != now->origin || !transparency::VerifyNote(*last_note, key).ok()) {
    return absl::DataLossError(absl::StrCat(
        "the kept checkpoint ", path,
        " is not signed by the pinned key of this log: was the key replaced (pin --replace)?"));
  }
  verdict.previous_size = last->tree_size;
  auto fork = [&](std::string why, const std::vector<transparency::Hash>& proof) {
    verdict.consistency = Consistency::kFork;
    verdict.detail = std::move(why);
    std::string evidence = absl::StrCat(
        "duurzaam-audit fork evidence\n", verdict.detail, "\n\n-- checkpoint accepted before --\n",
        **last_text, "\n-- checkpoint served now --\n", note_text, "\n-- consistency proof (",
        last->tree_size, " -> ", now->tree_size, ") --\n");
    for (const transparency::Hash& h : proof) absl::StrAppend(&evidence, HexOf(h), "\n");
    verdict.evidence = evidence;
    const std::string evidence_path = absl::StrCat(dir_, "/", SafeFileName(now->origin), ".fork-",
                                                   last->tree_size, "-", now->tree_size, ".txt");
    (void)WriteFileAtomically(evidence_path, evidence);
    return verdict;
  };
  if (now->tree_size == last->tree_size) {
    if (now->root == last->root) {
      verdict.consistency = Consistency::kSame;
      verdict.detail = absl::StrCat("the same ", now->tree_size, " records as last time");
      return verdict;
    }
    return fork(absl::StrCat("FORK: two signed checkpoints of ", now->origin, " for ",
                             now->tree_size, " records with different roots (", HexOf(last->root),
                             " and ", HexOf(now->root), ")"),
                {});
  }
  if (now->tree_size < last->tree_size) {
    return fork(absl::StrCat("FORK: ", now->origin, " now signs ", now->tree_size,
                             " records, after it signed ", last->tree_size,
                             ": the log was cut back or replaced"),
                {});
  }
  absl::StatusOr<std::vector<transparency::Hash>> proof = prove(last->tree_size, now->tree_size);
  if (!proof.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "no consistency proof from ", last->tree_size, " to ", now->tree_size,
        " records could be had (", proof.status().message(),
        "); the new checkpoint is not kept. A server that refuses consistency proofs may be "
        "hiding a fork: try again, and treat a lasting refusal as one"));
  }
  absl::Status consistent = transparency::VerifyConsistency(last->tree_size, now->tree_size,
                                                            last->root, now->root, *proof);
  if (!consistent.ok()) {
    return fork(absl::StrCat("FORK: the checkpoint of ", now->tree_size,
                             " records does not extend the one of ", last->tree_size,
                             " accepted before: ", consistent.message()),
                *proof);
  }
  if (absl::Status s = WriteFileAtomically(path, note_text); !s.ok()) return s;
  verdict.consistency = Consistency::kGrew;
  verdict.detail = absl::StrCat("grew from ", last->tree_size, " to ", now->tree_size,
                                " records, consistently (proof checked)");
  return verdict;
}

absl::StatusOr<CheckpointVerdict> CheckpointStore::CompareOffline(
    const std::string& note_text, const transparency::VerifierKey& key) {
  absl::StatusOr<transparency::NoteCheckpoint> now = SignedCheckpointIn(note_text, key);
  if (!now.ok()) return now.status();
  absl::StatusOr<std::optional<std::string>> last_text = Last(now->origin);
  if (!last_text.ok()) return last_text.status();
  CheckpointVerdict verdict;
  verdict.size = now->tree_size;
  if (!last_text->has_value()) {
    verdict.consistency = Consistency::kOther;
    verdict.detail = "no checkpoint of this log was accepted before";
    return verdict;
  }
  absl::StatusOr<transparency::Note> last_note = transparency::ParseNote(**last_text);
  absl::StatusOr<transparency::NoteCheckpoint> last =
      last_note.ok() ? transparency::ParseCheckpointNoteBody(last_note->body)
                     : absl::StatusOr<transparency::NoteCheckpoint>(last_note.status());
  if (!last.ok() || !transparency::VerifyNote(*last_note, key).ok()) {
    return absl::DataLossError("the kept checkpoint is damaged or not signed by the pinned key");
  }
  verdict.previous_size = last->tree_size;
  if (last->tree_size != now->tree_size) {
    verdict.consistency = Consistency::kOther;
    verdict.detail = absl::StrCat("the bundle's checkpoint has ", now->tree_size,
                                  " records, the last accepted one ", last->tree_size,
                                  ": offline there is no proof to compare them by");
    return verdict;
  }
  if (last->root == now->root) {
    verdict.consistency = Consistency::kSame;
    verdict.detail = "the same tree as the last accepted checkpoint";
    return verdict;
  }
  verdict.consistency = Consistency::kFork;
  verdict.detail = absl::StrCat("FORK: two signed checkpoints of ", now->origin, " for ",
                                now->tree_size, " records with different roots");
  verdict.evidence = absl::StrCat("duurzaam-audit fork evidence\n", verdict.detail,
                                  "\n\n-- checkpoint accepted before --\n", **last_text,
                                  "\n-- checkpoint in an evidence bundle --\n", note_text);
  (void)WriteFileAtomically(
      absl::StrCat(dir_, "/", SafeFileName(now->origin), ".fork-", now->tree_size, "-bundle.txt"),
      verdict.evidence);
  return verdict;
}

// --- CSV ---

namespace {
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string AccessCsv(const v1::ListAccessRecordsResponse& records) {
  std::string out = "read_at,principal,role,via,view,method,case_id\r\n";
  for (const v1::AccessRecord& r : records.records()) {
    const int64_t micros = codec::FromTimestamp(r.read_at());
    const absl::Time t = absl::FromUnixMicros(micros);
    const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
    absl::StrAppend(&out, CsvField(when), ",", CsvField(r.principal()), ",", CsvField(r.role()),
                    ",", CsvField(r.via()), ",", CsvField(r.view()), ",", CsvField(r.method()), ",",
                    CsvField(r.case_id()), "\r\n");
  }
  return out;
}

}  // namespace duurzaam::audit
