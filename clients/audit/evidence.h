// What duurzaam-audit checks, without trusting the server: a case's records
// against their inclusion proofs and a checkpoint signed by a pinned key;
// evidence bundles (the same, in a file, offline); checkpoints against the
// last one accepted from the same log (fork detection); and the case as it
// replays from the verified records.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/events.h"
#include "duurzaam/v1/audit.pb.h"
#include "transparency/note.h"

namespace duurzaam::audit {

// One check and its outcome. `item` names what was checked ("checkpoint",
// "record 3 (case-x revision 2, position 57)", "bundle").
struct Check {
  std::string item;
  bool ok = false;
  std::string detail;
  std::string item_nl;  // the same in Dutch
  std::string detail_nl;
  const std::string& Item(bool english) const { return english ? item : item_nl; }
  const std::string& Detail(bool english) const { return english ? detail : detail_nl; }
};

// A status's message in Dutch where the audit library gave one (its own
// errors carry both languages), else its message.
std::string InDutch(const absl::Status& status);

struct Verification {
  std::vector<Check> checks;
  std::string origin;
  uint64_t tree_size = 0;
  transparency::Hash root{};
  size_t records = 0;  // case records proved
  size_t related = 0;  // related records proved
  bool ok() const;
  // The first failed check, or nullptr.
  const Check* FirstFailure() const;
};

// Checks everything in `proofs` for case `case_id` against `key` (the
// pinned note verifier key of the log):
//  - the checkpoint's C2SP note is signed by `key` and states the same
//    origin, size and root as the message's fields; the legacy signature
//    over signed_body is by the same key;
//  - every record's leaf hash is recomputed from the record's bytes and its
//    audit path leads to the checkpoint's root;
//  - the case's records are its stream's revisions 0, 1, 2... with no gap,
//    in log order; related records belong to the case's employer's stream or
//    are the case's erasure.
Verification VerifyCaseProofs(const v1::CaseProofs& proofs, const std::string& case_id,
                              const transparency::VerifierKey& key);

// The bundle file's bytes for a case.
std::string WriteBundle(const std::string& case_id, const v1::CaseProofs& proofs,
                        const std::string& note_verifier_key);
// Reads a bundle: INVALID_ARGUMENT (naming the byte offset where it can)
// when it does not parse, is not duurzaam.evidence.v1, or holds bytes its
// fields do not account for (the canonical re-encoding differs).
[[nodiscard]] absl::StatusOr<v1::EvidenceBundle> ReadBundle(const std::string& bytes);

// Reads and checks a bundle file against the pinned `key`: ReadBundle,
// the key the bundle names (if any) must be the pinned one, then
// VerifyCaseProofs for the case it names. A failure is the first failed
// check ("bundle" when the file itself is wrong). `bundle_out` gets the
// bundle when it reads.
Verification VerifyBundle(const std::string& bytes, const transparency::VerifierKey& key,
                          v1::EvidenceBundle* bundle_out = nullptr);

// A case replayed from verified stored records.
struct RecordMeta {
  std::string stream;
  int64_t revision = 0;
  uint64_t position = 0;
  int64_t recorded_at_micros = 0;
  std::string type;
  bool sealed = false;  // it holds personal data, stored encrypted (not readable here)
};
struct Erasure {
  int64_t erased_at_micros = 0;
  std::string erased_by;
  std::string reason;
};
struct ReplayedCase {
  std::string case_id;
  std::vector<domain::Event> case_events;      // in revision order
  std::vector<domain::Event> employer_events;  // the employer's, in revision order
  std::map<std::string, RecordMeta> meta;      // by event id
  std::optional<Erasure> erasure;
  std::vector<std::string> unreadable;  // records that did not decode, named
  // The events for folding: the case's own and the employer-wide ones that
  // join into it (domain::WithEmployerEventRefs). Valid while this lives.
  std::vector<const domain::Event*> Joined() const;
  const RecordMeta* MetaOf(const domain::Event& e) const;
};
ReplayedCase Replay(const v1::CaseProofs& proofs, const std::string& case_id);

// Fork detection: the last checkpoint accepted per log, kept in a folder.
enum class Consistency {
  kFirst,  // nothing accepted before: this one is kept
  kSame,   // the same tree as last time
  kGrew,   // a proven extension of the last one: kept
  kFork,   // inconsistent with the last one: see the evidence
  kOther,  // offline, another size than the last one: no proof to compare them by
};
struct CheckpointVerdict {
  Consistency consistency = Consistency::kFirst;
  uint64_t previous_size = 0;
  uint64_t size = 0;
  std::string detail;    // what was found, in words
  std::string evidence;  // kFork: both notes and the proof, a text to keep
};
// Asks for a consistency proof between two sizes of the log being checked.
using ConsistencyProver =
    std::function<absl::StatusOr<std::vector<transparency::Hash>>(uint64_t first, uint64_t second)>;

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string dir) : dir_(std::move(dir)) {}
  // Checks `note` (signed by `key`, the pinned key of its origin: checked
  // here, as is the kept one) against the last accepted checkpoint of its
  // origin, keeps it if it extends that one, and writes fork evidence to the
  // folder when it does not. Errors: UNAUTHENTICATED (a note not signed by
  // `key`), DATA_LOSS (the kept checkpoint is damaged or the proof served is
  // malformed), UNAVAILABLE (no consistency proof could be had: a server
  // that refuses proofs may be hiding a fork; nothing is kept).
  [[nodiscard]] absl::StatusOr<CheckpointVerdict> Accept(const std::string& note,
                                                         const transparency::VerifierKey& key,
                                                         const ConsistencyProver& prove);
  // Offline (an evidence bundle): compares `note` (signed by `key`) with the
  // last accepted checkpoint without a proof and without keeping anything:
  // the same size with another root is a fork (evidence written), another
  // size is kOther.
  [[nodiscard]] absl::StatusOr<CheckpointVerdict> CompareOffline(
      const std::string& note, const transparency::VerifierKey& key);
  // The last accepted note for `origin`, if any.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Last(const std::string& origin) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The access log as CSV (RFC 4180: CRLF line ends, fields with a comma,
// quote or line break quoted, quotes doubled); a header row first.
std::string AccessCsv(const v1::ListAccessRecordsResponse& records);

// A file name made from a log origin (letters, digits, '-', '.', '_' kept,
// everything else '_'), so an origin never names a path.
std::string SafeFileName(const std::string& origin);

}  // namespace duurzaam::audit
