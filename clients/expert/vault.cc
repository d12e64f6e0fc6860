#include "clients/expert/vault.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/aead.h"
#include "crypto/bytes.h"
#include "crypto/file_io.h"

namespace duurzaam::expert {
namespace {

using crypto::internal::ErrnoStatus;

constexpr std::string_view kMagic("DZEXPV1\0", 8);
constexpr std::string_view kRecordAad = "duurzaam.expert.vault.v1";
constexpr std::string_view kCheckAad = "duurzaam.expert.vault.v1 check";
constexpr size_t kSaltSize = 16;
constexpr size_t kFileIdSize = 16;
constexpr size_t kCheckSize = crypto::kAeadOverhead;
constexpr size_t kHeaderSize = kMagic.size() + 4 + kSaltSize + kFileIdSize + kCheckSize;
// A record bigger than this is a damaged length, not a record.
constexpr uint32_t kMaxRecord = 64u << 20;

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::string RecordAad(std::string_view file_id, uint64_t index) {
  std::string aad(kRecordAad);
  aad.append(file_id);
  for (int shift = 56; shift >= 0; shift -= 8) aad.push_back(static_cast<char>(index >> shift));
  return aad;
}

absl::StatusOr<std::string> DeriveKey(std::string_view passphrase, std::string_view salt,
                                      const VaultOptions& o) {
  if (o.log2_n < 10 || o.log2_n > 22 || o.r < 1 || o.r > 32 || o.p < 1 || o.p > 4) {
    return absl::InvalidArgumentError("scrypt cost out of range");
  }
  std::string key(crypto::kAeadKeySize, '\0');
  const uint64_t n = uint64_t{1} << o.log2_n;
  const uint64_t maxmem =
      128 * n * static_cast<uint64_t>(o.r) * static_cast<uint64_t>(o.p) + (uint64_t{64} << 20);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n,
                     static_cast<uint64_t>(o.r), static_cast<uint64_t>(o.p), maxmem,
                     reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1) {
    return absl::ResourceExhaustedError(
        "deriving the vault key failed (scrypt needs about 128 MiB of memory)");
  }
  return key;
}

// The header for a file with this id: magic, cost, salt, id, check value.
absl::StatusOr<std::string> MakeHeader(const VaultOptions& o, std::string_view salt,
                                       std::string_view file_id, std::string_view key) {
  std::string header(kMagic);
  header.push_back(static_cast<char>(o.log2_n));
  header.push_back(static_cast<char>(o.r));
  header.push_back(static_cast<char>(o.p));
  header.push_back('\0');
  header.append(salt);
  header.append(file_id);
  ASSIGN_OR_RETURN(std::string check,
                   crypto::AeadSeal(key, std::string(kCheckAad).append(file_id), ""));
  header.append(check);
  return header;
}

absl::Status WriteAll(int fd, std::string_view bytes, uint64_t offset, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> OpenLocked(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is in use by another duurzaam-expert; close that one first"));
    }
    return ErrnoStatus(error, "lock", path);
  }
  return fd;
}

}  // namespace

Vault::~Vault() {
  crypto::internal::Cleanse(key_);
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<Vault>> Vault::Create(const std::string& path,
                                                     std::string_view passphrase,
                                                     const VaultOptions& options) {
  if (passphrase.size() < 8) {
    return absl::InvalidArgumentError("the passphrase must have at least 8 characters");
  }
  ASSIGN_OR_RETURN(std::string salt, crypto::internal::RandomBytes(kSaltSize));
  ASSIGN_OR_RETURN(std::string file_id, crypto::internal::RandomBytes(kFileIdSize));
  ASSIGN_OR_RETURN(std::string key, DeriveKey(passphrase, salt, options));
  ASSIGN_OR_RETURN(std::string header, MakeHeader(options, salt, file_id, key));
  RETURN_IF_ERROR(crypto::internal::WriteFileAtomically(path, header, 0600, /*exclusive=*/true));
  std::unique_ptr<Vault> vault(new Vault());
  ASSIGN_OR_RETURN(vault->fd_, OpenLocked(path, O_RDWR));
  vault->path_ = path;
  vault->key_ = std::move(key);
  vault->header_ = std::move(header);
  vault->file_id_ = std::move(file_id);
  vault->end_ = kHeaderSize;
  return vault;
}

absl::StatusOr<std::unique_ptr<Vault>> Vault::Open(const std::string& path,
                                                   std::string_view passphrase,
                                                   const Replay& replay) {
  std::unique_ptr<Vault> vault(new Vault());
  ASSIGN_OR_RETURN(vault->fd_, OpenLocked(path, O_RDWR));
  vault->path_ = path;
  ASSIGN_OR_RETURN(std::string bytes, crypto::internal::ReadFile(path));
  if (bytes.size() < kHeaderSize || std::string_view(bytes).substr(0, 8) != kMagic) {
    return absl::DataLossError(absl::StrCat(path, " is not a duurzaam-expert vault"));
  }
  VaultOptions options{static_cast<unsigned char>(bytes[8]), static_cast<unsigned char>(bytes[9]),
                       static_cast<unsigned char>(bytes[10])};
  const std::string salt = bytes.substr(12, kSaltSize);
  vault->file_id_ = bytes.substr(12 + kSaltSize, kFileIdSize);
  ASSIGN_OR_RETURN(vault->key_, DeriveKey(passphrase, salt, options));
  absl::StatusOr<std::string> check =
      crypto::AeadOpen(vault->key_, std::string(kCheckAad).append(vault->file_id_),
                       std::string_view(bytes).substr(12 + kSaltSize + kFileIdSize, kCheckSize));
  if (!check.ok()) {
    return absl::PermissionDeniedError("wrong passphrase for " + path);
  }
  vault->header_ = bytes.substr(0, kHeaderSize);
  uint64_t offset = kHeaderSize;
  while (offset < bytes.size()) {
    const uint64_t left = bytes.size() - offset;
    const uint32_t length = left >= 4 ? GetU32(bytes.data() + offset) : 0;
    const bool complete = left >= 4 && length <= kMaxRecord && left - 4 >= length;
    absl::StatusOr<std::string> plain =
        complete ? crypto::AeadOpen(vault->key_, RecordAad(vault->file_id_, vault->count_),
                                    std::string_view(bytes).substr(offset + 4, length))
                 : absl::DataLossError("unfinished");
    if (!plain.ok()) {
      if (!complete || offset + 4 + length == bytes.size()) {
        // The last record, never acknowledged: a crash in its append.
        vault->dropped_tail_ = true;
        break;
      }
      return absl::DataLossError(absl::StrCat(path, ": record ", vault->count_, " at byte ", offset,
                                              " is damaged (", plain.status().message(),
                                              "); the records after it are not read"));
    }
    RETURN_IF_ERROR(replay(*plain));
    crypto::internal::Cleanse(*plain);
    offset += 4 + length;
    ++vault->count_;
  }
  crypto::internal::Cleanse(bytes);
  vault->end_ = offset;
  if (vault->dropped_tail_) {
    if (::ftruncate(vault->fd_, static_cast<off_t>(offset)) != 0 || ::fdatasync(vault->fd_) != 0) {
      return ErrnoStatus(errno, "truncate", path);
    }
  }
  return vault;
}

absl::StatusOr<std::string> Vault::Frame(const std::vector<std::string>& records,
                                         uint64_t first_index) const {
  std::string out;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].size() + crypto::kAeadOverhead > kMaxRecord) {
      return absl::InvalidArgumentError("a vault record is larger than 64 MiB");
    }
    ASSIGN_OR_RETURN(std::string sealed,
                     crypto::AeadSeal(key_, RecordAad(file_id_, first_index + i), records[i]));
    PutU32(&out, static_cast<uint32_t>(sealed.size()));
    out.append(sealed);
  }
  return out;
}

absl::Status Vault::Append(const std::vector<std::string>& records) {
  if (failed_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " could not be written earlier; reopen it"));
  }
  if (records.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string framed, Frame(records, count_));
  absl::Status written = WriteAll(fd_, framed, end_, path_);
  if (written.ok() && ::fdatasync(fd_) != 0) written = ErrnoStatus(errno, "sync", path_);
  if (!written.ok()) {
    // Nothing of this append counts; what it left is an unfinished tail
    // that the next open drops.
    failed_ = true;
    return written;
  }
  end_ += framed.size();
  count_ += records.size();
  return absl::OkStatus();
}

absl::Status Vault::Rewrite(const std::vector<std::string>& records) {
  if (failed_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " could not be written earlier; reopen it"));
  }
  // A new file id: no record of the old file validates in the new one.
  ASSIGN_OR_RETURN(std::string file_id, crypto::internal::RandomBytes(kFileIdSize));
  const VaultOptions options{static_cast<unsigned char>(header_[8]),
                             static_cast<unsigned char>(header_[9]),
                             static_cast<unsigned char>(header_[10])};
  ASSIGN_OR_RETURN(std::string header,
                   MakeHeader(options, header_.substr(12, kSaltSize), file_id, key_));
  const std::string old_id = file_id_;
  file_id_ = file_id;
  absl::StatusOr<std::string> framed = Frame(records, 0);
  if (!framed.ok()) {
    file_id_ = old_id;
    return framed.status();
  }
  // The new file is locked before it replaces the old one, so no other
  // process can open it in between.
  const std::string tmp = path_ + ".rewrite";
  ::unlink(tmp.c_str());
  absl::StatusOr<int> fd = OpenLocked(tmp, O_RDWR | O_CREAT | O_EXCL);
  absl::Status s = fd.status();
  if (s.ok()) s = WriteAll(*fd, header + *framed, 0, tmp);
  if (s.ok() && ::fsync(*fd) != 0) s = ErrnoStatus(errno, "sync", tmp);
  if (s.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) s = ErrnoStatus(errno, "rename", tmp);
  if (!s.ok()) {
    if (fd.ok()) ::close(*fd);
    ::unlink(tmp.c_str());
    file_id_ = old_id;
    return s;
  }
  // Renamed: the new file is the vault now.
  ::close(fd_);
  fd_ = *fd;
  header_ = std::move(header);
  end_ = kHeaderSize + framed->size();
  count_ = records.size();
  if (absl::Status synced = crypto::internal::FsyncDirectory(crypto::internal::DirName(path_));
      !synced.ok()) {
    failed_ = true;
    return synced;
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::expert
