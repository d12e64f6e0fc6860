// The case read model, maintained from the event log: per case and per
// employer their events (as stored, personal data sealed, in stream order),
// and indexes by expert (portfolio) and by region / target group
// (statistics). Kept in its own RocksDB beside the event store; every
// applied batch is written atomically with its checkpoint (the next log
// position to apply), so a restart resumes from the checkpoint instead of
// replaying the log, and a rebuild from position 0 yields the same
// contents. Writes skip RocksDB's WAL: after a crash the projection falls
// back, data and checkpoint together, to its last flush and catches up.
//
// Thread-safe: one Follower applies; queries may run concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/disk_space.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "projections/projection.h"

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace duurzaam::projections {

class CaseProjection final : public Projection {
 public:
  // `min_free_bytes`: the free disk space it keeps (DiskSpaceGuard): below
  // it a batch is refused RESOURCE_EXHAUSTED and the follower retries.
  // `env`: the environment RocksDB reads and writes through (nullptr: the
  // default; the power-loss campaign passes one that drops unsynced writes).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CaseProjection>> Open(
      const std::string& path, uint64_t min_free_bytes = 0, rocksdb::Env* env = nullptr);
  ~CaseProjection() override;

  // Projection.
  std::string_view Name() const override { return "case projection"; }
  uint64_t Checkpoint() const override { return checkpoint_.load(std::memory_order_acquire); }
  // True when the projection on disk was written by an older version (its
  // format lacks indexes this one reads): it must be rebuilt before the
  // follower feeds it (NewBatch refuses until then). duurzaamd rebuilds
  // such a projection at start.
  bool OutOfDate() const { return out_of_date_.load(); }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t log_end) override;

  // Events applied since open (a restart that resumes applies only new ones).
  uint64_t Applied() const { return applied_.load(std::memory_order_relaxed); }
  // Memory RocksDB holds for it: memtables and the block cache (metrics).
  uint64_t MemoryBytes() const;

  // Applies committed log events from the checkpoint, at most `max_events`
  // scanned; returns how many positions it advanced. (Tools and tests; a
  // server's LogFollower does the same through NewBatch.)
  [[nodiscard]] absl::StatusOr<uint64_t> CatchUp(eventstore::Store* store,
                                                 size_t max_events = 10000);

  // Empties the projection (for a rebuild from the log).
  [[nodiscard]] absl::Status Clear();

  // Clears and rebuilds from the whole committed log in chunks, exactly as
  // the follower applies events (each chunk committed with its checkpoint);
  // a second thread projects the next chunk while one is written.
  // `progress(done, end)` after each chunk. Do not run while the follower
  // runs.
  [[nodiscard]] absl::Status Rebuild(
      eventstore::Store* store, const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

  // Queries. Events come back as the log's records (data as stored: decode
  // with codec::Decode, which upcasts and opens). From `from_revision`
  // (inclusive) on; projected streams only grow. DATA_LOSS for a projected
  // record that cannot be read.
  [[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> StreamEvents(
      const std::string& stream, uint64_t from_revision = 0) const;
  // Only a case stream's records that decide who may access it
  // (codec::DecidesAccess: its opening and team changes), damaged ones
  // included, without passing over the rest.
  [[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> AccessRecords(
      const std::string& stream, uint64_t from_revision) const;
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> CasesOfExpert(
      const std::string& expert_id) const;
  // The cases opened at an employer (from CaseOpened), by case id.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> CasesOfEmployer(
      const std::string& employer_id) const;
  // (region, target group, case id) of every case.
  struct CaseKey {
    std::string region, target_group, case_id;
  };
  [[nodiscard]] absl::StatusOr<std::vector<CaseKey>> AllCases() const;

  // Every key and value, for parity checks. Excludes the checkpoint.
  [[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump() const;

 private:
  CaseProjection() = default;
  // Committed log events projected into one write batch.
  struct Chunk;
  // A Chunk filled by the LogFollower.
  class FollowerBatch;
  // Projects the events from `from` on (at most `max_events` scanned).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Chunk>> ProjectChunk(eventstore::Store* store,
                                                                           uint64_t from,
                                                                           size_t max_events);
  // Writes a chunk with its checkpoint, atomically; returns positions advanced.
  [[nodiscard]] absl::StatusOr<uint64_t> Commit(Chunk& chunk)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // The records of `stream` kept under `index` ('s' all, 'a' access).
  [[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> RecordsUnder(
      char index, const std::string& stream, uint64_t from_revision) const;
  [[nodiscard]] absl::Status Scan(
      const std::string& prefix,
      const std::function<void(std::string_view, std::string_view)>& fn) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<DiskSpaceGuard> disk_;
  // The case ids under `key` in an index ("x" experts, "e" employers).
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> CasesIndexedBy(
      std::string_view index, const std::string& key) const;

  std::atomic<uint64_t> checkpoint_{0};
  std::atomic<bool> out_of_date_{false};
  std::atomic<uint64_t> applied_{0};
  Mutex apply_mu_;  // one applier at a time
};

}  // namespace duurzaam::projections
