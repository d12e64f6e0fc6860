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
  absl::CivilDay in_force_from = absl::CivilDay(1970, 1, 1);
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

// The published versions of the rules, oldest first, each in force from its
// in_force_from until the next one's; the first also judges every day
// before it. A list, not one ruleset, so that when a version is replaced the
// days before the change are still judged by the rules of their time.
class RulesetHistory {
 public:
  explicit RulesetHistory(std::vector<Ruleset> versions);  // oldest first; at least one
  const Ruleset& InForce(absl::CivilDay day) const;
  const Ruleset& Current() const { return versions_.back(); }
  const Ruleset* Find(const std::string& version) const;
  const std::vector<Ruleset>& versions() const { return versions_; }

 private:
  std::vector<Ruleset> versions_;
};

// This project's published versions. Today there is one, "2026.1" (the
// thresholds of docs/DOMAIN-RULES.md), in force from the first day; a new
// version is one more entry in status.cc (with its in_force_from and what
// changed), never an edit of a published one.
const RulesetHistory& PublishedRulesets();
// PublishedRulesets().InForce(day).
const Ruleset& RulesetInForce(absl::CivilDay day);
// The newest version: what judges today and the future.
const Ruleset& CurrentRuleset();
// A version by its string, or nullptr.
const Ruleset* FindRuleset(const std::string& version);

}  // namespace duurzaam::domain
