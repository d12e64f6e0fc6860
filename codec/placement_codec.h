// The one place where placement events map between the wire/storage form
// (duurzaam.v1.PlacementEvent) and the domain (domain::Event), and where
// older stored schema versions are upcast.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "codec/sealer.h"
#include "domain/events.h"
#include "duurzaam/v1/placement_events.pb.h"
#include "eventstore/types.h"

namespace duurzaam::codec {

// Proto → domain. Unknown or unspecified enums, impossible dates and missing
// bodies are INVALID_ARGUMENT naming the field under `field_prefix`.
// `id`, `recorded_on` and `recorded_by` come from the store / the caller's
// identity, never from the client's message.
[[nodiscard]] absl::StatusOr<domain::Event> FromProto(const v1::PlacementEvent& proto,
                                                      std::string id, domain::Date recorded_on,
                                                      domain::Principal recorded_by,
                                                      const std::string& field_prefix = "event.");

// An event as the server sent it (Cases.Pull): `recorded_by` from the
// message (DATA_LOSS for an unknown role), the recorded day from
// `recorded_at_micros`. For clients that keep a replica.
[[nodiscard]] absl::StatusOr<domain::Event> FromRecorded(const v1::PlacementEvent& proto,
                                                         std::string id,
                                                         int64_t recorded_at_micros);

// Domain → proto (always the current schema version).
void ToProto(const domain::Event& event, v1::PlacementEvent* out);

// For the event store: event type = domain::TypeName, data = PlacementEvent
// for `stream`, its sealed fields sealed by `sealer` (see sealing.h). A null
// sealer stores them in plain text: only for tests and benchmark baselines.
// FAILED_PRECONDITION when the stream's personal data was erased.
[[nodiscard]] absl::StatusOr<eventstore::ProposedEvent> Encode(const domain::Event& event,
                                                               const eventstore::EventId& id,
                                                               std::string_view stream,
                                                               const Sealer* sealer);

// From the event store, upcasting older schema versions. The recorded day is
// the UTC day of the record's recorded-at. With a sealer the sealed fields
// are opened (or, for an erased stream, read as empty with
// personal_data_erased set); without one they read as empty, which is enough
// for everything that is never sealed (kinds, dates, team, employer, scores).
[[nodiscard]] absl::StatusOr<domain::Event> Decode(const eventstore::RecordedEvent& record,
                                                   const Sealer* sealer = nullptr);

// A stored record as the API shows it with every field (its sealed fields
// opened by `sealer`, or read as empty without one): the same message as
// ToProto(Decode(record, sealer)), made without the round trip through the
// domain, for streaming many records (Cases.Pull). Records of an older
// schema, with sealed fields in plain text, or that do not read take that
// round trip (and give its errors), so the answer never differs (but for
// unknown fields inside a body, which it passes on).
[[nodiscard]] absl::Status ToApi(std::string_view stream, const eventstore::EventId& id,
                                 std::string_view data, const Sealer* sealer,
                                 v1::PlacementEvent* out);

domain::Date RecordedDay(int64_t recorded_at_micros);

// True for the stored event types that decide who may access a case
// (CaseOpened and team changes): they feed the access facts and the
// projection's expert index.
bool DecidesAccess(std::string_view type);

// The name of the event's body field in v1::PlacementEvent, e.g.
// "contract_changed".
std::string BodyFieldName(const domain::Event& event);

// A domain field violation ("occurred_on", "body", "body.<field>",
// "event_id") named from the request root: "event_id" stays (a field of the
// request), the others go under `prefix` + the body's field, e.g.
// "event.contract_changed.contract_end". Other statuses pass unchanged.
[[nodiscard]] absl::Status FromRequestRoot(absl::Status status, const domain::Event& event,
                                           absl::string_view prefix);

// Clears, recursively, every field whose `visibility` option is above
// `allowed` (EMPLOYER < EXPERT < RESTRICTED). A value (non-message) field
// without the option counts as RESTRICTED; a message field without it is
// redacted field by field. Returns the number of fields cleared.
int Redact(google::protobuf::Message* message, v1::Visibility allowed);

// A stored placement event as an employer may read it: the current-schema
// PlacementEvent redacted to EMPLOYER fields, serialized; nullopt when an
// employer may not see events of this kind at all (domain::EmployerMaySee).
[[nodiscard]] absl::StatusOr<std::optional<std::string>> EmployerData(
    const eventstore::RecordedEvent& record);

}  // namespace duurzaam::codec
