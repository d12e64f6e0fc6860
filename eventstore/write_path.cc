// The engine's write path: the two-stage group commit (see
// rocksdb_store_internal.h): dispatch, the lone-appender inline path, the
// writer and syncer threads, idempotent ids, expectations and the group
// write with its chain hashes.
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "eventstore/errors.h"
#include "eventstore/port/thread_priority.h"
#include "eventstore/rocksdb_store_internal.h"
#include "eventstore/validation.h"

namespace duurzaam::eventstore::internal {

[[nodiscard]] absl::StatusOr<AppendResult> RocksDbStore::Append(const StreamAppend& append) {
  std::vector<StreamAppend> appends;
  appends.push_back(append);  // one copy; the hot path is dominated by fsync
  if (absl::Status s = internal::ValidateAppends(appends, options_, /*multi=*/false); !s.ok()) {
    Count(s);
    return s;
  }
  ASSIGN_OR_RETURN(std::vector<AppendResult> results, Submit(appends));
  return std::move(results[0]);
}

[[nodiscard]] absl::StatusOr<std::vector<AppendResult>> RocksDbStore::AppendMulti(
    const std::vector<StreamAppend>& appends) {
  if (absl::Status s = internal::ValidateAppends(appends, options_, /*multi=*/true); !s.ok()) {
    Count(s);
    return s;
  }
  return Submit(appends);
}

void RocksDbStore::AppendAsync(StreamAppend append, AppendCallback done) {
  auto w = std::make_unique<Writer>();
  w->owned.push_back(std::move(append));
  if (absl::Status s = internal::ValidateAppends(w->owned, options_, /*multi=*/false); !s.ok()) {
    Count(s);
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
    Count(s);
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
    Count(w->result.status());
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
  if (async.empty()) return;
  MutexLock lock(&completion_mu_);
  completions_.insert(completions_.end(), async.begin(), async.end());
  completion_cv_.Signal();
}

void RocksDbStore::CompleterLoop() {
  std::deque<Writer*> ready;
  while (true) {
    {
      MutexLock lock(&completion_mu_);
      while (completions_.empty() && !completer_stop_) completion_cv_.Wait(&completion_mu_);
      if (completions_.empty()) return;  // stopping, and everything completed
      ready.swap(completions_);
    }
    for (Writer* w : ready) {
      w->callback(std::move(w->result));
      delete w;
    }
    ready.clear();
  }
}

void RocksDbStore::RaisePriority() {
  // Every appender waits on these two threads; under load they must not
  // queue for a core behind the appenders' own threads (on two cores, 64
  // runnable appenders made them the bottleneck). A per-thread nice value
  // needs CAP_SYS_NICE or RLIMIT_NICE; without either they keep the
  // process's priority and Info() says so.
  if (options_.pipeline_nice >= 0) return;
  if (!port::SetThreadNice(options_.pipeline_nice)) {
    priority_raise_failed_.store(true, std::memory_order_relaxed);
  }
}

void RocksDbStore::SyncLog(uint64_t target) {
  sync_mu_.Unlock();
  absl::Status failure;
  bool recoverable = false;
  rocksdb::Status s;
  {
    // A failed flush or sync leaves RocksDB's log writer failed, and a write
    // to it after that trips an assertion in RocksDB (an abort: Debian
    // builds it with assertions on). Writes reach RocksDB only under
    // log_write_mu_ (WriteGroup), which checks log_failed_ first: it is set
    // here before the lock is let go.
    MutexLock write_lock(&log_write_mu_);
    s = log_failed_.ok() ? db_->FlushWAL(/*sync=*/options_.sync)
                         : rocksdb::Status::IOError("an earlier write of the log failed");
    if (!s.ok()) {
      if (log_failed_.ok()) {
        log_failed_ = ClassifyLogFailure(s, "sync its log", &log_failed_recoverable_);
      }
      failure = log_failed_;
      recoverable = log_failed_recoverable_;
    }
  }
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!failure.ok()) {
    MutexLock leader_lock(&leader_mu_);
    MarkFailed(failure, recoverable);
  }
  sync_mu_.Lock();
  if (!failure.ok()) {
    sync_failed_ = failure;
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

absl::Status RocksDbStore::ClassifyLogFailure(const rocksdb::Status& s, absl::string_view what,
                                              bool* recoverable) const {
  *recoverable = s.IsNoSpace();
  if (s.IsNoSpace()) {
    absl::StatusOr<uint64_t> free = FreeDiskBytes(options_.path);
    return absl::ResourceExhaustedError(absl::StrCat(
        "the disk of '", options_.path, "' is full (",
        free.ok() ? FormatBytes(*free) : std::string("unknown"),
        " free): the event store could not ", what,
        " and refuses appends until space is freed on that disk; they resume by themselves "
        "once ",
        FormatBytes(RecoveryRoom()),
        " are free (an append refused with this message "
        "may have been recorded: retry it with the same event ids)"));
  }
  return absl::UnavailableError(
      absl::StrCat("the event store failed to ", what,
                   " and accepts no more appends until restarted: ", s.ToString()));
}

void RocksDbStore::MarkFailed(const absl::Status& failure, bool recoverable) {
  if (!failed_.ok()) return;
  failed_ = failure;
  failed_recoverable_ = recoverable;
  Log(LogLevel::kError, std::string(failure.message()),
      {{"source", "eventstore"}, {"path", options_.path}});
}

bool RocksDbStore::TryRecoverLocked() {
  const absl::Time now = absl::Now();
  if (now < next_recovery_) return false;
  next_recovery_ = now + absl::Milliseconds(250);
  // Resuming flushes every memtable: it needs room for them, and the
  // threshold after them.
  if (!disk_->CheckNow(RecoveryRoom(), "to resume writing after the disk was full").ok()) {
    return false;
  }
  MutexLock write_lock(&log_write_mu_);
  MutexLock sync_lock(&sync_mu_);
  // The syncer first completes the groups that were pending at the failure.
  if (!written_.empty()) return false;
  rocksdb::Status resumed = db_->Resume();
  if (resumed.IsBusy()) return false;  // RocksDB's own recovery is under way
  if (!resumed.ok()) {
    Log(LogLevel::kWarning, "resuming after a full disk failed; trying again",
        {{"source", "eventstore"}, {"path", options_.path}, {"error", resumed.ToString()}});
    return false;
  }
  // Everything RocksDB took in before the failure is flushed and durable
  // now: the log's end is what it holds (appends refused with an unknown
  // outcome may be among it, as they may after a restart).
  absl::StatusOr<Head> head = ReadHead();
  if (!head.ok()) {
    Log(LogLevel::kError, "cannot read the log's end after resuming",
        {{"source", "eventstore"}, {"path", options_.path}, {"error", head.status().ToString()}});
    return false;
  }
  next_position_ = head->end;
  last_hash_ = head->hash;
  last_recorded_at_ = std::max(last_recorded_at_, head->recorded_at);
  heads_.clear();
  written_end_.store(head->end, std::memory_order_release);
  synced_end_ = head->end;
  sync_failed_ = absl::OkStatus();
  {
    MutexLock commit_lock(&commit_mu_);
    if (head->end > committed_end_.load(std::memory_order_acquire)) {
      committed_end_.store(head->end, std::memory_order_release);
    }
    commit_cv_.SignalAll();
  }
  log_failed_ = absl::OkStatus();
  log_failed_recoverable_ = false;
  failed_ = absl::OkStatus();
  failed_recoverable_ = false;
  Log(LogLevel::kInfo, "the disk has room again: appends resumed",
      {{"source", "eventstore"}, {"path", options_.path}, {"end", absl::StrCat(head->end)}});
  return true;
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
  if (!failed_.ok() && !(failed_recoverable_ && TryRecoverLocked())) {
    for (Writer* w : group) w->result = failed_;
    return std::nullopt;
  }
  // Below the free-space threshold nothing reaches RocksDB.
  uint64_t group_bytes = 0;
  for (const Writer* w : group) group_bytes += w->bytes;
  if (absl::Status space = disk_->Check(2 * group_bytes); !space.ok()) {
    for (Writer* w : group) w->result = space;
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
      r.recorded_at_micros = now;
      r.hashes.reserve(a.events.size());
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
        r.hashes.push_back(*hash);
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
    rocksdb::Status s;
    {
      MutexLock write_lock(&log_write_mu_);
      if (log_failed_.ok()) {
        s = db_->Write(rocksdb::WriteOptions(), &batch);
        // A failed write may have failed the log writer too: no flush or
        // sync may touch it after this.
        if (!s.ok()) log_failed_ = ClassifyLogFailure(s, "write its log", &log_failed_recoverable_);
      }
      if (!log_failed_.ok()) {
        // The outcome on disk is unknown: stop accepting writes rather than
        // risk a gap or a fork in the chain (after a full disk until it has
        // room again, otherwise until a restart recovers the truth).
        MarkFailed(log_failed_, log_failed_recoverable_);
        for (Writer* w : group) w->result = failed_;  // conflicts too: heads may be lost
        return std::nullopt;
      }
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

}  // namespace duurzaam::eventstore::internal
