// The one place where duurzaam.v1 event-store messages map to engine types
// and back.
#pragma once

#include "absl/status/statusor.h"
#include "duurzaam/v1/eventstore.pb.h"
#include "eventstore/types.h"

namespace duurzaam::codec {

// `field_prefix` ("" or "appends[i].") names fields in errors.
[[nodiscard]] absl::StatusOr<eventstore::StreamAppend> FromProto(
    const v1::AppendRequest& request, const std::string& field_prefix = "");
eventstore::LogFilter FromProto(const v1::LogFilter& filter);

void ToProto(const eventstore::RecordedEvent& event, v1::RecordedEvent* out);
void ToProto(const eventstore::EventView& event, v1::RecordedEvent* out);
void ToProto(const eventstore::AppendResult& result, v1::AppendResult* out);
// Appends to `out` the protobuf wire encoding of `event` as a
// v1.RecordedEvent, the bytes ToProto(event) would serialize to, without
// building the message: a catch-up sends a million of them.
void AppendWire(const eventstore::EventView& event, std::string* out);
// The same as field `number` of an enclosing message: tag, length, bytes
// (an entry of a repeated v1.RecordedEvent field).
void AppendWireField(int number, const eventstore::EventView& event, std::string* out);
// Appends one length-delimited field `number` holding `bytes` (an entry of
// a repeated message field on the wire).
void AppendLengthDelimited(int number, std::string_view bytes, std::string* out);
// The inverse of ToProto(RecordedEvent), e.g. for records kept in projections.
[[nodiscard]] absl::StatusOr<eventstore::RecordedEvent> FromProto(const v1::RecordedEvent& event);

// Microseconds since the Unix epoch (the engine's clock) as a Timestamp, and
// back; the one mapping every API time field uses.
void ToTimestamp(int64_t micros, google::protobuf::Timestamp* out);
int64_t FromTimestamp(const google::protobuf::Timestamp& timestamp);
// The split ToTimestamp makes: whole seconds, and nanoseconds in [0, 1e9).
void SplitMicros(int64_t micros, int64_t* seconds, int32_t* nanos);

// A record into, and out of, any message with v1.RecordedEvent's fields
// (v1.RecordedEvent itself, the projection's storage.v1.ProjectedRecord).
template <typename Message>
void RecordToMessage(const eventstore::EventView& e, Message* out) {
  out->set_stream(e.stream.data(), e.stream.size());
  out->set_revision(static_cast<uint64_t>(e.revision));
  out->set_position(e.position);
  std::string* id = out->mutable_event_id();
  id->resize(eventstore::EventId::kChars);
  eventstore::EventId::FromBytes(e.id_bytes).FormatTo(id->data());
  out->set_event_type(e.type.data(), e.type.size());
  out->set_data(e.data.data(), e.data.size());
  out->set_metadata(e.metadata.data(), e.metadata.size());
  ToTimestamp(e.recorded_at_micros, out->mutable_recorded_at());
  out->set_hash(e.hash.data(), e.hash.size());
}
template <typename Message>
[[nodiscard]] absl::StatusOr<eventstore::RecordedEvent> RecordFromMessage(const Message& p) {
  absl::StatusOr<eventstore::EventId> id = eventstore::EventId::Parse(p.event_id());
  if (!id.ok()) return absl::DataLossError(std::string(id.status().message()));
  eventstore::RecordedEvent e;
  e.id = *id;
  e.stream = p.stream();
  e.revision = static_cast<eventstore::Revision>(p.revision());
  e.position = p.position();
  e.type = p.event_type();
  e.data = p.data();
  e.metadata = p.metadata();
  e.recorded_at_micros = FromTimestamp(p.recorded_at());
  for (size_t i = 0; i < e.hash.size() && i < p.hash().size(); ++i) e.hash[i] = p.hash()[i];
  return e;
}

}  // namespace duurzaam::codec
