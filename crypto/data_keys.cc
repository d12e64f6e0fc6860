#include "crypto/data_keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "crypto/aead.h"
#include "crypto/bytes.h"
#include "crypto/file_io.h"

namespace duurzaam::crypto {
namespace {

using internal::Av;

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
constexpr size_t kMaxScopeSize = 1024;
constexpr size_t kDataKeyIdBytes = 8;
constexpr std::string_view kLockFileName = "LOCK";

// Key file format (text, one "<field> <value>" per line, fixed order):
//   duurzaam.datakey v1
//   scope <hex of the scope bytes>
//   data-key-id <16 hex>
//   master-key-id <master key id>
//   wrapped <hex of AeadSeal(master, kWrapAad, data key)>
// Tombstone (no scope, no key material):
//   duurzaam.datakey.erased v1
//   erased-at-micros <decimal Unix microseconds>
constexpr std::string_view kLiveHeader = "duurzaam.datakey v1";
constexpr std::string_view kErasedHeader = "duurzaam.datakey.erased v1";
// AAD of the wrapped key: kWrapAadPrefix scope "\0" data_key_id.
constexpr std::string_view kWrapAadPrefix{"duurzaam.datakey.v1\0", 20};

struct KeyFile {
  bool erased = false;
  int64_t erased_at_micros = 0;
  std::string scope;
  std::string data_key_id;
  std::string master_key_id;
  std::string wrapped;  // raw bytes
};

std::string WrapAad(std::string_view scope, std::string_view data_key_id) {
  return absl::StrCat(Av(kWrapAadPrefix), Av(scope), absl::string_view("\0", 1), Av(data_key_id));
}

std::string SerializeLive(const KeyFile& file) {
  return absl::StrCat(Av(kLiveHeader), "\nscope ", internal::HexEncode(file.scope),
                      "\ndata-key-id ", file.data_key_id, "\nmaster-key-id ", file.master_key_id,
                      "\nwrapped ", internal::HexEncode(file.wrapped), "\n");
}

std::string SerializeTombstone(int64_t erased_at_micros) {
  return absl::StrCat(Av(kErasedHeader), "\nerased-at-micros ", erased_at_micros, "\n");
}

bool IsDataKeyId(std::string_view id) {
  std::string ignored;
  return id.size() == 2 * kDataKeyIdBytes && internal::HexDecode(id, &ignored);
}

[[nodiscard]] absl::Status Damaged(const std::string& path, std::string_view problem) {
  return absl::DataLossError(
      absl::StrCat("data key file ", path, " is damaged (", Av(problem),
                   "): the data of its scope cannot be decrypted; restore the file from a backup"));
}

[[nodiscard]] absl::StatusOr<KeyFile> ParseKeyFile(const std::string& path, std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '\0'; })) {
    return absl::DataLossError(absl::StrCat(
        "data key file ", path,
        " is zeroed: an erasure was interrupted. Call Erase for its scope again to finish it"));
  }
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (lines.empty()) return Damaged(path, "empty");
  // The value of line `index` if it reads "<field> <value>".
  auto value = [&](size_t index, std::string_view field) -> std::optional<std::string_view> {
    if (index >= lines.size() || lines[index].size() <= field.size() ||
        lines[index].substr(0, field.size()) != field || lines[index][field.size()] != ' ') {
      return std::nullopt;
    }
    return lines[index].substr(field.size() + 1);
  };

  KeyFile file;
  if (lines[0] == kErasedHeader) {
    std::optional<std::string_view> at = value(1, "erased-at-micros");
    if (lines.size() != 2 || !at || !absl::SimpleAtoi(Av(*at), &file.erased_at_micros)) {
      return Damaged(path, "malformed tombstone");
    }
    file.erased = true;
    return file;
  }
  if (lines[0] != kLiveHeader) return Damaged(path, "unknown format header");
  std::optional<std::string_view> scope = value(1, "scope");
  std::optional<std::string_view> id = value(2, "data-key-id");
  std::optional<std::string_view> master = value(3, "master-key-id");
  std::optional<std::string_view> wrapped = value(4, "wrapped");
  if (lines.size() != 5 || !scope || !id || !master || !wrapped) {
    return Damaged(path, "missing or misplaced fields");
  }
  if (!internal::HexDecode(*scope, &file.scope) || !IsDataKeyId(*id) || master->empty() ||
      !internal::HexDecode(*wrapped, &file.wrapped) ||
      file.wrapped.size() != kAeadOverhead + kAeadKeySize) {
    return Damaged(path, "malformed field");
  }
  file.data_key_id = std::string(*id);
  file.master_key_id = std::string(*master);
  return file;
}

[[nodiscard]] absl::Status ValidateScope(std::string_view scope) {
  if (scope.empty()) return absl::InvalidArgumentError("scope must not be empty");
  if (scope.size() > kMaxScopeSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("scope is ", scope.size(), " bytes; at most ", kMaxScopeSize, " allowed"));
  }
  // '\0' separates the scope from what follows it in the AADs.
  if (scope.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("scope must not contain a NUL byte");
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status ErasedError(int64_t erased_at_micros) {
  const absl::Time at = absl::FromUnixMicros(erased_at_micros);
  absl::Status status = absl::FailedPreconditionError(absl::StrCat(
      "the personal data of this scope was erased on ",
      absl::FormatTime("%Y-%m-%d at %H:%M:%S UTC", at, absl::UTCTimeZone()),
      " (crypto-shredded): its data key was destroyed and the data can no longer be decrypted"));
  status.SetPayload(Av(kErasedPayloadTypeUrl), absl::Cord(absl::StrCat(erased_at_micros)));
  return status;
}

bool IsKeyFileName(std::string_view name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Names of the entries of `dir` (without "." and "..").
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return internal::ErrnoStatus(errno, "open directory", dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(handle)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error = errno;
  ::closedir(handle);
  if (error != 0) return internal::ErrnoStatus(error, "read directory", dir);
  std::sort(names.begin(), names.end());
  return names;
}

[[nodiscard]] absl::Status CreateDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), kDirMode) == 0) return internal::FsyncDirectory(internal::DirName(dir));
  if (errno != EEXIST) return internal::ErrnoStatus(errno, "create directory", dir);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return internal::ErrnoStatus(errno, "stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsErased(const absl::Status& status) {
  return status.GetPayload(Av(kErasedPayloadTypeUrl)).has_value();
}

std::optional<int64_t> ErasedAtMicros(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(Av(kErasedPayloadTypeUrl));
  int64_t micros = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &micros)) return std::nullopt;
  return micros;
}

[[nodiscard]] absl::StatusOr<std::string> DataKeyStore::FileNameForScope(std::string_view scope) {
  RETURN_IF_ERROR(ValidateScope(scope));
  ASSIGN_OR_RETURN(std::string digest, internal::Sha256(scope));
  return internal::HexEncode(digest);
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<DataKeyStore>> DataKeyStore::Open(
    const std::string& dir, MasterKeyring keyring) {
  if (dir.empty()) return absl::InvalidArgumentError("data key directory must not be empty");
  if (keyring.ids().empty()) return absl::InvalidArgumentError("the master keyring is empty");
  RETURN_IF_ERROR(CreateDirectory(dir));

  const std::string lock_path = absl::StrCat(dir, "/", Av(kLockFileName));
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (lock_fd < 0) return internal::ErrnoStatus(errno, "open", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(lock_fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("data key directory ", dir,
                       " is in use by another DataKeyStore (another process, or one not yet "
                       "closed in this process)"));
    }
    return internal::ErrnoStatus(error, "lock", lock_path);
  }
  // From here the store owns lock_fd.
  auto store = std::unique_ptr<DataKeyStore>(new DataKeyStore(dir, lock_fd, std::move(keyring)));

  // Temp files of interrupted writes may hold a wrapped key of a scope that is
  // erased later: shred and remove them.
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  bool removed = false;
  for (const std::string& name : names) {
    if (name.find(internal::kTempMarker) == std::string::npos) continue;
    const std::string path = absl::StrCat(dir, "/", name);
    RETURN_IF_ERROR(internal::OverwriteWithZeros(path));
    if (::unlink(path.c_str()) != 0) return internal::ErrnoStatus(errno, "unlink", path);
    removed = true;
  }
  if (removed) RETURN_IF_ERROR(internal::FsyncDirectory(dir));
  return store;
}

DataKeyStore::DataKeyStore(std::string dir, int lock_fd, MasterKeyring keyring)
    : dir_(std::move(dir)), lock_fd_(lock_fd), keyring_(std::move(keyring)) {}

DataKeyStore::~DataKeyStore() {
  {
    MutexLock lock(&cache_mu_);
    for (auto& [scope, entry] : cache_) {
      if (auto* key = std::get_if<DataKey>(&entry)) internal::Cleanse(key->key);
    }
    cache_.clear();
  }
  ::close(lock_fd_);  // releases the flock
}

std::optional<DataKeyStore::Entry> DataKeyStore::Cached(std::string_view scope) const {
  ReaderMutexLock lock(&cache_mu_);
  auto it = cache_.find(Av(scope));
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void DataKeyStore::CacheStore(std::string_view scope, const Entry& entry) {
  MutexLock lock(&cache_mu_);
  auto [it, inserted] = cache_.try_emplace(std::string(scope), entry);
  if (!inserted) {
    if (auto* old = std::get_if<DataKey>(&it->second)) internal::Cleanse(old->key);
    it->second = entry;
  }
}

[[nodiscard]] absl::StatusOr<std::string_view> DataKeyStore::MasterKeyLocked(
    std::string_view id, const MasterKeyring* extra) const {
  absl::StatusOr<std::string_view> key = keyring_.Key(id);
  for (const MasterKeyring& fallback : fallback_keyrings_) {
    if (key.ok()) break;
    key = fallback.Key(id);
  }
  if (!key.ok() && extra != nullptr) key = extra->Key(id);
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "master key '", Av(id),
        "' that wraps a data key is not in the configured master keyring: put it back in the key "
        "file (was it retired before RotateMaster re-wrapped the data keys?)"));
  }
  return key;
}

[[nodiscard]] absl::StatusOr<std::optional<DataKeyStore::Entry>> DataKeyStore::LoadLocked(
    std::string_view scope, const std::string& path) {
  absl::StatusOr<std::string> text = internal::ReadFile(path);
  if (absl::IsNotFound(text.status())) return std::optional<Entry>();
  RETURN_IF_ERROR(text.status());
  ASSIGN_OR_RETURN(KeyFile file, ParseKeyFile(path, *text));
  if (file.erased) return std::optional<Entry>(Erased{file.erased_at_micros});
  if (file.scope != scope) {
    return Damaged(path, "it belongs to another scope; was it renamed or copied?");
  }
  ASSIGN_OR_RETURN(std::string_view master, MasterKeyLocked(file.master_key_id, nullptr));
  absl::StatusOr<std::string> key =
      AeadOpen(master, WrapAad(scope, file.data_key_id), file.wrapped);
  if (!key.ok()) {
    return Damaged(path, absl::StrCat("the wrapped key fails authentication under master key '",
                                      file.master_key_id, "'"));
  }
  return std::optional<Entry>(DataKey{file.data_key_id, *std::move(key)});
}

[[nodiscard]] absl::StatusOr<DataKey> DataKeyStore::GetOrCreate(std::string_view scope) {
  // A cached scope was validated when it was cached.
  std::optional<Entry> entry = Cached(scope);
  if (!entry) {
    ASSIGN_OR_RETURN(const std::string name, FileNameForScope(scope));
    MutexLock lock(&io_mu_);
    entry = Cached(scope);  // another thread may have created it meanwhile
    if (!entry) {
      const std::string path = absl::StrCat(dir_, "/", name);
      ASSIGN_OR_RETURN(entry, LoadLocked(scope, path));
      if (!entry) {
        ASSIGN_OR_RETURN(std::string id_bytes, internal::RandomBytes(kDataKeyIdBytes));
        ASSIGN_OR_RETURN(std::string key, internal::RandomBytes(kAeadKeySize));
        DataKey data_key{internal::HexEncode(id_bytes), std::move(key)};
        KeyFile file;
        file.scope = std::string(scope);
        file.data_key_id = data_key.id;
        file.master_key_id = keyring_.current_id();
        ASSIGN_OR_RETURN(std::string_view master, keyring_.Key(file.master_key_id));
        absl::StatusOr<std::string> wrapped =
            AeadSeal(master, WrapAad(scope, data_key.id), data_key.key);
        absl::Status status = wrapped.status();
        if (status.ok()) {
          file.wrapped = *std::move(wrapped);
          status = internal::WriteFileAtomically(path, SerializeLive(file), kFileMode,
                                                 /*exclusive=*/true);
        }
        if (!status.ok()) {
          internal::Cleanse(data_key.key);
          return status;
        }
        entry = std::move(data_key);
      }
      CacheStore(scope, *entry);
    }
  }
  if (const Erased* erased = std::get_if<Erased>(&*entry)) return ErasedError(erased->at_micros);
  return std::get<DataKey>(*std::move(entry));
}

[[nodiscard]] absl::StatusOr<DataKey> DataKeyStore::Get(std::string_view scope,
                                                        std::string_view key_id) {
  std::optional<Entry> entry = Cached(scope);
  if (!entry) {
    ASSIGN_OR_RETURN(const std::string name, FileNameForScope(scope));
    MutexLock lock(&io_mu_);
    entry = Cached(scope);
    if (!entry) {
      ASSIGN_OR_RETURN(entry, LoadLocked(scope, absl::StrCat(dir_, "/", name)));
      if (!entry) {
        return absl::NotFoundError(absl::StrCat(
            "no data key was ever created for this scope (wanted key '", Av(key_id), "')"));
      }
      CacheStore(scope, *entry);
    }
  }
  if (const Erased* erased = std::get_if<Erased>(&*entry)) return ErasedError(erased->at_micros);
  DataKey key = std::get<DataKey>(*std::move(entry));
  if (key.id != key_id) {
    internal::Cleanse(key.key);
    return absl::NotFoundError(
        absl::StrCat("this scope has no data key '", Av(key_id), "' (its key is '", key.id, "')"));
  }
  return key;
}

[[nodiscard]] absl::Status DataKeyStore::Erase(std::string_view scope, int64_t erased_at_micros) {
  ASSIGN_OR_RETURN(const std::string name, FileNameForScope(scope));
  const std::string path = absl::StrCat(dir_, "/", name);
  MutexLock lock(&io_mu_);

  absl::StatusOr<std::string> text = internal::ReadFile(path);
  if (text.ok()) {
    absl::StatusOr<KeyFile> file = ParseKeyFile(path, *text);
    if (file.ok() && file->erased) {  // already erased: keep the first date
      CacheStore(scope, Erased{file->erased_at_micros});
      return absl::OkStatus();
    }
  } else if (!absl::IsNotFound(text.status())) {
    return text.status();
  }

  // Forget the key before touching the disk: even if the erasure fails half-way
  // (the caller must then retry), this process no longer decrypts the scope.
  CacheStore(scope, Erased{erased_at_micros});
  if (text.ok()) RETURN_IF_ERROR(internal::OverwriteWithZeros(path));
  return internal::WriteFileAtomically(path, SerializeTombstone(erased_at_micros), kFileMode);
}

[[nodiscard]] absl::StatusOr<std::optional<int64_t>> DataKeyStore::ErasedAt(
    std::string_view scope) {
  if (std::optional<Entry> entry = Cached(scope)) {
    if (auto* key = std::get_if<DataKey>(&*entry)) {
      internal::Cleanse(key->key);
      return std::nullopt;
    }
    return std::get<Erased>(*entry).at_micros;
  }
  ASSIGN_OR_RETURN(std::string name, FileNameForScope(scope));
  MutexLock lock(&io_mu_);
  const std::string path = absl::StrCat(dir_, "/", name);
  absl::StatusOr<std::string> text = internal::ReadFile(path);
  if (absl::IsNotFound(text.status())) return std::nullopt;  // never had a key
  if (!text.ok()) return text.status();
  ASSIGN_OR_RETURN(KeyFile file, ParseKeyFile(path, *text));
  if (!file.erased) return std::nullopt;
  CacheStore(scope, Erased{file.erased_at_micros});
  return file.erased_at_micros;
}

[[nodiscard]] absl::StatusOr<int> DataKeyStore::RotateMaster(MasterKeyring new_keyring) {
  if (new_keyring.ids().empty()) {
    return absl::InvalidArgumentError("the new master keyring is empty");
  }
  MutexLock lock(&io_mu_);
  const std::string& new_id = new_keyring.current_id();
  ASSIGN_OR_RETURN(std::string_view new_master, new_keyring.Key(new_id));

  // Pass 1: unwrap everything first, so that nothing changes if a key cannot
  // be unwrapped.
  struct Pending {
    std::string path;
    KeyFile file;
    std::string key;
  };
  std::vector<Pending> pending;
  auto wipe = [&pending] {
    for (Pending& p : pending) internal::Cleanse(p.key);
  };
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir_));
  for (const std::string& name : names) {
    if (!IsKeyFileName(name)) continue;
    const std::string path = absl::StrCat(dir_, "/", name);
    absl::StatusOr<std::string> text = internal::ReadFile(path);
    absl::StatusOr<KeyFile> file =
        text.ok() ? ParseKeyFile(path, *text) : absl::StatusOr<KeyFile>(text.status());
    if (!file.ok()) {
      wipe();
      return file.status();
    }
    if (file->erased || file->master_key_id == new_id) continue;
    absl::StatusOr<std::string_view> master = MasterKeyLocked(file->master_key_id, &new_keyring);
    absl::StatusOr<std::string> key =
        master.ok() ? AeadOpen(*master, WrapAad(file->scope, file->data_key_id), file->wrapped)
                    : absl::StatusOr<std::string>(master.status());
    if (!key.ok()) {
      wipe();
      if (!master.ok()) return master.status();
      return Damaged(path, absl::StrCat("the wrapped key fails authentication under master key '",
                                        file->master_key_id, "'"));
    }
    pending.push_back(Pending{path, *std::move(file), *std::move(key)});
  }

  // Pass 2: re-wrap and replace each file.
  int rewrapped = 0;
  absl::Status status;
  for (Pending& p : pending) {
    absl::StatusOr<std::string> wrapped =
        AeadSeal(new_master, WrapAad(p.file.scope, p.file.data_key_id), p.key);
    status = wrapped.status();
    if (!status.ok()) break;
    p.file.master_key_id = new_id;
    p.file.wrapped = *std::move(wrapped);
    status = internal::WriteFileAtomically(p.path, SerializeLive(p.file), kFileMode);
    if (!status.ok()) break;
    ++rewrapped;
  }
  wipe();
  if (!status.ok()) {
    // Some files may name the new key, others still an old one: keep both.
    fallback_keyrings_.push_back(std::move(keyring_));
    keyring_ = std::move(new_keyring);
    return status;
  }
  fallback_keyrings_.clear();
  keyring_ = std::move(new_keyring);
  return rewrapped;
}

}  // namespace duurzaam::crypto
