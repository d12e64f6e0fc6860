// Internal: the RocksDB implementation of Store, shared by its files:
//   rocksdb_store.cc   opening, RocksDB tuning, recovery, closing, Info
//   write_path.cc      the group commit: dispatch, the writer and syncer
//                      threads, idempotency, expectations, the group write
//   read_path.cc       stream reads, log scans, reads by position, waits
//   chain_verifier.cc  VerifyChain
//   port/              the futex parking spot and thread priority
//
// Writes go through a two-stage group commit. Appenders queue themselves.
// The writer thread takes every queued append (up to max_group_bytes) as one
// group, validates it in order against the streams' heads, assigns
// revisions, positions and chained hashes, and writes it to RocksDB without
// syncing. The syncer thread meanwhile syncs the log through everything
// written so far, publishes the committed end and completes the groups that
// are now durable: synchronous appenders are woken, asynchronous callbacks
// run. One writer assigns positions in write order and the committed end
// only grows, so the log has no gaps and readers never see an unsynced
// event.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/disk_space.h"
#include "common/mutex.h"
#include "eventstore/port/parking.h"
#include "eventstore/record_codec.h"
#include "eventstore/store.h"
#include "rocksdb/db.h"

namespace duurzaam::eventstore::internal {

using port::Parking;

inline constexpr char kFormatKey[] = "duurzaam.format";
inline constexpr char kFormatValue[] = "duurzaam-eventstore-1";
inline constexpr char kLogCf[] = "log";
inline constexpr char kStreamsCf[] = "streams";
inline constexpr char kIdsCf[] = "ids";
inline constexpr size_t kMaxCachedHeads = 1 << 20;

// RocksDB status -> absl status (no space: RESOURCE_EXHAUSTED; I/O:
// UNAVAILABLE; corruption: DATA_LOSS).
[[nodiscard]] absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

inline bool SameContent(const ProposedEvent& proposed, std::string_view stream,
                        const EventView& stored, std::string_view stored_stream) {
  return stream == stored_stream && proposed.type == stored.type && proposed.data == stored.data &&
         proposed.metadata == stored.metadata;
}

// An iterator over the log column family, bounded to positions < end, with
// read-ahead for sequential scans. Owns its bound.
class LogIterator {
 public:
  LogIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log, uint64_t end)
      : upper_(PositionKey(end)), upper_slice_(upper_) {
    rocksdb::ReadOptions read_options;
    read_options.iterate_upper_bound = &upper_slice_;
    read_options.readahead_size = 2 << 20;
    it_.reset(db->NewIterator(read_options, log));
  }
  rocksdb::Iterator* get() { return it_.get(); }

 private:
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksDbStore final : public Store {
 public:
  RocksDbStore(Options options) : options_(std::move(options)) {
    if (!options_.clock) options_.clock = ::duurzaam::SystemMicros;
  }
  ~RocksDbStore() override;

  [[nodiscard]] absl::Status Init();

  [[nodiscard]] absl::StatusOr<AppendResult> Append(const StreamAppend& append) override;
  [[nodiscard]] absl::StatusOr<std::vector<AppendResult>> AppendMulti(
      const std::vector<StreamAppend>& appends) override;
  void AppendAsync(StreamAppend append, AppendCallback done) override;
  void AppendMultiAsync(std::vector<StreamAppend> appends, MultiCallback done) override;
  [[nodiscard]] absl::StatusOr<Revision> StreamRevision(const std::string& stream) override;
  [[nodiscard]] absl::StatusOr<std::vector<RecordedEvent>> ReadStream(const std::string& stream,
                                                                      Revision from,
                                                                      Direction direction,
                                                                      size_t max_count) override;
  [[nodiscard]] absl::StatusOr<uint64_t> ScanAll(uint64_t from_position, const LogFilter& filter,
                                                 size_t max_scanned, const Visitor& visit) override;
  [[nodiscard]] absl::StatusOr<RecordedEvent> ReadAt(uint64_t position) override;
  uint64_t CommittedEnd() const override { return committed_end_.load(std::memory_order_acquire); }
  uint64_t WaitForCommit(uint64_t known_end, absl::Duration timeout) override;
  [[nodiscard]] absl::StatusOr<ChainVerification> VerifyChain(uint64_t from, uint64_t to) override;
  StoreInfo Info() const override;

 private:
  // One queued append request; lives on the appender's stack.
  struct Writer {
    const std::vector<StreamAppend>* appends = nullptr;
    size_t bytes = 0;
    absl::StatusOr<std::vector<AppendResult>> result;
    // A synchronous appender parks on its own word until the syncer
    // completes it; the wake touches no shared mutex, so completing a group
    // does not convoy its members through a lock.
    Parking parking;
    // Completion wakes synchronous members as a binary tree: the syncer
    // wakes the root, and each woken member wakes its two children before it
    // returns, so no one thread pays a futex wake per member.
    std::shared_ptr<const std::vector<Writer*>> wake_tree;
    size_t wake_index = 0;
    // Asynchronous appends own their input and are completed by callback.
    std::vector<StreamAppend> owned;
    MultiCallback callback;
  };

  // An event id assigned inside the group being committed.
  struct PendingId {
    uint64_t position;
    Revision revision;
    const StreamAppend* append;
    const ProposedEvent* event;
  };

  // A group written to the log (unsynced) whose members wait for the log
  // to be durable through `end`.
  struct WrittenGroup {
    std::vector<Writer*> members;
    uint64_t end;
  };

  [[nodiscard]] absl::StatusOr<std::vector<AppendResult>> Submit(
      const std::vector<StreamAppend>& appends);
  // Where an append goes: committed inline by the caller (a lone
  // synchronous appender finding the pipeline idle), queued for the writer
  // thread, or refused because the store is closing.
  enum class Route { kInline, kQueued, kClosing };
  Route Dispatch(Writer* w, bool may_inline);
  // Runs an asynchronous append: queued (then owned by the pipeline) or
  // refused.
  void SubmitAsync(std::unique_ptr<Writer> w);
  static size_t WriterBytes(const std::vector<StreamAppend>& appends);
  // The writer thread: takes every queued append (up to max_group_bytes) as
  // one group, writes it unsynced and hands it to the syncer.
  void WriterLoop();
  // The syncer thread: syncs the log through everything written, publishes
  // the committed end and completes the groups that are now durable.
  void SyncerLoop();
  // Validates the group against the heads, assigns revisions, positions and
  // hashes, and writes it unsynced. Returns the log end the group's results
  // depend on (nullopt if the store has failed).
  std::optional<uint64_t> WriteGroup(const std::vector<Writer*>& group);
  // Gives the calling pipeline thread Options::pipeline_nice.
  void RaisePriority();
  // Wakes synchronous members and runs asynchronous callbacks.
  void Complete(const std::vector<Writer*>& members);
  // Syncs the log (sync_mu_ is released meanwhile) and, if that succeeds,
  // makes it durable and readable through `target`, written before the
  // call; on failure the store accepts no more appends.
  void SyncLog(uint64_t target) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  // The fast path of a lone appender when the pipeline is idle: writes and
  // syncs on the caller's thread, saving two thread hops of latency.
  void CommitInline(Writer* w);
  // The same for a lone asynchronous append, on the writer thread: it syncs
  // the append itself, saving the hop to the syncer. False, with nothing
  // done, when the syncer has groups pending.
  bool SyncLoneGroup(Writer* w, uint64_t end);
  // The sync of both: syncs through `end` unless that is durable already,
  // and reports a failed sync in `w`'s result. Returns how many events the
  // sync served (0 when none ran).
  uint64_t SyncForLone(Writer* w, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  // Called by a woken synchronous member: wakes its children in the tree.
  static void WakeChildren(const Writer& woken);
  // Returns a replay result, nullopt if every id is new, or an error.
  // Positions of the group's event ids that are already stored, found with
  // one batched lookup.
  [[nodiscard]] absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> FindStoredIds(
      const std::vector<Writer*>& group);
  [[nodiscard]] absl::StatusOr<std::optional<std::vector<AppendResult>>> CheckIdempotency(
      const std::vector<StreamAppend>& appends,
      const absl::flat_hash_map<std::string, uint64_t>& stored,
      const absl::flat_hash_map<std::string, PendingId>& pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  [[nodiscard]] absl::StatusOr<Revision> LoadHead(const std::string& stream);
  [[nodiscard]] absl::StatusOr<Revision> HeadLocked(
      const std::string& stream, const absl::flat_hash_map<std::string, Revision>& overlay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  [[nodiscard]] absl::Status GetRaw(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                                    std::string* value);
  // The log's end, chain head and last recorded-at as stored (Init, and
  // after a recovery).
  struct Head {
    uint64_t end = 0;
    Hash hash{};
    int64_t recorded_at = 0;
  };
  [[nodiscard]] absl::StatusOr<Head> ReadHead();
  // What a failed write or sync of the log means for appenders: a full disk
  // is recoverable (RESOURCE_EXHAUSTED), anything else is not (UNAVAILABLE
  // until restarted).
  absl::Status ClassifyLogFailure(const rocksdb::Status& s, absl::string_view what,
                                  bool* recoverable) const;
  // Puts the store in its failed state (the first failure wins) and logs it.
  void MarkFailed(const absl::Status& failure, bool recoverable)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  // After a full disk: once the disk has room again, resumes RocksDB
  // (which flushes its memtables, so everything written is durable),
  // reloads the head and accepts appends again. False while it cannot.
  bool TryRecoverLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);
  // The free space resuming needs: room to flush every memtable (RocksDB's
  // own recovery reserves the largest memtable too), and the threshold.
  uint64_t RecoveryRoom() const {
    return options_.min_free_bytes + 3 * options_.write_buffer_bytes;
  }

  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;

  Mutex queue_mu_;
  CondVar queue_cv_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool writer_idle_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool inline_active_ ABSL_GUARDED_BY(queue_mu_) = false;
  // True while syncs serve one event each: then an appender finding the
  // pipeline idle commits inline (CommitInline).
  std::atomic<bool> lone_appender_{true};
  std::atomic<bool> priority_raise_failed_{false};
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_thread_;
  std::thread syncer_thread_;

  // State of the writer thread (and of Init, before it starts).
  mutable Mutex leader_mu_;
  uint64_t next_position_ ABSL_GUARDED_BY(leader_mu_) = 0;
  Hash last_hash_ ABSL_GUARDED_BY(leader_mu_){};
  int64_t last_recorded_at_ ABSL_GUARDED_BY(leader_mu_) = 0;
  absl::flat_hash_map<std::string, Revision> heads_ ABSL_GUARDED_BY(leader_mu_);
  absl::Status failed_ ABSL_GUARDED_BY(leader_mu_);
  // failed_ came from a full disk: TryRecoverLocked may lift it.
  bool failed_recoverable_ ABSL_GUARDED_BY(leader_mu_) = false;
  absl::Time next_recovery_ ABSL_GUARDED_BY(leader_mu_) = absl::InfinitePast();
  // The free-space threshold (Options::min_free_bytes).
  std::unique_ptr<DiskSpaceGuard> disk_;
  // Orders writes to RocksDB (WriteGroup's db_->Write, taken inside
  // leader_mu_) with the log's flush and sync (SyncLog, alone): a write to a
  // RocksDB log writer whose flush or sync failed trips a RocksDB assertion,
  // so log_failed_ is set before the lock is let go. The writer prepares its
  // next group (ids, expectations, hashes) under leader_mu_ while a sync runs.
  Mutex log_write_mu_ ABSL_ACQUIRED_AFTER(leader_mu_);
  absl::Status log_failed_ ABSL_GUARDED_BY(log_write_mu_);
  bool log_failed_recoverable_ ABSL_GUARDED_BY(log_write_mu_) = false;

  // Log end after the last write (synced or not).
  std::atomic<uint64_t> written_end_{0};

  Mutex sync_mu_ ABSL_ACQUIRED_AFTER(log_write_mu_);
  CondVar sync_cv_;  // signalled when a group is handed to the syncer
  std::deque<WrittenGroup> written_ ABSL_GUARDED_BY(sync_mu_);
  bool writer_done_ ABSL_GUARDED_BY(sync_mu_) = false;
  uint64_t synced_end_ ABSL_GUARDED_BY(sync_mu_) = 0;
  absl::Status sync_failed_ ABSL_GUARDED_BY(sync_mu_);

  // Log end through which events are durable and readable.
  std::atomic<uint64_t> committed_end_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> grouped_events_{0};
  std::atomic<uint64_t> syncs_{0};
  // Finished append calls by outcome (StoreInfo::appends_by_outcome).
  enum Outcome { kOk, kConflict, kDuplicate, kInvalid, kNoSpace, kFailed, kOutcomes };
  static Outcome OutcomeOf(const absl::Status& status);
  void Count(const absl::Status& status) {
    outcomes_[OutcomeOf(status)].fetch_add(1, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, kOutcomes> outcomes_{};
  mutable Mutex commit_mu_ ABSL_ACQUIRED_AFTER(sync_mu_);
  CondVar commit_cv_;

  // Asynchronous completions run on their own thread at the process's
  // normal priority, never on the raised-priority writer or syncer: a
  // callback (a gRPC reactor finishing its call) is the caller's work.
  void CompleterLoop();
  Mutex completion_mu_;
  CondVar completion_cv_;
  std::deque<Writer*> completions_ ABSL_GUARDED_BY(completion_mu_);
  bool completer_stop_ ABSL_GUARDED_BY(completion_mu_) = false;
  std::thread completer_thread_;
};

}  // namespace duurzaam::eventstore::internal
