// The RocksDB implementation of Store.
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
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "eventstore/errors.h"
#include "eventstore/record_codec.h"
#include "eventstore/store.h"
#include "eventstore/validation.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"

namespace duurzaam::eventstore {
namespace {

using internal::DecodePosition;
using internal::PositionKey;

constexpr char kFormatKey[] = "duurzaam.format";
constexpr char kFormatValue[] = "duurzaam-eventstore-1";
constexpr char kLogCf[] = "log";
constexpr char kStreamsCf[] = "streams";
constexpr char kIdsCf[] = "ids";
constexpr size_t kMaxCachedHeads = 1 << 20;

[[nodiscard]] absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsIOError() && s.subcode() == rocksdb::Status::kNoSpace) {
    return absl::ResourceExhaustedError(msg);
  }
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

bool SameContent(const ProposedEvent& proposed, std::string_view stream, const EventView& stored,
                 std::string_view stored_stream) {
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

// A one-thread parking spot on a futex word: the waiter sleeps until
// another thread releases it.
class Parking {
 public:
  void Wait() {
    while (word_.load(std::memory_order_acquire) == kWaiting) {
      syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, kWaiting, nullptr, nullptr, 0);
    }
  }
  // The waiter may return and free this object as soon as the word is
  // stored: the wake only names the address, which a spurious wake of
  // whatever lives there later tolerates.
  void Release() {
    word_.store(kReleased, std::memory_order_release);
    syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

 private:
  static constexpr uint32_t kWaiting = 0;
  static constexpr uint32_t kReleased = 1;
  std::atomic<uint32_t> word_{kWaiting};
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
  static void Complete(const std::vector<Writer*>& members);
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

  // Log end after the last write (synced or not).
  std::atomic<uint64_t> written_end_{0};

  Mutex sync_mu_;
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
  mutable Mutex commit_mu_;
  CondVar commit_cv_;
};

RocksDbStore::~RocksDbStore() {
  // Every queued append is written and completed before the threads exit.
  {
    MutexLock lock(&queue_mu_);
    stopping_ = true;
    queue_cv_.Signal();
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  if (syncer_thread_.joinable()) syncer_thread_.join();
  bool failed = false;
  {
    MutexLock lock(&leader_mu_);
    failed = !failed_.ok();
  }
  if (db_ && !failed) {
    // Every append is complete here; flush memtables so the next open
    // replays no WAL. After a failure nothing more is written: appends
    // answered UNAVAILABLE have an unknown outcome and stay that way.
    db_->FlushWAL(true).PermitUncheckedError();
    db_->Flush(rocksdb::FlushOptions(), handles_).PermitUncheckedError();
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  handles_.clear();
  if (db_) db_->Close().PermitUncheckedError();  // data is already synced
}

[[nodiscard]] absl::Status RocksDbStore::Init() {
  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  // Memtables are capped on their own, not charged to the block cache: a
  // cache full of memtable reservations would evict the index and filter
  // blocks every point lookup needs.
  auto wbm = std::make_shared<rocksdb::WriteBufferManager>(options_.write_buffer_bytes * 3);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options_.create_if_missing;
  db_options.create_missing_column_families = options_.create_if_missing;
  db_options.write_buffer_manager = wbm;
  // Bounds the WAL replayed when opening after a crash (memtables of every
  // column family are flushed once the WAL grows past it).
  db_options.max_total_wal_size = 32 << 20;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.max_open_files = 512;
  // Group commit syncs the WAL itself (SyncerLoop) after unsynced writes.
  db_options.manual_wal_flush = true;
  // A sync must cost one data sync: preallocated WAL space (ext4 unwritten
  // extents) would make each sync commit the journal as well.
  db_options.allow_fallocate = false;

  // Index and filter blocks live with the open table readers (bounded by
  // max_open_files), not in the block cache: a filter over millions of ids
  // is larger than a cache shard and would be evicted as soon as it was
  // read, turning every id lookup into a disk read of the whole filter.
  auto table_options = [&](bool bloom, size_t block_size) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.cache_index_and_filter_blocks = false;
    t.block_size = block_size;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return t;
  };
  rocksdb::ColumnFamilyOptions log_options;
  log_options.write_buffer_size = options_.write_buffer_bytes;
  log_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options(false, 16 << 10)));
  rocksdb::ColumnFamilyOptions index_options;
  index_options.write_buffer_size = options_.write_buffer_bytes / 2;
  // Most id lookups are misses (new events): a memtable bloom filter answers
  // them without walking the skiplist.
  index_options.memtable_whole_key_filtering = true;
  index_options.memtable_prefix_bloom_size_ratio = 0.05;
  index_options.optimize_filters_for_hits = false;
  index_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options(true, 4 << 10)));
  // The id index is only ever looked up by whole key, never iterated: a
  // hash memtable makes its random-keyed inserts O(1) instead of a skiplist
  // walk (needs non-concurrent memtable writes, which group commit gives).
  rocksdb::ColumnFamilyOptions id_options = index_options;
  id_options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(16));
  id_options.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1 << 16));
  id_options.memtable_prefix_bloom_size_ratio = 0.05;
  db_options.allow_concurrent_memtable_write = false;
  db_options.enable_write_thread_adaptive_yield = false;
  rocksdb::ColumnFamilyOptions default_options;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, default_options},
      {kLogCf, log_options},
      {kStreamsCf, index_options},
      {kIdsCf, id_options},
  };
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options_.path, cfs, &handles_, &raw);
  if (!s.ok()) {
    return FromRocks(s, absl::StrCat("cannot open event store at '", options_.path, "'"));
  }
  db_.reset(raw);
  log_ = handles_[1];
  streams_ = handles_[2];
  ids_ = handles_[3];

  std::string format;
  rocksdb::Status fs = db_->Get(rocksdb::ReadOptions(), handles_[0], kFormatKey, &format);
  if (fs.IsNotFound()) {
    rocksdb::WriteOptions w;
    w.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->Put(w, handles_[0], kFormatKey, kFormatValue), "write format"));
  } else if (!fs.ok()) {
    return FromRocks(fs, "read format");
  } else if (format != kFormatValue) {
    return absl::FailedPreconditionError(absl::StrCat("'", options_.path, "' holds format '",
                                                      format, "', expected '", kFormatValue, "'"));
  }

  // Recovery: the last record gives the next position and the chain head.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "find the end of the log"));
  uint64_t end = 0;
  if (it->Valid()) {
    uint64_t last = DecodePosition(it->key().ToStringView());
    EventView view;
    if (!internal::DecodeRecord(it->value().ToStringView(), last, &view)) {
      return absl::DataLossError(
          absl::StrCat("the last record (position ", last, ") cannot be decoded"));
    }
    end = last + 1;
    MutexLock lock(&leader_mu_);
    next_position_ = end;
    last_hash_ = internal::HashFromBytes(view.hash);
    last_recorded_at_ = view.recorded_at_micros;
  }
  committed_end_.store(end, std::memory_order_release);
  written_end_.store(end, std::memory_order_release);
  {
    MutexLock sync_lock(&sync_mu_);
    synced_end_ = end;
  }
  // A two-stage pipeline: the writer thread writes the next group while the
  // syncer thread syncs the previous ones.
  // Each sets its priority first, so Info() reports it once Open returns.
  absl::BlockingCounter started(2);
  writer_thread_ = std::thread([this, &started] {
    RaisePriority();
    started.DecrementCount();
    WriterLoop();
  });
  syncer_thread_ = std::thread([this, &started] {
    RaisePriority();
    started.DecrementCount();
    SyncerLoop();
  });
  started.Wait();
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<AppendResult> RocksDbStore::Append(const StreamAppend& append) {
  std::vector<StreamAppend> appends;
  appends.push_back(append);  // one copy; the hot path is dominated by fsync
  RETURN_IF_ERROR(internal::ValidateAppends(appends, options_, /*multi=*/false));
  ASSIGN_OR_RETURN(std::vector<AppendResult> results, Submit(appends));
  return std::move(results[0]);
}

[[nodiscard]] absl::StatusOr<std::vector<AppendResult>> RocksDbStore::AppendMulti(
    const std::vector<StreamAppend>& appends) {
  RETURN_IF_ERROR(internal::ValidateAppends(appends, options_, /*multi=*/true));
  return Submit(appends);
}

void RocksDbStore::AppendAsync(StreamAppend append, AppendCallback done) {
  auto w = std::make_unique<Writer>();
  w->owned.push_back(std::move(append));
  if (absl::Status s = internal::ValidateAppends(w->owned, options_, /*multi=*/false); !s.ok()) {
    done(s);
    return;
  }
  w->callback = [done = std::move(done)](absl::StatusOr<std::vector<AppendResult>> r) {
    if (!r.ok()) {
      done(r.status());
    } else {
      done(std::move((*r)[0]));
    }
  };
  SubmitAsync(std::move(w));
}

void RocksDbStore::AppendMultiAsync(std::vector<StreamAppend> appends, MultiCallback done) {
  auto w = std::make_unique<Writer>();
  w->owned = std::move(appends);
  if (absl::Status s = internal::ValidateAppends(w->owned, options_, /*multi=*/true); !s.ok()) {
    done(s);
    return;
  }
  w->callback = std::move(done);
  SubmitAsync(std::move(w));
}

void RocksDbStore::SubmitAsync(std::unique_ptr<Writer> w) {
  w->appends = &w->owned;
  // Never inline: the caller must not wait for a sync, and a callback that
  // starts the next append must not recurse.
  if (Dispatch(w.get(), /*may_inline=*/false) == Route::kQueued) {
    w.release();  // deleted after its callback has run
  } else {
    w->callback(absl::UnavailableError("the event store is closing"));
  }
}

RocksDbStore::Route RocksDbStore::Dispatch(Writer* w, bool may_inline) {
  w->bytes = WriterBytes(*w->appends);
  MutexLock lock(&queue_mu_);
  if (stopping_) return Route::kClosing;
  if (may_inline && queue_.empty() && writer_idle_ && !inline_active_ &&
      lone_appender_.load(std::memory_order_relaxed)) {
    inline_active_ = true;
    return Route::kInline;
  }
  queue_.push_back(w);
  if (writer_idle_) queue_cv_.Signal();
  return Route::kQueued;
}

size_t RocksDbStore::WriterBytes(const std::vector<StreamAppend>& appends) {
  size_t bytes = 0;
  for (const StreamAppend& a : appends) {
    for (const ProposedEvent& e : a.events) bytes += e.data.size() + e.metadata.size() + 64;
  }
  return bytes;
}

[[nodiscard]] absl::StatusOr<std::vector<AppendResult>> RocksDbStore::Submit(
    const std::vector<StreamAppend>& appends) {
  Writer self;
  self.appends = &appends;
  switch (Dispatch(&self, /*may_inline=*/true)) {
    case Route::kQueued:
      self.parking.Wait();
      WakeChildren(self);
      break;
    case Route::kInline:
      CommitInline(&self);
      break;
    case Route::kClosing:
      return absl::UnavailableError("the event store is closing");
  }
  return std::move(self.result);
}

uint64_t RocksDbStore::SyncForLone(Writer* w, uint64_t end) {
  uint64_t served = 0;
  if (sync_failed_.ok() && end > synced_end_) {
    const uint64_t before = synced_end_;
    SyncLog(end);
    served = written_end_.load(std::memory_order_acquire) - before;
  }
  if (!sync_failed_.ok() && w->result.ok()) w->result = sync_failed_;
  return served;
}

bool RocksDbStore::SyncLoneGroup(Writer* w, uint64_t end) {
  {
    MutexLock lock(&sync_mu_);
    if (!written_.empty()) return false;  // the syncer has work: join it
    SyncForLone(w, end);
  }
  {
    // Appends that queued up meanwhile are not alone: they go through the
    // syncer, which shares one sync among them.
    MutexLock lock(&queue_mu_);
    if (!queue_.empty()) lone_appender_.store(false, std::memory_order_relaxed);
  }
  Complete({w});
  return true;
}

void RocksDbStore::CommitInline(Writer* self) {
  const std::optional<uint64_t> end = WriteGroup({self});
  if (end.has_value()) {
    MutexLock lock(&sync_mu_);
    // Others appending meanwhile end the fast path: they gather in the
    // pipeline instead of each syncing alone.
    if (const uint64_t served = SyncForLone(self, *end); served > 0) {
      lone_appender_.store(served <= 1, std::memory_order_relaxed);
    }
  }
  MutexLock lock(&queue_mu_);
  inline_active_ = false;
}

void RocksDbStore::WriterLoop() {
  while (true) {
    std::vector<Writer*> group;
    {
      MutexLock lock(&queue_mu_);
      writer_idle_ = true;
      while (queue_.empty() && !stopping_) queue_cv_.Wait(&queue_mu_);
      writer_idle_ = false;
      if (queue_.empty()) break;  // stopping, and every queued append is written
      size_t bytes = 0;
      while (!queue_.empty()) {
        Writer* w = queue_.front();
        if (!group.empty() && bytes + w->bytes > options_.max_group_bytes) break;
        bytes += w->bytes;
        group.push_back(w);
        queue_.pop_front();
      }
    }
    const std::optional<uint64_t> end = WriteGroup(group);
    if (!end.has_value()) {
      Complete(group);  // the store has failed: every result is an error
      continue;
    }
    if (group.size() == 1 && lone_appender_.load(std::memory_order_relaxed) &&
        SyncLoneGroup(group[0], *end)) {
      continue;
    }
    MutexLock lock(&sync_mu_);
    written_.push_back({std::move(group), *end});
    sync_cv_.Signal();
  }
  MutexLock lock(&sync_mu_);
  writer_done_ = true;
  sync_cv_.Signal();
}

void RocksDbStore::WakeChildren(const Writer& woken) {
  if (!woken.wake_tree) return;
  const std::vector<Writer*>& tree = *woken.wake_tree;
  for (size_t child = 2 * woken.wake_index + 1; child <= 2 * woken.wake_index + 2; ++child) {
    if (child < tree.size()) tree[child]->parking.Release();  // may be gone after this
  }
}

void RocksDbStore::Complete(const std::vector<Writer*>& members) {
  // Synchronous members are woken first, as a tree (see Writer::wake_tree);
  // a callback may do real work.
  auto tree = std::make_shared<std::vector<Writer*>>();
  std::vector<Writer*> async;
  for (Writer* w : members) {
    if (w->callback) {
      async.push_back(w);
    } else {
      w->wake_index = tree->size();
      tree->push_back(w);
    }
  }
  for (Writer* w : *tree) w->wake_tree = tree;
  if (!tree->empty()) (*tree)[0]->parking.Release();
  tree.reset();
  for (Writer* w : async) {
    w->callback(std::move(w->result));
    delete w;
  }
}

void RocksDbStore::RaisePriority() {
  // Every appender waits on these two threads; under load they must not
  // queue for a core behind the appenders' own threads (on two cores, 64
  // runnable appenders made them the bottleneck). A per-thread nice value
  // needs CAP_SYS_NICE or RLIMIT_NICE; without either they keep the
  // process's priority and Info() says so.
  if (options_.pipeline_nice >= 0) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.pipeline_nice) != 0) {
    priority_raise_failed_.store(true, std::memory_order_relaxed);
  }
}

void RocksDbStore::SyncLog(uint64_t target) {
  sync_mu_.Unlock();
  rocksdb::Status s = db_->FlushWAL(/*sync=*/options_.sync);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  sync_mu_.Lock();
  if (!s.ok()) {
    sync_failed_ = absl::UnavailableError(
        absl::StrCat("the event store failed to sync its log and accepts no more appends until "
                     "restarted: ",
                     s.ToString()));
    MutexLock leader_lock(&leader_mu_);
    failed_ = sync_failed_;
  } else if (target > synced_end_) {
    // The log is written in position order, so a sync that returns covers
    // every write made before it started.
    synced_end_ = target;
    MutexLock commit_lock(&commit_mu_);
    committed_end_.store(target, std::memory_order_release);
    commit_cv_.SignalAll();
  }
}

void RocksDbStore::SyncerLoop() {
  MutexLock lock(&sync_mu_);
  while (true) {
    while (written_.empty() && !writer_done_) sync_cv_.Wait(&sync_mu_);
    if (written_.empty()) break;  // the writer has stopped and all is complete
    const uint64_t before = synced_end_;
    if (written_end_.load(std::memory_order_acquire) > before && sync_failed_.ok()) {
      SyncLog(written_end_.load(std::memory_order_acquire));
      // A sync that served one event (none written while it ran) means a
      // lone appender: the next one may commit inline.
      lone_appender_.store(written_end_.load(std::memory_order_acquire) - before <= 1,
                           std::memory_order_relaxed);
    }
    // Every result, a conflict or replay too, describes the log through its
    // group's end: it is reported once that much is durable and readable.
    std::vector<Writer*> done;
    while (!written_.empty() && (written_.front().end <= synced_end_ || !sync_failed_.ok())) {
      for (Writer* w : written_.front().members) {
        if (!sync_failed_.ok() && written_.front().end > synced_end_ && w->result.ok()) {
          w->result = sync_failed_;
        }
        done.push_back(w);
      }
      written_.pop_front();
    }
    sync_mu_.Unlock();
    Complete(done);
    sync_mu_.Lock();
  }
}

[[nodiscard]] absl::Status RocksDbStore::GetRaw(rocksdb::ColumnFamilyHandle* cf,
                                                std::string_view key, std::string* value) {
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(key), value);
  if (s.IsNotFound()) return absl::NotFoundError("not found");
  return FromRocks(s, "read");
}

[[nodiscard]] absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>>
RocksDbStore::FindStoredIds(const std::vector<Writer*>& group) {
  std::vector<rocksdb::Slice> keys;
  for (const Writer* w : group) {
    for (const StreamAppend& a : *w->appends) {
      for (const ProposedEvent& e : a.events) {
        std::string_view id = e.id.Bytes();
        keys.emplace_back(id.data(), id.size());
      }
    }
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), ids_, keys.size(), keys.data(), values.data(),
                statuses.data());
  absl::flat_hash_map<std::string, uint64_t> found;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      found[keys[i].ToString()] = DecodePosition(values[i].ToStringView());
    } else if (!statuses[i].IsNotFound()) {
      return FromRocks(statuses[i], "look up event ids");
    }
  }
  return found;
}

[[nodiscard]] absl::StatusOr<std::optional<std::vector<AppendResult>>>
RocksDbStore::CheckIdempotency(const std::vector<StreamAppend>& appends,
                               const absl::flat_hash_map<std::string, uint64_t>& stored_ids,
                               const absl::flat_hash_map<std::string, PendingId>& pending) {
  size_t total = 0, found = 0;
  std::vector<AppendResult> results;
  std::string first_new, first_known;
  for (const StreamAppend& append : appends) {
    AppendResult result;
    result.stream = append.stream;
    result.replayed = true;
    for (size_t i = 0; i < append.events.size(); ++i) {
      const ProposedEvent& e = append.events[i];
      ++total;
      uint64_t position = 0;
      Revision revision = kNoStream;
      bool same = false;
      bool hit = false;
      std::string_view where_stream;
      if (auto p = pending.find(std::string(e.id.Bytes())); p != pending.end()) {
        hit = true;
        position = p->second.position;
        revision = p->second.revision;
        same = append.stream == p->second.append->stream && e.type == p->second.event->type &&
               e.data == p->second.event->data && e.metadata == p->second.event->metadata;
      } else if (auto s = stored_ids.find(std::string(e.id.Bytes())); s != stored_ids.end()) {
        {
          hit = true;
          position = s->second;
          std::string record;
          if (absl::Status s = GetRaw(log_, PositionKey(position), &record); !s.ok()) {
            return absl::IsNotFound(s)
                       ? absl::DataLossError(
                             absl::StrCat("event id index points at missing position ", position))
                       : s;
          }
          EventView stored;
          if (!internal::DecodeRecord(record, position, &stored)) {
            return absl::DataLossError(
                absl::StrCat("record at position ", position, " cannot be decoded"));
          }
          revision = stored.revision;
          same = SameContent(e, append.stream, stored, stored.stream);
        }
      }
      if (!hit) {
        if (first_new.empty()) first_new = e.id.ToString();
        continue;
      }
      ++found;
      if (first_known.empty()) first_known = e.id.ToString();
      if (!same) {
        return absl::AlreadyExistsError(absl::StrCat(
            "event id ", e.id.ToString(), " is already recorded (position ", position,
            ") with other content or in another stream; use a new id for a new event"));
      }
      if (i == 0) {
        result.first_revision = revision;
        result.first_position = position;
      } else if (revision != result.last_revision + 1) {
        return absl::AlreadyExistsError(absl::StrCat(
            "event id ", e.id.ToString(),
            " is already recorded, but not in the same append as the ids before it; a retry "
            "must resend exactly the original events"));
      }
      result.last_revision = revision;
      result.last_position = position;
    }
    results.push_back(result);
  }
  if (found == 0) return std::optional<std::vector<AppendResult>>();
  if (found != total) {
    return absl::AlreadyExistsError(absl::StrCat(
        "this request mixes recorded event ids (", first_known, ") with new ones (", first_new,
        "); a retry must resend exactly the original events, new events need a new request"));
  }
  return std::optional<std::vector<AppendResult>>(std::move(results));
}

[[nodiscard]] absl::StatusOr<Revision> RocksDbStore::LoadHead(const std::string& stream) {
  std::string upper = internal::StreamKeyPrefix(stream);
  upper.append(8, '\xff');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
  it->SeekForPrev(upper);
  RETURN_IF_ERROR(FromRocks(it->status(), "read stream head"));
  std::string prefix = internal::StreamKeyPrefix(stream);
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return kNoStream;
  }
  return static_cast<Revision>(DecodePosition(it->key().ToStringView().substr(prefix.size())));
}

[[nodiscard]] absl::StatusOr<Revision> RocksDbStore::HeadLocked(
    const std::string& stream, const absl::flat_hash_map<std::string, Revision>& overlay) {
  if (auto it = overlay.find(stream); it != overlay.end()) return it->second;
  if (auto it = heads_.find(stream); it != heads_.end()) return it->second;
  ASSIGN_OR_RETURN(Revision head, LoadHead(stream));
  if (heads_.size() >= kMaxCachedHeads) heads_.clear();
  heads_[stream] = head;
  return head;
}

std::optional<uint64_t> RocksDbStore::WriteGroup(const std::vector<Writer*>& group) {
  MutexLock lock(&leader_mu_);
  if (!failed_.ok()) {
    for (Writer* w : group) w->result = failed_;
    return std::nullopt;
  }
  rocksdb::WriteBatch batch;
  uint64_t position = next_position_;
  Hash previous = last_hash_;
  int64_t now = std::max(options_.clock(), last_recorded_at_);
  absl::flat_hash_map<std::string, Revision> overlay;
  absl::flat_hash_map<std::string, PendingId> pending;
  std::vector<Writer*> committed;  // writers whose result depends on this write
  absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> stored_ids = FindStoredIds(group);
  if (!stored_ids.ok()) {
    for (Writer* w : group) w->result = stored_ids.status();
    return std::nullopt;
  }

  for (Writer* w : group) {
    const std::vector<StreamAppend>& appends = *w->appends;
    auto replay = CheckIdempotency(appends, *stored_ids, pending);
    if (!replay.ok()) {
      w->result = replay.status();
      continue;
    }
    if (replay->has_value()) {
      w->result = std::move(**replay);
      committed.push_back(w);
      continue;
    }
    // Every expectation must hold before anything of this writer is added.
    std::vector<Revision> heads;
    absl::Status check;
    for (const StreamAppend& a : appends) {
      absl::StatusOr<Revision> head = HeadLocked(a.stream, overlay);
      if (!head.ok()) {
        check = head.status();
        break;
      }
      if (!a.expectation.Matches(*head)) {
        check = MakeRevisionConflictError({a.stream, a.expectation, *head});
        break;
      }
      heads.push_back(*head);
    }
    if (!check.ok()) {
      w->result = check;
      continue;
    }
    std::vector<AppendResult> results;
    for (size_t k = 0; k < appends.size(); ++k) {
      const StreamAppend& a = appends[k];
      AppendResult r;
      r.stream = a.stream;
      r.first_revision = heads[k] + 1;
      r.first_position = position;
      Revision revision = heads[k];
      for (const ProposedEvent& e : a.events) {
        ++revision;
        std::string record =
            internal::EncodeRecordBody(a.stream, revision, e.id, e.type, now, e.data, e.metadata);
        std::optional<Hash> hash = internal::ChainHash(position, previous, record);
        if (!hash) {
          // Nothing is written: fail the whole group and the store, which
          // cannot extend its chain without a working SHA-256.
          failed_ = absl::InternalError(
              "SHA-256 is unavailable (OpenSSL failed); the event store accepts no appends");
          for (Writer* g : group) g->result = failed_;
          return std::nullopt;
        }
        record.append(internal::HashBytes(*hash));
        std::string key = PositionKey(position);
        batch.Put(log_, key, record);
        batch.Put(streams_, internal::StreamKey(a.stream, revision), key);
        batch.Put(ids_, e.id.Bytes(), key);
        pending[std::string(e.id.Bytes())] = PendingId{position, revision, &a, &e};
        previous = *hash;
        ++position;
      }
      r.last_revision = revision;
      r.last_position = position - 1;
      overlay[a.stream] = revision;
      results.push_back(std::move(r));
    }
    w->result = std::move(results);
    committed.push_back(w);
  }

  if (batch.Count() > 0) {
    // The WAL record stays in memory until the syncer flushes and syncs it.
    rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) {
      // The outcome on disk is unknown: stop accepting writes rather than
      // risk a gap or a fork in the chain. A restart recovers the truth.
      failed_ = absl::UnavailableError(absl::StrCat(
          "the event store failed a write and accepts no more appends until restarted: ",
          s.ToString()));
      for (Writer* w : group) w->result = failed_;  // conflicts too: heads may be lost
      return std::nullopt;
    }
    groups_.fetch_add(1, std::memory_order_relaxed);
    grouped_events_.fetch_add(position - next_position_, std::memory_order_relaxed);
    next_position_ = position;
    last_hash_ = previous;
    last_recorded_at_ = now;
    for (auto& [stream, revision] : overlay) heads_[stream] = revision;
    written_end_.store(position, std::memory_order_release);
  }
  // Every result, a conflict or replay too, describes the log through here:
  // it is reported only once that is durable and readable, so a client that
  // reads after a conflict sees the revision the error named.
  return next_position_;
}

[[nodiscard]] absl::StatusOr<Revision> RocksDbStore::StreamRevision(const std::string& stream) {
  RETURN_IF_ERROR(internal::ValidateStreamName(stream, options_, "stream"));
  // Walk back from the index head past anything not yet acknowledged.
  std::string prefix = internal::StreamKeyPrefix(stream);
  std::string upper = prefix;
  upper.append(8, '\xff');
  uint64_t end = CommittedEnd();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
  for (it->SeekForPrev(upper); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    if (DecodePosition(it->value().ToStringView()) < end) {
      return static_cast<Revision>(DecodePosition(it->key().ToStringView().substr(prefix.size())));
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read stream head"));
  return kNoStream;
}

[[nodiscard]] absl::StatusOr<std::vector<RecordedEvent>> RocksDbStore::ReadStream(
    const std::string& stream, Revision from, Direction direction, size_t max_count) {
  RETURN_IF_ERROR(internal::ValidateStreamName(stream, options_, "stream"));
  std::vector<RecordedEvent> out;
  if (max_count == 0) return out;
  const uint64_t end = CommittedEnd();
  std::string prefix = internal::StreamKeyPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
  if (direction == Direction::kForwards) {
    it->Seek(internal::StreamKey(stream, std::max<Revision>(from, 0)));
  } else if (from < 0) {
    std::string upper = prefix;
    upper.append(8, '\xff');
    it->SeekForPrev(upper);
  } else {
    it->SeekForPrev(internal::StreamKey(stream, from));
  }
  std::vector<uint64_t> positions;
  for (; it->Valid() && it->key().starts_with(prefix) && positions.size() < max_count;
       direction == Direction::kForwards ? it->Next() : it->Prev()) {
    uint64_t position = DecodePosition(it->value().ToStringView());
    if (position >= end) {
      if (direction == Direction::kForwards) break;  // later ones are newer still
      continue;
    }
    positions.push_back(position);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read stream"));
  out.reserve(positions.size());
  for (uint64_t position : positions) {
    ASSIGN_OR_RETURN(RecordedEvent e, ReadAt(position));
    out.push_back(std::move(e));
  }
  return out;
}

[[nodiscard]] absl::StatusOr<uint64_t> RocksDbStore::ScanAll(uint64_t from_position,
                                                             const LogFilter& filter,
                                                             size_t max_scanned,
                                                             const Visitor& visit) {
  const uint64_t end = CommittedEnd();
  if (from_position >= end) return from_position;
  LogIterator log(db_.get(), log_, end);
  rocksdb::Iterator* it = log.get();
  uint64_t next = from_position;
  size_t scanned = 0;
  const bool match_all = filter.Empty();
  for (it->Seek(PositionKey(from_position)); it->Valid() && scanned < max_scanned; it->Next()) {
    uint64_t position = DecodePosition(it->key().ToStringView());
    EventView view;
    if (!internal::DecodeRecord(it->value().ToStringView(), position, &view)) {
      return absl::DataLossError(
          absl::StrCat("record at position ", position, " cannot be decoded"));
    }
    ++scanned;
    next = position + 1;
    if (match_all || filter.Matches(view.stream, view.type)) {
      if (!visit(view)) break;
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read log"));
  return next;
}

[[nodiscard]] absl::StatusOr<RecordedEvent> RocksDbStore::ReadAt(uint64_t position) {
  if (position >= CommittedEnd()) {
    return absl::NotFoundError(absl::StrCat("no event at position ", position, " (the log has ",
                                            CommittedEnd(), " events)"));
  }
  std::string record;
  absl::Status s = GetRaw(log_, PositionKey(position), &record);
  if (absl::IsNotFound(s)) {
    return absl::DataLossError(absl::StrCat("event at position ", position, " is missing"));
  }
  RETURN_IF_ERROR(s);
  EventView view;
  if (!internal::DecodeRecord(record, position, &view)) {
    return absl::DataLossError(absl::StrCat("record at position ", position, " cannot be decoded"));
  }
  return view.ToOwned();
}

uint64_t RocksDbStore::WaitForCommit(uint64_t known_end, absl::Duration timeout) {
  MutexLock lock(&commit_mu_);
  absl::Time deadline = absl::Now() + timeout;
  while (committed_end_.load(std::memory_order_acquire) <= known_end) {
    if (commit_cv_.WaitWithDeadline(&commit_mu_, deadline)) break;
  }
  return committed_end_.load(std::memory_order_acquire);
}

[[nodiscard]] absl::StatusOr<ChainVerification> RocksDbStore::VerifyChain(uint64_t from,
                                                                          uint64_t to) {
  ChainVerification report;
  const uint64_t end = std::min(to, CommittedEnd());
  if (from >= end) return report;
  Hash previous{};
  if (from > 0) {
    std::string record;
    RETURN_IF_ERROR(GetRaw(log_, PositionKey(from - 1), &record));
    EventView before;
    if (!internal::DecodeRecord(record, from - 1, &before)) {
      report.first_broken = from - 1;
      report.detail = absl::StrCat("record at position ", from - 1, " cannot be decoded");
      return report;
    }
    previous = internal::HashFromBytes(before.hash);
  }
  LogIterator log(db_.get(), log_, end);
  rocksdb::Iterator* it = log.get();
  uint64_t expected = from;
  for (it->Seek(PositionKey(from)); it->Valid(); it->Next(), ++expected) {
    uint64_t position = DecodePosition(it->key().ToStringView());
    std::string_view value = it->value().ToStringView();
    EventView view;
    if (position != expected) {
      report.first_broken = expected;
      report.detail =
          absl::StrCat("position ", expected, " is missing (next record is at ", position, ")");
      return report;
    }
    if (!internal::DecodeRecord(value, position, &view)) {
      report.first_broken = position;
      report.detail = absl::StrCat("record at position ", position, " cannot be decoded");
      return report;
    }
    std::optional<Hash> computed =
        internal::ChainHash(position, previous, internal::RecordBody(value));
    if (!computed) return absl::InternalError("SHA-256 is unavailable (OpenSSL failed)");
    if (internal::HashBytes(*computed) != view.hash) {
      report.first_broken = position;
      report.detail = absl::StrCat("record at position ", position, " (stream '",
                                   std::string(view.stream), "' revision ", view.revision,
                                   ") does not match its chained hash: its content or the "
                                   "previous record was changed");
      return report;
    }
    previous = *computed;
    ++report.verified;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read log"));
  if (expected != end) {
    report.first_broken = expected;
    report.detail = absl::StrCat("position ", expected, " is missing (log ends early)");
  }
  return report;
}

StoreInfo RocksDbStore::Info() const {
  StoreInfo info;
  uint64_t written;
  {
    MutexLock lock(&leader_mu_);
    written = next_position_;
    info.last_hash = last_hash_;
  }
  // Describe the durable head: while writes are in flight, take the hash of
  // the last committed record instead of the last written one.
  info.next_position = CommittedEnd();
  if (info.next_position < written) {
    info.last_hash = Hash{};
    if (info.next_position > 0) {
      std::string record;
      EventView view;
      if (db_->Get(rocksdb::ReadOptions(), log_, PositionKey(info.next_position - 1), &record)
              .ok() &&
          internal::DecodeRecord(record, info.next_position - 1, &view)) {
        info.last_hash = internal::HashFromBytes(view.hash);
      }
    }
  }
  info.write_groups = groups_.load(std::memory_order_relaxed);
  info.grouped_events = grouped_events_.load(std::memory_order_relaxed);
  info.syncs = syncs_.load(std::memory_order_relaxed);
  info.pipeline_priority_raised = !priority_raise_failed_.load(std::memory_order_relaxed);
  return info;
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("the event store needs a directory (Options::path)");
  }
  auto store = std::make_unique<RocksDbStore>(options);
  RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

[[nodiscard]] absl::StatusOr<std::vector<RecordedEvent>> Store::ReadAll(uint64_t from_position,
                                                                        const LogFilter& filter,
                                                                        size_t max_count,
                                                                        uint64_t* next_position) {
  std::vector<RecordedEvent> out;
  if (max_count == 0) {
    if (next_position) *next_position = from_position;
    return out;
  }
  // ScanAll returns the position after the last event it looked at.
  ASSIGN_OR_RETURN(uint64_t next,
                   ScanAll(from_position, filter, std::max<size_t>(max_count * 16, 4096),
                           [&](const EventView& e) {
                             out.push_back(e.ToOwned());
                             return out.size() < max_count;
                           }));
  if (next_position) *next_position = next;
  return out;
}

}  // namespace duurzaam::eventstore
