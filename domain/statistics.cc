#include "domain/statistics.h"

#include <algorithm>

#include "domain/case_state.h"
#include "domain/status.h"

namespace duurzaam::domain {
namespace {

// What had happened by `day`, whenever it was recorded.
CaseState FoldOccurredBy(const std::vector<Event>& events, Date day) {
  std::vector<Event> known;
  for (const Event& e : events) {
    if (e.occurred_on <= day) {
      known.push_back(e);
      known.back().recorded_on = e.occurred_on;
    }
  }
  return FoldAsOf(known, day);
}

std::optional<DisruptionKind> KindOf(const EventBody& body) {
  if (std::holds_alternative<OrganisationChanged>(body)) return DisruptionKind::kOrganisation;
  if (std::holds_alternative<SocietalDisruption>(body)) return DisruptionKind::kSociety;
  if (std::holds_alternative<PrivateLifeChanged>(body)) return DisruptionKind::kPrivateLife;
  return std::nullopt;
}

}  // namespace

std::set<std::string> Contributors(const std::vector<Event>& case_events) {
  std::set<std::string> out;
  for (const Event& e : case_events) {
    out.insert(e.recorded_by.id);
    if (const auto* added = std::get_if<TeamMemberAdded>(&e.body)) out.insert(added->expert_id);
  }
  return out;
}

std::vector<GroupStatistics> RegionalStatistics(const std::vector<CaseHistory>& cases, Date as_of,
                                                const Ruleset& rules, int min_group_size,
                                                const std::string& reader) {
  std::map<std::pair<std::string, std::string>, GroupStatistics> groups;
  for (const CaseHistory& c : cases) {
    if (!reader.empty() && c.contributors.count(reader)) continue;
    CaseState now = FoldOccurredBy(c.events, as_of);
    if (!now.opened) continue;
    GroupStatistics& g = groups[{now.region, now.target_group}];
    g.region = now.region;
    g.target_group = now.target_group;
    if (g.years.empty()) {
      for (int y = 1; y <= 3; ++y) g.years.push_back({y});
      for (DisruptionKind k : {DisruptionKind::kOrganisation, DisruptionKind::kSociety,
                               DisruptionKind::kPrivateLife}) {
        g.disruptions.push_back({k});
      }
    }
    ++g.placements;
    if (now.hired_on) {
      for (YearCounts& year : g.years) {
        Date day = *now.hired_on + 365 * year.years_after_hire;
        if (day > as_of) continue;
        ++year.placements;
        switch (Evaluate(FoldOccurredBy(c.events, day), day, rules).level) {
          case StatusLevel::kSustainable:
            ++year.sustainable;
            break;
          case StatusLevel::kVulnerable:
            ++year.vulnerable;
            break;
          case StatusLevel::kAtRisk:
            ++year.at_risk;
            break;
          case StatusLevel::kEnded:
            ++year.ended;
            break;
        }
      }
    }
    for (const Event& d : c.events) {
      std::optional<DisruptionKind> kind = KindOf(d.body);
      if (!kind || d.occurred_on > as_of) continue;
      DisruptionCounts& counts = g.disruptions[static_cast<int>(*kind)];
      ++counts.occurred;
      bool followed = false;
      for (const Event& f : c.events) {
        int64_t after = f.occurred_on - d.occurred_on;
        if (after < 0 || f.occurred_on > as_of) continue;
        bool follow_up = std::holds_alternative<InterventionStarted>(f.body) ||
                         std::holds_alternative<ContactMoment>(f.body);
        if (follow_up && after <= rules.disruption_follow_up_days) followed = true;
        if (const auto* i = std::get_if<InterventionStarted>(&f.body); i && after <= 90) {
          ++counts.interventions_within_90_days[i->kind];
        }
      }
      if (followed) ++counts.followed_up_within_30_days;
    }
  }
  std::vector<GroupStatistics> out;
  for (auto& [key, g] : groups) {
    if (g.placements < min_group_size) {
      GroupStatistics hidden;
      hidden.region = g.region;
      hidden.target_group = g.target_group;
      hidden.suppressed = true;
      out.push_back(std::move(hidden));
    } else {
      out.push_back(std::move(g));
    }
  }
  return out;
}

}  // namespace duurzaam::domain
