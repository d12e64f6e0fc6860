#include "codec/eventstore_codec.h"

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

void ToProto(const eventstore::EventView& e, v1::RecordedEvent* out) {
  out->set_stream(e.stream.data(), e.stream.size());
  out->set_revision(static_cast<uint64_t>(e.revision));
  out->set_position(e.position);
  out->set_event_id(eventstore::EventId::FromBytes(e.id_bytes).ToString());
  out->set_event_type(e.type.data(), e.type.size());
  out->set_data(e.data.data(), e.data.size());
  out->set_metadata(e.metadata.data(), e.metadata.size());
  ToTimestamp(e.recorded_at_micros, out->mutable_recorded_at());
  out->set_hash(e.hash.data(), e.hash.size());
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

void ToProto(const eventstore::AppendResult& r, v1::AppendResult* out) {
  out->set_stream(r.stream);
  out->set_first_revision(static_cast<uint64_t>(r.first_revision));
  out->set_last_revision(static_cast<uint64_t>(r.last_revision));
  out->set_first_position(r.first_position);
  out->set_last_position(r.last_position);
  out->set_replayed(r.replayed);
}

void ToTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

int64_t FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1'000'000 + timestamp.nanos() / 1000;
}

}  // namespace duurzaam::codec
