// A case's status over time, for auditors: on any day in both clocks, and
// every change of level over the life of the case with its cause. Each day
// is judged by the ruleset version in force on it (RulesetInForce).
//
// The two clocks (bitemporal, as XTDB):
//   kAsKnown     "as known on D": the events that occurred by D and were
//                recorded by D: what the expert could have known that day.
//   kAsNowKnown  "as now known for D": every event that occurred by D,
//                whenever it was recorded.
// They differ when something was recorded late (a contract change entered
// weeks after it took effect).
#pragma once

#include <string>
#include <vector>

#include "domain/case_state.h"
#include "domain/status.h"

namespace duurzaam::domain {

enum class Clock { kAsKnown, kAsNowKnown };

// The fold of `events` (a case's and its employer-wide ones) on `day` in
// `clock`: applied in occurred order, the order of `events` breaking ties
// (pass them in log order).
CaseState FoldOn(const std::vector<const Event*>& events, Date day, Clock clock);

// The status on `day` in `clock`, judged by the version of `rules` in force
// on `day`.
CaseStatus StatusOn(const std::vector<const Event*>& events, Date day, Clock clock,
                    const RulesetHistory& rules = PublishedRulesets());

// Both clocks for one day.
struct StatusPair {
  CaseStatus as_known;
  CaseStatus as_now_known;
  // The level or the reasons' rule ids differ.
  bool differ = false;
  // Events that occurred by the day but were recorded after it: why the two
  // clocks differ.
  std::vector<std::string> late_events;
};
StatusPair StatusBothClocks(const std::vector<const Event*>& events, Date day,
                            const RulesetHistory& rules = PublishedRulesets());

// One change of level.
struct LevelChange {
  Date on;
  bool first = false;  // the case's first day: no level before it
  StatusLevel from = StatusLevel::kVulnerable;
  StatusLevel to = StatusLevel::kVulnerable;
  CaseStatus status;                       // the status on `on`, with its reasons
  std::vector<std::string> events;         // events that took effect on `on`
  std::vector<std::string> rules_added;    // rule ids that fire on `on`, not the day before
  std::vector<std::string> rules_removed;  // rule ids that fired the day before, not on `on`
  std::string ruleset_version;
  bool ruleset_changed = false;  // a new ruleset version came into force on `on`
};

// Every change of level from the case's first event up to and including
// `until`, in `clock`, day by day. The first entry is the level on the
// first day (first = true). Empty when there are no events by `until`.
std::vector<LevelChange> StatusHistory(const std::vector<const Event*>& events, Date until,
                                       Clock clock,
                                       const RulesetHistory& rules = PublishedRulesets());

const char* LevelName(StatusLevel level);  // "SUSTAINABLE", "VULNERABLE", ...

}  // namespace duurzaam::domain
