// The OpenSSL algorithms duurzaam's crypto uses, fetched once from the
// default provider: OpenSSL 3 looks a provider up on every implicit fetch
// (EVP_sha256() handed to a digest, HMAC() and friends), a cost paid per
// sealed event otherwise. Thread-safe; never freed (process lifetime).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace duurzaam::crypto::internal {

const EVP_MD* Sha256Md();
const EVP_CIPHER* Aes256Gcm();
// HMAC-SHA256 of `data` under `key` (32 bytes out).
[[nodiscard]] absl::StatusOr<std::string> HmacSha256(std::string_view key, std::string_view data);

}  // namespace duurzaam::crypto::internal
