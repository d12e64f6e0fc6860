#include "domain/history.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace duurzaam::domain {
namespace {

// The day an event takes effect in `clock`.
Date EffectiveOn(const Event& e, Clock clock) {
  if (clock == Clock::kAsNowKnown) return e.occurred_on;
  return std::max(e.occurred_on, e.recorded_on);
}

bool Counts(const Event& e, Date day, Clock clock) {
  if (e.occurred_on > day) return false;
  return clock == Clock::kAsNowKnown || e.recorded_on <= day;
}

std::set<std::string> RuleIds(const CaseStatus& s) {
  std::set<std::string> ids;
  for (const Reason& r : s.reasons) ids.insert(r.rule_id);
  return ids;
}

}  // namespace

CaseState FoldOn(const std::vector<const Event*>& events, Date day, Clock clock) {
  std::vector<const Event*> counted;
  counted.reserve(events.size());
  for (const Event* e : events) {
    if (Counts(*e, day, clock)) counted.push_back(e);
  }
  std::stable_sort(counted.begin(), counted.end(),
                   [](const Event* a, const Event* b) { return a->occurred_on < b->occurred_on; });
  CaseState state;
  for (const Event* e : counted) ApplyTo(&state, *e);
  return state;
}

CaseStatus StatusOn(const std::vector<const Event*>& events, Date day, Clock clock,
                    const RulesetHistory& rules) {
  return Evaluate(FoldOn(events, day, clock), day, rules.InForce(day));
}

StatusPair StatusBothClocks(const std::vector<const Event*>& events, Date day,
                            const RulesetHistory& rules) {
  StatusPair pair;
  pair.as_known = StatusOn(events, day, Clock::kAsKnown, rules);
  pair.as_now_known = StatusOn(events, day, Clock::kAsNowKnown, rules);
  pair.differ = pair.as_known.level != pair.as_now_known.level ||
                RuleIds(pair.as_known) != RuleIds(pair.as_now_known);
  for (const Event* e : events) {
    if (e->occurred_on <= day && e->recorded_on > day) pair.late_events.push_back(e->id);
  }
  return pair;
}

std::vector<LevelChange> StatusHistory(const std::vector<const Event*>& events, Date until,
                                       Clock clock, const RulesetHistory& rules) {
  std::vector<LevelChange> changes;
  if (events.empty()) return changes;
  Date first = EffectiveOn(*events.front(), clock);
  for (const Event* e : events) first = std::min(first, EffectiveOn(*e, clock));
  if (first > until) return changes;

  // Events by the day they take effect. Each day's state is the previous
  // day's plus that day's events, applied in FoldOn's order (occurred day,
  // then input order); an event that belongs before one already applied (a
  // late record about an earlier day) makes the day refold from the start,
  // so every day's state is exactly FoldOn's.
  std::vector<const Event*> canonical(events.begin(), events.end());
  std::stable_sort(canonical.begin(), canonical.end(),
                   [](const Event* a, const Event* b) { return a->occurred_on < b->occurred_on; });
  std::map<const Event*, size_t> rank;
  for (size_t i = 0; i < canonical.size(); ++i) rank[canonical[i]] = i;
  std::vector<const Event*> by_effect = canonical;
  std::stable_sort(by_effect.begin(), by_effect.end(), [clock](const Event* a, const Event* b) {
    return EffectiveOn(*a, clock) < EffectiveOn(*b, clock);
  });

  CaseState state;
  std::vector<const Event*> applied;
  size_t highest_rank = 0;
  size_t next = 0;
  std::optional<CaseStatus> previous;
  std::string previous_version;
  for (Date day = first; day <= until; ++day) {
    std::vector<std::string> today;
    bool refold = false;
    while (next < by_effect.size() && EffectiveOn(*by_effect[next], clock) <= day) {
      const Event* e = by_effect[next++];
      today.push_back(e->id);
      if (!applied.empty() && rank[e] < highest_rank) refold = true;
      highest_rank = std::max(highest_rank, rank[e]);
      applied.push_back(e);
      if (!refold) ApplyTo(&state, *e);
    }
    if (refold) state = FoldOn(events, day, clock);
    const Ruleset& ruleset = rules.InForce(day);
    CaseStatus status = Evaluate(state, day, ruleset);
    const bool version_changed = !previous_version.empty() && previous_version != ruleset.version;
    if (!previous || previous->level != status.level) {
      LevelChange change;
      change.on = day;
      change.first = !previous.has_value();
      change.from = previous ? previous->level : status.level;
      change.to = status.level;
      change.events = std::move(today);
      const std::set<std::string> now = RuleIds(status);
      const std::set<std::string> before = previous ? RuleIds(*previous) : std::set<std::string>();
      for (const std::string& id : now) {
        if (!before.count(id)) change.rules_added.push_back(id);
      }
      for (const std::string& id : before) {
        if (!now.count(id)) change.rules_removed.push_back(id);
      }
      change.ruleset_version = ruleset.version;
      change.ruleset_changed = version_changed;
      change.status = status;
      changes.push_back(std::move(change));
    }
    previous = std::move(status);
    previous_version = ruleset.version;
  }
  return changes;
}

const char* LevelName(StatusLevel level) {
  switch (level) {
    case StatusLevel::kSustainable:
      return "SUSTAINABLE";
    case StatusLevel::kVulnerable:
      return "VULNERABLE";
    case StatusLevel::kAtRisk:
      return "AT_RISK";
    case StatusLevel::kEnded:
      return "ENDED";
  }
  return "?";
}

}  // namespace duurzaam::domain
