// What needs an employer's attention in a placement (the employer portal's
// list, issue 13): the end of a fixed-term contract, of a subsidy, or of the
// no-risk cover, coming within kAttentionDays of the day asked about, or
// passed while the placement goes on. Employer-visible facts only (contract
// dates, subsidy and cover yes/no and dates: DOMAIN.md "Who may see what").
// Pure: a function of the state and the day.
#pragma once

#include <string>
#include <vector>

#include "domain/case_state.h"
#include "domain/status.h"

namespace duurzaam::domain {

// How far ahead an end is worth the employer's attention: the widest window
// the ruleset looks at (a subsidy ending within 180 days makes a placement
// vulnerable), so nothing the status will soon react to comes as a surprise.
inline constexpr int kAttentionDays = 180;

enum class AttentionKind { kContractEnd, kSubsidyEnd, kCoverEnd };
const char* AttentionKindName(AttentionKind kind);  // "CONTRACT_END", ...

struct Attention {
  AttentionKind kind;
  Date on;               // the day it ends
  int days = 0;          // from the day asked about (negative: passed)
  std::string event_id;  // the event that set that end
  Text text;             // e.g. "Het tijdelijke contract eindigt op 2027-01-31 (over 56 dagen)"
};

// Soonest first. Nothing for a placement that ended or was closed.
std::vector<Attention> EmployerAttention(const CaseState& state, Date as_of);

}  // namespace duurzaam::domain
