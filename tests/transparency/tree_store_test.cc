#include "transparency/tree_store.h"

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/support/temp_dir.h"
#include "tests/transparency/test_util.h"

namespace duurzaam::transparency {
namespace {

using duurzaam::testing::TempDir;
using testing::NumberedLeaves;
using testing::ReferenceMth;
using testing::VectorConsistencyProofs;
using testing::VectorInclusionProofs;
using testing::VectorLeaves;
using testing::VectorRoots;

std::unique_ptr<TreeStore> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<TreeStore>> store = TreeStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

template <typename T>
T ValueOrDie(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : T{};
}

TEST(TreeStoreTest, EmptyTreeHasEmptyRoot) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Size(), 0u);
  EXPECT_EQ(ValueOrDie(store->Root(0)), EmptyRoot());
  EXPECT_TRUE(store->Append({}).ok());
  EXPECT_EQ(store->Size(), 0u);
}

TEST(TreeStoreTest, RootsAndProofsMatchRfc6962Vectors) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  std::vector<Hash> leaves;
  for (const std::string& leaf : VectorLeaves()) leaves.push_back(LeafHash(leaf));
  ASSERT_TRUE(store->Append(leaves).ok());
  const std::vector<Hash> roots = VectorRoots();
  for (uint64_t size = 0; size <= 8; ++size) {
    EXPECT_EQ(HexOf(ValueOrDie(store->Root(size))), HexOf(roots[size])) << "size " << size;
  }
  for (const auto& v : VectorInclusionProofs()) {
    EXPECT_EQ(ValueOrDie(store->InclusionProof(v.index, v.size)), v.proof)
        << "leaf " << v.index << " size " << v.size;
  }
  for (const auto& v : VectorConsistencyProofs()) {
    EXPECT_EQ(ValueOrDie(store->ConsistencyProof(v.size1, v.size2)), v.proof)
        << v.size1 << " -> " << v.size2;
  }
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(ValueOrDie(store->LeafHashAt(i)), leaves[i]);
  }
}

// One tree of 130 leaves serves every property test over sizes 1..130: all
// queries are about past sizes.
class TreeStorePropertyTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kMaxSize = 130;

  static void SetUpTestSuite() {
    dir_ = new TempDir();
    leaves_ = new std::vector<Hash>(NumberedLeaves(kMaxSize));
    absl::StatusOr<std::unique_ptr<TreeStore>> store = TreeStore::Open(dir_->Sub("tree"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    // Uneven batches, so the stored nodes come from many append shapes.
    uint64_t at = 0;
    for (uint64_t batch = 1; at < kMaxSize; batch = batch % 9 + 1) {
      const uint64_t end = std::min(kMaxSize, at + batch);
      ASSERT_TRUE(store_->Append({leaves_->begin() + at, leaves_->begin() + end}).ok());
      at = end;
    }
    roots_ = new std::vector<Hash>();
    for (uint64_t size = 0; size <= kMaxSize; ++size) {
      roots_->push_back(ReferenceMth(*leaves_, 0, size));
    }
  }
  static void TearDownTestSuite() {
    delete store_;
    delete roots_;
    delete leaves_;
    delete dir_;
  }

  static TempDir* dir_;
  static std::vector<Hash>* leaves_;
  static std::vector<Hash>* roots_;  // reference roots by size
  static TreeStore* store_;
};
TempDir* TreeStorePropertyTest::dir_ = nullptr;
std::vector<Hash>* TreeStorePropertyTest::leaves_ = nullptr;
std::vector<Hash>* TreeStorePropertyTest::roots_ = nullptr;
TreeStore* TreeStorePropertyTest::store_ = nullptr;

TEST_F(TreeStorePropertyTest, RootOfEverySizeMatchesReference) {
  ASSERT_EQ(store_->Size(), kMaxSize);
  for (uint64_t size = 0; size <= kMaxSize; ++size) {
    EXPECT_EQ(ValueOrDie(store_->Root(size)), (*roots_)[size]) << "size " << size;
  }
}

TEST_F(TreeStorePropertyTest, EveryInclusionProofVerifies) {
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      std::vector<Hash> proof = ValueOrDie(store_->InclusionProof(index, size));
      absl::Status s = VerifyInclusion((*leaves_)[index], index, size, proof, (*roots_)[size]);
      ASSERT_TRUE(s.ok()) << s;
    }
  }
}

TEST_F(TreeStorePropertyTest, TamperedInclusionProofsFail) {
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      const std::vector<Hash> proof = ValueOrDie(store_->InclusionProof(index, size));
      const Hash& leaf = (*leaves_)[index];
      const Hash& root = (*roots_)[size];
      // Every byte of every hash in small trees; one byte per hash (varying
      // position) in larger ones, to keep the run short.
      for (size_t i = 0; i < proof.size(); ++i) {
        for (size_t byte = 0; byte < 32; ++byte) {
          if (size > 16 && byte != (index + i) % 32) continue;
          std::vector<Hash> bad = proof;
          bad[i][byte] ^= 0x01;
          ASSERT_EQ(VerifyInclusion(leaf, index, size, bad, root).code(),
                    absl::StatusCode::kDataLoss)
              << "leaf " << index << " size " << size << " proof[" << i << "] byte " << byte;
        }
      }
      // The proof, claimed for another leaf or another tree (whose root a
      // checkpoint for that size would give), must fail.
      const uint64_t other_index = index + 1 < size ? index + 1 : index - 1;
      if (other_index != index && size > 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, other_index, size, proof, root).ok())
            << "leaf " << index << " as " << other_index << " size " << size;
      }
      if (size < kMaxSize) {
        EXPECT_FALSE(VerifyInclusion(leaf, index, size + 1, proof, (*roots_)[size + 1]).ok())
            << "leaf " << index << " size " << size << " as " << size + 1;
      }
      if (index < size - 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, index, size - 1, proof, (*roots_)[size - 1]).ok())
            << "leaf " << index << " size " << size << " as " << size - 1;
      }
      // Another leaf's hash with this leaf's proof.
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion((*leaves_)[other_index], index, size, proof, root).ok());
      }
    }
  }
}

TEST_F(TreeStorePropertyTest, EveryConsistencyProofVerifies) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      std::vector<Hash> proof = ValueOrDie(store_->ConsistencyProof(m, n));
      absl::Status s = VerifyConsistency(m, n, (*roots_)[m], (*roots_)[n], proof);
      ASSERT_TRUE(s.ok()) << s;
    }
    EXPECT_TRUE(ValueOrDie(store_->ConsistencyProof(0, n)).empty());
    EXPECT_TRUE(VerifyConsistency(0, n, EmptyRoot(), (*roots_)[n], {}).ok());
  }
}

TEST_F(TreeStorePropertyTest, TamperedConsistencyProofsFail) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      const std::vector<Hash> proof = ValueOrDie(store_->ConsistencyProof(m, n));
      const Hash& r1 = (*roots_)[m];
      const Hash& r2 = (*roots_)[n];
      for (size_t i = 0; i < proof.size(); ++i) {
        for (size_t byte = 0; byte < 32; ++byte) {
          if (n > 16 && byte != (m + n + i) % 32) continue;
          std::vector<Hash> bad = proof;
          bad[i][byte] ^= 0x80;
          ASSERT_EQ(VerifyConsistency(m, n, r1, r2, bad).code(), absl::StatusCode::kDataLoss)
              << m << " -> " << n << " proof[" << i << "] byte " << byte;
        }
      }
      // Claimed for other sizes, with the roots checkpoints would give.
      if (m < n) {
        EXPECT_FALSE(VerifyConsistency(m + 1, n, (*roots_)[m + 1], r2, proof).ok())
            << m << " -> " << n << " as " << m + 1;
      }
      if (m > 1) {
        EXPECT_FALSE(VerifyConsistency(m - 1, n, (*roots_)[m - 1], r2, proof).ok())
            << m << " -> " << n << " as " << m - 1;
      }
      if (n < kMaxSize) {
        EXPECT_FALSE(VerifyConsistency(m, n + 1, r1, (*roots_)[n + 1], proof).ok())
            << m << " -> " << n << " as -> " << n + 1;
      }
      if (n > 1 && m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n - 1, r1, (*roots_)[n - 1], proof).ok())
            << m << " -> " << n << " as -> " << n - 1;
      }
    }
  }
}

TEST_F(TreeStorePropertyTest, SubtreeHashMatchesReferenceForEveryRange) {
  for (uint64_t begin = 0; begin < kMaxSize; begin += 3) {
    for (uint64_t end = begin + 1; end <= kMaxSize; ++end) {
      EXPECT_EQ(ValueOrDie(store_->SubtreeHash(begin, end)), ReferenceMth(*leaves_, begin, end))
          << "[" << begin << ", " << end << ")";
    }
  }
}

TEST_F(TreeStorePropertyTest, OutOfRangeArgumentsAreRejected) {
  const uint64_t size = store_->Size();
  EXPECT_EQ(store_->Root(size + 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->InclusionProof(0, size + 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->InclusionProof(5, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->InclusionProof(0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ConsistencyProof(1, size + 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ConsistencyProof(3, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LeafHashAt(size).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->SubtreeHash(3, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SubtreeHash(0, size + 1).status().code(), absl::StatusCode::kOutOfRange);
  absl::Status s = store_->InclusionProof(0, size + 1).status();
  EXPECT_NE(s.message().find(std::to_string(size + 1)), std::string::npos) << s;
  EXPECT_NE(s.message().find(std::to_string(size)), std::string::npos) << s;
}

TEST(TreeStoreTest, OldRootsStayTheSameAsTheTreeGrows) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  const std::vector<Hash> leaves = NumberedLeaves(300);
  uint64_t at = 0;
  for (uint64_t batch : {1, 2, 37, 64, 1, 100, 95}) {
    ASSERT_TRUE(store->Append({leaves.begin() + at, leaves.begin() + at + batch}).ok());
    at += batch;
    ASSERT_EQ(store->Size(), at);
    for (uint64_t size = 0; size <= at; ++size) {
      ASSERT_EQ(ValueOrDie(store->Root(size)), ReferenceMth(leaves, 0, size))
          << "size " << size << " after " << at << " leaves";
    }
  }
  EXPECT_EQ(at, leaves.size());
}

TEST(TreeStoreTest, BatchedAppendsStoreTheSameNodesAsSingleAppends) {
  TempDir dir;
  auto single = OpenOrDie(dir.Sub("single"));
  auto batched = OpenOrDie(dir.Sub("batched"));
  ASSERT_NE(single, nullptr);
  ASSERT_NE(batched, nullptr);
  const uint64_t kLeaves = 300;
  const std::vector<Hash> leaves = NumberedLeaves(kLeaves);
  for (const Hash& leaf : leaves) ASSERT_TRUE(single->Append({leaf}).ok());
  uint64_t at = 0;
  const std::vector<uint64_t> sizes = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 128};
  for (size_t i = 0; at < kLeaves; ++i) {
    const uint64_t end = std::min(kLeaves, at + sizes[i % sizes.size()]);
    ASSERT_TRUE(batched->Append({leaves.begin() + at, leaves.begin() + end}).ok());
    at = end;
  }
  ASSERT_EQ(single->Size(), kLeaves);
  ASSERT_EQ(batched->Size(), kLeaves);
  // Every complete aligned subtree (the stored nodes).
  int nodes = 0;
  for (int level = 0; (uint64_t{1} << level) <= kLeaves; ++level) {
    for (uint64_t index = 0; ((index + 1) << level) <= kLeaves; ++index) {
      const uint64_t begin = index << level;
      const uint64_t end = (index + 1) << level;
      const Hash want = ReferenceMth(leaves, begin, end);
      ASSERT_EQ(ValueOrDie(single->SubtreeHash(begin, end)), want) << level << "/" << index;
      ASSERT_EQ(ValueOrDie(batched->SubtreeHash(begin, end)), want) << level << "/" << index;
      ++nodes;
    }
  }
  EXPECT_EQ(nodes, 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1);
  for (uint64_t size = 0; size <= kLeaves; ++size) {
    ASSERT_EQ(ValueOrDie(single->Root(size)), ValueOrDie(batched->Root(size))) << size;
  }
}

TEST(TreeStoreTest, ReopenKeepsTheTreeAndAcceptsMoreLeaves) {
  TempDir dir;
  const std::vector<Hash> leaves = NumberedLeaves(250);
  std::vector<Hash> roots;
  std::vector<std::vector<Hash>> proofs;
  {
    auto store = OpenOrDie(dir.Sub("tree"));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append({leaves.begin(), leaves.begin() + 77}).ok());
    ASSERT_TRUE(store->Append({leaves.begin() + 77, leaves.begin() + 100}).ok());
    for (uint64_t size = 0; size <= 100; ++size) roots.push_back(ValueOrDie(store->Root(size)));
    for (uint64_t index = 0; index < 100; ++index) {
      proofs.push_back(ValueOrDie(store->InclusionProof(index, 100)));
    }
  }
  {
    auto store = OpenOrDie(dir.Sub("tree"));
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->Size(), 100u);
    for (uint64_t size = 0; size <= 100; ++size) {
      EXPECT_EQ(ValueOrDie(store->Root(size)), roots[size]) << size;
    }
    for (uint64_t index = 0; index < 100; ++index) {
      EXPECT_EQ(ValueOrDie(store->InclusionProof(index, 100)), proofs[index]) << index;
      EXPECT_EQ(ValueOrDie(store->LeafHashAt(index)), leaves[index]) << index;
    }
    // The frontier was rebuilt: appending continues the same tree.
    ASSERT_TRUE(store->Append({leaves.begin() + 100, leaves.begin() + 200}).ok());
    EXPECT_EQ(ValueOrDie(store->Root(200)), ReferenceMth(leaves, 0, 200));
  }
  {
    auto store = OpenOrDie(dir.Sub("tree"));
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->Size(), 200u);
    ASSERT_TRUE(store->Append({leaves.begin() + 200, leaves.end()}).ok());
    for (uint64_t size = 0; size <= 250; ++size) {
      ASSERT_EQ(ValueOrDie(store->Root(size)), ReferenceMth(leaves, 0, size)) << size;
    }
    std::vector<Hash> proof = ValueOrDie(store->ConsistencyProof(100, 250));
    EXPECT_TRUE(VerifyConsistency(100, 250, roots[100], ReferenceMth(leaves, 0, 250), proof).ok());
  }
}

TEST(TreeStoreTest, SecondOpenOfTheSameDirectoryFails) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<TreeStore>> again = TreeStore::Open(dir.Sub("tree"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable) << again.status();
}

// One appender, several readers: every reader observes some size s and
// gets proofs for it that verify against the root it reads for s.
TEST(TreeStoreTest, ReadersSeeOnlyCompleteAppends) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  const uint64_t kLeaves = 3000;
  const std::vector<Hash> leaves = NumberedLeaves(kLeaves);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> checks{0};
  auto reader = [&](uint64_t seed) {
    uint64_t last = 0;
    while (!done.load()) {
      const uint64_t size = store->Size();
      if (size == 0) continue;
      const uint64_t index = (seed * 7919 + checks.load()) % size;
      absl::StatusOr<Hash> root = store->Root(size);
      absl::StatusOr<std::vector<Hash>> path = store->InclusionProof(index, size);
      absl::StatusOr<Hash> old_root = store->Root(last);
      absl::StatusOr<std::vector<Hash>> consistency = store->ConsistencyProof(last, size);
      if (!root.ok() || !path.ok() || !old_root.ok() || !consistency.ok() ||
          !VerifyInclusion(leaves[index], index, size, *path, *root).ok() ||
          !VerifyConsistency(last, size, *old_root, *root, *consistency).ok()) {
        failures.fetch_add(1);
      }
      last = size;
      checks.fetch_add(1);
    }
  };
  std::thread r1(reader, 1);
  std::thread r2(reader, 2);
  for (uint64_t at = 0; at < kLeaves; at += 7) {
    const uint64_t end = std::min(kLeaves, at + 7);
    ASSERT_TRUE(store->Append({leaves.begin() + at, leaves.begin() + end}).ok());
  }
  done.store(true);
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(checks.load(), 0u);
  EXPECT_EQ(ValueOrDie(store->Root(kLeaves)), ReferenceMth(leaves, 0, kLeaves));
}

// Not a timed assertion: a sanity check that a million leaves go in
// quickly, and come out right.
TEST(TreeStoreTest, AppendsAMillionLeavesInBatches) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("tree"));
  ASSERT_NE(store, nullptr);
  const uint64_t kLeaves = 1'000'000;
  const uint64_t kBatch = 1000;
  std::vector<Hash> all;
  all.reserve(kLeaves);
  for (uint64_t i = 0; i < kLeaves; ++i) {
    char bytes[8];
    for (int b = 0; b < 8; ++b) bytes[b] = static_cast<char>(i >> (56 - 8 * b));
    all.push_back(LeafHash(std::string_view(bytes, 8)));
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t at = 0; at < kLeaves; at += kBatch) {
    ASSERT_TRUE(store->Append({all.begin() + at, all.begin() + at + kBatch}).ok());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "appended " << kLeaves << " leaves in " << seconds << " s ("
            << static_cast<uint64_t>(kLeaves / seconds) << " leaves/s)\n";
  ASSERT_EQ(store->Size(), kLeaves);
  const Hash root = ValueOrDie(store->Root(kLeaves));
  EXPECT_EQ(root, ReferenceMth(all, 0, kLeaves));
  const uint64_t index = 765'432;
  EXPECT_TRUE(VerifyInclusion(all[index], index, kLeaves,
                              ValueOrDie(store->InclusionProof(index, kLeaves)), root)
                  .ok());
  EXPECT_TRUE(VerifyConsistency(123'457, kLeaves, ReferenceMth(all, 0, 123'457), root,
                                ValueOrDie(store->ConsistencyProof(123'457, kLeaves)))
                  .ok());
}

// Fails the next append to the tree's write-ahead log (a "*.log" file) once
// armed, with ENOSPC or EIO.
class FailingLogFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingLogFs(std::shared_ptr<rocksdb::FileSystem> base)
      : rocksdb::FileSystemWrapper(std::move(base)) {}
  const char* Name() const override { return "FailingLogFs"; }
  void Arm(bool no_space) {
    no_space_ = no_space;
    armed_ = true;
  }
  rocksdb::IOStatus Fail() {
    if (!armed_.exchange(false)) return rocksdb::IOStatus::OK();
    return no_space_ ? rocksdb::IOStatus::NoSpace("injected: no space left on device")
                     : rocksdb::IOStatus::IOError("injected: input/output error");
  }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<Log>(std::move(*result), this);
    }
    return s;
  }

 private:
  class Log : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Log(std::unique_ptr<rocksdb::FSWritableFile> file, FailingLogFs* fs)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (auto s = fs_->Fail(); !s.ok()) return s;
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (auto s = fs_->Fail(); !s.ok()) return s;
      return target()->Append(data, options, info, dbg);
    }

   private:
    FailingLogFs* fs_;
  };
  std::atomic<bool> armed_{false};
  bool no_space_ = false;
};

// A failed write fails the tree closed: every later append gets the same
// clear error and none reaches RocksDB (which asserts, in Debian's build, on
// a write after a failed one); reopened, the tree holds what it held before
// and takes leaves again.
TEST(TreeStoreTest, AFailedWriteFailsItClosedUntilReopened) {
  for (const bool no_space : {true, false}) {
    TempDir dir;
    const std::vector<Hash> leaves = NumberedLeaves(20);
    auto fs = std::make_shared<FailingLogFs>(rocksdb::FileSystem::Default());
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    {
      auto opened = TreeStore::Open(dir.Sub("tree"), 0, env.get());
      ASSERT_TRUE(opened.ok()) << opened.status();
      TreeStore& store = **opened;
      ASSERT_TRUE(store.Append({leaves.begin(), leaves.begin() + 10}).ok());
      fs->Arm(no_space);
      const absl::Status failed = store.Append({leaves.begin() + 10, leaves.begin() + 15});
      EXPECT_EQ(failed.code(),
                no_space ? absl::StatusCode::kResourceExhausted : absl::StatusCode::kUnavailable)
          << failed;
      EXPECT_NE(failed.message().find("until duurzaamd is restarted"), std::string::npos) << failed;
      for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(store.Append({leaves.begin() + 10, leaves.begin() + 15}), failed);
      }
      EXPECT_EQ(store.Size(), 10u);
      EXPECT_EQ(ValueOrDie(store.Root(10)), ReferenceMth(leaves, 0, 10));
    }
    auto reopened = OpenOrDie(dir.Sub("tree"));
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->Size(), 10u);
    ASSERT_TRUE(reopened->Append({leaves.begin() + 10, leaves.end()}).ok());
    EXPECT_EQ(ValueOrDie(reopened->Root(20)), ReferenceMth(leaves, 0, 20));
  }
}

}  // namespace
}  // namespace duurzaam::transparency
