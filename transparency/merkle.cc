#include "transparency/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace duurzaam::transparency {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// SHA-256 fetched once from the default provider (an implicit fetch on every
// digest costs a provider lookup).
const EVP_MD* Sha256() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256 over the concatenation of up to three byte strings. A digest
// context per thread avoids an allocation per hash. SHA-256 over memory
// cannot fail short of memory exhaustion; that aborts, as allocation does.
Hash Digest(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  Hash out;
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), c.data(), c.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

std::string_view View(const Hash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

// RFC 9162 §2.1.3.2 step 4 without the hashing: how many path elements the
// loop consumes for (fn, sn) before sn reaches 0.
uint64_t PathSteps(uint64_t fn, uint64_t sn) {
  uint64_t steps = 0;
  while (sn != 0) {
    if ((fn & 1) != 0 || fn == sn) {
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    }
    fn >>= 1;
    sn >>= 1;
    ++steps;
  }
  return steps;
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

std::string HexOf(const Hash& hash) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

[[nodiscard]] absl::StatusOr<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hash is 64 hex digits, got ", hex.size(), " characters"));
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", absl::string_view(hex.data(), hex.size()), "' is not hex"));
    }
  }
  std::string bytes = absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
  Hash out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Hash LeafHash(std::string_view leaf_data) {
  const char prefix = static_cast<char>(kLeafPrefix);
  return Digest(std::string_view(&prefix, 1), leaf_data);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  const char prefix = static_cast<char>(kNodePrefix);
  return Digest(std::string_view(&prefix, 1), View(left), View(right));
}

Hash EmptyRoot() {
  static const Hash empty = Digest({});
  return empty;
}

[[nodiscard]] absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t index,
                                           uint64_t tree_size, const std::vector<Hash>& proof,
                                           const Hash& root) {
  // Step 1.
  if (index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof for leaf ", index,
                                                   " in tree of size ", tree_size,
                                                   ": the leaf index must be below the size"));
  }
  const uint64_t expected = PathSteps(index, tree_size - 1);
  if (proof.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof for leaf ", index,
                                                   " in tree of size ", tree_size, " must have ",
                                                   expected, " hashes, got ", proof.size()));
  }
  // Steps 2-4.
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return absl::InternalError("inclusion proof walk overran the path");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0) return absl::InternalError("inclusion proof walk ended early");
  if (r != root) {
    return absl::DataLossError(absl::StrCat("inclusion proof for leaf ", index, " in tree of size ",
                                            tree_size, " computes root ", HexOf(r),
                                            " but the expected root is ", HexOf(root)));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1,
                                             const Hash& root2, const std::vector<Hash>& proof) {
  const std::string what = absl::StrCat("consistency proof from size ", size1, " to size ", size2);
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the first size must not exceed the second"));
  }
  if (size1 == 0 || size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must have 0 hashes, got ", proof.size()));
    }
    if (size1 == 0 && root1 != EmptyRoot()) {
      return absl::DataLossError(absl::StrCat(what, ": the root for size 0 must be the empty root ",
                                              HexOf(EmptyRoot()), ", got ", HexOf(root1)));
    }
    if (size1 == size2 && root1 != root2) {
      return absl::DataLossError(absl::StrCat(what, ": equal sizes but different roots ",
                                              HexOf(root1), " and ", HexOf(root2)));
    }
    return absl::OkStatus();
  }

  // 0 < size1 < size2: RFC 9162 §2.1.4.2. Steps 3-4 first, to know the
  // expected length.
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  const bool first_is_subtree = IsPowerOfTwo(size1);
  const uint64_t expected = (first_is_subtree ? 0 : 1) + PathSteps(fn, sn);
  // Step 1 is covered: `expected` is at least 1 here.
  if (proof.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must have ", expected, " hashes, got ", proof.size()));
  }
  // Step 2: a power-of-two first tree is itself a node of the second; its
  // root starts the path.
  auto it = proof.begin();
  // Step 5.
  Hash fr = first_is_subtree ? root1 : *it++;
  Hash sr = fr;
  // Step 6.
  for (; it != proof.end(); ++it) {
    const Hash& c = *it;
    if (sn == 0) return absl::InternalError("consistency proof walk overran the path");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return absl::InternalError("consistency proof walk ended early");
  if (fr != root1) {
    return absl::DataLossError(absl::StrCat(what, " computes root ", HexOf(fr), " for size ", size1,
                                            " but the expected root is ", HexOf(root1)));
  }
  if (sr != root2) {
    return absl::DataLossError(absl::StrCat(what, " computes root ", HexOf(sr), " for size ", size2,
                                            " but the expected root is ", HexOf(root2)));
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::transparency
