#include "eventstore/validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "eventstore/errors.h"

namespace duurzaam::eventstore::internal {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

[[nodiscard]] absl::Status ValidateStreamName(std::string_view name, const Options& options,
                                              std::string_view field) {
  if (name.empty()) {
    return MakeInvalidArgument({std::string(field), "a stream name is required"});
  }
  if (name.size() > options.max_stream_name_bytes) {
    return MakeInvalidArgument({std::string(field), absl::StrCat("a stream name is at most ",
                                                                 options.max_stream_name_bytes,
                                                                 " bytes; got ", name.size())});
  }
  if (!IsAlnum(name[0])) {
    return MakeInvalidArgument({std::string(field), "a stream name starts with a letter or digit"});
  }
  for (char c : name) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != ':' && c != '@' && c != '/' && c != '-') {
      return MakeInvalidArgument(
          {std::string(field),
           "a stream name may contain only letters, digits and . _ : @ / - (ASCII)"});
    }
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status ValidateEventType(std::string_view type, const Options& options,
                                             std::string_view field) {
  if (type.empty()) {
    return MakeInvalidArgument({std::string(field), "an event type is required"});
  }
  if (type.size() > options.max_event_type_bytes) {
    return MakeInvalidArgument(
        {std::string(field), absl::StrCat("an event type is at most ", options.max_event_type_bytes,
                                          " bytes; got ", type.size())});
  }
  if (!IsAlpha(type[0])) {
    return MakeInvalidArgument({std::string(field), "an event type starts with a letter"});
  }
  for (char c : type) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return MakeInvalidArgument(
          {std::string(field), "an event type may contain only letters, digits and . _ - (ASCII)"});
    }
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status ValidateAppends(const std::vector<StreamAppend>& appends,
                                           const Options& options, bool multi) {
  if (appends.empty()) {
    return MakeInvalidArgument({"appends", "at least one stream append is required"});
  }
  std::set<std::string_view> streams;
  std::set<EventId> ids;
  size_t total_events = 0;
  size_t total_bytes = 0;
  for (size_t a = 0; a < appends.size(); ++a) {
    const StreamAppend& append = appends[a];
    std::string prefix = multi ? absl::StrCat("appends[", a, "].") : std::string();
    if (absl::Status s = ValidateStreamName(append.stream, options, prefix + "stream"); !s.ok()) {
      return s;
    }
    if (!streams.insert(append.stream).second) {
      return MakeInvalidArgument(
          {prefix + "stream", absl::StrCat("stream '", append.stream,
                                           "' appears twice; put all its events in one append")});
    }
    if (append.expectation.kind == Expectation::Kind::kExact && append.expectation.revision < 0) {
      return MakeInvalidArgument(
          {prefix + "expected_revision", "an exact expected revision is 0 or more"});
    }
    if (append.events.empty()) {
      return MakeInvalidArgument({prefix + "events", "at least one event is required"});
    }
    for (size_t i = 0; i < append.events.size(); ++i) {
      const ProposedEvent& e = append.events[i];
      std::string field = absl::StrCat(prefix, "events[", i, "].");
      if (e.id.IsNil()) {
        return MakeInvalidArgument(
            {field + "event_id", "an event id is a client-generated, non-nil UUID"});
      }
      if (!ids.insert(e.id).second) {
        return MakeInvalidArgument(
            {field + "event_id", absl::StrCat("event id ", e.id.ToString(),
                                              " appears twice in one request; ids are unique")});
      }
      if (absl::Status s = ValidateEventType(e.type, options, field + "event_type"); !s.ok()) {
        return s;
      }
      size_t bytes = e.data.size() + e.metadata.size();
      if (bytes > options.max_event_bytes) {
        return MakeInvalidArgument(
            {field + "data",
             absl::StrCat("an event's data and metadata are at most ", options.max_event_bytes,
                          " bytes together; got ", bytes)});
      }
      total_bytes += bytes;
      ++total_events;
    }
  }
  if (total_events > options.max_append_events) {
    return MakeInvalidArgument(
        {multi ? "appends" : "events",
         absl::StrCat("one request appends at most ", options.max_append_events, " events; got ",
                      total_events, ": split it")});
  }
  if (total_bytes > options.max_append_bytes) {
    return MakeInvalidArgument(
        {multi ? "appends" : "events",
         absl::StrCat("one request appends at most ", options.max_append_bytes, " bytes; got ",
                      total_bytes, ": split it")});
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::eventstore::internal
