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

MerkleProjection::~MerkleProjection() { Stop(); }

[[nodiscard]] absl::StatusOr<uint64_t> MerkleProjection::CatchUp(eventstore::Store* store,
                                                                 size_t max_events) {
  MutexLock lock(&apply_mu_);
  const uint64_t from = tree_->Size();
  if (from > store->CommittedEnd()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the Merkle tree has ", from, " leaves but the log only ",
                     store->CommittedEnd(), " records: is it another log's tree?"));
  }
  std::vector<transparency::Hash> leaves;
  uint64_t expected = from;
  absl::Status error;
  auto next = store->ScanAll(
      from, eventstore::LogFilter{}, max_events, [&](const eventstore::EventView& view) {
        if (view.position != expected) {
          error = absl::DataLossError(
              absl::StrCat("log position ", view.position, " where ", expected, " was expected"));
          return false;
        }
        leaves.push_back(transparency::LeafHash(LeafData(view)));
        ++expected;
        return true;
      });
  RETURN_IF_ERROR(error);
  if (!next.ok()) return next.status();
  if (leaves.empty()) return 0;
  RETURN_IF_ERROR(tree_->Append(leaves));
  MutexLock wait_lock(&wait_mu_);
  wait_cv_.SignalAll();
  return leaves.size();
}

void MerkleProjection::Start(eventstore::Store* store) {
  stop_ = false;
  follower_ = std::thread([this, store] {
    while (!stop_.load()) {
      absl::StatusOr<uint64_t> advanced = CatchUp(store);
      if (!advanced.ok()) {
        LogLine(absl::StrCat("Merkle tree stopped at ", Size(),
                             " leaves: ", advanced.status().message()));
        return;
      }
      if (*advanced == 0) store->WaitForCommit(Size(), absl::Milliseconds(200));
    }
  });
}

void MerkleProjection::Stop() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

bool MerkleProjection::WaitUntil(uint64_t size, absl::Duration timeout) {
  MutexLock lock(&wait_mu_);
  absl::Time deadline = absl::Now() + timeout;
  while (tree_->Size() < size) {
    if (wait_cv_.WaitWithDeadline(&wait_mu_, deadline)) break;
  }
  return tree_->Size() >= size;
}

}  // namespace duurzaam::projections
