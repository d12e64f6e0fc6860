// Helpers shared by the transparency tests: hex decoding, the RFC 6962
// reference vectors and a from-scratch reference MTH.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "transparency/merkle.h"

namespace duurzaam::transparency::testing {

// Parses 64 hex digits; fails the test otherwise.
inline Hash H(std::string_view hex) {
  absl::StatusOr<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash{};
}

inline std::vector<Hash> Hashes(const std::vector<std::string_view>& hexes) {
  std::vector<Hash> out;
  for (std::string_view hex : hexes) out.push_back(H(hex));
  return out;
}

// The leaves of the RFC 6962 test vectors used by Certificate Transparency
// implementations (transparency-dev/merkle, certificate-transparency-go).
inline std::vector<std::string> VectorLeaves() {
  std::vector<std::string> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(absl::HexStringToBytes(hex));
  }
  return out;
}

// VectorRoots()[s] is the root of the first s vector leaves, s = 0..8.
inline std::vector<Hash> VectorRoots() {
  return Hashes({
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  });
}

struct InclusionVector {
  uint64_t index;  // 0-based
  uint64_t size;
  std::vector<Hash> proof;
};

inline std::vector<InclusionVector> VectorInclusionProofs() {
  return {
      {0, 1, {}},
      {0, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Hashes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
}

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  std::vector<Hash> proof;
};

inline std::vector<ConsistencyVector> VectorConsistencyProofs() {
  return {
      {1, 1, {}},
      {1, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7,
       Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
}

// MTH(D[begin:end]) straight from the RFC 6962 §2.1 definition, over leaf
// hashes held in memory.
inline Hash ReferenceMth(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (begin == end) return EmptyRoot();
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = std::bit_floor(end - begin - 1);
  return NodeHash(ReferenceMth(leaves, begin, begin + k), ReferenceMth(leaves, begin + k, end));
}

// Distinct leaf hashes for property tests.
inline std::vector<Hash> NumberedLeaves(uint64_t count, uint64_t first = 0) {
  std::vector<Hash> out;
  out.reserve(count);
  for (uint64_t i = first; i < first + count; ++i) {
    out.push_back(LeafHash("leaf " + std::to_string(i)));
  }
  return out;
}

}  // namespace duurzaam::transparency::testing
