// Structured error details the store attaches to its absl::Status results.
// Callers (the gRPC adapter) decode them to build machine-readable details.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore {

// Attached to FAILED_PRECONDITION when an expectation does not hold.
struct RevisionConflict {
  std::string stream;
  Expectation expected;
  Revision actual = kNoStream;
};

absl::Status MakeRevisionConflictError(const RevisionConflict& conflict);
std::optional<RevisionConflict> GetRevisionConflict(const absl::Status& status);

// Attached to INVALID_ARGUMENT: which input field broke which rule, so an
// adapter can report a field violation.
struct FieldViolation {
  std::string field;        // e.g. "appends[0].events[2].data"
  std::string description;  // the rule, for a person
};

absl::Status MakeInvalidArgument(const FieldViolation& violation);
std::optional<FieldViolation> GetFieldViolation(const absl::Status& status);

}  // namespace duurzaam::eventstore
