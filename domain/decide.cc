#include "domain/decide.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "domain/concurrency.h"
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

[[nodiscard]] absl::StatusOr<IntentDecision> DecideIntent(const History& history,
                                                          const Intent& intent) {
  const std::vector<Event>& events = *history.events;
  IntentDecision out;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].id == intent.event.id) {
      out.outcome = IntentDecision::Outcome::kDuplicate;
      out.duplicate_of = i;
      return out;
    }
  }
  if (intent.seen_revision < -1 || intent.seen_revision > history.revision) {
    return MakeInvalidArgument(
        {"seen_revision", absl::StrCat("the device saw revision ", intent.seen_revision,
                                       ", but the case has revisions -1 to ", history.revision,
                                       ": the device's replica is not from this server")});
  }
  if (intent.seen_revision < history.revision && history.unreadable == 0) {
    // Without holes, the event at index i has revision i.
    std::vector<const Event*> unseen;
    std::vector<size_t> index;  // of each unseen event in `events`
    for (size_t i = static_cast<size_t>(intent.seen_revision + 1); i < events.size(); ++i) {
      const std::vector<std::string>& own = intent.own_earlier_ids;
      if (std::find(own.begin(), own.end(), events[i].id) != own.end()) continue;
      unseen.push_back(&events[i]);
      index.push_back(i);
    }
    if (std::optional<UnseenConflict> conflict = FindConflicts(unseen, intent.event)) {
      out.outcome = IntentDecision::Outcome::kConflict;
      out.rule_id = conflict->rule_id;
      for (size_t k : conflict->conflicting) out.conflicting.push_back(index[k]);
      return out;
    }
    // Moved on only by the device's own intents: as it saw the case.
    if (!unseen.empty()) out.outcome = IntentDecision::Outcome::kRebase;
  }
  ASSIGN_OR_RETURN(out.decision,
                   Decide(history, {intent.event, history.revision, Numbering::kStream}));
  return out;
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
