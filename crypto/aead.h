// AES-256-GCM authenticated encryption (OpenSSL 3 EVP). Stateless and
// thread-safe. Keys are borrowed for the duration of the call only.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace duurzaam::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;

// Encrypts `plaintext` under `key32` (exactly 32 bytes, else INVALID_ARGUMENT)
// and authenticates it together with `aad`. Returns
// nonce (12 random bytes) || ciphertext || tag (16 bytes).
[[nodiscard]] absl::StatusOr<std::string> AeadSeal(std::string_view key32, std::string_view aad,
                                                   std::string_view plaintext);

// Like AeadSeal, but deterministic: the nonce is derived (SIV-style) from the
// key, `aad` and `plaintext` with HMAC-SHA256 under a subkey of `key32`, so
// sealing the same input twice gives the same bytes (a retried write stays
// byte-identical) and distinct inputs get distinct nonces except with
// negligible probability (96-bit collision). It reveals only that two sealed
// values with the same key, AAD and plaintext are equal. Opened by AeadOpen.
[[nodiscard]] absl::StatusOr<std::string> AeadSealDeterministic(std::string_view key32,
                                                                std::string_view aad,
                                                                std::string_view plaintext);

// Inverse of AeadSeal. DATA_LOSS if authentication fails (wrong key, wrong
// AAD, or any altered byte); INVALID_ARGUMENT if `sealed` is shorter than
// nonce + tag or the key is not 32 bytes.
[[nodiscard]] absl::StatusOr<std::string> AeadOpen(std::string_view key32, std::string_view aad,
                                                   std::string_view sealed);

// AeadSeal without a copy: `buffer` holds kAeadNonceSize bytes of room,
// then the `plaintext_size` bytes to seal, then kAeadTagSize bytes of room;
// afterwards it holds what AeadSeal returns (a random nonce, the ciphertext
// in place of the plaintext, the tag). For large records (the expert app's
// journal frames), where a copy costs as much as the encryption.
[[nodiscard]] absl::Status AeadSealInPlace(std::string_view key32, std::string_view aad,
                                           char* buffer, size_t plaintext_size);

// Opens many sealed values whose keys repeat (one reader's run through a
// case's events): AeadOpen's result, with one cipher context kept per key
// (up to kKeys, the least recently used dropped) so a key's schedule is
// not made anew for every value. Keys and contexts are wiped when dropped
// and when the opener is destroyed: keep one only for a bounded run of
// reads. Not thread-safe.
class AeadOpener {
 public:
  static constexpr size_t kKeys = 16;
  AeadOpener() = default;
  ~AeadOpener();
  AeadOpener(const AeadOpener&) = delete;
  AeadOpener& operator=(const AeadOpener&) = delete;

  [[nodiscard]] absl::StatusOr<std::string> Open(std::string_view key32, std::string_view aad,
                                                 std::string_view sealed);

 private:
  struct Slot {
    unsigned char key[kAeadKeySize];
    EVP_CIPHER_CTX* ctx;
  };
  std::vector<Slot> slots_;  // most recently used first
};

}  // namespace duurzaam::crypto
