#include "common/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace duurzaam {

[[nodiscard]] absl::StatusOr<uint64_t> FreeDiskBytes(const std::string& path) {
  std::filesystem::path p = path.empty() ? std::filesystem::path(".") : std::filesystem::path(path);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p.parent_path() != p) {
    p = p.parent_path();
  }
  struct statvfs st {};
  if (statvfs(p.c_str(), &st) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the free disk space of '", path, "': ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

std::string FormatBytes(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10;
  if (bytes >= kGiB) return absl::StrFormat("%.1f GiB", static_cast<double>(bytes) / kGiB);
  if (bytes >= kMiB) return absl::StrCat(bytes / kMiB, " MiB");
  if (bytes >= kKiB) return absl::StrCat(bytes / kKiB, " KiB");
  return absl::StrCat(bytes, " bytes");
}

DiskSpaceGuard::DiskSpaceGuard(std::string path, uint64_t min_free_bytes, std::string what,
                               FreeBytesFn free_bytes)
    : path_(std::move(path)),
      min_free_(min_free_bytes),
      what_(std::move(what)),
      free_bytes_(std::move(free_bytes)) {}

absl::Status DiskSpaceGuard::Refusal(uint64_t free, uint64_t needed,
                                     const std::string& for_what) const {
  if (for_what.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the disk of '", path_, "' has ", FormatBytes(free), " free, less than the ",
                     FormatBytes(needed), " ", what_,
                     " keeps free: writes are refused until space is freed "
                     "on that disk, and resume by themselves once there is room"));
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("the disk of '", path_, "' has ", FormatBytes(free), " free, less than the ",
                   FormatBytes(needed), " ", what_, " needs ", for_what,
                   ": free space on that disk and try again"));
}

[[nodiscard]] absl::Status DiskSpaceGuard::Check(uint64_t bytes) {
  if (min_free_ == 0) return absl::OkStatus();
  MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (read_error_.ok() && free_ >= min_free_ && bytes <= budget_ &&
      now - read_at_ < absl::Milliseconds(100)) {
    budget_ -= bytes;
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> free = free_bytes_(path_);
  read_at_ = now;
  if (!free.ok()) {
    read_error_ = free.status();  // fail closed
    budget_ = 0;
    return read_error_;
  }
  read_error_ = absl::OkStatus();
  free_ = *free;
  if (free_ < min_free_) {
    budget_ = 0;
    return Refusal(free_, min_free_, "");
  }
  budget_ = (free_ - min_free_) / 2;
  return absl::OkStatus();
}

[[nodiscard]] absl::Status DiskSpaceGuard::CheckNow(uint64_t needed, const std::string& for_what) {
  absl::StatusOr<uint64_t> free = free_bytes_(path_);
  if (!free.ok()) return free.status();
  {
    MutexLock lock(&mu_);
    free_ = *free;
    read_at_ = absl::Now();
    budget_ = 0;
  }
  if (*free < needed) return Refusal(*free, needed, for_what);
  return absl::OkStatus();
}

}  // namespace duurzaam
