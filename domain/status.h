// The explainable sustainability status of a placement on a given day.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/case_state.h"
#include "domain/ruleset.h"

namespace duurzaam::domain {

// Who may read a reason: the field visibility classes of the catalogue.
enum class Audience { kEmployer, kExpert, kRestricted };

// A sentence in the product's two languages (Dutch is the default).
struct Text {
  std::string nl;
  std::string en;
};

struct Reason {
  std::string rule_id;  // e.g. "AT_RISK.DISRUPTION_UNADDRESSED"
  Text sentence;
  std::vector<std::string> evidence;  // event ids
  Audience audience = Audience::kExpert;
};

struct SuggestedAction {
  std::string rule_id;
  Text text;
};

struct CaseStatus {
  StatusLevel level = StatusLevel::kVulnerable;
  std::vector<Reason> reasons;      // why this level (every rule that fired at it)
  std::vector<Reason> watch_items;  // what to keep an eye on when sustainable
  std::vector<SuggestedAction> actions;
  std::optional<ExpertJudgement> judgement;  // in force on as_of, shown beside
  std::string judgement_event;
  std::string ruleset_version;
  Date as_of;
};

// Pure: the same state, day and ruleset always give the same status.
CaseStatus Evaluate(const CaseState& state, Date as_of, const Ruleset& rules);

// The order an expert's portfolio lists cases in: AT_RISK, VULNERABLE,
// SUSTAINABLE, ENDED; within a level, more reasons first. (Ties are the
// caller's to break, e.g. by case id.)
bool MoreUrgent(const CaseStatus& a, const CaseStatus& b);

std::string FormatDate(Date d);  // 2025-03-01

}  // namespace duurzaam::domain
