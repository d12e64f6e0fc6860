// The engine's chain verifier: recomputes the hash chain over a range of
// the log and names the first broken link.
#include "common/clock.h"
#include "common/status_macros.h"
#include "eventstore/errors.h"
#include "eventstore/rocksdb_store_internal.h"
#include "eventstore/validation.h"

namespace duurzaam::eventstore::internal {

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

}  // namespace duurzaam::eventstore::internal
