// Structured error details the store attaches to its absl::Status results.
// Callers (the gRPC adapter) decode them to build machine-readable details.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/field_violation.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore {

// Attached to FAILED_PRECONDITION when an expectation does not hold.
struct RevisionConflict {
  std::string stream;
  Expectation expected;
  Revision actual = kNoStream;
};

[[nodiscard]] absl::Status MakeRevisionConflictError(const RevisionConflict& conflict);
std::optional<RevisionConflict> GetRevisionConflict(const absl::Status& status);

// Field violations (INVALID_ARGUMENT details) are shared with the domain.
using ::duurzaam::FieldViolation;
using ::duurzaam::GetFieldViolation;
using ::duurzaam::MakeInvalidArgument;

}  // namespace duurzaam::eventstore
