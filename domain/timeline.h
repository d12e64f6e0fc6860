// The timeline of a case: its own events plus the employer-wide events
// (organisation changes) that affect it, in the order they happened, each
// with a short title in Dutch and English.
#pragma once

#include <vector>

#include "domain/events.h"
#include "domain/status.h"

namespace duurzaam::domain {

struct TimelineEntry {
  const Event* event = nullptr;  // borrowed from the inputs
  bool employer_wide = false;
  Text title;
};

// Pure. Employer events that happened before the case was opened or after
// its employment ended are left out; ties keep input order (case first).
std::vector<TimelineEntry> BuildTimeline(const std::vector<Event>& case_events,
                                         const std::vector<Event>& employer_events);

Text Title(const Event& event);

// Events of the employer that join into a case's state (for FoldAsOf).
std::vector<Event> WithEmployerEvents(const std::vector<Event>& case_events,
                                      const std::vector<Event>& employer_events);
// The same as pointers into the two lists (valid while they are), copying
// no event.
std::vector<const Event*> WithEmployerEventRefs(const std::vector<Event>& case_events,
                                                const std::vector<Event>& employer_events);

}  // namespace duurzaam::domain
