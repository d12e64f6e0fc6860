// Internal: the on-disk encoding of keys and records, and the hash chain.
//
// Column families:
//   log      key: position (8 bytes, big-endian)        value: record (below)
//   streams  key: stream name, 0x00, revision (8 B BE)  value: position (8 B BE)
//   ids      key: event id (16 bytes)                   value: position (8 B BE)
// Record: u8 format, varint+stream, fixed64 revision, 16-byte id,
//         varint+type, fixed64 recorded-at, varint+data, varint+metadata,
//         32-byte hash.
// hash = SHA-256(domain tag, position, previous record's hash, the record
//                bytes before the hash). The first record's previous hash is
//                32 zero bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/types.h"

namespace duurzaam::eventstore::internal {

inline constexpr uint8_t kRecordFormat = 1;
inline constexpr size_t kHashSize = 32;

std::string PositionKey(uint64_t position);
uint64_t DecodePosition(std::string_view key);  // 8 bytes big-endian
std::string StreamKey(std::string_view stream, Revision revision);
std::string StreamKeyPrefix(std::string_view stream);  // stream name + 0x00

// Encodes a record without its hash; AppendHash completes it.
std::string EncodeRecordBody(std::string_view stream, Revision revision, const EventId& id,
                             std::string_view type, int64_t recorded_at_micros,
                             std::string_view data, std::string_view metadata);
// nullopt only when OpenSSL fails (no SHA-256 provider, out of memory).
std::optional<Hash> ChainHash(uint64_t position, const Hash& previous, std::string_view body);

// Decodes a full record (body + hash). Returns false if malformed.
bool DecodeRecord(std::string_view value, uint64_t position, EventView* out);
// The body bytes (everything before the hash) of an encoded record.
std::string_view RecordBody(std::string_view value);

Hash HashFromBytes(std::string_view bytes);
std::string_view HashBytes(const Hash& hash);

}  // namespace duurzaam::eventstore::internal
