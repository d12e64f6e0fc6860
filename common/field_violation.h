// A field violation carried on an INVALID_ARGUMENT absl::Status, so the one
// error-mapping place (services/grpc_status.cc) can report which request
// field broke which rule (google.rpc.BadRequest). Shared by the engine and
// the domain.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace duurzaam {

struct FieldViolation {
  std::string field;        // e.g. "events[2].event_type"
  std::string description;  // the rule, for a person
};

absl::Status MakeInvalidArgument(const FieldViolation& violation);
std::optional<FieldViolation> GetFieldViolation(const absl::Status& status);

}  // namespace duurzaam
