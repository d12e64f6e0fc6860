// The Merkle leaf of a log record, version 1: what the server's tree hashes
// and what a verifier recomputes from a record it was served. Every
// variable-length field is preceded by its length as u64 big-endian;
// integers are fixed 8-byte big-endian (signed ones as two's complement):
//
//   len | "duurzaam.leaf.v1"       the domain tag
//   position                 u64   the leaf index / global log position
//   len | stream
//   revision                 i64
//   id                       16 bytes, the raw event id
//   len | type
//   recorded_at_micros       i64
//   len | data                     as stored (sensitive fields encrypted)
//   len | metadata
//   hash                     32 bytes, the record's chain hash
//
// leaf hash = transparency::LeafHash(LeafData(record))
//           = SHA-256(0x00 || LeafData(record)).
// (audit.proto documents the same bytes for clients in other languages.)
#pragma once

#include <string>

#include "eventstore/types.h"
#include "transparency/merkle.h"

namespace duurzaam::verify {

// The canonical leaf data of a record. Both overloads give identical bytes
// for the same record.
std::string LeafData(const eventstore::RecordedEvent& record);
std::string LeafData(const eventstore::EventView& record);

// transparency::LeafHash(LeafData(record)).
transparency::Hash RecordLeafHash(const eventstore::RecordedEvent& record);

// OK when `record` is leaf record.position of the tree of `tree_size`
// leaves with `root`, by the audit path `path` (RFC 6962 inclusion).
[[nodiscard]] absl::Status VerifyRecordInclusion(const eventstore::RecordedEvent& record,
                                                 uint64_t tree_size,
                                                 const std::vector<transparency::Hash>& path,
                                                 const transparency::Hash& root);

}  // namespace duurzaam::verify
