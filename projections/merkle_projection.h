// The verifiable history of the global log: an RFC 6962 Merkle tree with
// one leaf per log record, leaf i = the record at position i. Kept in its
// own transparency::TreeStore under <data>/merkle and maintained from the
// committed log by a follower thread, like the case projection. The tree is
// derived data: it can be rebuilt from the log, and once a checkpoint over
// it is signed, a record that later changes on disk no longer matches its
// leaf (its inclusion proof fails). The LogFollower feeds it (a Projection,
// projection.h): the tree's size is its checkpoint.
//
// Leaf data: verify/leaf.h (verify::LeafData), shared with verifiers.
//
// Thread-safe: one appender at a time; readers may run concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "projections/projection.h"
#include "transparency/merkle.h"
#include "transparency/tree_store.h"
#include "verify/leaf.h"

namespace duurzaam::projections {

class MerkleProjection final : public Projection {
 public:
  // Opens (or creates) the tree at `path`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MerkleProjection>> Open(
      const std::string& path, uint64_t min_free_bytes = 0, rocksdb::Env* env = nullptr);
  ~MerkleProjection() override = default;

  // Projection: one leaf per record, every record of the log.
  // FAILED_PRECONDITION when the tree is larger than the log.
  std::string_view Name() const override { return "Merkle tree"; }
  uint64_t Checkpoint() const override { return tree_->Size(); }
  uint64_t MemoryBytes() const { return tree_->MemoryBytes(); }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t log_end) override;

  // Checks at open that the tree is this log's: no larger than the log, and
  // its last leaf is the leaf of the log's record there. A tree that fails
  // (another log's, or a log replaced under it) is refused for good: every
  // NewBatch fails with the reason, so the Audit service signs nothing
  // over it, until the tree is moved away and rebuilt.
  [[nodiscard]] absl::Status CheckAgainst(eventstore::Store* store);

  // The tree (see transparency::TreeStore for errors).
  uint64_t Size() const { return tree_->Size(); }
  [[nodiscard]] absl::StatusOr<transparency::Hash> Root(uint64_t tree_size) const {
    return tree_->Root(tree_size);
  }
  [[nodiscard]] absl::StatusOr<std::vector<transparency::Hash>> InclusionProof(
      uint64_t index, uint64_t tree_size) const {
    return tree_->InclusionProof(index, tree_size);
  }
  [[nodiscard]] absl::StatusOr<std::vector<transparency::Hash>> ConsistencyProof(
      uint64_t size1, uint64_t size2) const {
    return tree_->ConsistencyProof(size1, size2);
  }
  [[nodiscard]] absl::StatusOr<transparency::Hash> LeafHashAt(uint64_t index) const {
    return tree_->LeafHashAt(index);
  }

 private:
  MerkleProjection() = default;
  class LeafBatch;

  void Refuse(const std::string& reason);

  std::unique_ptr<transparency::TreeStore> tree_;
  Mutex apply_mu_;  // one appender at a time
  mutable Mutex foreign_mu_;
  std::string foreign_ ABSL_GUARDED_BY(foreign_mu_);  // why the tree is refused ("" = not)
};

}  // namespace duurzaam::projections
