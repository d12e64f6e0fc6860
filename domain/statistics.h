// Anonymised statistics for research, per labour-market region and target
// group: how placements stand 1, 2 and 3 years after the hire, which
// disruptions occurred and which interventions followed them. Pure.
//
// Unlike an auditor's "status as of a day" (what was known then), research
// asks what happened: the statistics fold by occurrence, whenever recorded.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/ruleset.h"

namespace duurzaam::domain {

struct CaseHistory {
  std::vector<Event> events;  // the case's own and the employer-wide ones
  // Who contributed to the case: everyone who recorded one of its own events
  // or was ever added to its team (Contributors()).
  std::set<std::string> contributors;
};

// The contributors of a case from its own events.
std::set<std::string> Contributors(const std::vector<Event>& case_events);

struct YearCounts {
  int years_after_hire = 0;
  int placements = 0;  // hired at least this long before as_of
  int sustainable = 0, vulnerable = 0, at_risk = 0, ended = 0;
};

enum class DisruptionKind { kOrganisation, kSociety, kPrivateLife };

struct DisruptionCounts {
  DisruptionKind kind;
  int occurred = 0;
  int followed_up_within_30_days = 0;
  std::map<InterventionKind, int> interventions_within_90_days;
};

struct GroupStatistics {
  std::string region, target_group;
  int placements = 0;
  // Groups smaller than the minimum are reported without their counts, so
  // no placement can be singled out.
  bool suppressed = false;
  std::vector<YearCounts> years;  // 1, 2, 3
  std::vector<DisruptionCounts> disruptions;
};

// The statistics as `reader` may have them. The rule against unlocking
// (docs/DOMAIN-RULES.md): placements `reader` contributed to are left out of
// every count and of the suppression threshold, so a caller's own cases (real
// or made up) can neither lift a group over `min_group_size` nor be
// subtracted to single out the others. An empty reader counts every case.
std::vector<GroupStatistics> RegionalStatistics(const std::vector<CaseHistory>& cases, Date as_of,
                                                const Ruleset& rules, int min_group_size,
                                                const std::string& reader = "");

}  // namespace duurzaam::domain
