#include "projections/case_projection.h"

#include <deque>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/log.h"
#include "common/rocksdb_log.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/stream_names.h"
#include "duurzaam/storage/v1/projected_record.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace duurzaam::projections {
namespace {

// Keys (parts joined by NUL: ids never contain it):
//   "p"                                  checkpoint (u64 BE)
//   "s\0<stream>\0<revision u64 BE>"     projected event of a case/employer stream
//   "a\0<stream>\0<revision u64 BE>"     the same, for a case's records that decide
//                                        access (codec::DecidesAccess), damaged or not
//   "x\0<expert>\0<case>"                the expert is in the case team
//   "r\0<region>\0<group>\0<case>"       the case's region and target group
constexpr char kCheckpointKey[] = "p";
// What the projection's keys mean, written with every checkpoint. 2: the
// employer index ("e") joined the expert ("x") and region ("r") indexes;
// 3: the access-deciding records ("a").
// A projection of an older format must be rebuilt before it is used.
constexpr char kFormatKey[] = "f";
constexpr char kFormat[] = "3";
// Following the log: two memtables of 8 MiB at most (the follower writes
// without a WAL, so only their size bounds its memory). A rebuild writes
// in larger ones.
constexpr size_t kWriteBufferBytes = 8 << 20;
constexpr size_t kRebuildWriteBufferBytes = 64 << 20;
constexpr size_t kRebuildChunkEvents = 20000;
const std::string kSep(1, '\0');

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBigEndian(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

// The stream of a projected event's key ("s\0<stream>\0" or
// "a\0<stream>\0" without the revision). The log delivers each stream's
// revisions in order, so memtable inserts that share it are sequential:
// given as a hint prefix, RocksDB inserts each next to the previous one
// instead of searching the skiplist.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "duurzaam.StreamPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 10 && (key[0] == 's' || key[0] == 'a') && key[1] == '\0';
  }
};

[[nodiscard]] absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
}

// A log record as the projection keeps it (storage/v1/projected_record.proto).
void ToProjected(const eventstore::EventView& v, storage::v1::ProjectedRecord* out) {
  codec::RecordToMessage(v, out);
}

[[nodiscard]] absl::StatusOr<eventstore::RecordedEvent> FromProjected(
    const storage::v1::ProjectedRecord& p) {
  absl::StatusOr<eventstore::RecordedEvent> e = codec::RecordFromMessage(p);
  if (!e.ok()) return absl::DataLossError("a projected event has no readable id");
  return e;
}

// The streams this projection keeps.
const eventstore::LogFilter& ProjectedStreams() {
  static const eventstore::LogFilter* filter = new eventstore::LogFilter{
      {std::string(domain::kCaseStreamPrefix), std::string(domain::kEmployerStreamPrefix)}, {}};
  return *filter;
}

}  // namespace

struct CaseProjection::Chunk {
  rocksdb::WriteBatch batch;
  uint64_t from = 0;
  uint64_t next = 0;   // the checkpoint after this chunk
  uint64_t count = 0;  // events projected
};

namespace {

// Projects log events into a write batch, reusing its buffers from one
// event to the next (a rebuild projects millions).
class BatchProjector {
 public:
  explicit BatchProjector(rocksdb::WriteBatch* batch) : batch_(batch) {}

  [[nodiscard]] absl::Status Add(const eventstore::EventView& view) {
    const bool on_case = domain::IsCaseStream(view.stream);
    // Events are kept byte for byte as stored (personal data stays sealed;
    // older schema versions are upcast when read, by codec::Decode). Only
    // what feeds an index is decoded, without opening sealed fields.
    const bool decides = on_case && codec::DecidesAccess(view.type);
    if (decides) RETURN_IF_ERROR(AddIndexEntries(view));
    ToProjected(view, &scratch_);
    scratch_.SerializeToString(&value_);
    key_.assign("s");
    key_.append(kSep).append(view.stream).append(kSep).append(BigEndian(view.revision));
    RETURN_IF_ERROR(FromRocks(batch_->Put(key_, value_), "project an event"));
    if (!decides) return absl::OkStatus();
    // Also among the case's access-deciding records, so that who may see
    // it is read without passing over the rest.
    key_[0] = 'a';
    return FromRocks(batch_->Put(key_, value_), "project an access record");
  }

 private:
  [[nodiscard]] absl::Status AddIndexEntries(const eventstore::EventView& view) {
    absl::StatusOr<domain::Event> decoded = codec::Decode(view.ToOwned());
    if (absl::IsDataLoss(decoded.status())) {
      // A record that cannot be read never stops the projection (which
      // would take every query down): its index entries are left out and
      // the record is kept as stored; reads of its case fail closed on it.
      LogLine(absl::StrCat(
          "ALERT: projection left out the index entries of the record at "
          "position ",
          view.position, " (", std::string(view.stream), "): ", decoded.status().message()));
      return absl::OkStatus();
    }
    if (!decoded.ok()) return decoded.status();
    const domain::Event& event = *decoded;
    const std::string case_id(view.stream.substr(domain::kCaseStreamPrefix.size()));
    rocksdb::Status s;
    if (const auto* opened = std::get_if<domain::CaseOpened>(&event.body)) {
      s = batch_->Put(
          absl::StrCat("r", kSep, opened->region, kSep, opened->target_group, kSep, case_id), "");
      if (s.ok()) s = batch_->Put(absl::StrCat("e", kSep, opened->employer_id, kSep, case_id), "");
    }
    // The team, by the domain's rule.
    for (const domain::TeamChange& change : domain::TeamChanges(event)) {
      if (!s.ok()) break;
      const std::string key = absl::StrCat("x", kSep, change.expert_id, kSep, case_id);
      s = change.joins ? batch_->Put(key, "") : batch_->Delete(key);
    }
    return FromRocks(s, "project an index entry");
  }

  rocksdb::WriteBatch* batch_;
  storage::v1::ProjectedRecord scratch_;
  std::string key_, value_;
};

}  // namespace

// The follower's batch: the records of case and employer streams, projected
// as ProjectChunk does, committed with Commit.
class CaseProjection::FollowerBatch final : public Projection::Batch {
 public:
  FollowerBatch(CaseProjection* projection, uint64_t from)
      : projection_(projection), projector_(&chunk_.batch) {
    chunk_.from = from;
  }

  [[nodiscard]] absl::Status Add(const eventstore::EventView& record) override {
    if (!ProjectedStreams().Matches(record.stream, record.type)) return absl::OkStatus();
    RETURN_IF_ERROR(projector_.Add(record));
    ++chunk_.count;
    return absl::OkStatus();
  }

  [[nodiscard]] absl::Status Commit(uint64_t next) override {
    MutexLock lock(&projection_->apply_mu_);
    if (projection_->Checkpoint() != chunk_.from) {
      return absl::AbortedError(absl::StrCat("the case projection moved from position ",
                                             chunk_.from, " while a batch was made"));
    }
    chunk_.next = next;
    return projection_->Commit(chunk_).status();
  }

 private:
  CaseProjection* projection_;
  Chunk chunk_;
  BatchProjector projector_;
};

[[nodiscard]] absl::StatusOr<std::unique_ptr<Projection::Batch>> CaseProjection::NewBatch(
    uint64_t log_end) {
  if (out_of_date_) {
    return absl::FailedPreconditionError(
        "the case projection was written by an older version (it lacks indexes this one reads): "
        "rebuild it (duurzaamd does at start; --rebuild_projections)");
  }
  const uint64_t from = Checkpoint();
  if (from > log_end) {
    return absl::FailedPreconditionError(
        absl::StrCat("the case projection is at position ", from, " but the log has only ", log_end,
                     " records: is it another log's projection? Rebuild it "
                     "(duurzaamd --rebuild_projections)"));
  }
  return std::make_unique<FollowerBatch>(this, from);
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<CaseProjection::Chunk>> CaseProjection::ProjectChunk(
    eventstore::Store* store, uint64_t from, size_t max_events) {
  auto chunk = std::make_unique<Chunk>();
  chunk->from = from;
  BatchProjector projector(&chunk->batch);
  absl::Status error;
  const eventstore::LogFilter filter = ProjectedStreams();
  ASSIGN_OR_RETURN(chunk->next,
                   store->ScanAll(from, filter, max_events, [&](const eventstore::EventView& view) {
                     error = projector.Add(view);
                     if (!error.ok()) return false;
                     ++chunk->count;
                     return true;
                   }));
  RETURN_IF_ERROR(error);
  return chunk;
}

[[nodiscard]] absl::StatusOr<uint64_t> CaseProjection::Commit(Chunk& chunk) {
  if (chunk.next == chunk.from) return 0;
  RETURN_IF_ERROR(disk_->Check(chunk.batch.GetDataSize()));
  RETURN_IF_ERROR(
      FromRocks(chunk.batch.Put(kCheckpointKey, BigEndian(chunk.next)), "write checkpoint"));
  RETURN_IF_ERROR(FromRocks(chunk.batch.Put(kFormatKey, kFormat), "write the format"));
  // No WAL: data and checkpoint live in the same atomic batch and memtable,
  // so a crash loses both together back to the last flush, and the
  // follower re-applies from that checkpoint. The log is the truth.
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &chunk.batch), "write projections"));
  applied_.fetch_add(chunk.count, std::memory_order_relaxed);
  checkpoint_.store(chunk.next, std::memory_order_release);
  return chunk.next - chunk.from;
}

[[nodiscard]] absl::Status CaseProjection::Rebuild(
    eventstore::Store* store, const std::function<void(uint64_t, uint64_t)>& progress) {
  RETURN_IF_ERROR(Clear());
  MutexLock apply_lock(&apply_mu_);
  const uint64_t end = store->CommittedEnd();
  if (end == 0) return absl::OkStatus();
  // The projecting thread stays at most two chunks ahead of the writes.
  struct Pipeline {
    Mutex mu;
    std::deque<absl::StatusOr<std::unique_ptr<Chunk>>> ready ABSL_GUARDED_BY(mu);
    bool stopped ABSL_GUARDED_BY(mu) = false;  // the writer gave up
    bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return ready.size() < 2 || stopped; }
    bool HasChunk() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !ready.empty(); }
  } pipeline;
  // Larger memtables while rebuilding: fewer, larger flushes.
  RETURN_IF_ERROR(
      FromRocks(db_->SetOptions({{"write_buffer_size", std::to_string(kRebuildWriteBufferBytes)}}),
                "enlarge the memtable for the rebuild"));
  // RocksDB's per-thread perf counters cost a thread-local access per
  // key; a rebuild touches millions and reads none of them.
  const rocksdb::PerfLevel perf_level = rocksdb::GetPerfLevel();
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  std::thread projector([&] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    for (uint64_t from = 0; from < end;) {
      absl::StatusOr<std::unique_ptr<Chunk>> chunk = ProjectChunk(store, from, kRebuildChunkEvents);
      const bool last = !chunk.ok() || (*chunk)->next == from || (*chunk)->next >= end;
      if (chunk.ok()) from = (*chunk)->next;
      MutexLock lock(&pipeline.mu);
      pipeline.mu.Await(absl::Condition(&pipeline, &Pipeline::HasRoom));
      if (pipeline.stopped) return;
      pipeline.ready.push_back(std::move(chunk));
      if (last) return;
    }
  });
  absl::Status status;
  while (true) {
    absl::StatusOr<std::unique_ptr<Chunk>> chunk;
    {
      MutexLock lock(&pipeline.mu);
      pipeline.mu.Await(absl::Condition(&pipeline, &Pipeline::HasChunk));
      chunk = std::move(pipeline.ready.front());
      pipeline.ready.pop_front();
    }
    absl::StatusOr<uint64_t> advanced = chunk.ok() ? Commit(**chunk) : chunk.status();
    if (!advanced.ok()) {
      status = advanced.status();
      break;
    }
    if (progress) progress(Checkpoint(), end);
    if (*advanced == 0 || Checkpoint() >= end) break;
  }
  {
    MutexLock lock(&pipeline.mu);
    pipeline.stopped = true;  // releases a projector still waiting for room
  }
  projector.join();
  rocksdb::SetPerfLevel(perf_level);
  absl::Status restored =
      FromRocks(db_->SetOptions({{"write_buffer_size", std::to_string(kWriteBufferBytes)}}),
                "restore the memtable size after the rebuild");
  return status.ok() ? restored : status;
}

uint64_t CaseProjection::MemoryBytes() const { return RocksDbMemoryBytes(db_.get()); }

[[nodiscard]] absl::StatusOr<std::unique_ptr<CaseProjection>> CaseProjection::Open(
    const std::string& path, uint64_t min_free_bytes, rocksdb::Env* env) {
  auto disk = std::make_unique<DiskSpaceGuard>(path, min_free_bytes, "the case projection");
  if (min_free_bytes > 0) RETURN_IF_ERROR(disk->CheckNow(min_free_bytes, "to open"));
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  rocksdb::Options options;
  options.create_if_missing = true;
  if (env != nullptr) options.env = env;
  // No LOG file: on a full disk its failed writer would trip an assertion.
  options.info_log = RocksDbServerLog("projections");
  // Memory: two memtables at most and a block cache of its own.
  options.max_write_buffer_number = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(16 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = kWriteBufferBytes;
  options.max_background_jobs = 2;
  options.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamPrefix>();
  // Flushes write uncompressed: the follower and a rebuild spend their CPU
  // on projecting, and compaction compresses what settles in deeper levels.
  options.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression,
                                   rocksdb::kSnappyCompression};
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, path, &db), "open projections"));
  std::unique_ptr<CaseProjection> p(new CaseProjection());
  p->db_.reset(db);
  p->disk_ = std::move(disk);
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kCheckpointKey, &value);
  if (s.ok()) {
    p->checkpoint_ = FromBigEndian(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read checkpoint");
  }
  std::string format;
  s = db->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read the format");
  p->out_of_date_ = p->checkpoint_ > 0 && format != kFormat;
  return p;
}

CaseProjection::~CaseProjection() {
  if (db_) db_->Close().PermitUncheckedError();
}

[[nodiscard]] absl::StatusOr<uint64_t> CaseProjection::CatchUp(eventstore::Store* store,
                                                               size_t max_events) {
  MutexLock lock(&apply_mu_);
  ASSIGN_OR_RETURN(std::unique_ptr<Chunk> chunk,
                   ProjectChunk(store, checkpoint_.load(), max_events));
  return Commit(*chunk);
}

[[nodiscard]] absl::Status CaseProjection::Clear() {
  MutexLock lock(&apply_mu_);
  // One range tombstone over every key (all keys start with a byte < 0xff).
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  RETURN_IF_ERROR(FromRocks(
      db_->DeleteRange(write_options, db_->DefaultColumnFamily(), "", std::string(1, '\xff')),
      "clear projections"));
  // The tombstone hides everything at once; dropping the files it covers
  // spares compaction from merging the old contents with the rebuilt ones.
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DeleteFilesInRange(db_.get(), db_->DefaultColumnFamily(), nullptr, nullptr),
      "drop the cleared projection files"));
  checkpoint_ = 0;
  out_of_date_ = false;  // empty: the next commit writes this version's format
  return absl::OkStatus();
}

[[nodiscard]] absl::Status CaseProjection::Scan(
    const std::string& prefix,
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    fn(it->key().ToStringView(), it->value().ToStringView());
  }
  return FromRocks(it->status(), "scan projections");
}

[[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> CaseProjection::StreamEvents(
    const std::string& stream, uint64_t from_revision) const {
  return RecordsUnder('s', stream, from_revision);
}

[[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> CaseProjection::AccessRecords(
    const std::string& stream, uint64_t from_revision) const {
  return RecordsUnder('a', stream, from_revision);
}

[[nodiscard]] absl::StatusOr<std::vector<eventstore::RecordedEvent>> CaseProjection::RecordsUnder(
    char index, const std::string& stream, uint64_t from_revision) const {
  std::vector<eventstore::RecordedEvent> out;
  const std::string prefix = absl::StrCat(absl::string_view(&index, 1), kSep, stream, kSep);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  storage::v1::ProjectedRecord record;
  for (it->Seek(prefix + BigEndian(from_revision)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a projected event cannot be read");
    }
    ASSIGN_OR_RETURN(eventstore::RecordedEvent e, FromProjected(record));
    out.push_back(std::move(e));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read projection"));
  return out;
}

[[nodiscard]] absl::StatusOr<std::vector<std::string>> CaseProjection::CasesIndexedBy(
    std::string_view index, const std::string& key) const {
  std::vector<std::string> out;
  const std::string prefix =
      absl::StrCat(absl::string_view(index.data(), index.size()), kSep, key, kSep);
  RETURN_IF_ERROR(Scan(prefix, [&](std::string_view k, std::string_view) {
    out.emplace_back(k.substr(prefix.size()));
  }));
  return out;
}

[[nodiscard]] absl::StatusOr<std::vector<std::string>> CaseProjection::CasesOfExpert(
    const std::string& expert_id) const {
  return CasesIndexedBy("x", expert_id);
}

[[nodiscard]] absl::StatusOr<std::vector<std::string>> CaseProjection::CasesOfEmployer(
    const std::string& employer_id) const {
  return CasesIndexedBy("e", employer_id);
}

[[nodiscard]] absl::StatusOr<std::vector<CaseProjection::CaseKey>> CaseProjection::AllCases()
    const {
  std::vector<CaseKey> out;
  RETURN_IF_ERROR(Scan(absl::StrCat("r", kSep), [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(2);
    size_t a = rest.find('\0');
    size_t b = rest.find('\0', a + 1);
    out.push_back({std::string(rest.substr(0, a)), std::string(rest.substr(a + 1, b - a - 1)),
                   std::string(rest.substr(b + 1))});
  }));
  return out;
}

[[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
CaseProjection::Dump() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key() == kCheckpointKey || it->key() == kFormatKey) continue;
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "dump projections"));
  return out;
}

}  // namespace duurzaam::projections
