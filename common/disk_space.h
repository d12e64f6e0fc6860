// Free disk space, and the threshold every store of the server keeps: a
// write that would leave less than the threshold free is refused
// RESOURCE_EXHAUSTED (naming the folder, its free space and the threshold)
// before it reaches the disk, so a filling disk is a clear refusal and
// never a write that fails halfway. Writes resume by themselves once space
// is freed: the guard reads the free space again.
//
// Fails closed: when the free space cannot be read, writes are refused.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace duurzaam {

// Bytes an unprivileged process may still write on the filesystem holding
// `path` (statvfs f_bavail; for a missing path, its nearest existing
// ancestor).
[[nodiscard]] absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path);

// "312 MiB", "1.5 GiB", "880 KiB", "17 bytes".
std::string FormatBytes(uint64_t bytes);

class DiskSpaceGuard {
 public:
  using FreeBytesFn = std::function<absl::StatusOr<uint64_t>(const std::string&)>;

  // `what` names the store in messages ("the event store"). min_free_bytes
  // 0 turns the threshold off (Check always passes and reads nothing).
  DiskSpaceGuard(std::string path, uint64_t min_free_bytes, std::string what,
                 FreeBytesFn free_bytes = FreeDiskBytes);

  // OK while at least the threshold is free (a write may then take the
  // disk below it by its own size: the threshold is a reserve, not a
  // limit). `bytes` is what the caller is about to write: the free space is
  // read again once 100 ms have passed or half the headroom seen at the
  // last reading has been written, so a busy writer pays a system call now
  // and then, not per write; below the threshold it is read every time.
  [[nodiscard]] absl::Status Check(uint64_t bytes);

  // OK when at least `needed` bytes are free now (read now): for work that
  // needs more room than one write (opening, recovering).
  [[nodiscard]] absl::Status CheckNow(uint64_t needed, const std::string& for_what);

  uint64_t min_free_bytes() const { return min_free_; }
  const std::string& path() const { return path_; }

 private:
  absl::Status Refusal(uint64_t free, uint64_t needed, const std::string& for_what) const;

  const std::string path_;
  const uint64_t min_free_;
  const std::string what_;
  const FreeBytesFn free_bytes_;
  Mutex mu_;
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t free_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t budget_ ABSL_GUARDED_BY(mu_) = 0;  // bytes writable before reading again
  absl::Status read_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace duurzaam
