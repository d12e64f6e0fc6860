// Signed checkpoints: a tree size and root, signed with Ed25519 by the log,
// so a reader can hold the log to a history it published.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transparency/merkle.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace duurzaam::transparency {

// The state of a log at one moment: its first `tree_size` leaves have the
// Merkle root `root`.
struct Checkpoint {
  std::string origin;  // names the log; any bytes
  uint64_t tree_size = 0;
  Hash root{};
  int64_t timestamp_micros = 0;  // when the log signed it, Unix epoch

  // The exact bytes that are signed: one field per line,
  //   "duurzaam checkpoint v1\n" origin "\n" tree_size "\n" hex(root) "\n"
  //   timestamp_micros "\n"
  // with integers in decimal and the root in lower-case hex. In the origin,
  // '\' is written "\\" and a newline "\n", so distinct checkpoints always
  // give distinct bodies.
  std::string SignedBody() const;

  bool operator==(const Checkpoint&) const = default;
};

// An Ed25519 private key. Move-only; owns its OpenSSL key. Const methods are
// safe to call from many threads at once.
class SigningKey {
 public:
  // Loads the PKCS#8 PEM key at `pem_path`, or, if there is no file there,
  // creates a new key and writes it with mode 0600 (atomically: written to
  // a temporary file, then linked into place, so a concurrent creator or a
  // crash never leaves a partial key; if another process created the file
  // first, its key is loaded). Errors as Load, plus UNAVAILABLE when the file
  // cannot be written.
  [[nodiscard]] static absl::StatusOr<SigningKey> LoadOrCreate(const std::string& pem_path);

  // Loads a PKCS#8 PEM Ed25519 private key. NOT_FOUND if the file is
  // missing, INVALID_ARGUMENT if it is not a PEM private key or not Ed25519,
  // UNAVAILABLE if it cannot be read.
  [[nodiscard]] static absl::StatusOr<SigningKey> Load(const std::string& pem_path);

  // A fresh key, held only in memory.
  [[nodiscard]] static absl::StatusOr<SigningKey> Generate();

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  // The 64-byte Ed25519 signature of `message`. Signing with a loaded key
  // fails only if OpenSSL cannot allocate memory; the process aborts then.
  std::string Sign(std::string_view message) const;

  // The 32-byte raw public key.
  std::string PublicKeyRaw() const { return public_raw_; }

  // Hex of SHA-256(PublicKeyRaw()): 64 characters, the key's fingerprint.
  std::string Fingerprint() const;
  // Hex of the first 8 bytes of SHA-256(PublicKeyRaw()): 16 characters.
  std::string KeyId() const;

  // The public key as a PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
  std::string PublicKeyPem() const;

 private:
  struct PkeyDeleter {
    void operator()(evp_pkey_st* key) const;
  };
  using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyDeleter>;

  [[nodiscard]] static absl::StatusOr<SigningKey> FromPkey(PkeyPtr key);
  SigningKey(PkeyPtr key, std::string public_raw);

  PkeyPtr key_;
  std::string public_raw_;
};

// Checks an Ed25519 signature. INVALID_ARGUMENT if the public key is not 32
// bytes; UNAUTHENTICATED if the signature is not 64 bytes or does not verify
// for this message and key (the message says which).
[[nodiscard]] absl::Status VerifySignature(std::string_view public_key_raw32,
                                           std::string_view message, std::string_view signature);

// Signs checkpoint.SignedBody(): a 64-byte signature.
std::string SignCheckpoint(const Checkpoint& checkpoint, const SigningKey& key);

// Checks a checkpoint signature made by SignCheckpoint. Errors as
// VerifySignature; UNAUTHENTICATED messages name the checkpoint's origin and
// size.
[[nodiscard]] absl::Status VerifyCheckpoint(const Checkpoint& checkpoint,
                                            std::string_view signature,
                                            std::string_view public_key_raw32);

}  // namespace duurzaam::transparency
