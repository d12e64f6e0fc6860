// A real, small filesystem for disk-full tests: a tmpfs of a given size,
// mounted in a private mount namespace of the test process (so it vanishes
// with the process and no other process sees it). A write past its size
// fails with ENOSPC exactly as on a full disk.
//
// Needs CAP_SYS_ADMIN (root, as CI and the quick start run); without it
// Mount() returns false and the test skips, saying why.
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace duurzaam::testing {

class SmallFilesystem {
 public:
  // Mounts a tmpfs of `bytes` at a fresh directory. False (error() says
  // why) when this process may not mount.
  bool Mount(uint64_t bytes) {
    static const bool private_namespace = [] {
      if (unshare(CLONE_NEWNS) != 0) return false;
      return mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    }();
    if (!private_namespace) {
      error_ = std::string("cannot enter a private mount namespace: ") + std::strerror(errno);
      return false;
    }
    const std::string options = "size=" + std::to_string(bytes);
    if (mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
      error_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
      return false;
    }
    mounted_ = true;
    return true;
  }
  ~SmallFilesystem() {
    if (mounted_) umount2(dir_.path().c_str(), MNT_DETACH);
  }

  const std::string& path() const { return dir_.path(); }
  std::string Sub(const std::string& name) const { return dir_.Sub(name); }
  const std::string& error() const { return error_; }

  uint64_t FreeBytes() const {
    struct statvfs st {};
    if (statvfs(dir_.path().c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Fills the filesystem with a ballast file until `leave` bytes are free
  // (or it is full). Returns the ballast's path; deleting it frees the space.
  std::string Fill(uint64_t leave, const std::string& name = "ballast") {
    const std::string file = Sub(name);
    std::ofstream out(file, std::ios::binary | std::ios::app);
    std::string chunk(64 << 10, 'x');
    while (FreeBytes() > leave + chunk.size()) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      out.flush();
      if (!out) break;
    }
    return file;
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace duurzaam::testing
