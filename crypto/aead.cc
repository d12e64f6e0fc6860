#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/algorithms.h"
#include "crypto/bytes.h"

namespace duurzaam::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// EVP takes int lengths; stay well clear of INT_MAX.
constexpr size_t kMaxLength = INT_MAX / 2;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

[[nodiscard]] absl::Status CheckKeyAndSizes(std::string_view key32, std::string_view aad,
                                            std::string_view data) {
  if (key32.size() != kAeadKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("AES-256-GCM key must be ", kAeadKeySize, " bytes, got ", key32.size()));
  }
  if (aad.size() > kMaxLength || data.size() > kMaxLength) {
    return absl::InvalidArgumentError("AES-256-GCM input too large");
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status OpenSslError(std::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL AES-256-GCM ", internal::Av(what), " failed"));
}

// Seals with the given 12-byte nonce; `out` holds the nonce on entry.
[[nodiscard]] absl::StatusOr<std::string> SealWithNonce(std::string_view key32,
                                                        std::string_view aad,
                                                        std::string_view plaintext,
                                                        std::string out) {
  out.resize(kAeadNonceSize + plaintext.size() + kAeadTagSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);  // frees and wipes the schedule
  int length = 0;
  if (ctx == nullptr || EVP_EncryptInit_ex2(ctx.get(), internal::Aes256Gcm(), Bytes(key32),
                                            Bytes(out), nullptr) != 1) {
    return OpenSslError("init");
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(aad),
                                        static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AAD");
  }
  unsigned char* ciphertext = Bytes(out) + kAeadNonceSize;
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), ciphertext, &length, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      return OpenSslError("encrypt");
    }
    written = length;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + written, &length) != 1) {
    return OpenSslError("final");
  }
  written += length;
  if (static_cast<size_t>(written) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize, ciphertext + written) !=
          1) {
    return OpenSslError("tag");
  }
  return out;
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::string> AeadSeal(std::string_view key32, std::string_view aad,
                                                   std::string_view plaintext) {
  RETURN_IF_ERROR(CheckKeyAndSizes(key32, aad, plaintext));
  ASSIGN_OR_RETURN(std::string nonce, internal::RandomBytes(kAeadNonceSize));
  return SealWithNonce(key32, aad, plaintext, std::move(nonce));
}

[[nodiscard]] absl::StatusOr<std::string> AeadSealDeterministic(std::string_view key32,
                                                                std::string_view aad,
                                                                std::string_view plaintext) {
  RETURN_IF_ERROR(CheckKeyAndSizes(key32, aad, plaintext));
  // A subkey for nonce derivation, so the AES key itself is never an HMAC key.
  ASSIGN_OR_RETURN(std::string nonce_key,
                   internal::HmacSha256(key32, "duurzaam.aead.nonce-key.v1"));
  // Length-prefix the AAD so (aad, plaintext) splits cannot collide.
  std::string input(8, '\0');
  uint64_t aad_size = aad.size();
  for (int i = 7; i >= 0; --i, aad_size >>= 8) input[i] = static_cast<char>(aad_size & 0xff);
  input.append(aad);
  input.append(plaintext);
  absl::StatusOr<std::string> digest = internal::HmacSha256(nonce_key, input);
  internal::Cleanse(nonce_key);
  internal::Cleanse(input);
  RETURN_IF_ERROR(digest.status());
  digest->resize(kAeadNonceSize);
  return SealWithNonce(key32, aad, plaintext, std::move(*digest));
}

namespace {

// Opens `sealed` with `ctx`, whose key is already set (Init with the key
// and no nonce, or an earlier open under the same key).
[[nodiscard]] absl::StatusOr<std::string> OpenWith(EVP_CIPHER_CTX* ctx, std::string_view aad,
                                                   std::string_view sealed) {
  if (sealed.size() < kAeadOverhead) {
    return absl::InvalidArgumentError(absl::StrCat("sealed data is ", sealed.size(),
                                                   " bytes, shorter than nonce + tag (",
                                                   kAeadOverhead, ")"));
  }
  const std::string_view nonce = sealed.substr(0, kAeadNonceSize);
  const std::string_view ciphertext = sealed.substr(kAeadNonceSize, sealed.size() - kAeadOverhead);
  unsigned char tag[kAeadTagSize];
  std::memcpy(tag, sealed.data() + sealed.size() - kAeadTagSize, kAeadTagSize);
  int length = 0;
  if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, Bytes(nonce), nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag) != 1) {
    return OpenSslError("init");
  }
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx, nullptr, &length, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AAD");
  }
  std::string plaintext(ciphertext.size(), '\0');
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx, Bytes(plaintext), &length, Bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      internal::Cleanse(plaintext);
      return OpenSslError("decrypt");
    }
    written = length;
  }
  if (EVP_DecryptFinal_ex(ctx, Bytes(plaintext) + written, &length) != 1) {
    // Never hand out (or leave in memory) plaintext that failed authentication.
    internal::Cleanse(plaintext);
    return absl::DataLossError(
        "AES-256-GCM authentication failed: wrong key, wrong associated data (e.g. another "
        "scope or record), or the ciphertext was altered");
  }
  return plaintext;
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::string> AeadOpen(std::string_view key32, std::string_view aad,
                                                   std::string_view sealed) {
  RETURN_IF_ERROR(CheckKeyAndSizes(key32, aad, sealed));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);  // frees and wipes the schedule
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), internal::Aes256Gcm(), Bytes(key32), nullptr, nullptr) != 1) {
    return OpenSslError("init");
  }
  return OpenWith(ctx.get(), aad, sealed);
}

[[nodiscard]] absl::Status AeadSealInPlace(std::string_view key32, std::string_view aad,
                                           char* buffer, size_t plaintext_size) {
  RETURN_IF_ERROR(CheckKeyAndSizes(key32, aad, std::string_view(buffer, plaintext_size)));
  unsigned char* nonce = reinterpret_cast<unsigned char*>(buffer);
  if (RAND_bytes(nonce, static_cast<int>(kAeadNonceSize)) != 1) {
    return absl::InternalError("RAND_bytes failed: the OpenSSL random generator is unavailable");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), internal::Aes256Gcm(), Bytes(key32), nonce, nullptr) != 1) {
    return OpenSslError("init");
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(aad),
                                        static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AAD");
  }
  unsigned char* data = nonce + kAeadNonceSize;
  int written = 0;
  if (plaintext_size > 0) {
    if (EVP_EncryptUpdate(ctx.get(), data, &length, data, static_cast<int>(plaintext_size)) != 1) {
      return OpenSslError("encrypt");
    }
    written = length;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), data + written, &length) != 1) return OpenSslError("final");
  written += length;
  if (static_cast<size_t>(written) != plaintext_size ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize, data + written) != 1) {
    return OpenSslError("tag");
  }
  return absl::OkStatus();
}

AeadOpener::~AeadOpener() {
  for (Slot& slot : slots_) {
    OPENSSL_cleanse(slot.key, sizeof slot.key);
    EVP_CIPHER_CTX_free(slot.ctx);
  }
}

[[nodiscard]] absl::StatusOr<std::string> AeadOpener::Open(std::string_view key32,
                                                           std::string_view aad,
                                                           std::string_view sealed) {
  RETURN_IF_ERROR(CheckKeyAndSizes(key32, aad, sealed));
  size_t i = 0;
  while (i < slots_.size() && CRYPTO_memcmp(slots_[i].key, key32.data(), kAeadKeySize) != 0) ++i;
  if (i == slots_.size()) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr ||
        EVP_DecryptInit_ex2(ctx, internal::Aes256Gcm(), Bytes(key32), nullptr, nullptr) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      return OpenSslError("init");
    }
    if (slots_.size() == kKeys) {
      OPENSSL_cleanse(slots_.back().key, kAeadKeySize);
      EVP_CIPHER_CTX_free(slots_.back().ctx);
      slots_.pop_back();
      i = slots_.size();
    }
    Slot& slot = slots_.emplace_back();
    std::memcpy(slot.key, key32.data(), kAeadKeySize);
    slot.ctx = ctx;
  }
  if (i > 0)
    std::rotate(slots_.begin(), slots_.begin() + static_cast<long>(i),
                slots_.begin() + static_cast<long>(i) + 1);
  return OpenWith(slots_.front().ctx, aad, sealed);
}

}  // namespace duurzaam::crypto
