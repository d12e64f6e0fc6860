// Domain rules a new event must satisfy against its case's history before
// anything is appended. Violations name the field and the rule:
//   INVALID_ARGUMENT    the event itself is malformed (field violation)
//   FAILED_PRECONDITION the event does not fit the history (e.g. a contract
//                       change before a hire, an event on a closed case)
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "domain/case_state.h"

namespace duurzaam::domain {

// A principal's name as certificates carry it (the CN): 1 to 64 of a-z, 0-9,
// '-', '.', '_' and '@'. Principal ids are "<role>:<name>".
bool IsPrincipalName(std::string_view name);

// A case or employer id: 1 to 64 of a-z, 0-9 and '-'.
bool IsId(std::string_view id);

// For events on a case stream. `state` is the fold of the case so far.
[[nodiscard]] absl::Status ValidateCaseEvent(const CaseState& state, const Event& event);

// For events on an employer stream (organisation changes).
[[nodiscard]] absl::Status ValidateEmployerEvent(const Event& event);

}  // namespace duurzaam::domain
