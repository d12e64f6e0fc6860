// Erasable personal data at rest: the fields the schema marks `sealed`
// (placement_events.proto) are moved out of a stored event
// (duurzaam.storage.v1.StoredPlacementEvent) into its `sealed_fields` envelope, encrypted under the
// data key of the event's stream, and merged back on read. Destroying the stream's data key
// (crypto::DataKeyStore::Erase) erases them everywhere they are stored: the
// log, projections and backups hold only the envelope.
//
// Thread-safe (as the borrowed DataKeyStore is).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "crypto/data_keys.h"
#include "duurzaam/storage/v1/placement_record.pb.h"
#include "eventstore/types.h"

namespace duurzaam::codec {

class Sealer {
 public:
  // `keys` is borrowed and must outlive the Sealer.
  explicit Sealer(crypto::DataKeyStore* keys) : keys_(keys) {}

  // Moves every set `sealed` field of `event` into event->sealed_fields, an
  // envelope bound to `stream` and `id` (deterministic: the same event sealed
  // twice gives the same bytes). An event without sealed content is left as
  // it is. A stream whose personal data was erased takes no new events:
  // FAILED_PRECONDITION (crypto::IsErased) naming the erasure day.
  [[nodiscard]] absl::Status Seal(std::string_view stream, const eventstore::EventId& id,
                                  storage::v1::StoredPlacementEvent* event) const;

  // The inverse: merges the opened fields back and clears sealed_fields. If
  // the stream was erased the sealed fields stay empty and *erased is set.
  // DATA_LOSS for an envelope that is damaged or belongs to another stream
  // or event.
  [[nodiscard]] absl::Status Open(std::string_view stream, const eventstore::EventId& id,
                                  storage::v1::StoredPlacementEvent* event, bool* erased) const;

 private:
  crypto::DataKeyStore* keys_;
};

// Clears, recursively, every `sealed` field of `message`; returns how many
// were set. Used when no key may be used (reads without a Sealer) and for
// erased streams.
int ClearSealed(google::protobuf::Message* message);

}  // namespace duurzaam::codec
