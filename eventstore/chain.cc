#include "eventstore/chain.h"

#include "absl/strings/str_cat.h"
#include "eventstore/record_codec.h"

namespace duurzaam::eventstore {

std::optional<Hash> RecordHash(const RecordedEvent& record, const Hash& previous) {
  return internal::ChainHash(
      record.position, previous,
      internal::EncodeRecordBody(record.stream, record.revision, record.id, record.type,
                                 record.recorded_at_micros, record.data, record.metadata));
}

std::optional<Hash> RecordHash(const EventView& record, const Hash& previous) {
  return internal::ChainHash(
      record.position, previous,
      internal::EncodeRecordBody(record.stream, record.revision,
                                 EventId::FromBytes(record.id_bytes), record.type,
                                 record.recorded_at_micros, record.data, record.metadata));
}

[[nodiscard]] absl::Status VerifyLink(const RecordedEvent& record, const Hash& previous) {
  const std::optional<Hash> expected = RecordHash(record, previous);
  if (!expected.has_value()) return absl::InternalError("SHA-256 is not available");
  if (*expected != record.hash) {
    return absl::DataLossError(absl::StrCat(
        "the record at position ", record.position, " (", record.stream, " revision ",
        record.revision, ") does not match its chain hash: it or a record before it was changed"));
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::eventstore
