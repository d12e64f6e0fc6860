#include "crypto/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/bytes.h"

namespace duurzaam::crypto::internal {
namespace {

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry (e.g. from NFS).
  [[nodiscard]] absl::Status Close(std::string_view path) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return ErrnoStatus(errno, "close", path);
    return absl::OkStatus();
  }

 private:
  int fd_;
};

[[nodiscard]] absl::Status WriteAll(int fd, std::string_view data, std::string_view path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status Fsync(int fd, std::string_view path) {
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "fsync", path);
  return absl::OkStatus();
}

[[nodiscard]] absl::Status WriteTempFile(const std::string& temp, std::string_view contents,
                                         mode_t mode) {
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoStatus(errno, "create", temp);
  // The umask can only remove bits; fchmod makes the mode exact.
  if (::fchmod(fd.get(), mode) != 0) return ErrnoStatus(errno, "chmod", temp);
  RETURN_IF_ERROR(WriteAll(fd.get(), contents, temp));
  RETURN_IF_ERROR(Fsync(fd.get(), temp));
  return fd.Close(temp);
}

}  // namespace

[[nodiscard]] absl::Status ErrnoStatus(int error_number, std::string_view operation,
                                       std::string_view path) {
  if (error_number == ENOSPC || error_number == EDQUOT) {
    // A full disk is the operator's to fix: say so, not only strerror.
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot ", Av(operation), " ", Av(path), ": the disk is full (",
                     std::strerror(error_number), "); free space on it and try again"));
  }
  return absl::ErrnoToStatus(error_number, absl::StrCat(Av(operation), " ", Av(path)));
}

std::string DirName(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path, mode_t* mode) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if (mode != nullptr) *mode = st.st_mode;
  std::string contents;
  // Reserve up front so that secrets are not left behind in reallocated buffers.
  contents.reserve(static_cast<size_t>(st.st_size) + 1);
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  std::fill(std::begin(buffer), std::end(buffer), '\0');
  return contents;
}

[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                               mode_t mode, bool exclusive) {
  ASSIGN_OR_RETURN(std::string suffix, RandomBytes(8));
  const std::string temp = absl::StrCat(path, Av(kTempMarker), HexEncode(suffix));
  absl::Status status = WriteTempFile(temp, contents, mode);
  if (status.ok()) {
    if (exclusive) {
      if (::link(temp.c_str(), path.c_str()) != 0) {
        status = errno == EEXIST ? absl::AlreadyExistsError(absl::StrCat(path, " already exists"))
                                 : ErrnoStatus(errno, "link", path);
      }
    } else if (::rename(temp.c_str(), path.c_str()) != 0) {
      status = ErrnoStatus(errno, "rename", path);
    }
  }
  // After link() the temp name is a second name for the same file; after a
  // successful rename() it no longer exists. Either way it must go.
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT && status.ok()) {
    status = ErrnoStatus(errno, "unlink", temp);
  }
  RETURN_IF_ERROR(status);
  return FsyncDirectory(DirName(path));
}

[[nodiscard]] absl::Status FsyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open directory", dir);
  RETURN_IF_ERROR(Fsync(fd.get(), dir));
  return fd.Close(dir);
}

[[nodiscard]] absl::Status OverwriteWithZeros(const std::string& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  const std::string zeros(static_cast<size_t>(st.st_size), '\0');
  RETURN_IF_ERROR(WriteAll(fd.get(), zeros, path));
  RETURN_IF_ERROR(Fsync(fd.get(), path));
  return fd.Close(path);
}

}  // namespace duurzaam::crypto::internal
