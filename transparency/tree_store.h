// A persistent RFC 6962 Merkle tree over an append-only sequence of leaf
// hashes, kept in its own RocksDB directory.
//
// The store keeps every leaf hash and the hash of every complete aligned
// subtree (level l, index i covers leaves [i*2^l, (i+1)*2^l)). Any root or
// proof for any past size is assembled from those in O(log^2 n) lookups.
//
// Thread safety: one appender at a time (concurrent Append calls are
// serialised) and any number of concurrent readers. A reader sees either all
// of an append or none of it; every size <= Size() can be read while another
// thread appends.
//
// Durability: the tree is derived data. Append writes one atomic RocksDB
// batch (leaves, new nodes and the new size together) without fsync, so a
// machine crash may lose the last appends but never leaves a half-applied
// one. After a restart, Size() says where the owner must resume appending.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transparency/merkle.h"

namespace rocksdb {
class Env;
}

namespace duurzaam::transparency {

class TreeStore {
 public:
  // Opens the tree at `path`, creating an empty one if the directory holds
  // none. Errors: FAILED_PRECONDITION if the directory holds something else,
  // DATA_LOSS if the stored tree is inconsistent, UNAVAILABLE on I/O errors
  // (e.g. another process holds it open).
  // `min_free_bytes`: the free disk space it keeps (DiskSpaceGuard): below
  // it Append is refused RESOURCE_EXHAUSTED.
  // `env`: the environment RocksDB reads and writes through (nullptr: the
  // default).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TreeStore>> Open(const std::string& path,
                                                                       uint64_t min_free_bytes = 0,
                                                                       rocksdb::Env* env = nullptr);

  virtual ~TreeStore() = default;

  // Appends leaves, already hashed with LeafHash(), in order. All or
  // nothing: on error the tree is unchanged (UNAVAILABLE / RESOURCE_EXHAUSTED
  // on write failure). An empty vector is a no-op.
  [[nodiscard]] virtual absl::Status Append(const std::vector<Hash>& leaf_hashes) = 0;

  // Number of leaves.
  virtual uint64_t Size() const = 0;

  // Memory RocksDB holds for the tree: memtables and the block cache.
  virtual uint64_t MemoryBytes() const = 0;

  // MTH of the first `tree_size` leaves, for any tree_size <= Size();
  // EmptyRoot() for 0. OUT_OF_RANGE if tree_size > Size().
  [[nodiscard]] virtual absl::StatusOr<Hash> Root(uint64_t tree_size) const = 0;

  // MTH(D[begin:end]) (RFC 6962 §2.1) of leaves [begin, end), for
  // begin < end <= Size(). INVALID_ARGUMENT if begin >= end, OUT_OF_RANGE if
  // end > Size(). Costs O(log n) lookups when begin is a multiple of
  // bit_ceil(end - begin) (every range in the RFC recursions is), and up to
  // O(end - begin) otherwise.
  [[nodiscard]] virtual absl::StatusOr<Hash> SubtreeHash(uint64_t begin, uint64_t end) const = 0;

  // The audit path PATH(index, D[tree_size]) of RFC 6962 §2.1.1.
  // OUT_OF_RANGE if tree_size > Size(); INVALID_ARGUMENT if
  // index >= tree_size.
  [[nodiscard]] virtual absl::StatusOr<std::vector<Hash>> InclusionProof(
      uint64_t index, uint64_t tree_size) const = 0;

  // PROOF(size1, D[size2]) of RFC 6962 §2.1.2; empty when size1 == 0 or
  // size1 == size2 (what VerifyConsistency expects then). OUT_OF_RANGE if
  // size2 > Size(); INVALID_ARGUMENT if size1 > size2.
  [[nodiscard]] virtual absl::StatusOr<std::vector<Hash>> ConsistencyProof(
      uint64_t size1, uint64_t size2) const = 0;

  // The leaf hash at `index`. OUT_OF_RANGE if index >= Size().
  [[nodiscard]] virtual absl::StatusOr<Hash> LeafHashAt(uint64_t index) const = 0;
};

}  // namespace duurzaam::transparency
