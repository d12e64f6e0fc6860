// Per-scope data keys, wrapped by a master key, and their erasure
// (crypto-shredding).
//
// Each scope (an opaque caller-chosen string, e.g. one per case) gets one
// random 256-bit data key. It is stored only wrapped (AES-256-GCM under the
// current master key, see master_keyring.h), one small file per scope in a
// directory of its own, e.g. <data>/keys. The file name is the hex SHA-256 of
// the scope. Erasing a scope destroys its key file and leaves a tombstone
// recording only that, and when, the scope was erased: everything encrypted
// under that data key becomes unreadable for good.
//
// Physical remnants: Erase overwrites the key file in place before replacing
// it, but copy-on-write filesystems, SSD wear levelling and backups can keep
// old blocks. Those hold only the *wrapped* key; after erasures, AddKey +
// RotateMaster + Retire of the old master key makes such remnants useless.
//
// Thread-safety: a DataKeyStore is safe for concurrent use by many threads
// without external synchronisation. Only one DataKeyStore may have a directory
// open at a time (enforced with a lock file, also across processes). Lookups of
// cached keys do not wait for disk operations; creations, erasures and
// rotations are serialised.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "crypto/master_keyring.h"

namespace duurzaam::crypto {

// Payload type URL on the FAILED_PRECONDITION status for an erased scope; the
// payload value is the erasure time as decimal Unix microseconds.
inline constexpr std::string_view kErasedPayloadTypeUrl =
    "type.googleapis.com/duurzaam.crypto.Erased";

// True if `status` says the scope's data was erased (crypto-shredded).
bool IsErased(const absl::Status& status);

// The erasure time carried by an IsErased status, else nullopt.
std::optional<int64_t> ErasedAtMicros(const absl::Status& status);

// An unwrapped data key. The caller owns this copy of the secret and should
// wipe it (OPENSSL_cleanse) when done.
struct DataKey {
  std::string id;   // 16 lower-case hex chars (8 random bytes)
  std::string key;  // 32 raw bytes
};

class DataKeyStore {
 public:
  // Opens (creating it with mode 0700 if needed) the key directory `dir`; its
  // parent must exist. Takes the directory's lock file (FAILED_PRECONDITION if
  // another store holds it) and removes leftover temp files of interrupted
  // writes. `keyring` wraps new keys and unwraps existing ones.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<DataKeyStore>> Open(const std::string& dir,
                                                                          MasterKeyring keyring);

  // The file name used for `scope`: hex SHA-256 of the scope bytes.
  [[nodiscard]] static absl::StatusOr<std::string> FileNameForScope(std::string_view scope);

  DataKeyStore(const DataKeyStore&) = delete;
  DataKeyStore& operator=(const DataKeyStore&) = delete;
  ~DataKeyStore();  // wipes cached keys, releases the lock

  // The scope's data key, creating it if the scope has none. A new key is
  // durable (file fsynced, renamed into place, directory fsynced) before it is
  // returned; concurrent callers for the same new scope get the same key. An
  // erased scope gets the IsErased status (no new key). INVALID_ARGUMENT for an
  // empty scope, one containing '\0' or longer than 1024 bytes.
  [[nodiscard]] absl::StatusOr<DataKey> GetOrCreate(std::string_view scope);

  // The scope's data key with id `key_id`. NOT_FOUND if the scope has no key or
  // a key with another id; the IsErased FAILED_PRECONDITION if it was erased;
  // DATA_LOSS if the key file is damaged; FAILED_PRECONDITION if the master key
  // that wraps it is not in the keyring.
  [[nodiscard]] absl::StatusOr<DataKey> Get(std::string_view scope, std::string_view key_id);

  // Crypto-shreds the scope: overwrites its key file in place with zeros and
  // fsyncs it, then atomically replaces it with a tombstone (no key material)
  // and wipes the cached key. Idempotent (a second call keeps the first date);
  // also records a tombstone for a scope that never had a key, so none is
  // created later. Works even if the key file is damaged. On error, retry: the
  // scope already counts as erased in this process, but maybe not on disk.
  [[nodiscard]] absl::Status Erase(std::string_view scope, int64_t erased_at_micros);

  // When the scope was erased (Unix microseconds); nullopt when it was not
  // (no file, or a live key). A key file that cannot be read or parsed is
  // an error (DATA_LOSS / the read error), never "not erased".
  [[nodiscard]] absl::StatusOr<std::optional<int64_t>> ErasedAt(std::string_view scope);

  // Re-wraps every live data key under `new_keyring`'s current key, replacing
  // each file atomically, and returns how many files were re-wrapped (files
  // already wrapped by that key are skipped, so an interrupted rotation can be
  // rerun). Data key ids and bytes are unchanged. Unwrapping uses the master
  // key id each file names, looked up in the old and the new keyring. Nothing
  // is changed if any key cannot be unwrapped. Afterwards the store uses
  // `new_keyring`.
  [[nodiscard]] absl::StatusOr<int> RotateMaster(MasterKeyring new_keyring);

  const std::string& dir() const { return dir_; }

 private:
  struct Erased {
    int64_t at_micros;
  };
  using Entry = std::variant<DataKey, Erased>;

  DataKeyStore(std::string dir, int lock_fd, MasterKeyring keyring);

  // Cache lookup; a copy of the entry, or nullopt on a miss.
  std::optional<Entry> Cached(std::string_view scope) const ABSL_LOCKS_EXCLUDED(cache_mu_);
  void CacheStore(std::string_view scope, const Entry& entry) ABSL_LOCKS_EXCLUDED(cache_mu_);

  // Reads and unwraps the scope's file; nullopt if there is none.
  [[nodiscard]] absl::StatusOr<std::optional<Entry>> LoadLocked(std::string_view scope,
                                                                const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  // The master key named `id` in the keyring, the fallbacks, or `extra`.
  [[nodiscard]] absl::StatusOr<std::string_view> MasterKeyLocked(std::string_view id,
                                                                 const MasterKeyring* extra) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);

  const std::string dir_;
  const int lock_fd_;

  // Serialises file operations and guards the keyrings. Acquired before
  // cache_mu_.
  Mutex io_mu_;
  MasterKeyring keyring_ ABSL_GUARDED_BY(io_mu_);
  // Keyrings of rotations that failed half-way: files may still name them.
  std::vector<MasterKeyring> fallback_keyrings_ ABSL_GUARDED_BY(io_mu_);

  mutable Mutex cache_mu_ ABSL_ACQUIRED_AFTER(io_mu_);
  // Unwrapped keys and erasures by scope.
  absl::flat_hash_map<std::string, Entry> cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace duurzaam::crypto
