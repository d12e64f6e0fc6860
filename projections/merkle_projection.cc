#include "projections/merkle_projection.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace duurzaam::projections {
namespace {

constexpr char kLeafTag[] = "duurzaam.leaf.v1";

void PutU64(uint64_t v, std::string* out) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutU64(bytes.size(), out);
  out->append(bytes);
}

std::string Encode(uint64_t position, std::string_view stream, int64_t revision,
                   std::string_view id_bytes, std::string_view type, int64_t recorded_at_micros,
                   std::string_view data, std::string_view metadata, std::string_view hash) {
  std::string out;
  out.reserve(128 + stream.size() + type.size() + data.size() + metadata.size());
  PutBytes(kLeafTag, &out);
  PutU64(position, &out);
  PutBytes(stream, &out);
  PutU64(static_cast<uint64_t>(revision), &out);
  // Fixed sizes; pad or cut defensively so the layout never shifts.
  std::string id(id_bytes.substr(0, 16));
  id.resize(16, '\0');
  out.append(id);
  PutBytes(type, &out);
  PutU64(static_cast<uint64_t>(recorded_at_micros), &out);
  PutBytes(data, &out);
  PutBytes(metadata, &out);
  std::string h(hash.substr(0, 32));
  h.resize(32, '\0');
  out.append(h);
  return out;
}

}  // namespace

std::string LeafData(const eventstore::RecordedEvent& r) {
  return Encode(r.position, r.stream, r.revision, r.id.Bytes(), r.type, r.recorded_at_micros,
                r.data, r.metadata,
                std::string_view(reinterpret_cast<const char*>(r.hash.data()), r.hash.size()));
}

std::string LeafData(const eventstore::EventView& v) {
  return Encode(v.position, v.stream, v.revision, v.id_bytes, v.type, v.recorded_at_micros, v.data,
                v.metadata, v.hash);
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<MerkleProjection>> MerkleProjection::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<transparency::TreeStore> tree,
                   transparency::TreeStore::Open(path));
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

[[nodiscard]] absl::StatusOr<std::unique_ptr<Projection::Batch>> MerkleProjection::NewBatch(
    uint64_t log_end) {
  const uint64_t from = tree_->Size();
  if (from > log_end) {
    return absl::FailedPreconditionError(absl::StrCat("the Merkle tree has ", from,
                                                      " leaves but the log only ", log_end,
                                                      " records: is it another log's tree?"));
  }
  return std::make_unique<LeafBatch>(this, from);
}

}  // namespace duurzaam::projections
