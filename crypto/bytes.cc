#include "crypto/bytes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/hex.h"
#include "crypto/algorithms.h"

namespace duurzaam::crypto::internal {

std::string HexEncode(std::string_view bytes) { return absl::BytesToHexString(Av(bytes)); }

bool HexDecode(std::string_view hex, std::string* out) {
  out->clear();
  if (hex.size() % 2 != 0) return false;
  std::string result(hex.size() / 2, '\0');
  for (size_t i = 0; i < result.size(); ++i) {
    const int hi = HexDigitValue(hex[2 * i]);
    const int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      Cleanse(result);
      return false;
    }
    result[i] = static_cast<char>((hi << 4) | lo);
  }
  *out = std::move(result);
  return true;
}

[[nodiscard]] absl::StatusOr<std::string> RandomBytes(size_t n) {
  if (n > INT_MAX) return absl::InvalidArgumentError("RandomBytes: request too large");
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return absl::InternalError("RAND_bytes failed: the OpenSSL random generator is unavailable");
  }
  return out;
}

[[nodiscard]] absl::StatusOr<std::string> Sha256(std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &length,
                 internal::Sha256Md(), nullptr) != 1) {
    return absl::InternalError("EVP_Digest(SHA-256) failed");
  }
  out.resize(length);
  return out;
}

void Cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace duurzaam::crypto::internal
