// Verifies a whole log as it is read, record by record, without trusting
// whoever served it: each record's chain hash (eventstore/chain.h) and the
// RFC 6962 Merkle tree over the records' leaves (verify/leaf.h), kept as a
// compact range (the roots of the perfect subtrees the leaves so far make,
// at most 64), so the root after any number of records can be compared with
// a signed checkpoint. The state is a few hundred bytes and can be saved and
// resumed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eventstore/types.h"
#include "transparency/merkle.h"

namespace duurzaam::verify {

class LogVerifier {
 public:
  struct State {
    uint64_t size = 0;                         // records verified: positions 0 .. size-1
    eventstore::Hash chain_head{};             // the chain hash of record size-1 (zeros at 0)
    std::vector<transparency::Hash> frontier;  // perfect subtree roots, largest first
    // A line-based text form ("duurzaam.logverify.v1", size, head, frontier).
    std::string Serialize() const;
    [[nodiscard]] static absl::StatusOr<State> Parse(std::string_view text);
  };

  LogVerifier() = default;
  explicit LogVerifier(State state) : state_(std::move(state)) {}

  // Verifies the next record: its position must be size(), its chain hash
  // must follow from the previous one. DATA_LOSS naming the position, the
  // stream and revision, and what is wrong; nothing changes then.
  [[nodiscard]] absl::Status Add(const eventstore::EventView& record);

  uint64_t size() const { return state_.size; }
  // The Merkle root of the records so far (EmptyRoot() for none).
  transparency::Hash Root() const;
  const State& state() const { return state_; }

 private:
  State state_;
};

}  // namespace duurzaam::verify
