#include "transparency/note.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace duurzaam::transparency {
namespace {

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A key name: non-empty, no spaces, '+' or control characters (signed-note).
bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '+') return false;
  }
  return true;
}

constexpr std::string_view kDash = "\xE2\x80\x94 ";  // "— "
constexpr size_t kMaxLine = 1024;
constexpr size_t kMaxSignatures = 100;

std::string CosignedMessage(std::string_view body, uint64_t timestamp) {
  return absl::StrCat("cosignature/v1\ntime ", timestamp, "\n", A(body));
}

std::string U64Be(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t FromU64Be(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("not base64 (length)");
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("not base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  if (Base64(out) != text) return absl::InvalidArgumentError("not canonical base64");
  return out;
}

std::string NoteKeyHash(std::string_view name, uint8_t algorithm, std::string_view key32) {
  std::string input = absl::StrCat(A(name), "\n");
  input.push_back(static_cast<char>(algorithm));
  input.append(key32);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), 4);
}

VerifierKey MakeVerifierKey(std::string_view name, uint8_t algorithm, std::string_view key32) {
  return VerifierKey{std::string(name), algorithm, std::string(key32),
                     NoteKeyHash(name, algorithm, key32)};
}

std::string VerifierKey::Format() const {
  std::string alg_key(1, static_cast<char>(algorithm));
  alg_key += key;
  return absl::StrCat(name, "+", absl::BytesToHexString(hash), "+", Base64(alg_key));
}

absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(A(text), absl::MaxSplits('+', 2));
  if (parts.size() != 3 || parts[0].empty() || parts[1].size() != 8) {
    return absl::InvalidArgumentError(
        "a verifier key is NAME+HASH+KEY (hash: 8 hex digits, key: base64)");
  }
  if (!ValidKeyName(std::string_view(parts[0].data(), parts[0].size()))) {
    return absl::InvalidArgumentError("a key name has no spaces, '+' or control characters");
  }
  auto alg_key = FromBase64(std::string_view(parts[2].data(), parts[2].size()));
  if (!alg_key.ok()) return absl::InvalidArgumentError("the verifier key's KEY is not base64");
  if (alg_key->size() != 33) {
    return absl::InvalidArgumentError("the verifier key is not 1 algorithm byte + 32 key bytes");
  }
  const uint8_t alg = static_cast<uint8_t>((*alg_key)[0]);
  if (alg != kNoteEd25519 && alg != kNoteCosignatureV1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key algorithm ", alg, " is not supported (1: Ed25519, 4: cosignature/v1)"));
  }
  VerifierKey key =
      MakeVerifierKey(std::string_view(parts[0].data(), parts[0].size()), alg, alg_key->substr(1));
  if (absl::BytesToHexString(key.hash) != absl::AsciiStrToLower(parts[1])) {
    return absl::InvalidArgumentError("the verifier key's hash does not match its name and key");
  }
  return key;
}

std::string Note::Format() const {
  std::string out = absl::StrCat(body, "\n");
  for (const NoteSignature& s : signatures) {
    absl::StrAppend(&out, A(kDash), s.name, " ", Base64(s.key_hash + s.data), "\n");
  }
  return out;
}

absl::StatusOr<Note> ParseNote(std::string_view text) {
  // The signatures follow the last blank line (as Go's note.Open reads it).
  const size_t blank = text.rfind("\n\n");
  if (blank == std::string_view::npos) {
    return absl::InvalidArgumentError("not a signed note: no blank line before the signatures");
  }
  Note note;
  note.body = std::string(text.substr(0, blank + 1));
  std::string_view rest = text.substr(blank + 2);
  if (rest.empty() || rest.back() != '\n') {
    return absl::InvalidArgumentError("not a signed note: the signatures do not end in a newline");
  }
  rest.remove_suffix(1);
  for (absl::string_view absl_line : absl::StrSplit(A(rest), '\n')) {
    std::string_view line(absl_line.data(), absl_line.size());
    if (line.size() > kMaxLine) return absl::InvalidArgumentError("a signature line is too long");
    if (line.substr(0, kDash.size()) != kDash) {
      return absl::InvalidArgumentError(absl::StrCat("signature line ", note.signatures.size() + 1,
                                                     " does not start with \"— \""));
    }
    line.remove_prefix(kDash.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || !ValidKeyName(line.substr(0, space))) {
      return absl::InvalidArgumentError("a signature line is \"— NAME SIGNATURE\"");
    }
    auto raw = FromBase64(line.substr(space + 1));
    if (!raw.ok() || raw->size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat("the signature of ", A(line.substr(0, space)),
                                                     " is not base64 of hash+signature"));
    }
    note.signatures.push_back(
        NoteSignature{std::string(line.substr(0, space)), raw->substr(0, 4), raw->substr(4)});
    if (note.signatures.size() > kMaxSignatures) {
      return absl::InvalidArgumentError("a note with more than 100 signatures");
    }
  }
  if (note.signatures.empty()) return absl::InvalidArgumentError("a note without signatures");
  return note;
}

std::string CheckpointNoteBody(std::string_view origin, uint64_t tree_size, const Hash& root) {
  return absl::StrCat(
      A(origin), "\n", tree_size, "\n",
      Base64(std::string_view(reinterpret_cast<const char*>(root.data()), root.size())), "\n");
}

absl::StatusOr<NoteCheckpoint> ParseCheckpointNoteBody(std::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError("a checkpoint body ends in a newline");
  }
  for (char c : body) {
    if (c != '\n' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) {
      return absl::InvalidArgumentError("a checkpoint body holds a control character");
    }
  }
  std::vector<absl::string_view> lines = absl::StrSplit(A(body.substr(0, body.size() - 1)), '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError("a checkpoint is ORIGIN, SIZE and ROOT, one per line");
  }
  NoteCheckpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return absl::InvalidArgumentError("a checkpoint's origin is empty");
  bool digits = !lines[1].empty() && lines[1].size() <= 20;
  for (char c : lines[1]) digits = digits && c >= '0' && c <= '9';
  if (!digits || (lines[1].size() > 1 && lines[1][0] == '0') ||
      !absl::SimpleAtoi(lines[1], &cp.tree_size)) {
    return absl::InvalidArgumentError("a checkpoint's size is a decimal number");
  }
  auto root = FromBase64(std::string_view(lines[2].data(), lines[2].size()));
  if (!root.ok() || root->size() != cp.root.size()) {
    return absl::InvalidArgumentError("a checkpoint's root is 32 bytes in base64");
  }
  std::copy(root->begin(), root->end(), cp.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return absl::InvalidArgumentError("a checkpoint has no empty lines");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

Note SignNote(std::string body, std::string_view name, const SigningKey& key) {
  Note note;
  NoteSignature sig{std::string(name), NoteKeyHash(name, kNoteEd25519, key.PublicKeyRaw()),
                    key.Sign(body)};
  note.body = std::move(body);
  note.signatures.push_back(std::move(sig));
  return note;
}

NoteSignature Cosign(std::string_view body, std::string_view name, const SigningKey& key,
                     uint64_t timestamp) {
  return NoteSignature{std::string(name), NoteKeyHash(name, kNoteCosignatureV1, key.PublicKeyRaw()),
                       U64Be(timestamp) + key.Sign(CosignedMessage(body, timestamp))};
}

absl::Status VerifyNote(const Note& note, const VerifierKey& key) {
  bool found = false;
  for (const NoteSignature& s : note.signatures) {
    if (s.name != key.name || s.key_hash != key.hash) continue;
    found = true;
    absl::Status verified;
    if (key.algorithm == kNoteCosignatureV1) {
      if (s.data.size() != 8 + 64) {
        verified = absl::UnauthenticatedError("a cosignature is 8 time bytes + 64 signature bytes");
      } else {
        verified = VerifySignature(
            key.key, CosignedMessage(note.body, FromU64Be(s.data.substr(0, 8))), s.data.substr(8));
      }
    } else {
      verified = VerifySignature(key.key, note.body, s.data);
    }
    if (verified.ok()) return absl::OkStatus();
  }
  return absl::UnauthenticatedError(
      found
          ? absl::StrCat("the signature of ", key.name, " (key ", absl::BytesToHexString(key.hash),
                         ") does not verify: the note was changed or not signed by this key")
          : absl::StrCat("the note carries no signature of ", key.name, " (key ",
                         absl::BytesToHexString(key.hash), ")"));
}

}  // namespace duurzaam::transparency
