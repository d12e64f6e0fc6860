// Internal helpers of the crypto module: hex, randomness, SHA-256, wiping.
// Not part of the public API; only crypto/*.cc include this.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace duurzaam::crypto::internal {

// Debian's Abseil has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0): convert explicitly at Abseil call sites.
inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);

// Decodes hex (either case). Returns false, leaving `out` empty, on odd
// length or a non-hex character.
bool HexDecode(std::string_view hex, std::string* out);

// `n` bytes from OpenSSL's CSPRNG; INTERNAL if it fails.
[[nodiscard]] absl::StatusOr<std::string> RandomBytes(size_t n);

// Raw 32-byte SHA-256 of `data`.
[[nodiscard]] absl::StatusOr<std::string> Sha256(std::string_view data);

// Overwrites the bytes of `s` with zeros (OPENSSL_cleanse) and clears it.
void Cleanse(std::string& s);

}  // namespace duurzaam::crypto::internal
