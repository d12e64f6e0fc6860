// Master keys: the keys that wrap per-scope data keys (see data_keys.h).
//
// They live outside the data store, in one file named by the deployment (e.g.
// /etc/duurzaam/master.keys), mode 0600. Format: UTF-8 text, one key per line,
//
//   <key-id> <64 hex chars>
//
// Key ids are 1-64 characters of [A-Za-z0-9._-]. Blank lines and lines
// starting with '#' are ignored. The last key line is the current key, used to
// wrap new data keys; earlier keys remain for unwrapping until retired.
//
// The static functions are operator tools. They are not safe against two
// processes editing the same file at once; each edit is atomic and durable
// (temp file + fsync + rename + directory fsync).
//
// A MasterKeyring is an immutable, move-only value; const methods are safe for
// concurrent use. It wipes its key bytes when destroyed.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace duurzaam::crypto {

class MasterKeyring {
 public:
  // Reads and validates the key file. NOT_FOUND if it does not exist;
  // FAILED_PRECONDITION (with what to do about it) if it is readable or
  // writable by group or others, is not a regular file, contains no key, or has
  // a malformed line (the message names the line number, never key material).
  [[nodiscard]] static absl::StatusOr<MasterKeyring> Load(const std::string& path);

  // Creates a new key file holding one random key, mode 0600. ALREADY_EXISTS if
  // the file exists.
  [[nodiscard]] static absl::Status Create(const std::string& path);

  // Appends a new random key, which becomes current. Returns its id.
  [[nodiscard]] static absl::StatusOr<std::string> AddKey(const std::string& path);

  // Removes the key `key_id` from the file. FAILED_PRECONDITION for the
  // current key; NOT_FOUND if absent. Retire a key only after
  // DataKeyStore::RotateMaster has re-wrapped everything under a newer key:
  // data keys still wrapped by it become unreadable.
  [[nodiscard]] static absl::Status Retire(const std::string& path, std::string_view key_id);

  // A keyring from explicit (id, 32-byte key) pairs, last = current; for tests
  // and tools. Validates ids and key sizes like Load.
  [[nodiscard]] static absl::StatusOr<MasterKeyring> FromKeys(
      std::vector<std::pair<std::string, std::string>> keys);

  MasterKeyring(MasterKeyring&& other) noexcept;
  MasterKeyring& operator=(MasterKeyring&& other) noexcept;
  MasterKeyring(const MasterKeyring&) = delete;
  MasterKeyring& operator=(const MasterKeyring&) = delete;
  ~MasterKeyring();

  // Id of the key used for wrapping.
  const std::string& current_id() const;

  // The 32 raw bytes of key `id`, valid as long as this keyring. NOT_FOUND
  // naming the id if the keyring does not hold it.
  [[nodiscard]] absl::StatusOr<std::string_view> Key(std::string_view id) const;

  // All key ids, oldest first (the last is current_id()).
  std::vector<std::string> ids() const;

 private:
  explicit MasterKeyring(std::vector<std::pair<std::string, std::string>> keys);
  void Wipe();

  // (id, 32 raw key bytes); never empty except when moved from.
  std::vector<std::pair<std::string, std::string>> keys_;
};

}  // namespace duurzaam::crypto
