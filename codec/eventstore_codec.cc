#include "codec/eventstore_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "eventstore/errors.h"

namespace duurzaam::codec {
namespace {

using eventstore::Expectation;

}  // namespace

[[nodiscard]] absl::StatusOr<eventstore::StreamAppend> FromProto(const v1::AppendRequest& request,
                                                                 const std::string& field_prefix) {
  eventstore::StreamAppend append;
  append.stream = request.stream();
  const v1::ExpectedRevision& expected = request.expected_revision();
  switch (expected.expectation_case()) {
    case v1::ExpectedRevision::kAny:
    case v1::ExpectedRevision::EXPECTATION_NOT_SET:
      append.expectation = Expectation::Any();
      break;
    case v1::ExpectedRevision::kNoStream:
      append.expectation = Expectation::NoStream();
      break;
    case v1::ExpectedRevision::kStreamExists:
      append.expectation = Expectation::StreamExists();
      break;
    case v1::ExpectedRevision::kExact:
      if (expected.exact() > static_cast<uint64_t>(INT64_MAX)) {
        return eventstore::MakeInvalidArgument(
            {field_prefix + "expected_revision.exact", "the revision is out of range"});
      }
      append.expectation = Expectation::Exact(static_cast<int64_t>(expected.exact()));
      break;
  }
  append.events.reserve(request.events_size());
  for (int i = 0; i < request.events_size(); ++i) {
    const v1::EventData& e = request.events(i);
    absl::StatusOr<eventstore::EventId> id = eventstore::EventId::Parse(e.event_id());
    if (!id.ok()) {
      return eventstore::MakeInvalidArgument(
          {absl::StrCat(field_prefix, "events[", i, "].event_id"),
           e.event_id().empty() ? std::string("an event id (a client-generated UUID) is required")
                                : std::string(id.status().message())});
    }
    append.events.push_back({*id, e.event_type(), e.data(), e.metadata()});
  }
  return append;
}

eventstore::LogFilter FromProto(const v1::LogFilter& filter) {
  eventstore::LogFilter out;
  out.stream_prefixes.assign(filter.stream_prefixes().begin(), filter.stream_prefixes().end());
  out.event_types.assign(filter.event_types().begin(), filter.event_types().end());
  return out;
}

void ToProto(const eventstore::EventView& e, v1::RecordedEvent* out) { RecordToMessage(e, out); }

namespace {

// Protobuf wire format (protobuf.dev/programming-guides/encoding): varints,
// and tags of (field number << 3 | wire type). Proto3 leaves out a scalar
// field at its default; a message field that is set is always written.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

// Field numbers of v1.RecordedEvent and google.protobuf.Timestamp, checked
// against the generated code so a renumbering fails to compile.
static_assert(v1::RecordedEvent::kStreamFieldNumber == 1);
static_assert(v1::RecordedEvent::kRevisionFieldNumber == 2);
static_assert(v1::RecordedEvent::kPositionFieldNumber == 3);
static_assert(v1::RecordedEvent::kEventIdFieldNumber == 4);
static_assert(v1::RecordedEvent::kEventTypeFieldNumber == 5);
static_assert(v1::RecordedEvent::kDataFieldNumber == 6);
static_assert(v1::RecordedEvent::kMetadataFieldNumber == 7);
static_assert(v1::RecordedEvent::kRecordedAtFieldNumber == 8);
static_assert(v1::RecordedEvent::kHashFieldNumber == 9);
static_assert(google::protobuf::Timestamp::kSecondsFieldNumber == 1);
static_assert(google::protobuf::Timestamp::kNanosFieldNumber == 2);

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
constexpr uint64_t Tag(int number, uint32_t type) {
  return static_cast<uint64_t>(number) << 3 | type;
}

// Writes at p, which has room (sized by the *Size functions below).
char* PutVarint(uint64_t v, char* p) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
char* PutBytes(std::string_view bytes, char* p) {
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}
char* PutBytesField(int number, std::string_view bytes, char* p) {
  if (bytes.empty()) return p;
  p = PutVarint(Tag(number, kLengthDelimited), p);
  p = PutVarint(bytes.size(), p);
  return PutBytes(bytes, p);
}
char* PutVarintField(int number, uint64_t v, char* p) {
  if (v == 0) return p;
  return PutVarint(v, PutVarint(Tag(number, kVarint), p));
}
// Tags of fields 1..15 take one byte.
size_t BytesFieldSize(size_t length) { return length == 0 ? 0 : 1 + VarintSize(length) + length; }
size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }

// One record's fields in wire terms.
struct WireRecord {
  explicit WireRecord(const eventstore::EventView& e) : e(e) {
    // As ToTimestamp splits it; int64 and int32 go on the wire as
    // two's-complement 64-bit varints.
    int64_t whole = 0;
    int32_t fraction = 0;
    SplitMicros(e.recorded_at_micros, &whole, &fraction);
    seconds = static_cast<uint64_t>(whole);
    nanos = static_cast<uint64_t>(static_cast<int64_t>(fraction));
    at_size = VarintFieldSize(seconds) + VarintFieldSize(nanos);
    size = BytesFieldSize(e.stream.size()) + VarintFieldSize(static_cast<uint64_t>(e.revision)) +
           VarintFieldSize(e.position) + BytesFieldSize(eventstore::EventId::kChars) +
           BytesFieldSize(e.type.size()) + BytesFieldSize(e.data.size()) +
           BytesFieldSize(e.metadata.size()) + 1 + VarintSize(at_size) + at_size +
           BytesFieldSize(e.hash.size());
  }
  char* Write(char* p) const {
    p = PutBytesField(1, e.stream, p);
    p = PutVarintField(2, static_cast<uint64_t>(e.revision), p);
    p = PutVarintField(3, e.position, p);
    p = PutVarint(Tag(4, kLengthDelimited), p);
    p = PutVarint(eventstore::EventId::kChars, p);
    eventstore::EventId::FromBytes(e.id_bytes).FormatTo(p);
    p += eventstore::EventId::kChars;
    p = PutBytesField(5, e.type, p);
    p = PutBytesField(6, e.data, p);
    p = PutBytesField(7, e.metadata, p);
    p = PutVarint(Tag(8, kLengthDelimited), p);
    p = PutVarint(at_size, p);
    p = PutVarintField(1, seconds, p);
    p = PutVarintField(2, nanos, p);
    return PutBytesField(9, e.hash, p);
  }

  const eventstore::EventView& e;
  uint64_t seconds = 0, nanos = 0;
  size_t at_size = 0, size = 0;
};

// Grows `out` by n bytes and returns where they start.
char* Extend(std::string* out, size_t n) {
  const size_t at = out->size();
  out->resize(at + n);
  return out->data() + at;
}

}  // namespace

void AppendLengthDelimited(int number, std::string_view bytes, std::string* out) {
  const uint64_t tag = Tag(number, kLengthDelimited);
  char* p = Extend(out, VarintSize(tag) + VarintSize(bytes.size()) + bytes.size());
  PutBytes(bytes, PutVarint(bytes.size(), PutVarint(tag, p)));
}

void AppendWire(const eventstore::EventView& e, std::string* out) {
  const WireRecord record(e);
  record.Write(Extend(out, record.size));
}

void AppendWireField(int number, const eventstore::EventView& e, std::string* out) {
  const WireRecord record(e);
  const uint64_t tag = Tag(number, kLengthDelimited);
  char* p = Extend(out, VarintSize(tag) + VarintSize(record.size) + record.size);
  record.Write(PutVarint(record.size, PutVarint(tag, p)));
}

void ToProto(const eventstore::RecordedEvent& e, v1::RecordedEvent* out) {
  out->set_stream(e.stream);
  out->set_revision(static_cast<uint64_t>(e.revision));
  out->set_position(e.position);
  out->set_event_id(e.id.ToString());
  out->set_event_type(e.type);
  out->set_data(e.data);
  out->set_metadata(e.metadata);
  ToTimestamp(e.recorded_at_micros, out->mutable_recorded_at());
  out->set_hash(e.hash.data(), e.hash.size());
}

[[nodiscard]] absl::StatusOr<eventstore::RecordedEvent> FromProto(const v1::RecordedEvent& p) {
  return RecordFromMessage(p);
}

void ToProto(const eventstore::AppendResult& r, v1::AppendResult* out) {
  out->set_stream(r.stream);
  out->set_first_revision(static_cast<uint64_t>(r.first_revision));
  out->set_last_revision(static_cast<uint64_t>(r.last_revision));
  out->set_first_position(r.first_position);
  out->set_last_position(r.last_position);
  out->set_replayed(r.replayed);
}

void SplitMicros(int64_t micros, int64_t* seconds, int32_t* nanos) {
  int64_t whole = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --whole;
  }
  *seconds = whole;
  *nanos = static_cast<int32_t>(rest * 1000);
}

void ToTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  SplitMicros(micros, &seconds, &nanos);
  out->set_seconds(seconds);
  out->set_nanos(nanos);
}

int64_t FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1'000'000 + timestamp.nanos() / 1000;
}

}  // namespace duurzaam::codec
