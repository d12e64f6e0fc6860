// The RocksDB implementation of Store: opening (RocksDB tuning, recovery of
// the log head), closing, Info and Store::Open. Its other parts are listed
// in rocksdb_store_internal.h.
#include <chrono>
#include <filesystem>

#include "absl/synchronization/blocking_counter.h"
#include "common/clock.h"
#include "common/rocksdb_log.h"
#include "common/status_macros.h"
#include "eventstore/errors.h"
#include "eventstore/rocksdb_store_internal.h"
#include "eventstore/validation.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"

namespace duurzaam::eventstore::internal {

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

RocksDbStore::~RocksDbStore() {
  // Every queued append is written and completed before the threads exit.
  {
    MutexLock lock(&queue_mu_);
    stopping_ = true;
    queue_cv_.Signal();
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  if (syncer_thread_.joinable()) syncer_thread_.join();
  {
    MutexLock lock(&completion_mu_);
    completer_stop_ = true;
    completion_cv_.Signal();
  }
  if (completer_thread_.joinable()) completer_thread_.join();  // runs what is left
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
  } else if (db_) {
    // Nor does closing write: a memtable flush at shutdown would switch the
    // failed log writer (a RocksDB assertion). The synced log is replayed at
    // the next open.
    db_->SetDBOptions({{"avoid_flush_during_shutdown", "true"}}).PermitUncheckedError();
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  handles_.clear();
  if (db_) db_->Close().PermitUncheckedError();  // data is already synced
}

[[nodiscard]] absl::Status RocksDbStore::Init() {
  disk_ =
      std::make_unique<DiskSpaceGuard>(options_.path, options_.min_free_bytes, "the event store");
  // Opening writes a new log and manifest: on a disk below the threshold it
  // is refused, with the room it needs named.
  if (options_.min_free_bytes > 0) {
    RETURN_IF_ERROR(disk_->CheckNow(options_.min_free_bytes, "to open"));
  }
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
  if (options_.env != nullptr) db_options.env = options_.env;
  // No LOG file: on a full disk its failed writer would trip an assertion.
  db_options.info_log = RocksDbServerLog(std::filesystem::path(options_.path).filename().string());
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
  // It holds the format marker only. (RocksDB's recovery from a full disk
  // waits for room for the largest memtable: not 64 MiB for this one.)
  default_options.write_buffer_size = 1 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, default_options},
      {kLogCf, log_options},
      {kStreamsCf, index_options},
      {kIdsCf, id_options},
  };
  // RocksDB would log (as an error) that it had to create the folder.
  if (options_.create_if_missing) {
    std::error_code ec;
    std::filesystem::create_directories(options_.path, ec);
  }
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
  ASSIGN_OR_RETURN(Head head, ReadHead());
  const uint64_t end = head.end;
  {
    MutexLock lock(&leader_mu_);
    next_position_ = head.end;
    last_hash_ = head.hash;
    last_recorded_at_ = head.recorded_at;
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
  completer_thread_ = std::thread([this] { CompleterLoop(); });  // normal priority
  started.Wait();
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<RocksDbStore::Head> RocksDbStore::ReadHead() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "find the end of the log"));
  Head head;
  if (it->Valid()) {
    uint64_t last = DecodePosition(it->key().ToStringView());
    EventView view;
    if (!internal::DecodeRecord(it->value().ToStringView(), last, &view)) {
      return absl::DataLossError(
          absl::StrCat("the last record (position ", last, ") cannot be decoded"));
    }
    head.end = last + 1;
    head.hash = internal::HashFromBytes(view.hash);
    head.recorded_at = view.recorded_at_micros;
  }
  return head;
}

RocksDbStore::Outcome RocksDbStore::OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kOk;
    case absl::StatusCode::kFailedPrecondition:
      return kConflict;
    case absl::StatusCode::kAlreadyExists:
      return kDuplicate;
    case absl::StatusCode::kInvalidArgument:
      return kInvalid;
    case absl::StatusCode::kResourceExhausted:
      return kNoSpace;
    default:
      return kFailed;
  }
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
  {
    MutexLock lock(&leader_mu_);
    info.writes = failed_;
  }
  if (info.writes.ok()) info.writes = disk_->Check(0);
  absl::StatusOr<uint64_t> free = FreeDiskBytes(options_.path);
  info.free_disk_bytes = free.ok() ? *free : 0;
  uint64_t stopped = 0, delayed = 0;
  info.write_stalled =
      (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped) && stopped > 0) ||
      (db_->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &delayed) &&
       delayed > 0);
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                                &info.memtable_bytes);
  db_->GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage, &info.block_cache_bytes);
  static constexpr const char* kNames[kOutcomes] = {"ok",      "conflict", "duplicate",
                                                    "invalid", "no_space", "failed"};
  for (int i = 0; i < kOutcomes; ++i) {
    info.appends_by_outcome.emplace_back(kNames[i], outcomes_[i].load(std::memory_order_relaxed));
  }
  return info;
}

}  // namespace duurzaam::eventstore::internal

namespace duurzaam::eventstore {

using internal::RocksDbStore;

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
