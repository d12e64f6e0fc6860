#include "projections/merkle_projection.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "verify/leaf.h"

namespace duurzaam::projections {

using verify::LeafData;

[[nodiscard]] absl::StatusOr<std::unique_ptr<MerkleProjection>> MerkleProjection::Open(
    const std::string& path, uint64_t min_free_bytes, rocksdb::Env* env) {
  ASSIGN_OR_RETURN(std::unique_ptr<transparency::TreeStore> tree,
                   transparency::TreeStore::Open(path, min_free_bytes, env));
  std::unique_ptr<MerkleProjection> p(new MerkleProjection());
  p->tree_ = std::move(tree);
  return p;
}

// The leaves of one round, appended together.
class MerkleProjection::LeafBatch final : public Projection::Batch {
 public:
  LeafBatch(MerkleProjection* merkle, uint64_t from)
      : merkle_(merkle), from_(from), expected_(from) {}

  [[nodiscard]] absl::Status Add(const eventstore::EventView& record) override {
    if (record.position != expected_) {
      return absl::DataLossError(
          absl::StrCat("log position ", record.position, " where ", expected_, " was expected"));
    }
    leaves_.push_back(transparency::LeafHash(LeafData(record)));
    ++expected_;
    return absl::OkStatus();
  }

  [[nodiscard]] absl::Status Commit(uint64_t next) override {
    if (next != expected_) {
      return absl::DataLossError(absl::StrCat("the log from position ", from_, " to ", next,
                                              " gave ", leaves_.size(), " records"));
    }
    MutexLock lock(&merkle_->apply_mu_);
    if (merkle_->tree_->Size() != from_) {
      return absl::AbortedError(
          absl::StrCat("the Merkle tree moved from ", from_, " leaves while a batch was made"));
    }
    if (leaves_.empty()) return absl::OkStatus();
    return merkle_->tree_->Append(leaves_);
  }

 private:
  MerkleProjection* merkle_;
  const uint64_t from_;
  uint64_t expected_;
  std::vector<transparency::Hash> leaves_;
};

void MerkleProjection::Refuse(const std::string& reason) {
  MutexLock lock(&foreign_mu_);
  if (foreign_.empty()) foreign_ = reason;
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<Projection::Batch>> MerkleProjection::NewBatch(
    uint64_t log_end) {
  const uint64_t from = tree_->Size();
  if (from > log_end) {
    Refuse(absl::StrCat("the Merkle tree has ", from, " leaves but the log only ", log_end,
                        " records: is it another log's tree?"));
  }
  {
    MutexLock lock(&foreign_mu_);
    if (!foreign_.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          foreign_, " Move the merkle folder away: duurzaamd rebuilds the tree from the log"));
    }
  }
  return std::make_unique<LeafBatch>(this, from);
}

[[nodiscard]] absl::Status MerkleProjection::CheckAgainst(eventstore::Store* store) {
  const uint64_t size = tree_->Size();
  if (size == 0) return absl::OkStatus();
  if (size > store->CommittedEnd()) {
    Refuse(absl::StrCat("the Merkle tree has ", size, " leaves but the log only ",
                        store->CommittedEnd(), " records: is it another log's tree?"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(eventstore::RecordedEvent last, store->ReadAt(size - 1));
  ASSIGN_OR_RETURN(transparency::Hash leaf, tree_->LeafHashAt(size - 1));
  if (leaf != verify::RecordLeafHash(last)) {
    Refuse(absl::StrCat("the Merkle tree's leaf ", size - 1,
                        " is not the leaf of the log's record there: the tree is another "
                        "log's, or the log was replaced under it."));
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::projections
