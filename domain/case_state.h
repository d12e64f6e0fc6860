// What a case's history amounts to on a given day: a pure fold of events.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/events.h"

namespace duurzaam::domain {

struct CaseState {
  bool opened = false;
  bool closed = false;
  Date closed_on;  // of the latest closing (meaningful while closed)
  std::string worker_ref, employer_id, region, target_group;
  std::set<std::string> team;  // expert ids

  std::optional<Date> hired_on;
  std::string hire_event;
  ContractType contract = ContractType::kFixedTerm;
  std::optional<Date> contract_end;
  std::string contract_event;  // the hire or the latest contract change

  enum class Source { kOrganisation, kSociety, kPrivateLife };
  struct Disruption {
    std::string event_id;
    Date on;
    Source source;
  };
  std::vector<Disruption> disruptions;

  // Interventions and contact moments: the follow-ups a disruption needs.
  struct FollowUp {
    std::string event_id;
    Date on;
    bool contact = false;    // a contact moment (else an intervention)
    bool three_way = false;  // a driegesprek
  };
  std::vector<FollowUp> follow_ups;

  struct CheckIn {
    std::string event_id;
    Date on;
    Respondent respondent;
    std::map<Item, int> scores;
  };
  std::vector<CheckIn> check_ins;

  struct Subsidy {
    std::string event_id;
    SubsidyKind kind;
    std::optional<Date> ends_on;
  };
  std::vector<Subsidy> subsidies;  // active ones
  std::optional<Date> cover_ends_on;
  std::string cover_event;
  bool cover_active = false;

  std::optional<Date> absent_since;
  std::string absence_event;

  std::optional<Date> notice_effective_on;
  std::string notice_event;

  bool ended = false;
  Date ended_on;
  std::string ended_event;

  std::optional<ExpertJudgement> judgement;
  std::string judgement_event;
};

// Applies one event (the fold step). Employer-wide events (organisation
// changes) are applied to every case of that employer by the caller.
CaseState Apply(CaseState state, const Event& event);
// The same step in place (a long fold moves no state per event).
void ApplyTo(CaseState* state, const Event& event);

// How `event` changes a case's team: experts that join (true) or leave
// (false). The one statement of the team rule (the expert who opens a case
// is on its team; TeamMemberAdded/Removed), used by Apply and by the
// projection's expert index.
struct TeamChange {
  std::string expert_id;
  bool joins = true;
};
std::vector<TeamChange> TeamChanges(const Event& event);

// Folds the events known on `as_of`: those that occurred on or before it AND
// were recorded on or before it. An event recorded later about an earlier
// day does not change what the status was on `as_of`, so an auditor gets
// the same answer today and in five years.
CaseState FoldAsOf(const std::vector<Event>& events, Date as_of);
// The same over events held elsewhere (see WithEmployerEventRefs).
CaseState FoldAsOf(const std::vector<const Event*>& events, Date as_of);

}  // namespace duurzaam::domain
