#include "projections/case_projection.h"

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace duurzaam::projections {
namespace {

// Keys (parts joined by NUL: ids never contain it):
//   "p"                                  checkpoint (u64 BE)
//   "s\0<stream>\0<revision u64 BE>"     projected event of a case/employer stream
//   "x\0<expert>\0<case>"                the expert is in the case team
//   "r\0<region>\0<group>\0<case>"       the case's region and target group
constexpr char kCheckpointKey[] = "p";
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

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

absl::Status CaseProjection::Project(const eventstore::EventView& view, const Emit& emit) {
  v1::RecordedEvent projected;
  codec::ToProto(view, &projected);
  const std::string stream(view.stream);
  const bool on_case = stream.rfind("case-", 0) == 0;
  // Events are kept byte for byte as stored (personal data stays sealed;
  // older schema versions are upcast when read, by codec::Decode). Only
  // what feeds an index is decoded, without opening sealed fields.
  if (on_case && (view.type == "CaseOpened" || view.type == "TeamMemberAdded" ||
                  view.type == "TeamMemberRemoved")) {
    ASSIGN_OR_RETURN(domain::Event event, codec::Decode(view.ToOwned()));
    std::string case_id = stream.substr(5);
    if (const auto* opened = std::get_if<domain::CaseOpened>(&event.body)) {
      emit(true, absl::StrCat("r", kSep, opened->region, kSep, opened->target_group, kSep, case_id),
           "");
      // The expert who opens a case is on its team (domain::Apply).
      if (event.recorded_by.role == domain::Role::kExpert) {
        emit(true, absl::StrCat("x", kSep, event.recorded_by.id, kSep, case_id), "");
      }
    } else if (const auto* added = std::get_if<domain::TeamMemberAdded>(&event.body)) {
      emit(true, absl::StrCat("x", kSep, added->expert_id, kSep, case_id), "");
    } else if (const auto* removed = std::get_if<domain::TeamMemberRemoved>(&event.body)) {
      emit(false, absl::StrCat("x", kSep, removed->expert_id, kSep, case_id), "");
    }
  }
  emit(true, absl::StrCat("s", kSep, stream, kSep, BigEndian(view.revision)),
       projected.SerializeAsString());
  return absl::OkStatus();
}

absl::Status CaseProjection::Rebuild(eventstore::Store* store,
                                     const std::function<void(uint64_t, uint64_t)>& progress) {
  RETURN_IF_ERROR(Clear());
  const uint64_t end = store->CommittedEnd();
  while (Checkpoint() < end) {
    ASSIGN_OR_RETURN(uint64_t advanced, CatchUp(store, 100000));
    if (progress) progress(Checkpoint(), end);
    if (advanced == 0) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CaseProjection>> CaseProjection::Open(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 32 << 20;
  options.max_background_jobs = 2;
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, path, &db), "open projections"));
  std::unique_ptr<CaseProjection> p(new CaseProjection());
  p->db_.reset(db);
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kCheckpointKey, &value);
  if (s.ok()) {
    p->checkpoint_ = FromBigEndian(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read checkpoint");
  }
  return p;
}

CaseProjection::~CaseProjection() {
  Stop();
  if (db_) db_->Close().PermitUncheckedError();
}

absl::StatusOr<uint64_t> CaseProjection::CatchUp(eventstore::Store* store, size_t max_events) {
  absl::MutexLock lock(&apply_mu_);
  const uint64_t from = checkpoint_.load();
  rocksdb::WriteBatch batch;
  absl::Status error;
  uint64_t count = 0;
  eventstore::LogFilter filter{{"case-", "employer-"}, {}};
  auto next = store->ScanAll(from, filter, max_events, [&](const eventstore::EventView& view) {
    error = Project(view, [&](bool put, std::string key, std::string value) {
      if (put) {
        batch.Put(key, value);
      } else {
        batch.Delete(key);
      }
    });
    if (!error.ok()) return false;
    ++count;
    return true;
  });
  RETURN_IF_ERROR(error);
  if (!next.ok()) return next.status();
  if (*next == from) return 0;
  batch.Put(kCheckpointKey, BigEndian(*next));
  // No WAL: data and checkpoint live in the same atomic batch and memtable,
  // so a crash loses both together back to the last flush, and the
  // follower re-applies from that checkpoint. The log is the truth.
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &batch), "write projections"));
  applied_.fetch_add(count, std::memory_order_relaxed);
  absl::MutexLock wait_lock(&wait_mu_);
  checkpoint_.store(*next, std::memory_order_release);
  wait_cv_.SignalAll();
  return *next - from;
}

void CaseProjection::Start(eventstore::Store* store) {
  stop_ = false;
  follower_ = std::thread([this, store] {
    while (!stop_.load()) {
      absl::StatusOr<uint64_t> advanced = CatchUp(store);
      if (!advanced.ok()) {
        std::fprintf(stderr, "duurzaamd: projection stopped at position %llu: %s\n",
                     static_cast<unsigned long long>(Checkpoint()),
                     std::string(advanced.status().message()).c_str());
        return;
      }
      if (*advanced == 0) store->WaitForCommit(Checkpoint(), absl::Milliseconds(200));
    }
  });
}

void CaseProjection::Stop() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

bool CaseProjection::WaitUntil(uint64_t position, absl::Duration timeout) {
  absl::MutexLock lock(&wait_mu_);
  absl::Time deadline = absl::Now() + timeout;
  while (checkpoint_.load(std::memory_order_acquire) < position) {
    if (wait_cv_.WaitWithDeadline(&wait_mu_, deadline)) break;
  }
  return checkpoint_.load(std::memory_order_acquire) >= position;
}

absl::Status CaseProjection::Clear() {
  absl::MutexLock lock(&apply_mu_);
  // One range tombstone over every key (all keys start with a byte < 0xff).
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  RETURN_IF_ERROR(FromRocks(
      db_->DeleteRange(write_options, db_->DefaultColumnFamily(), "", std::string(1, '\xff')),
      "clear projections"));
  absl::MutexLock wait_lock(&wait_mu_);
  checkpoint_ = 0;
  return absl::OkStatus();
}

absl::Status CaseProjection::Scan(
    const std::string& prefix,
    const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    fn(it->key().ToStringView(), it->value().ToStringView());
  }
  return FromRocks(it->status(), "scan projections");
}

absl::StatusOr<std::vector<v1::RecordedEvent>> CaseProjection::StreamEvents(
    const std::string& stream, uint64_t from_revision) const {
  std::vector<v1::RecordedEvent> out;
  const std::string prefix = absl::StrCat("s", kSep, stream, kSep);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix + BigEndian(from_revision)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    out.emplace_back();
    if (!out.back().ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a projected event cannot be read");
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read projection"));
  return out;
}

absl::StatusOr<std::vector<std::string>> CaseProjection::CasesOfExpert(
    const std::string& expert_id) const {
  std::vector<std::string> out;
  std::string prefix = absl::StrCat("x", kSep, expert_id, kSep);
  RETURN_IF_ERROR(Scan(prefix, [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(prefix.size()));
  }));
  return out;
}

absl::StatusOr<std::vector<CaseProjection::CaseKey>> CaseProjection::AllCases() const {
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

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> CaseProjection::Dump() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key() == kCheckpointKey) continue;
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "dump projections"));
  return out;
}

}  // namespace duurzaam::projections
