// The seam between mapping and key custody: what codec::Encode and
// codec::Decode call to seal and open the personal data of a stored event.
// The server's implementation is codec::DataKeySealer (sealing.h, over the
// per-case data keys); a client that maps events links no crypto at all.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "duurzaam/storage/v1/placement_record.pb.h"
#include "eventstore/types.h"

namespace duurzaam::codec {

class Sealer {
 public:
  virtual ~Sealer() = default;

  // Moves every set `sealed` field of `event` into event->sealed_fields, an
  // envelope bound to `stream` and `id` (deterministic: the same event
  // sealed twice gives the same bytes). An event without sealed content is
  // left as it is. FAILED_PRECONDITION (CASE_ERASED) for a stream whose
  // personal data was erased: it takes no new events.
  [[nodiscard]] virtual absl::Status Seal(std::string_view stream, const eventstore::EventId& id,
                                          storage::v1::StoredPlacementEvent* event) const = 0;

  // The inverse: merges the opened fields back and clears sealed_fields. If
  // the stream was erased the sealed fields stay empty and *erased is set.
  // DATA_LOSS for an envelope that is damaged or belongs to another stream
  // or event.
  [[nodiscard]] virtual absl::Status Open(std::string_view stream, const eventstore::EventId& id,
                                          storage::v1::StoredPlacementEvent* event,
                                          bool* erased) const = 0;

  // The plaintext of a stored event's sealed_fields envelope (a
  // StoredPlacementEvent holding only those fields); nullopt when the
  // stream was erased. DATA_LOSS as for Open.
  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> OpenEnvelope(
      std::string_view stream, const eventstore::EventId& id, std::string_view envelope) const = 0;

  // A sealer for one reader's bounded run of reads on one thread (a round
  // of Cases.Pull): it may keep what it opens with (cipher contexts) until
  // it is dropped, which wipes them. nullptr: this sealer keeps nothing
  // worth a copy; use it as it is.
  [[nodiscard]] virtual std::unique_ptr<Sealer> ForOneReader() const { return nullptr; }
};

// True when a `sealed` field of `message` is set (recursively).
bool HasSealed(const google::protobuf::Message& message);

// Clears, recursively, every `sealed` field of `message`; returns how many
// were set. Used when no key may be used and for erased streams.
int ClearSealed(google::protobuf::Message* message);

}  // namespace duurzaam::codec
