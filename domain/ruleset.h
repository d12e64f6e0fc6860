// The sustainability ruleset: thresholds are data with a version, so a
// status computed under version N can be recomputed identically later.
#pragma once

#include <string>

namespace duurzaam::domain {

struct Ruleset {
  std::string version = "2026.1";
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

// The ruleset in force. Older versions stay available by version string.
const Ruleset& CurrentRuleset();
const Ruleset* FindRuleset(const std::string& version);

}  // namespace duurzaam::domain
