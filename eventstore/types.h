// Record and request types of the event store. Plain values: no RocksDB or
// gRPC types appear here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace duurzaam::eventstore {

// A client-generated event id (a UUID, RFC 4122). Re-sending the same id
// makes an append idempotent.
class EventId {
 public:
  EventId() = default;
  explicit EventId(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  // Parses the canonical 8-4-4-4-12 hex form (either case).
  [[nodiscard]] static absl::StatusOr<EventId> Parse(std::string_view text);
  // From 16 raw bytes, as stored.
  static EventId FromBytes(std::string_view raw);
  // A random version-4 UUID (for clients and tools; the engine never calls it).
  static EventId Random();
  // A name-based id: SHA-256 of `name`, shaped as a version-5-style UUID.
  // The same name always gives the same id (idempotent writes by tools).
  static EventId FromName(std::string_view name);

  std::string ToString() const;  // lower-case canonical form
  // Writes the canonical form's kChars characters at `out`.
  static constexpr size_t kChars = 36;
  void FormatTo(char* out) const;
  std::string_view Bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  bool IsNil() const;

  friend bool operator==(const EventId&, const EventId&) = default;
  friend auto operator<=>(const EventId&, const EventId&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

// A stream revision. Revisions of a stream are gap-free from 0;
// kNoStream is the "revision" of a stream that has no events yet.
using Revision = int64_t;
inline constexpr Revision kNoStream = -1;

// What the writer believes about the stream's current revision.
struct Expectation {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  Revision revision = kNoStream;  // only for kExact

  static Expectation Any() { return {Kind::kAny, kNoStream}; }
  static Expectation NoStream() { return {Kind::kNoStream, kNoStream}; }
  static Expectation StreamExists() { return {Kind::kStreamExists, kNoStream}; }
  static Expectation Exact(Revision r) { return {Kind::kExact, r}; }

  bool Matches(Revision current) const;
  std::string ToString() const;
};

// An event as proposed by a writer.
struct ProposedEvent {
  EventId id;
  std::string type;
  std::string data;
  std::string metadata;
};

// The events to append to one stream, with the writer's expectation.
struct StreamAppend {
  std::string stream;
  Expectation expectation;
  std::vector<ProposedEvent> events;
};

using Hash = std::array<uint8_t, 32>;

// Where an append landed. For an idempotent retry, the original result.
struct AppendResult {
  std::string stream;
  Revision first_revision = kNoStream;
  Revision last_revision = kNoStream;  // the stream's revision after the append
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  bool replayed = false;  // true when the ids were already recorded
  // For a fresh append (not replayed): the time stamped on its records and
  // each record's chain hash, in order, so a writer can keep what it wrote
  // without reading it back.
  int64_t recorded_at_micros = 0;
  std::vector<Hash> hashes;
};

// A stored event, owning its bytes.
struct RecordedEvent {
  std::string stream;
  Revision revision = 0;
  uint64_t position = 0;  // gap-free, commit-ordered, from 0
  EventId id;
  std::string type;
  int64_t recorded_at_micros = 0;  // engine clock, microseconds since the Unix epoch
  std::string data;
  std::string metadata;
  Hash hash{};  // SHA-256 chained to the record at position - 1
};

// A stored event viewed in place; valid only inside the visitor call that
// receives it.
struct EventView {
  std::string_view stream;
  Revision revision = 0;
  uint64_t position = 0;
  std::string_view id_bytes;
  std::string_view type;
  int64_t recorded_at_micros = 0;
  std::string_view data;
  std::string_view metadata;
  std::string_view hash;  // 32 bytes

  RecordedEvent ToOwned() const;
};

// Copies of viewed events in one buffer (no allocation per event once it
// has grown): for handing a scan's records to another thread. Views
// returned by at() are valid until the next Clear or Add.
class EventViewBuffer {
 public:
  void Clear();
  void Add(const EventView& event);
  size_t size() const { return events_.size(); }
  size_t bytes() const { return bytes_.size(); }
  EventView at(size_t i) const;

 private:
  struct Copied {
    size_t at;                                        // where its fields start in bytes_
    uint32_t stream, id, type, data, metadata, hash;  // their lengths
    Revision revision;
    uint64_t position;
    int64_t recorded_at_micros;
  };
  std::string bytes_;
  std::vector<Copied> events_;
};

// Server-side filter on the global log. Empty lists match everything; an
// event matches when its stream starts with any prefix AND its type is any
// of the types.
struct LogFilter {
  std::vector<std::string> stream_prefixes;
  std::vector<std::string> event_types;

  bool Empty() const { return stream_prefixes.empty() && event_types.empty(); }
  bool Matches(std::string_view stream, std::string_view type) const;
};

enum class Direction { kForwards, kBackwards };

}  // namespace duurzaam::eventstore
