// The log's hash chain, for verifiers outside the engine (the auditor's
// tool checks a log it read over the API without trusting the server).
//
//   hash(record at position p) = SHA-256("duurzaam.log.v1" | p as u64
//       big-endian | hash of the record at p-1 (32 zero bytes for p = 0) |
//       record body)
//   record body = u8 format (1) | varint length + stream | revision as u64
//       big-endian | the 16 id bytes | varint length + type | recorded-at
//       micros as u64 big-endian | varint length + data | varint length +
//       metadata
//
// Part of the client-linkable types library (no RocksDB).
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore {

// The chain hash `record` must carry when `previous` is the hash of the
// record before it. nullopt only when OpenSSL fails.
std::optional<Hash> RecordHash(const RecordedEvent& record, const Hash& previous);
// The same for a viewed record (id_bytes: the 16 id bytes).
std::optional<Hash> RecordHash(const EventView& record, const Hash& previous);

// OK when record.hash is RecordHash(record, previous); DATA_LOSS naming the
// position otherwise.
[[nodiscard]] absl::Status VerifyLink(const RecordedEvent& record, const Hash& previous);

}  // namespace duurzaam::eventstore
