#include "transparency/merkle.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/transparency/test_util.h"

namespace duurzaam::transparency {
namespace {

using testing::H;
using testing::ReferenceMth;
using testing::VectorConsistencyProofs;
using testing::VectorInclusionProofs;
using testing::VectorLeaves;
using testing::VectorRoots;

std::vector<Hash> VectorLeafHashes() {
  std::vector<Hash> out;
  for (const std::string& leaf : VectorLeaves()) out.push_back(LeafHash(leaf));
  return out;
}

TEST(MerkleHashTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HexOf(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleHashTest, LeafHashOfEmptyLeafIsTheOneLeafRoot) {
  EXPECT_EQ(LeafHash(""), VectorRoots()[1]);
}

TEST(MerkleHashTest, NodeHashIsPrefixedAndOrdered) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  EXPECT_EQ(NodeHash(leaves[0], leaves[1]), VectorRoots()[2]);
  EXPECT_NE(NodeHash(leaves[1], leaves[0]), VectorRoots()[2]);
  EXPECT_NE(LeafHash("a"), NodeHash(leaves[0], leaves[1]));
}

TEST(MerkleHashTest, ReferenceRootsMatchRfc6962Vectors) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  for (uint64_t size = 0; size <= 8; ++size) {
    EXPECT_EQ(HexOf(ReferenceMth(leaves, 0, size)), HexOf(roots[size])) << "size " << size;
  }
}

TEST(MerkleHashTest, HexRoundTripAndRejectsBadHex) {
  const Hash h = VectorRoots()[8];
  absl::StatusOr<Hash> parsed = HashFromHex(HexOf(h));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, h);
  EXPECT_EQ(HashFromHex("abc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(64, 'g')).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VerifyInclusionTest, AcceptsPublishedProofs) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  for (const auto& v : VectorInclusionProofs()) {
    EXPECT_TRUE(VerifyInclusion(leaves[v.index], v.index, v.size, v.proof, roots[v.size]).ok())
        << "leaf " << v.index << " size " << v.size;
  }
}

// The corruptions of transparency-dev/merkle's verifier tests, each of which
// must be rejected.
TEST(VerifyInclusionTest, RejectsCorruptedPublishedProofs) {
  const std::vector<Hash> leaves = VectorLeafHashes();
  const std::vector<Hash> roots = VectorRoots();
  const Hash other = LeafHash("other");
  for (const auto& v : VectorInclusionProofs()) {
    const Hash& leaf = leaves[v.index];
    const Hash& root = roots[v.size];
    SCOPED_TRACE(::testing::Message() << "leaf " << v.index << " size " << v.size);
    EXPECT_FALSE(VerifyInclusion(leaf, v.index - 1, v.size, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index + 1, v.size, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index ^ 2, v.size, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size * 2, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size / 2, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(other, v.index, v.size, v.proof, root).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, v.proof, EmptyRoot()).ok());
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, v.proof, other).ok());
    std::vector<Hash> longer = v.proof;
    longer.push_back(root);
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, longer, root).ok());
    longer = v.proof;
    longer.insert(longer.begin(), root);
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, longer, root).ok());
    for (size_t i = 0; i < v.proof.size(); ++i) {
      std::vector<Hash> flipped = v.proof;
      flipped[i][0] ^= 8;
      EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, flipped, root).ok())
          << "proof[" << i << "]";
    }
    if (!v.proof.empty()) {
      std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
      EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, shorter, root).ok());
    }
  }
}

TEST(VerifyInclusionTest, IndexNotBelowSizeIsInvalidArgument) {
  const Hash leaf = LeafHash("x");
  for (auto [index, size] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {1, 0}, {2, 1}}) {
    absl::Status s = VerifyInclusion(leaf, index, size, {}, leaf);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << index << "/" << size << ": " << s;
  }
}

TEST(VerifyInclusionTest, WrongLengthSaysWhichLengthWasExpected) {
  const auto v = VectorInclusionProofs()[1];  // leaf 0 of 8: 3 hashes
  std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
  absl::Status s = VerifyInclusion(VectorLeafHashes()[0], 0, 8, shorter, VectorRoots()[8]);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must have 3 hashes, got 2"), std::string::npos) << s;
}

TEST(VerifyInclusionTest, WrongRootIsDataLossNamingBothRoots) {
  const auto v = VectorInclusionProofs()[2];  // leaf 5 of 8
  const Hash wrong = VectorRoots()[7];
  absl::Status s = VerifyInclusion(VectorLeafHashes()[5], 5, 8, v.proof, wrong);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("leaf 5 in tree of size 8"), std::string::npos) << s;
  EXPECT_NE(s.message().find(HexOf(VectorRoots()[8])), std::string::npos) << s;
  EXPECT_NE(s.message().find(HexOf(wrong)), std::string::npos) << s;
}

TEST(VerifyInclusionTest, SingleLeafTreeNeedsNoProof) {
  const Hash leaf = LeafHash("data");
  EXPECT_TRUE(VerifyInclusion(leaf, 0, 1, {}, leaf).ok());
  EXPECT_EQ(VerifyInclusion(leaf, 0, 1, {}, LeafHash("other")).code(), absl::StatusCode::kDataLoss);
}

TEST(VerifyConsistencyTest, AcceptsPublishedProofs) {
  const std::vector<Hash> roots = VectorRoots();
  for (const auto& v : VectorConsistencyProofs()) {
    absl::Status s = VerifyConsistency(v.size1, v.size2, roots[v.size1], roots[v.size2], v.proof);
    EXPECT_TRUE(s.ok()) << v.size1 << " -> " << v.size2 << ": " << s;
  }
}

TEST(VerifyConsistencyTest, RejectsCorruptedPublishedProofs) {
  const std::vector<Hash> roots = VectorRoots();
  const Hash other = LeafHash("other");
  for (const auto& v : VectorConsistencyProofs()) {
    if (v.proof.empty()) continue;
    const Hash& r1 = roots[v.size1];
    const Hash& r2 = roots[v.size2];
    const uint64_t m = v.size1;
    const uint64_t n = v.size2;
    SCOPED_TRACE(::testing::Message() << m << " -> " << n);
    EXPECT_FALSE(VerifyConsistency(m - 1, n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m + 1, n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m ^ 2, n, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n * 2, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n / 2, r1, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n, other, r2, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n, r1, other, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n, r2, r1, v.proof).ok());
    EXPECT_FALSE(VerifyConsistency(m, n, r1, r2, {}).ok());
    for (const Hash& extra : {other, r1, r2}) {
      std::vector<Hash> longer = v.proof;
      longer.push_back(extra);
      EXPECT_FALSE(VerifyConsistency(m, n, r1, r2, longer).ok());
      longer = v.proof;
      longer.insert(longer.begin(), extra);
      EXPECT_FALSE(VerifyConsistency(m, n, r1, r2, longer).ok());
    }
    std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
    EXPECT_FALSE(VerifyConsistency(m, n, r1, r2, shorter).ok());
    for (size_t i = 0; i < v.proof.size(); ++i) {
      std::vector<Hash> flipped = v.proof;
      flipped[i][0] ^= 16;
      EXPECT_FALSE(VerifyConsistency(m, n, r1, r2, flipped).ok()) << "proof[" << i << "]";
    }
  }
}

TEST(VerifyConsistencyTest, ShrinkingTreeIsInvalidArgument) {
  const Hash r = EmptyRoot();
  EXPECT_EQ(VerifyConsistency(2, 1, r, r, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(1, 0, r, r, {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(VerifyConsistencyTest, EqualSizesNeedEqualRootsAndNoProof) {
  const std::vector<Hash> roots = VectorRoots();
  EXPECT_TRUE(VerifyConsistency(5, 5, roots[5], roots[5], {}).ok());
  absl::Status s = VerifyConsistency(5, 5, roots[5], roots[6], {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(HexOf(roots[6])), std::string::npos) << s;
  EXPECT_EQ(VerifyConsistency(5, 5, roots[5], roots[5], {roots[5]}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VerifyConsistencyTest, EmptyFirstTreeNeedsEmptyRootAndNoProof) {
  const std::vector<Hash> roots = VectorRoots();
  EXPECT_TRUE(VerifyConsistency(0, 7, EmptyRoot(), roots[7], {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());
  EXPECT_EQ(VerifyConsistency(0, 7, roots[1], roots[7], {}).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(VerifyConsistency(0, 7, EmptyRoot(), roots[7], {EmptyRoot()}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VerifyConsistencyTest, WrongLengthSaysWhichLengthWasExpected) {
  const auto v = VectorConsistencyProofs()[3];  // 2 -> 5: 2 hashes
  std::vector<Hash> longer = v.proof;
  longer.push_back(EmptyRoot());
  absl::Status s = VerifyConsistency(2, 5, VectorRoots()[2], VectorRoots()[5], longer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("from size 2 to size 5 must have 2 hashes, got 3"), std::string::npos)
      << s;
}

TEST(VerifyConsistencyTest, WrongRootIsDataLossNamingBothRoots) {
  const auto v = VectorConsistencyProofs()[2];  // 6 -> 8
  const std::vector<Hash> roots = VectorRoots();
  absl::Status s = VerifyConsistency(6, 8, roots[6], roots[7], v.proof);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(HexOf(roots[8])), std::string::npos) << s;  // computed
  EXPECT_NE(s.message().find(HexOf(roots[7])), std::string::npos) << s;  // claimed
  s = VerifyConsistency(6, 8, roots[5], roots[8], v.proof);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(HexOf(roots[6])), std::string::npos) << s;
  EXPECT_NE(s.message().find(HexOf(roots[5])), std::string::npos) << s;
}

}  // namespace
}  // namespace duurzaam::transparency
