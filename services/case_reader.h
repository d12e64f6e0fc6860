// Reads cases from the maintained projection for queries and access checks:
// a case's own stream and its employer's, decoded once and cached (streams
// only grow, so the cache extends incrementally), and the case's facts
// (employer, team) that the access policy decides on. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "access/policy.h"
#include "codec/sealer.h"
#include "common/mutex.h"
#include "domain/case_state.h"
#include "domain/events.h"
#include "domain/stream_names.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/log_follower.h"

namespace duurzaam::services {

// A stored record that cannot be read (DATA_LOSS: damaged, or written
// around the domain's checks), set aside so the rest of its stream is
// served; reported to the case's experts and auditors, and logged.
struct Quarantined {
  std::string stream;
  uint64_t position = 0;
  eventstore::Revision revision = 0;
  std::string type;
  std::string reason;
};

// A stream's readable records and their decoded events (parallel vectors, in
// revision order), the fold of them (the case as it stands, for access
// facts), the stream's revision (over every record, readable or not) and the
// records set aside.
struct DecodedStream {
  std::vector<eventstore::RecordedEvent> records;
  std::vector<domain::Event> events;
  eventstore::Revision revision = eventstore::kNoStream;
  domain::CaseState state;
  std::vector<Quarantined> quarantined;
};

// A case with the employer-wide events that concern it.
struct CaseView {
  std::shared_ptr<const DecodedStream> own;
  std::shared_ptr<const DecodedStream> employer;
};

// Decodes a stored record (upcasting; opening its sealed fields when a
// sealer is given, see codec::Decode) and adds it, its event and its fold
// to `stream`; records must come in revision order. A record that does not
// decode (DATA_LOSS) is quarantined and logged instead, so the rest of the
// stream is served; if it is one that decides access (codec::DecidesAccess),
// FactsOf fails (closed).
[[nodiscard]] absl::Status AddRecord(eventstore::RecordedEvent record, DecodedStream* stream,
                                     const codec::Sealer* sealer = nullptr);

// What the access policy needs of a case stream (exists: it has events).
// DATA_LOSS when a record that decides access is quarantined: access is
// never decided without it.
[[nodiscard]] absl::StatusOr<access::CaseFacts> FactsOf(const DecodedStream& stream);

// INVALID_ARGUMENT naming `field` unless `id` is 1..64 of [a-z0-9-].
[[nodiscard]] absl::Status CheckId(const std::string& id, const std::string& field);

class CaseReader {
 public:
  // Borrows all four; they must outlive the reader. `follower` feeds
  // `projection`. Events are decoded with their sealed fields opened by
  // `sealer` (null: they read as empty).
  CaseReader(eventstore::Store* store, projections::CaseProjection* projection,
             projections::LogFollower* follower, const codec::Sealer* sealer)
      : store_(store), projection_(projection), follower_(follower), sealer_(sealer) {}

  // Waits until the projection includes every event committed before the
  // call (read-your-writes); UNAVAILABLE after a few seconds.
  [[nodiscard]] absl::Status CatchUp();
  // Waits until the projection includes the log up to `position`.
  [[nodiscard]] absl::Status CatchUpTo(uint64_t position);

  // The projected stream, decoded (an empty one when it has no events).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<const DecodedStream>> Stream(
      const std::string& stream);
  // The case and its employer's stream; NOT_FOUND when the case has no
  // events. Does not catch up: call CatchUp first.
  [[nodiscard]] absl::StatusOr<CaseView> Load(const std::string& case_id);
  // The same for a case stream already read with Stream.
  [[nodiscard]] absl::StatusOr<CaseView> WithEmployer(const std::string& case_id,
                                                      std::shared_ptr<const DecodedStream> own);
  // What the access policy needs (exists = false when it has no events).
  [[nodiscard]] absl::StatusOr<access::CaseFacts> Facts(const std::string& case_id);

  // What opens sealed fields for readers that open stored records
  // themselves (Cases.Pull); null: they read as empty.
  const codec::Sealer* sealer() const { return sealer_; }

  // Forgets a cached decoded stream (after an erasure changes what it holds:
  // no opened personal data stays in memory).
  void Invalidate(const std::string& stream);

 private:
  // The cache is dropped whole when it would hold more streams or records
  // than these (about 1 KiB a record: ~50 MiB).
  static constexpr size_t kMaxCachedStreams = 10000;
  static constexpr size_t kMaxCachedRecords = 50000;
  eventstore::Store* store_;
  projections::CaseProjection* projection_;
  projections::LogFollower* follower_;
  const codec::Sealer* sealer_;
  Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const DecodedStream>> cache_
      ABSL_GUARDED_BY(cache_mu_);
  uint64_t generation_ ABSL_GUARDED_BY(cache_mu_) = 0;  // bumped by Invalidate
  size_t cached_records_ ABSL_GUARDED_BY(cache_mu_) = 0;
};

}  // namespace duurzaam::services
