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
#include <string>
#include <string_view>
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

// An offline command (the expert app's push): made on a device that had
// seen the stream at `seen_revision` (-1: not at all), with an event id made
// once on the device. Case streams, stream numbering.
struct Intent {
  Event event;
  int64_t seen_revision = -1;
  // The device's own earlier intents on the stream that it had made when it
  // made this one (its view beyond seen_revision): recorded since, they are
  // not unseen.
  std::vector<std::string> own_earlier_ids;
};

struct IntentDecision {
  enum class Outcome {
    kAppend,     // the stream is as the device saw it (its own intents aside): append
    kRebase,     // it moved on, nothing since conflicts and the rules pass: append on top
    kDuplicate,  // an event with this id is recorded: answer with the original
    kConflict,   // something recorded since conflicts with it (concurrency.h)
  };
  Outcome outcome = Outcome::kAppend;
  Decision decision;                // kAppend, kRebase: what to append, at `current`
  size_t duplicate_of = 0;          // kDuplicate: index into History::events
  std::vector<size_t> conflicting;  // kConflict: indexes into History::events, in order
  std::string_view rule_id;         // kConflict: SYNC_* (concurrency.h)
};

// Judges an intent: a duplicate under any seen revision; otherwise, when the
// stream moved on, the events since are checked against the conflict table
// (FindConflicts) and, if none conflicts, the intent is judged by Decide on
// the current stream. A refusal by the rules (REJECTED) is the error, as
// for Decide; a seen revision past the stream's end is INVALID_ARGUMENT on
// `seen_revision`.
[[nodiscard]] absl::StatusOr<IntentDecision> DecideIntent(const History& history,
                                                          const Intent& intent);

// The Admin erasure workflow's rule: personal data is erased only from a
// closed case (FAILED_PRECONDITION CASE_NOT_CLOSED otherwise).
[[nodiscard]] absl::Status CheckErasable(const CaseState& state);

}  // namespace duurzaam::domain
