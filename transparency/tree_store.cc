// The RocksDB implementation of TreeStore.
//
// Key layout (default column family):
//   "format"                          -> kFormatValue
//   "size"                            -> number of leaves, u64 big-endian
//   'n' level(u8) index(u64 BE)       -> 32-byte hash of the complete aligned
//                                        subtree covering leaves
//                                        [index << level, (index + 1) << level);
//                                        level 0 holds the leaf hashes
//
// A node is written once, in the batch that completes it, and never changes.
// The in-memory size is published only after the batch is in RocksDB, so a
// reader that sees size s finds every node complete within [0, s).
#include "transparency/tree_store.h"

#include <array>
#include <atomic>
#include <bit>
#include <filesystem>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "common/disk_space.h"
#include "common/mutex.h"
#include "common/rocksdb_log.h"
#include "common/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace duurzaam::transparency {
namespace {

constexpr char kFormatKey[] = "format";
constexpr char kFormatValue[] = "duurzaam-transparency-tree-1";
constexpr char kSizeKey[] = "size";
constexpr char kNodePrefix = 'n';
constexpr int kMaxLevel = 64;

[[nodiscard]] absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsIOError() && s.subcode() == rocksdb::Status::kNoSpace) {
    return absl::ResourceExhaustedError(msg);
  }
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

void PutBigEndian(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t GetBigEndian(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

using NodeKey = std::array<char, 10>;

NodeKey MakeNodeKey(int level, uint64_t index) {
  NodeKey key;
  key[0] = kNodePrefix;
  key[1] = static_cast<char>(level);
  PutBigEndian(index, key.data() + 2);
  return key;
}

rocksdb::Slice AsSlice(const NodeKey& key) { return rocksdb::Slice(key.data(), key.size()); }
rocksdb::Slice AsSlice(const Hash& h) {
  return rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size());
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The largest power of two strictly below n (RFC 6962's k), for n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

class RocksDbTreeStore final : public TreeStore {
 public:
  RocksDbTreeStore(std::string path, uint64_t min_free_bytes, rocksdb::Env* env)
      : path_(std::move(path)), disk_(path_, min_free_bytes, "the Merkle tree"), env_(env) {}
  ~RocksDbTreeStore() override {
    if (db_) db_->Close().PermitUncheckedError();  // nothing to lose: writes are in the WAL
  }

  uint64_t MemoryBytes() const override { return RocksDbMemoryBytes(db_.get()); }

  [[nodiscard]] absl::Status Init();

  [[nodiscard]] absl::Status Append(const std::vector<Hash>& leaf_hashes) override;
  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }
  [[nodiscard]] absl::StatusOr<Hash> Root(uint64_t tree_size) const override;
  [[nodiscard]] absl::StatusOr<Hash> SubtreeHash(uint64_t begin, uint64_t end) const override;
  [[nodiscard]] absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index,
                                                                 uint64_t tree_size) const override;
  [[nodiscard]] absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t size1,
                                                                   uint64_t size2) const override;
  [[nodiscard]] absl::StatusOr<Hash> LeafHashAt(uint64_t index) const override;

 private:
  [[nodiscard]] absl::Status CheckSize(uint64_t tree_size, absl::string_view what) const;
  [[nodiscard]] absl::StatusOr<Hash> GetNode(int level, uint64_t index) const;
  // MTH(D[begin:end]) for begin < end <= a published size. O(log n) lookups
  // when begin is a multiple of bit_ceil(end - begin), as in every range of
  // the RFC 6962 recursions; up to O(end - begin) otherwise.
  [[nodiscard]] absl::StatusOr<Hash> Mth(uint64_t begin, uint64_t end) const;
  // Appends PATH(m, D[begin:end]) to `out`.
  [[nodiscard]] absl::Status Path(uint64_t m, uint64_t begin, uint64_t end,
                                  std::vector<Hash>& out) const;
  // Appends SUBPROOF(m, D[begin:end], complete) to `out`.
  [[nodiscard]] absl::Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete,
                                      std::vector<Hash>& out) const;

  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  DiskSpaceGuard disk_;
  rocksdb::Env* env_;  // nullptr: the default
  // Written only by Append (under append_mu_), after the batch is stored.
  std::atomic<uint64_t> size_{0};

  Mutex append_mu_;
  // The first failed write: every later Append returns it.
  absl::Status write_failed_ ABSL_GUARDED_BY(append_mu_);
  // frontier_[l] is the root of the complete subtree of 2^l leaves on the
  // right edge of the tree, valid where bit l of size_ is set.
  std::array<Hash, kMaxLevel> frontier_ ABSL_GUARDED_BY(append_mu_){};
};

[[nodiscard]] absl::Status RocksDbTreeStore::Init() {
  if (disk_.min_free_bytes() > 0) {
    RETURN_IF_ERROR(disk_.CheckNow(disk_.min_free_bytes(), "to open"));
  }
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  rocksdb::Options options;
  options.create_if_missing = true;
  if (env_ != nullptr) options.env = env_;
  // No LOG file: on a full disk its failed writer would trip an assertion.
  options.info_log = RocksDbServerLog("merkle");
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  options.max_background_jobs = 2;
  options.keep_log_file_num = 3;
  options.max_open_files = 256;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Hashes do not compress.
  options.compression = rocksdb::kNoCompression;
  // Appends write ascending keys within each level ('n' + level): a
  // memtable insert hint per level makes them cheap across batches too.
  options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(2));
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(8 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, path_, &raw),
                            absl::StrCat("cannot open Merkle tree store at '", path_, "'")));
  db_.reset(raw);

  std::string format;
  std::string size_value;
  rocksdb::Status fs = db_->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  rocksdb::Status ss = db_->Get(rocksdb::ReadOptions(), kSizeKey, &size_value);
  if (!fs.ok() && !fs.IsNotFound()) return FromRocks(fs, "read tree format");
  if (!ss.ok() && !ss.IsNotFound()) return FromRocks(ss, "read tree size");
  if (fs.IsNotFound()) {
    if (ss.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path_, "' holds a tree size but no format marker"));
    }
    RETURN_IF_ERROR(
        FromRocks(db_->Put(rocksdb::WriteOptions(), kFormatKey, kFormatValue), "write format"));
  } else if (format != kFormatValue) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path_, "' holds format '", format, "', expected '", kFormatValue, "'"));
  }
  uint64_t size = 0;
  if (ss.ok()) {
    if (size_value.size() != 8) {
      return absl::DataLossError(
          absl::StrCat("tree size in '", path_, "' has ", size_value.size(), " bytes, expected 8"));
    }
    size = GetBigEndian(size_value.data());
  }
  size_.store(size, std::memory_order_release);

  // The frontier: one complete subtree per set bit of the size.
  MutexLock lock(&append_mu_);
  for (int level = 0; level < kMaxLevel; ++level) {
    if (((size >> level) & 1) == 0) continue;
    ASSIGN_OR_RETURN(frontier_[level], GetNode(level, (size >> level) - 1));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status RocksDbTreeStore::Append(const std::vector<Hash>& leaf_hashes) {
  if (leaf_hashes.empty()) return absl::OkStatus();
  MutexLock lock(&append_mu_);
  if (!write_failed_.ok()) return write_failed_;
  uint64_t n = size_.load(std::memory_order_relaxed);
  if (leaf_hashes.size() > UINT64_MAX - n) {
    return absl::OutOfRangeError("the tree cannot hold that many leaves");
  }
  const uint64_t first = n;
  std::array<Hash, kMaxLevel> frontier = frontier_;
  // new_nodes[l - 1] holds the nodes of level l >= 1 completed by this
  // append, in index order.
  std::vector<std::vector<Hash>> new_nodes;
  for (const Hash& leaf : leaf_hashes) {
    // Adding leaf n completes one subtree per trailing one bit of n.
    Hash carry = leaf;
    int level = 0;
    while (((n >> level) & 1) != 0) {
      carry = NodeHash(frontier[level], carry);
      ++level;
      if (new_nodes.size() < static_cast<size_t>(level)) new_nodes.emplace_back();
      new_nodes[level - 1].push_back(carry);
    }
    frontier[level] = carry;
    ++n;
  }
  // Keys go into the batch in ascending order (level, then index, then
  // "size"): sequential memtable inserts are several times cheaper than
  // interleaved ones.
  rocksdb::WriteBatch batch;
  for (uint64_t i = 0; i < leaf_hashes.size(); ++i) {
    batch.Put(AsSlice(MakeNodeKey(0, first + i)), AsSlice(leaf_hashes[i])).PermitUncheckedError();
  }
  for (size_t l = 1; l <= new_nodes.size(); ++l) {
    // The nodes of level l completed by leaves [first, n) are those whose
    // last leaf is in [first, n): indices (first >> l) .. (n >> l) - 1.
    const uint64_t begin = first >> l;
    for (uint64_t i = 0; i < new_nodes[l - 1].size(); ++i) {
      batch.Put(AsSlice(MakeNodeKey(static_cast<int>(l), begin + i)), AsSlice(new_nodes[l - 1][i]))
          .PermitUncheckedError();
    }
  }
  char size_value[8];
  PutBigEndian(n, size_value);
  batch.Put(kSizeKey, rocksdb::Slice(size_value, sizeof(size_value))).PermitUncheckedError();

  RETURN_IF_ERROR(disk_.Check(batch.GetDataSize()));
  rocksdb::WriteOptions write_options;
  write_options.sync = false;  // derived data: atomic, not necessarily durable
  if (rocksdb::Status written = db_->Write(write_options, &batch); !written.ok()) {
    // A failed write may leave RocksDB with a log writer that has failed,
    // and RocksDB asserts (aborts, in Debian's build) on the next write to
    // it, even its own (found by the ioerror campaign, tests/faults): no
    // further write reaches this database. The tree is derived from the
    // log; a restart reopens it and the follower appends what is missing.
    write_failed_ = FromRocks(
        written, absl::StrCat("append ", leaf_hashes.size(),
                              " leaves to the Merkle tree (it takes no more until duurzaamd is "
                              "restarted)"));
    return write_failed_;
  }
  frontier_ = frontier;
  size_.store(n, std::memory_order_release);
  return absl::OkStatus();
}

[[nodiscard]] absl::Status RocksDbTreeStore::CheckSize(uint64_t tree_size,
                                                       absl::string_view what) const {
  const uint64_t size = Size();
  if (tree_size > size) {
    return absl::OutOfRangeError(
        absl::StrCat(what, ": tree size ", tree_size, " exceeds the tree's size ", size));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<Hash> RocksDbTreeStore::GetNode(int level, uint64_t index) const {
  rocksdb::PinnableSlice value;
  const NodeKey key = MakeNodeKey(level, index);
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), AsSlice(key), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("Merkle tree node at level ", level, " index ", index,
                                            " is missing from '", path_, "'"));
  }
  RETURN_IF_ERROR(
      FromRocks(s, absl::StrCat("read Merkle tree node at level ", level, " index ", index)));
  Hash h;
  if (value.size() != h.size()) {
    return absl::DataLossError(absl::StrCat("Merkle tree node at level ", level, " index ", index,
                                            " has ", value.size(), " bytes, expected 32"));
  }
  std::copy(value.data(), value.data() + h.size(), reinterpret_cast<char*>(h.data()));
  return h;
}

[[nodiscard]] absl::StatusOr<Hash> RocksDbTreeStore::Mth(uint64_t begin, uint64_t end) const {
  const uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) {
    return GetNode(std::countr_zero(n), begin / n);
  }
  const uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(Hash left, Mth(begin, begin + k));
  ASSIGN_OR_RETURN(Hash right, Mth(begin + k, end));
  return NodeHash(left, right);
}

[[nodiscard]] absl::Status RocksDbTreeStore::Path(uint64_t m, uint64_t begin, uint64_t end,
                                                  std::vector<Hash>& out) const {
  const uint64_t n = end - begin;
  if (n == 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(Path(m, begin, begin + k, out));
    ASSIGN_OR_RETURN(Hash sibling, Mth(begin + k, end));
    out.push_back(sibling);
  } else {
    RETURN_IF_ERROR(Path(m - k, begin + k, end, out));
    ASSIGN_OR_RETURN(Hash sibling, Mth(begin, begin + k));
    out.push_back(sibling);
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status RocksDbTreeStore::SubProof(uint64_t m, uint64_t begin, uint64_t end,
                                                      bool complete, std::vector<Hash>& out) const {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      ASSIGN_OR_RETURN(Hash h, Mth(begin, end));
      out.push_back(h);
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(m, begin, begin + k, complete, out));
    ASSIGN_OR_RETURN(Hash right, Mth(begin + k, end));
    out.push_back(right);
  } else {
    RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, out));
    ASSIGN_OR_RETURN(Hash left, Mth(begin, begin + k));
    out.push_back(left);
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<Hash> RocksDbTreeStore::Root(uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckSize(tree_size, "root"));
  if (tree_size == 0) return EmptyRoot();
  return Mth(0, tree_size);
}

[[nodiscard]] absl::StatusOr<Hash> RocksDbTreeStore::SubtreeHash(uint64_t begin,
                                                                 uint64_t end) const {
  if (begin >= end) {
    return absl::InvalidArgumentError(
        absl::StrCat("subtree [", begin, ", ", end, ") is empty or reversed"));
  }
  RETURN_IF_ERROR(CheckSize(end, absl::StrCat("subtree [", begin, ", ", end, ")")));
  return Mth(begin, end);
}

[[nodiscard]] absl::StatusOr<std::vector<Hash>> RocksDbTreeStore::InclusionProof(
    uint64_t index, uint64_t tree_size) const {
  const std::string what =
      absl::StrCat("inclusion proof for leaf ", index, " in tree of size ", tree_size);
  RETURN_IF_ERROR(CheckSize(tree_size, what));
  if (index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the leaf index must be below the tree size"));
  }
  std::vector<Hash> proof;
  RETURN_IF_ERROR(Path(index, 0, tree_size, proof));
  return proof;
}

[[nodiscard]] absl::StatusOr<std::vector<Hash>> RocksDbTreeStore::ConsistencyProof(
    uint64_t size1, uint64_t size2) const {
  const std::string what = absl::StrCat("consistency proof from size ", size1, " to size ", size2);
  RETURN_IF_ERROR(CheckSize(size2, what));
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the first size must not exceed the second"));
  }
  std::vector<Hash> proof;
  if (size1 == 0 || size1 == size2) return proof;
  RETURN_IF_ERROR(SubProof(size1, 0, size2, /*complete=*/true, proof));
  return proof;
}

[[nodiscard]] absl::StatusOr<Hash> RocksDbTreeStore::LeafHashAt(uint64_t index) const {
  const uint64_t size = Size();
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("leaf ", index, " does not exist: the tree has ", size, " leaves"));
  }
  return GetNode(0, index);
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::unique_ptr<TreeStore>> TreeStore::Open(const std::string& path,
                                                                         uint64_t min_free_bytes,
                                                                         rocksdb::Env* env) {
  auto store = std::make_unique<RocksDbTreeStore>(path, min_free_bytes, env);
  RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<TreeStore>(std::move(store));
}

}  // namespace duurzaam::transparency
