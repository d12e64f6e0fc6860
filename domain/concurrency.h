// Which events, recorded after the state a writer saw, conflict with the
// command it made from that state: the table an offline intent is rebased
// by (the expert app's push). An intent whose unseen events all commute with
// it is judged again on the current case and, if the rules still pass,
// appended on top; one that meets a conflicting event is given back to its
// author with the events and the rule id below.
//
// The table: every event type belongs to one aspect of a case. A command
// conflicts with an unseen event of its own aspect (two experts changing the
// contract, the subsidy, the judgement ... each from a state the other did
// not know), and every command conflicts with an unseen change of the case's
// lifecycle (opened, closed, reopened). A judgement and a lifecycle command
// weigh the whole case: they conflict with an unseen change of any aspect.
// Observations (contacts, check-ins, private-life and organisation changes,
// disruptions, interventions) commute with every command. Whether the command is still
// allowed at all (a team member removed, a case closed) is for the rules,
// judged afterwards.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "domain/events.h"

namespace duurzaam::domain {

enum class Aspect {
  kLifecycle,    // CaseOpened, CaseClosed, CaseReopened
  kTeam,         // TeamMemberAdded, TeamMemberRemoved
  kEmployment,   // Hired, ContractChanged, NoticeGiven, EmploymentEnded
  kSubsidy,      // SubsidyGranted, SubsidyEnded
  kNoRiskCover,  // NoRiskCoverGranted, NoRiskCoverEnded
  kAbsence,      // AbsenceReported, AbsenceEnded
  kJudgement,    // ExpertJudgement
  kObservation,  // everything else: commutes
};

Aspect AspectOf(const EventBody& body);

// The stable rule id (SYNC_*) saying why `unseen` conflicts with a command
// whose event is `command`; nullopt when they commute.
std::optional<std::string_view> ConflictRule(const EventBody& command, const EventBody& unseen);

struct UnseenConflict {
  std::string_view rule_id;         // of the first conflicting event
  std::vector<size_t> conflicting;  // indexes into `unseen`, in order
};

// Judges `command` against the events recorded after its writer's view
// (`unseen`, in recorded order): nullopt when every one commutes with it.
std::optional<UnseenConflict> FindConflicts(const std::vector<const Event*>& unseen,
                                            const Event& command);

}  // namespace duurzaam::domain
