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

}  // namespace duurzaam::codec
