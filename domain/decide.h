// The one decision function for commands: given a stream's history and a
// proposed event, the events to append or a refusal. Services translate the
// request into a Command and the Decision back; every rule a command is
// judged by is reached from here.
//
// The fold: a command is judged against its stream's events in the order
// they were RECORDED (domain::Apply over History::events), i.e. the case as
// the writer could have seen it, whatever dates the events carry. (Status
// and timelines fold by occurrence instead, FoldAsOf: they answer what
// happened by a day.)
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/case_state.h"
#include "domain/events.h"

namespace duurzaam::domain {

enum class StreamKind { kCase, kEmployer };

// Which revisions a writer sees: the stream's own, or, for an employer on a
// case, the employer revision (EmployerRevision), which says nothing about
// the events hidden from employers.
enum class Numbering { kStream, kEmployer };

// A stream as recorded.
struct History {
  StreamKind kind = StreamKind::kCase;
  const std::vector<Event>* events = nullptr;  // readable events, recorded order
  const CaseState* state = nullptr;            // Apply over *events
  int64_t revision = -1;                       // the stream's revision over every record (-1: none)
  size_t unreadable = 0;                       // records that could not be read (quarantined)
};

struct Command {
  Event event;
  int64_t expected_revision = -1;  // in `numbering`; -1: the stream must be new
  Numbering numbering = Numbering::kStream;
};

struct Decision {
  // The stream's current revision in the command's numbering.
  int64_t current = -1;
  // True when expected_revision is not `current`: the writer saw another
  // state (services answer with the revision conflict, nothing appended).
  bool stale = false;
  // The events to append (empty when stale): the command's own event.
  std::vector<Event> append;
  // The writer's revision once `append` is recorded.
  int64_t revision_after = -1;
};

// Judges `command` against `history`: refusals are FAILED_PRECONDITION
// with a rule id (common/field_violation.h; the ids cases.proto lists,
// including CASE_HAS_UNREADABLE_RECORDS when the history has holes) or
// INVALID_ARGUMENT naming `body.<field>`.
[[nodiscard]] absl::StatusOr<Decision> Decide(const History& history, const Command& command);

// The Admin erasure workflow's rule: personal data is erased only from a
// closed case (FAILED_PRECONDITION CASE_NOT_CLOSED otherwise).
[[nodiscard]] absl::Status CheckErasable(const CaseState& state);

}  // namespace duurzaam::domain
