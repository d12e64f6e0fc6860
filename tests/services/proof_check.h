// What an auditor does client-side with the Audit service's answers:
// rebuild checkpoints and leaves from the returned records and verify proofs
// with the client-side verification library (verify/, independent of how
// the server made them).
#pragma once

#include <string>
#include <vector>

#include "codec/eventstore_codec.h"
#include "duurzaam/v1/audit.pb.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"
#include "verify/leaf.h"

namespace duurzaam::testing {

inline transparency::Hash ToHash(const std::string& bytes) {
  transparency::Hash h{};
  for (size_t i = 0; i < h.size() && i < bytes.size(); ++i) h[i] = bytes[i];
  return h;
}

inline std::vector<transparency::Hash> Path(
    const google::protobuf::RepeatedPtrField<std::string>& path) {
  std::vector<transparency::Hash> out;
  for (const std::string& h : path) out.push_back(ToHash(h));
  return out;
}

// The checkpoint a SignedCheckpoint claims (as a client rebuilds it).
inline transparency::Checkpoint FromProto(const v1::SignedCheckpoint& p) {
  transparency::Checkpoint c;
  c.origin = p.origin();
  c.tree_size = p.tree_size();
  c.root = ToHash(p.root_hash());
  c.timestamp_micros = codec::FromTimestamp(p.signed_at());
  return c;
}

// What an auditor checks: the leaf is computed from the returned record,
// and the path leads from it to the checkpoint's root.
[[nodiscard]] inline absl::Status VerifyEntry(const v1::InclusionProof& proof,
                                              const transparency::Hash& root) {
  auto record = codec::FromProto(proof.record());
  if (!record.ok()) return record.status();
  if (record->position != proof.position()) {
    return absl::DataLossError("the proof is for another position than its record");
  }
  return verify::VerifyRecordInclusion(*record, proof.tree_size(), Path(proof.path()), root);
}

}  // namespace duurzaam::testing
