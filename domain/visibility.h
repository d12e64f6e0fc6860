// What an employer may read of a placement (DOMAIN.md, "Who may see what"):
// the one place the domain decides which events and which status reasons
// reach an employer. Field-level redaction inside an event follows the
// catalogue's `visibility` option (codec::Redact).
#pragma once

#include "domain/events.h"
#include "domain/status.h"

namespace duurzaam::domain {

// Whether an event of this kind appears, redacted to its EMPLOYER fields, in
// an employer's timeline and log reads. Private-life changes, interventions,
// check-ins, contact moments, team changes and expert judgements never do.
bool EmployerMaySee(const EventBody& body);

// An employer's concurrency token for a case: among the first `count`
// events of the case stream, the number an employer may see, minus one (-1
// when none). It changes only when an employer-visible event is added, so it
// tells nothing about the events hidden from employers; employers read it as
// the case revision and pass it back as expected_revision.
int64_t EmployerRevision(const std::vector<Event>& case_events, size_t count);

// The status as an employer may read it: the level, and only reasons and
// watch items whose audience is EMPLOYER and whose evidence the employer may
// see; no suggested actions and no expert judgement. When reasons were
// withheld, one neutral sentence says the expert is following
// circumstances, naming none of them.
CaseStatus ForEmployer(const CaseStatus& status);

// The status as a reader of at most `max` may see it: kEmployer is
// ForEmployer; kExpert withholds RESTRICTED reasons and watch items (each
// replaced by a neutral reason with the same rule id and evidence, so the
// level stays explained) and the actions they suggest; kRestricted is all.
CaseStatus ForAudience(const CaseStatus& status, Audience max);

}  // namespace duurzaam::domain
