// Merkle tree hashing and proof verification as defined by RFC 6962 §2.1
// and RFC 9162 §2.1 (Certificate Transparency), with SHA-256.
//
// Pure functions, safe to call from any thread. Leaves are opaque byte
// strings; this file knows nothing about what they encode.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace duurzaam::transparency {

// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
using Hash = std::array<uint8_t, 32>;

// Lower-case hex of the 32 bytes (64 characters).
std::string HexOf(const Hash& hash);

// Parses 64 hex digits (either case). INVALID_ARGUMENT otherwise.
[[nodiscard]] absl::StatusOr<Hash> HashFromHex(std::string_view hex);

// SHA-256(0x00 || leaf_data): the hash of one leaf.
Hash LeafHash(std::string_view leaf_data);

// SHA-256(0x01 || left || right): the hash of an interior node.
Hash NodeHash(const Hash& left, const Hash& right);

// SHA-256(""): the root of the tree with no leaves.
Hash EmptyRoot();

// Checks that `proof` (an audit path, RFC 9162 §2.1.3) proves that the leaf
// with hash `leaf_hash` sits at `index` in the tree of `tree_size` leaves
// whose root is `root`. Follows the verification algorithm of RFC 9162
// §2.1.3.2. Errors:
//  INVALID_ARGUMENT  index >= tree_size, or the proof does not have the one
//                    length a proof for (index, tree_size) has (the message
//                    says which length was expected)
//  DATA_LOSS         the proof computes another root than `root` (the
//                    message names index, size and both roots in hex)
[[nodiscard]] absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index,
                                           uint64_t tree_size, const std::vector<Hash>& proof,
                                           const Hash& root);

// Checks that `proof` (RFC 9162 §2.1.4) proves that the tree of `size1`
// leaves with root `root1` is a prefix of the tree of `size2` leaves with
// root `root2`. Follows RFC 9162 §2.1.4.2 for 0 < size1 < size2. For
// size1 == size2 the proof must be empty and the roots equal; for size1 == 0
// the proof must be empty and root1 must be EmptyRoot() (every tree extends
// the empty tree). Errors:
//  INVALID_ARGUMENT  size1 > size2, or the proof does not have the one
//                    length a proof for (size1, size2) has (the message says
//                    which length was expected)
//  DATA_LOSS         the proof computes another root1 or root2 than given
//                    (the message names the sizes and both roots in hex)
[[nodiscard]] absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1,
                                             const Hash& root2, const std::vector<Hash>& proof);

}  // namespace duurzaam::transparency
