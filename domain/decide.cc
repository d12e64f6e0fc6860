#include "domain/decide.h"

#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "domain/validation.h"
#include "domain/visibility.h"

namespace duurzaam::domain {

[[nodiscard]] absl::StatusOr<Decision> Decide(const History& history, const Command& command) {
  // The history rules cannot be checked against a history with holes.
  if (history.unreadable > 0) {
    return MakeRuleViolation(
        "CASE_HAS_UNREADABLE_RECORDS",
        absl::StrCat("this stream has ", history.unreadable,
                     " record(s) that cannot be read: nothing is recorded until an "
                     "administrator repairs it"));
  }
  const std::vector<Event>& events = *history.events;
  Decision decision;
  decision.current = command.numbering == Numbering::kStream
                         ? history.revision
                         : EmployerRevision(events, events.size());
  if (command.expected_revision != decision.current) {
    decision.stale = true;
    return decision;
  }
  if (history.kind == StreamKind::kCase) {
    RETURN_IF_ERROR(ValidateCaseEvent(*history.state, command.event));
  } else {
    RETURN_IF_ERROR(ValidateEmployerEvent(command.event));
  }
  decision.append.push_back(command.event);
  decision.revision_after = command.numbering == Numbering::kStream
                                ? history.revision + 1
                                : decision.current + (EmployerMaySee(command.event.body) ? 1 : 0);
  return decision;
}

[[nodiscard]] absl::Status CheckErasable(const CaseState& state) {
  if (!state.closed) {
    return MakeRuleViolation(
        "CASE_NOT_CLOSED",
        "the case is open: close it (a CaseClosed event) before erasing its personal data");
  }
  return absl::OkStatus();
}

}  // namespace duurzaam::domain
