#include "clients/expert/vault.h"

#include <fcntl.h>
#include <openssl/crypto.h>
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
  for (int attempt = 0; attempt < 10; ++attempt) {
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
    // A rewrite by another process may have replaced the file between the
    // open and the lock: the lock must hold the file that is at `path`.
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      return fd;
    }
    ::close(fd);
  }
  return absl::UnavailableError(absl::StrCat(path, " keeps being replaced; try again"));
}

// The whole file behind `fd`.
absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string bytes;
  char buf[1 << 16];
  for (uint64_t offset = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) return bytes;
    bytes.append(buf, static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
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
  ASSIGN_OR_RETURN(std::string bytes, ReadAll(vault->fd_, path));
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
    if (length > kMaxRecord) {
      return absl::DataLossError(absl::StrCat(path, ": frame ", vault->frames_, " at byte ", offset,
                                              " has a damaged length; nothing after it is read"));
    }
    const bool complete = left >= 4 && left - 4 >= length;
    absl::StatusOr<std::string> plain =
        complete ? crypto::AeadOpen(vault->key_, RecordAad(vault->file_id_, vault->frames_),
                                    std::string_view(bytes).substr(offset + 4, length))
                 : absl::DataLossError("unfinished");
    if (!plain.ok()) {
      if (!complete || offset + 4 + length == bytes.size()) {
        // The last append, never acknowledged: a crash in its write.
        vault->dropped_tail_ = true;
        break;
      }
      return absl::DataLossError(absl::StrCat(path, ": frame ", vault->frames_, " at byte ", offset,
                                              " is damaged (", plain.status().message(),
                                              "); the frames after it are not read"));
    }
    // The frame's records, in the order they were appended together.
    for (size_t at = 0; at < plain->size();) {
      if (plain->size() - at < 4 || plain->size() - at - 4 < GetU32(plain->data() + at)) {
        return absl::DataLossError(absl::StrCat(path, ": frame ", vault->frames_, " is malformed"));
      }
      const uint32_t n = GetU32(plain->data() + at);
      RETURN_IF_ERROR(replay(std::string_view(*plain).substr(at + 4, n)));
      at += 4 + n;
      ++vault->count_;
    }
    crypto::internal::Cleanse(*plain);
    offset += 4 + length;
    ++vault->frames_;
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

void Vault::Record::WriteTo(char* out) const {
  if (message_ == nullptr) {
    if (size_ > 0) std::memcpy(out, bytes_.data(), size_);
    return;
  }
  message_->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out));
}

absl::StatusOr<std::string_view> Vault::Frame(absl::Span<const Record> records,
                                              uint64_t first_frame, size_t frame_bytes,
                                              std::string_view prefix, uint64_t* frames) {
  // Where each frame ends (in records), and the bytes of them all.
  std::vector<size_t> ends;
  size_t total = prefix.size();
  for (size_t begin = 0; begin < records.size();) {
    size_t end = begin, bytes = 0;
    while (end < records.size() &&
           (end == begin || bytes + records[end].size() + 4 <= frame_bytes)) {
      bytes += records[end].size() + 4;
      ++end;
    }
    if (bytes + crypto::kAeadOverhead > kMaxRecord) {
      return absl::InvalidArgumentError("a vault record is larger than 64 MiB");
    }
    ends.push_back(end);
    total += 4 + crypto::kAeadOverhead + bytes;
    begin = end;
  }
  if (buffer_size_ < total) {
    buffer_.reset(new char[total]);  // NOLINT: uninitialised on purpose
    buffer_size_ = total;
  }
  char* out = buffer_.get();
  std::memcpy(out, prefix.data(), prefix.size());
  size_t at = prefix.size();
  *frames = 0;
  size_t begin = 0;
  for (const size_t end : ends) {
    char* frame = out + at;
    char* plain = frame + 4 + crypto::kAeadNonceSize;
    size_t bytes = 0;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t n = static_cast<uint32_t>(records[i].size());
      for (int k = 0; k < 4; ++k) plain[bytes + k] = static_cast<char>(n >> (24 - 8 * k));
      records[i].WriteTo(plain + bytes + 4);
      bytes += 4 + n;
    }
    const uint32_t sealed = static_cast<uint32_t>(bytes + crypto::kAeadOverhead);
    for (int k = 0; k < 4; ++k) frame[k] = static_cast<char>(sealed >> (24 - 8 * k));
    if (absl::Status s = crypto::AeadSealInPlace(key_, RecordAad(file_id_, first_frame + *frames),
                                                 frame + 4, bytes);
        !s.ok()) {
      OPENSSL_cleanse(out, buffer_size_);  // never leave plaintext behind
      return s;
    }
    at += 4 + sealed;
    ++*frames;
    begin = end;
  }
  return std::string_view(out, at);
}

absl::Status Vault::Append(absl::Span<const Record> records) {
  if (failed_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " could not be written earlier; reopen it"));
  }
  if (records.empty()) return absl::OkStatus();
  size_t total = 0;
  for (const Record& r : records) total += r.size() + 4;
  if (total + crypto::kAeadOverhead > kMaxRecord) {
    return absl::InvalidArgumentError("one append to the vault is larger than 64 MiB");
  }
  uint64_t frames = 0;
  // One frame: all or none.
  ASSIGN_OR_RETURN(std::string_view framed, Frame(records, frames_, kMaxRecord, "", &frames));
  absl::Status written = WriteAll(fd_, framed, end_, path_);
  if (written.ok() && ::fdatasync(fd_) != 0) written = ErrnoStatus(errno, "sync", path_);
  if (!written.ok()) {
    // Nothing of this append counts: cut it off (best effort; what stays is
    // an unfinished last frame that the next open drops).
    failed_ = true;
    if (::ftruncate(fd_, static_cast<off_t>(end_)) == 0) (void)::fdatasync(fd_);
    return written;
  }
  end_ += framed.size();
  frames_ += frames;
  count_ += records.size();
  return absl::OkStatus();
}

absl::Status Vault::Rewrite(absl::Span<const Record> records) {
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
  uint64_t frames = 0;
  absl::StatusOr<std::string_view> framed = Frame(records, 0, 16 << 20, header, &frames);
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
  if (s.ok()) s = WriteAll(*fd, *framed, 0, tmp);
  if (s.ok() && ::fsync(*fd) != 0) s = ErrnoStatus(errno, "sync", tmp);
  if (s.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) s = ErrnoStatus(errno, "rename", tmp);
  if (!s.ok()) {
    if (fd.ok()) ::close(*fd);
    ::unlink(tmp.c_str());
    file_id_ = old_id;
    return s;
  }
  // Renamed: the new file is the vault now. The old one's bytes (the
  // purged case among them) are overwritten before its last descriptor
  // closes, so they do not linger in freed blocks (on storage that
  // overwrites in place).
  const std::string zeros(1 << 16, '\0');
  for (uint64_t at = 0; at < end_; at += zeros.size()) {
    if (!WriteAll(fd_,
                  std::string_view(zeros).substr(0, std::min<uint64_t>(zeros.size(), end_ - at)),
                  at, path_)
             .ok()) {
      break;
    }
  }
  (void)::fdatasync(fd_);
  ::close(fd_);
  fd_ = *fd;
  frames_ = frames;
  header_ = std::move(header);
  end_ = framed->size();
  if (buffer_size_ > (64u << 20)) {  // a whole journal: not kept
    buffer_.reset();
    buffer_size_ = 0;
  }
  count_ = records.size();
  if (absl::Status synced = crypto::internal::FsyncDirectory(crypto::internal::DirName(path_));
      !synced.ok()) {
    failed_ = true;
    return synced;
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::expert
