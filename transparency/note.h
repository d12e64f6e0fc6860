// Checkpoints as C2SP signed notes (c2sp.org/signed-note,
// c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature), so standard
// witnesses can cosign what this log signs and standard tools can read it.
//
// A checkpoint note:
//   <origin>\n<tree size, decimal>\n<root hash, base64>\n
//   \n
//   — <key name> <base64(4-byte key hash || signature)>\n   (one or more)
// The log's Ed25519 signature (algorithm 0x01) is over the body (the text
// before the blank line, its last newline included). A witness's
// cosignature (algorithm 0x04) is an Ed25519 signature over
//   "cosignature/v1\ntime <t>\n" + body
// carried as base64(4-byte key hash || t as u64 big-endian || signature).
// key hash = the first 4 bytes of SHA-256(name || 0x0A || algorithm || key).
// A verifier key is written "<name>+<key hash, 8 hex>+<base64(algorithm ||
// 32-byte key)>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace duurzaam::transparency {

inline constexpr uint8_t kNoteEd25519 = 0x01;
inline constexpr uint8_t kNoteCosignatureV1 = 0x04;

std::string Base64(std::string_view bytes);
// Strict standard base64 with padding; INVALID_ARGUMENT otherwise.
[[nodiscard]] absl::StatusOr<std::string> FromBase64(std::string_view text);

// The 4-byte key hash of a key (see above), as raw bytes.
std::string NoteKeyHash(std::string_view name, uint8_t algorithm, std::string_view key32);

struct VerifierKey {
  std::string name;
  uint8_t algorithm = kNoteEd25519;
  std::string key;             // 32 bytes
  std::string hash;            // 4 bytes, NoteKeyHash(name, algorithm, key)
  std::string Format() const;  // "<name>+<hash hex>+<base64(alg||key)>"
};
VerifierKey MakeVerifierKey(std::string_view name, uint8_t algorithm, std::string_view key32);
// INVALID_ARGUMENT naming what is wrong (shape, algorithm, length, a hash
// that does not match the key).
[[nodiscard]] absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text);

struct NoteSignature {
  std::string name;
  std::string key_hash;  // 4 bytes
  std::string data;      // what follows the key hash: the signature (and a cosignature's time)
};

struct Note {
  std::string body;  // up to and including the newline before the blank line
  std::vector<NoteSignature> signatures;
  std::string Format() const;  // body + "\n" + one line per signature
};
// INVALID_ARGUMENT for a note that is not well formed (no blank line, a
// signature line without the em dash, bad base64, a line over 1 KiB, more
// than 100 signatures).
[[nodiscard]] absl::StatusOr<Note> ParseNote(std::string_view text);

// The checkpoint in a note body.
struct NoteCheckpoint {
  std::string origin;
  uint64_t tree_size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // further body lines
};
std::string CheckpointNoteBody(std::string_view origin, uint64_t tree_size, const Hash& root);
[[nodiscard]] absl::StatusOr<NoteCheckpoint> ParseCheckpointNoteBody(std::string_view body);

// A note with `body` signed by the log key `key` named `name`.
Note SignNote(std::string body, std::string_view name, const SigningKey& key);
// A witness's cosignature line for `body` at `timestamp` (seconds).
NoteSignature Cosign(std::string_view body, std::string_view name, const SigningKey& key,
                     uint64_t timestamp);

// OK when `note` carries a valid signature by `key` (Ed25519 or a
// cosignature, by key.algorithm). UNAUTHENTICATED when there is no line for
// the key (name and hash) or its signature does not verify: the message
// names the key.
[[nodiscard]] absl::Status VerifyNote(const Note& note, const VerifierKey& key);

}  // namespace duurzaam::transparency
