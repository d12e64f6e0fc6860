#include "crypto/algorithms.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <memory>

namespace duurzaam::crypto::internal {
namespace {

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// An HMAC context with its digest set and no key: duplicated per use, so
// neither the MAC nor the digest is looked up again.
const EVP_MAC_CTX* HmacSha256Template() {
  static const EVP_MAC_CTX* const ctx = []() -> EVP_MAC_CTX* {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (mac == nullptr) return nullptr;
    EVP_MAC_CTX* made = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    if (made == nullptr) return nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(made, params) != 1) {
      EVP_MAC_CTX_free(made);
      return nullptr;
    }
    return made;
  }();
  return ctx;
}

}  // namespace

const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return fetched != nullptr ? fetched : EVP_aes_256_gcm();
  }();
  return cipher;
}

[[nodiscard]] absl::StatusOr<std::string> HmacSha256(std::string_view key, std::string_view data) {
  const EVP_MAC_CTX* base = HmacSha256Template();
  std::string out(32, '\0');
  if (base == nullptr) {
    // The template could not be made (at its first use): look HMAC up on
    // this call instead of failing for the life of the process.
    unsigned int one_shot = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             reinterpret_cast<unsigned char*>(out.data()), &one_shot) == nullptr ||
        one_shot != out.size()) {
      return absl::InternalError("OpenSSL HMAC-SHA256 failed");
    }
    return out;
  }
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_dup(base));
  size_t length = 0;
  if (ctx == nullptr ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length, out.size()) !=
          1 ||
      length != out.size()) {
    return absl::InternalError("OpenSSL HMAC-SHA256 failed");
  }
  return out;
}

}  // namespace duurzaam::crypto::internal
