// The sustainability ruleset: thresholds are data with a version, so a
// status computed under version N can be recomputed identically later.
#pragma once

#include <string>
#include <vector>

#include "absl/time/civil_time.h"

namespace duurzaam::domain {

// One published version of the rules. A version, once published, never
// changes: a new one is added with the day it comes into force, and every
// day is judged by the version in force on it (RulesetInForce), so a status
// computed for a day in 2025 stays what it was.
struct Ruleset {
  std::string version = "2026.1";
  // The first day this version judges (it is in force until the next
  // version's first day).
  absl::CivilDay in_force_from = absl::CivilDay(2026, 1, 1);
  // What changed from the previous version, for auditors (nl, en).
  std::string change_nl;
  std::string change_en;
  // AT_RISK
  int fixed_term_end_warning_days = 60;
  int subsidy_end_warning_days_non_permanent = 90;
  int disruption_follow_up_days = 30;
  int disruptions_window_days = 365;
  int disruptions_at_risk_count = 2;
  int low_score = 2;  // a score at or below this is low
  int long_absence_days = 26 * 7;
  int no_contact_days = 730;
  // VULNERABLE
  int early_placement_days = 183;        // "under 6 months old"
  int early_contact_interval_days = 28;  // at least one contact per 4 weeks
  int three_way_conversation_days = 28;  // driegesprek in the first 4 weeks
  int monitoring_year_days = 365;
  int monitoring_grace_days = 60;
  int recent_disruption_days = 183;
  int score_gap = 2;  // employer and worker differ by at least this
  int subsidy_end_notice_days = 180;
  int absence_days = 6 * 7;
  // SUSTAINABLE
  int sustainable_after_days = 365;
  // Disclosure: regional statistics groups of fewer placements are
  // reported without their counts.
  int min_statistics_group = 5;
};

// Every published version, oldest first:
//   2025.1  from 2020-01-01  the first rules: SUSTAINABLE after two years in
//           post (sustainable_after_days 730), AT_RISK after a year without
//           contact (no_contact_days 365).
//   2026.1  from 2026-01-01  SUSTAINABLE after one year in post (365), no
//           contact AT_RISK after two years (730): the research showed that a
//           placement that made its first year with guidance is as likely to
//           last as one that made two, and that yearly monitoring, not a
//           contact count, shows risk.
const std::vector<Ruleset>& PublishedRulesets();
// The version that judges `day`: the newest whose in_force_from <= day (the
// oldest for days before every version).
const Ruleset& RulesetInForce(absl::CivilDay day);
// The newest version: what judges today and the future.
const Ruleset& CurrentRuleset();
// A version by its string, or nullptr.
const Ruleset* FindRuleset(const std::string& version);

}  // namespace duurzaam::domain
