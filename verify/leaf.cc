#include "verify/leaf.h"

namespace duurzaam::verify {
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

transparency::Hash RecordLeafHash(const eventstore::RecordedEvent& record) {
  return transparency::LeafHash(LeafData(record));
}

[[nodiscard]] absl::Status VerifyRecordInclusion(const eventstore::RecordedEvent& record,
                                                 uint64_t tree_size,
                                                 const std::vector<transparency::Hash>& path,
                                                 const transparency::Hash& root) {
  return transparency::VerifyInclusion(RecordLeafHash(record), record.position, tree_size, path,
                                       root);
}

}  // namespace duurzaam::verify
