// A field violation carried on an INVALID_ARGUMENT absl::Status, so the one
// error-mapping place (services/grpc_status.cc) can report which request
// field broke which rule (google.rpc.BadRequest). Shared by the engine and
// the domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace duurzaam {

struct FieldViolation {
  std::string field;        // e.g. "events[2].event_type"
  std::string description;  // the rule, for a person
};

[[nodiscard]] absl::Status MakeInvalidArgument(const FieldViolation& violation);
std::optional<FieldViolation> GetFieldViolation(const absl::Status& status);

// A rule of the case's history that a request breaks: FAILED_PRECONDITION
// carrying a stable rule id (UPPER_SNAKE, e.g. "CASE_CLOSED") that clients
// act on; services/grpc_status.cc puts it in ErrorInfo.reason and in a
// PreconditionFailure violation's type. The ids are part of the contract
// (cases.proto lists them): never reuse or rename one.
[[nodiscard]] absl::Status MakeRuleViolation(absl::string_view rule_id, absl::string_view message);
std::optional<std::string> GetRuleId(const absl::Status& status);

}  // namespace duurzaam
