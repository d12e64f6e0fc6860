// Durable-file helpers (POSIX) of the crypto module and of client programs'
// encrypted files (duurzaam_crypto_primitives). Not part of the public API.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace duurzaam::crypto::internal {

// Temporary files are named "<final name>.tmp-<random hex>" next to the final
// file; a crash can leave them behind, so owners sweep them.
inline constexpr std::string_view kTempMarker = ".tmp-";

// Maps errno to an absl::Status whose message names the operation and path.
[[nodiscard]] absl::Status ErrnoStatus(int error_number, std::string_view operation,
                                       std::string_view path);

// The directory part of `path` ("." if there is none).
std::string DirName(const std::string& path);

// Reads a whole file. NOT_FOUND if it does not exist. If `mode` is non-null it
// receives the st_mode of the opened file (fstat, so no check/use race).
[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path, mode_t* mode = nullptr);

// Makes `contents` the contents of `path` durably and atomically: write a temp
// file with `mode`, fsync it, rename it over `path` (or, when `exclusive`,
// hard-link it to `path`, failing with ALREADY_EXISTS if that exists), then
// fsync the directory. On failure the temp file is removed.
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                               mode_t mode, bool exclusive = false);

// fsyncs a directory so that renames and creations in it are durable.
[[nodiscard]] absl::Status FsyncDirectory(const std::string& dir);

// Overwrites every byte of an existing file in place with zeros and fsyncs it.
// NOT_FOUND if it does not exist. (On copy-on-write or flash storage the old
// blocks may survive physically; see the DataKeyStore comment.)
[[nodiscard]] absl::Status OverwriteWithZeros(const std::string& path);

}  // namespace duurzaam::crypto::internal
