// The engine's read path: stream heads and reads, log scans, reads by
// position and waits for commits; readers see only the committed log.
#include "common/clock.h"
#include "common/status_macros.h"
#include "eventstore/errors.h"
#include "eventstore/rocksdb_store_internal.h"
#include "eventstore/validation.h"

namespace duurzaam::eventstore::internal {

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
  if (direction == Direction::kForwards) {
    // A stream's revisions are dense: when `from` is not there (or not yet
    // committed), nothing after it is. One point lookup answers the common
    // "anything new?" without building an iterator.
    std::string first;
    absl::Status s =
        GetRaw(streams_, internal::StreamKey(stream, std::max<Revision>(from, 0)), &first);
    if (absl::IsNotFound(s)) return out;
    RETURN_IF_ERROR(s);
    if (DecodePosition(first) >= end) return out;
  }
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

}  // namespace duurzaam::eventstore::internal
