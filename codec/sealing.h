// Erasable personal data at rest: the fields the schema marks `sealed`
// (placement_events.proto) are moved out of a stored event
// (duurzaam.storage.v1.StoredPlacementEvent) into its `sealed_fields` envelope, encrypted under the
// data key of the event's stream, and merged back on read. Destroying the stream's data key
// (crypto::DataKeyStore::Erase) erases them everywhere they are stored: the
// log, projections and backups hold only the envelope.
//
// Thread-safe (as the borrowed DataKeyStore is), except a sealer made by
// ForOneReader, which belongs to one thread.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "codec/sealer.h"
#include "crypto/aead.h"
#include "crypto/data_keys.h"
#include "duurzaam/storage/v1/placement_record.pb.h"
#include "eventstore/types.h"

namespace duurzaam::codec {

// The server's Sealer: envelopes under the per-case data keys.
class DataKeySealer final : public Sealer {
 public:
  // `keys` is borrowed and must outlive the sealer.
  explicit DataKeySealer(crypto::DataKeyStore* keys) : keys_(keys) {}

  [[nodiscard]] absl::Status Seal(std::string_view stream, const eventstore::EventId& id,
                                  storage::v1::StoredPlacementEvent* event) const override;
  [[nodiscard]] absl::Status Open(std::string_view stream, const eventstore::EventId& id,
                                  storage::v1::StoredPlacementEvent* event,
                                  bool* erased) const override;
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> OpenEnvelope(
      std::string_view stream, const eventstore::EventId& id,
      std::string_view envelope) const override;
  // Keeps a cipher context per data key (crypto::AeadOpener); erasures are
  // still seen at once (the key store is asked for every envelope).
  [[nodiscard]] std::unique_ptr<Sealer> ForOneReader() const override;

 private:
  crypto::DataKeyStore* keys_;
  std::unique_ptr<crypto::AeadOpener> opener_;  // set for one reader only
};

}  // namespace duurzaam::codec
