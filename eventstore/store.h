// The event store: named streams with gap-free revisions over one global,
// commit-ordered, hash-chained log, kept durably on disk.
//
// A Store is safe for concurrent use from many threads without external
// synchronisation. Concurrent appends are grouped into one synced write
// (group commit). Readers see only acknowledged (committed and synced) events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/options.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore {

// The outcome of a hash-chain verification.
struct ChainVerification {
  uint64_t verified = 0;                 // records whose link held
  std::optional<uint64_t> first_broken;  // position of the first bad link
  std::string detail;                    // what is wrong there, for a person
  bool ok() const { return !first_broken.has_value(); }
};

// Statistics for logs and health output.
// The durable head of the log and group-commit counters.
struct StoreInfo {
  uint64_t next_position = 0;   // number of durable events in the log
  Hash last_hash{};             // hash of the event at next_position - 1
  uint64_t write_groups = 0;    // group-commit writes since open
  uint64_t grouped_events = 0;  // events they carried
  uint64_t syncs = 0;           // log syncs since open (each covers many groups)
  // False when Options::pipeline_nice asked for a higher priority of the
  // writer and syncer threads and the system refused it.
  bool pipeline_priority_raised = true;
  // Why appends are refused now, OK while they are accepted:
  // RESOURCE_EXHAUSTED while the disk is below Options::min_free_bytes or
  // after a write met a full disk (both end by themselves once there is
  // room), UNAVAILABLE after a failed write (until restarted).
  absl::Status writes;
  // Free space on the store's disk now (0: unreadable).
  uint64_t free_disk_bytes = 0;
  // RocksDB is stopping or slowing writes (too many unflushed memtables or
  // level-0 files): appends wait.
  bool write_stalled = false;
  // Memory RocksDB holds for the store: memtables and the block cache.
  uint64_t memtable_bytes = 0;
  uint64_t block_cache_bytes = 0;
  // Finished append calls since open, by outcome: "ok", "conflict"
  // (FAILED_PRECONDITION), "duplicate" (ALREADY_EXISTS), "invalid"
  // (INVALID_ARGUMENT), "no_space" (RESOURCE_EXHAUSTED), "failed" (any
  // other error). Every outcome is listed, zeros too.
  std::vector<std::pair<std::string, uint64_t>> appends_by_outcome;
};

class Store {
 public:
  // Opens (or creates) the store at options.path. Opening after a crash
  // replays only RocksDB's write-ahead log: no scan of the event log.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options);

  virtual ~Store() = default;

  // Appends events to one stream atomically. Returns once the write is
  // synced. Errors:
  //  INVALID_ARGUMENT    bad name, type, id or size (see errors.h details)
  //  FAILED_PRECONDITION the expectation does not hold (RevisionConflict)
  //  ALREADY_EXISTS      an id was recorded before with other content, or a
  //                      retry mixes recorded and new ids
  //  RESOURCE_EXHAUSTED  the disk is full or below Options::min_free_bytes;
  //                      nothing was acknowledged, and appends resume by
  //                      themselves once the disk has room (an append
  //                      refused when the disk filled while it was being
  //                      written has an unknown outcome, as UNAVAILABLE)
  //  UNAVAILABLE         the store failed a write (outcome unknown: retry
  //                      with the same ids) and accepts no more until
  //                      restarted
  [[nodiscard]] virtual absl::StatusOr<AppendResult> Append(const StreamAppend& append) = 0;

  // Appends to several distinct streams atomically: all or nothing, each
  // stream with its own expectation. Results are in request order.
  [[nodiscard]] virtual absl::StatusOr<std::vector<AppendResult>> AppendMulti(
      const std::vector<StreamAppend>& appends) = 0;

  // Asynchronous forms of Append and AppendMulti, for servers that must not
  // park a thread per request. They return at once; `done` runs exactly once
  // when the events are durable or the append failed (same errors), on the
  // store's completion thread (normal priority, not the writer or syncer,
  // which may run raised), never inside the call; only input errors
  // (INVALID_ARGUMENT) and a closing store (UNAVAILABLE) are reported inline,
  // on the calling thread. `done` must not
  // block; it may start another asynchronous append (not a synchronous one).
  using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;
  using MultiCallback = std::function<void(absl::StatusOr<std::vector<AppendResult>>)>;
  virtual void AppendAsync(StreamAppend append, AppendCallback done) = 0;
  virtual void AppendMultiAsync(std::vector<StreamAppend> appends, MultiCallback done) = 0;

  // Current revision of a stream, kNoStream if it has no events.
  [[nodiscard]] virtual absl::StatusOr<Revision> StreamRevision(const std::string& stream) = 0;

  // Reads up to max_count events of a stream starting at `from` (inclusive)
  // in the given direction. `from` = -1 with kBackwards means "from the
  // end". An empty result means nothing (more) there.
  [[nodiscard]] virtual absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      const std::string& stream, Revision from, Direction direction, size_t max_count) = 0;

  // Visits committed events of the global log from `from_position` that
  // match `filter`, in position order. Stops when the visitor returns
  // false, after max_scanned records were looked at (matching or not), or at
  // the end of the committed log. Returns the position to continue from.
  using Visitor = std::function<bool(const EventView&)>;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> ScanAll(uint64_t from_position,
                                                         const LogFilter& filter,
                                                         size_t max_scanned,
                                                         const Visitor& visit) = 0;

  // Convenience over ScanAll: up to max_count matching events.
  [[nodiscard]] absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      uint64_t from_position, const LogFilter& filter, size_t max_count,
      uint64_t* next_position = nullptr);

  // Reads one committed event by its global position (NOT_FOUND if none).
  [[nodiscard]] virtual absl::StatusOr<RecordedEvent> ReadAt(uint64_t position) = 0;

  // The number of committed events: positions [0, CommittedEnd()) exist.
  virtual uint64_t CommittedEnd() const = 0;

  // Blocks until CommittedEnd() > known_end or the timeout passes; returns
  // CommittedEnd(). Live readers use it to wake on new commits.
  virtual uint64_t WaitForCommit(uint64_t known_end, absl::Duration timeout) = 0;

  // Recomputes the hash chain over [from, to) (to clamped to the end of the
  // log) and reports the first broken link.
  [[nodiscard]] virtual absl::StatusOr<ChainVerification> VerifyChain(uint64_t from,
                                                                      uint64_t to) = 0;

  virtual StoreInfo Info() const = 0;
};

}  // namespace duurzaam::eventstore
