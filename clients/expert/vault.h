// The expert app's encrypted, append-only journal: the one file a device
// keeps its replica and its outbox in. Every record is sealed with
// AES-256-GCM under a key derived from the expert's passphrase by scrypt
// (memory-hard: 2^17 x 8 x 128 bytes = 128 MiB per guess by default), bound
// to the file and its place in it; the file never holds plaintext.
//
// File: header (magic "DZEXPV1\0", scrypt log2 N / r / p, a 16-byte salt, a
// 16-byte file id, a sealed check value that tells a wrong passphrase from
// a damaged file), then frames, one per append: u32 big-endian length |
// nonce | ciphertext | tag, the AAD "duurzaam.expert.vault.v1" | file id |
// u64 frame index; the plaintext is the append's records, each u32 length
// | bytes. An append is therefore all or none.
//
// Durability: Append returns OK only after the records are on disk
// (fdatasync); a crash in the middle of an append leaves at most an
// unfinished last record, which Open drops (and reports) because it was
// never acknowledged. A damaged record with records after it is DATA_LOSS:
// nothing is skipped silently. One process at a time (an exclusive lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "google/protobuf/message_lite.h"

namespace duurzaam::expert {

struct VaultOptions {
  // scrypt's cost: N = 2^log2_n, block size r, parallelism p. Lower only in
  // tests (a guess must stay expensive).
  int log2_n = 17;
  int r = 8;
  int p = 1;
};

class Vault {
 public:
  // One record of an append: bytes, or a message, serialized straight into
  // the frame that seals it (no copy of a large append).
  class Record {
   public:
    Record(std::string_view bytes) : bytes_(bytes), size_(bytes.size()) {}  // NOLINT
    Record(const char* bytes) : Record(std::string_view(bytes)) {}          // NOLINT
    Record(const std::string& bytes) : Record(std::string_view(bytes)) {}   // NOLINT
    // The message must not change until the append returns.
    Record(const google::protobuf::MessageLite& message)  // NOLINT
        : message_(&message), size_(message.ByteSizeLong()) {}
    size_t size() const { return size_; }
    void WriteTo(char* out) const;

   private:
    std::string_view bytes_;
    const google::protobuf::MessageLite* message_ = nullptr;
    size_t size_;
  };

  // Creates a new vault at `path` (mode 0600; ALREADY_EXISTS if one is there).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Vault>> Create(
      const std::string& path, std::string_view passphrase, const VaultOptions& options = {});

  // Opens a vault and hands every record's plaintext to `replay`, in order
  // (an error from it stops the open). NOT_FOUND when there is none,
  // PERMISSION_DENIED for a wrong passphrase, DATA_LOSS for a damaged file,
  // FAILED_PRECONDITION when another process has it open.
  using Replay = std::function<absl::Status(std::string_view record)>;
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Vault>> Open(const std::string& path,
                                                                   std::string_view passphrase,
                                                                   const Replay& replay);
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // Appends records durably, all or none (one sealed frame; at most 64 MiB
  // in all). After a failed write or sync the vault cuts the frame off and
  // refuses further appends (FAILED_PRECONDITION): reopen it.
  [[nodiscard]] absl::Status Append(absl::Span<const Record> records);

  // Replaces the whole journal with `records`, atomically (a new file is
  // written, synced and renamed over the old one, whose bytes are then
  // overwritten with zeros): how the app forgets a purged case.
  [[nodiscard]] absl::Status Rewrite(absl::Span<const Record> records);

  // Records in the journal.
  uint64_t size() const { return count_; }
  // True when Open dropped an unfinished last record (never acknowledged).
  bool dropped_unfinished_record() const { return dropped_tail_; }
  const std::string& path() const { return path_; }

 private:
  Vault() = default;
  // Seals `records` as frames of up to `frame_bytes` of plaintext, numbered
  // from `first_frame`, after `prefix`, in the vault's reused buffer (valid
  // until the next call); *frames receives how many.
  [[nodiscard]] absl::StatusOr<std::string_view> Frame(absl::Span<const Record> records,
                                                       uint64_t first_frame, size_t frame_bytes,
                                                       std::string_view prefix, uint64_t* frames);

  std::string path_;
  int fd_ = -1;
  std::string key_;
  std::string header_;  // as on disk, minus nothing: kept for Rewrite
  std::string file_id_;
  uint64_t count_ = 0;   // records
  uint64_t frames_ = 0;  // sealed frames (one per append)
  uint64_t end_ = 0;     // file offset after the last good record
  bool failed_ = false;
  bool dropped_tail_ = false;
  // Where frames are built and sealed in place, kept between appends (a
  // fresh buffer of megabytes costs a page fault every 4 KiB). Holds only
  // ciphertext between calls.
  std::unique_ptr<char[]> buffer_;
  size_t buffer_size_ = 0;
};

}  // namespace duurzaam::expert
