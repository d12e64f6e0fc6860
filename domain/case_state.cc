#include "domain/case_state.h"

#include <algorithm>

#include "domain/overloaded.h"

namespace duurzaam::domain {
namespace {}  // namespace

std::vector<TeamChange> TeamChanges(const Event& e) {
  if (std::holds_alternative<CaseOpened>(e.body)) {
    // The expert who opens a case is on its team.
    if (e.recorded_by.role == Role::kExpert) return {{e.recorded_by.id, true}};
    return {};
  }
  if (const auto* added = std::get_if<TeamMemberAdded>(&e.body)) return {{added->expert_id, true}};
  if (const auto* removed = std::get_if<TeamMemberRemoved>(&e.body)) {
    return {{removed->expert_id, false}};
  }
  return {};
}

void ApplyTo(CaseState* state, const Event& e) {
  CaseState& s = *state;
  for (const TeamChange& change : TeamChanges(e)) {
    if (change.joins) {
      s.team.insert(change.expert_id);
    } else {
      s.team.erase(change.expert_id);
    }
  }
  std::visit(Overloaded{
                 [&](const CaseOpened& b) {
                   s.opened = true;
                   s.worker_ref = b.worker_ref;
                   s.employer_id = b.employer_id;
                   s.region = b.region;
                   s.target_group = b.target_group;
                 },
                 [&](const CaseClosed&) {
                   s.closed = true;
                   s.closed_on = e.occurred_on;
                 },
                 [&](const CaseReopened&) { s.closed = false; },
                 [&](const TeamMemberAdded&) {},
                 [&](const TeamMemberRemoved&) {},
                 [&](const Hired& b) {
                   s.hired_on = e.occurred_on;
                   s.hire_event = e.id;
                   s.contract = b.contract;
                   s.contract_end = b.contract_end;
                   s.contract_event = e.id;
                   s.ended = false;
                   s.notice_effective_on.reset();
                 },
                 [&](const ContractChanged& b) {
                   s.contract = b.contract;
                   s.contract_end =
                       b.contract == ContractType::kPermanent ? std::nullopt : b.contract_end;
                   s.contract_event = e.id;
                 },
                 [&](const OrganisationChanged&) {
                   s.disruptions.push_back({e.id, e.occurred_on, CaseState::Source::kOrganisation});
                 },
                 [&](const PrivateLifeChanged&) {
                   s.disruptions.push_back({e.id, e.occurred_on, CaseState::Source::kPrivateLife});
                 },
                 [&](const SocietalDisruption&) {
                   s.disruptions.push_back({e.id, e.occurred_on, CaseState::Source::kSociety});
                 },
                 [&](const InterventionStarted& b) {
                   s.follow_ups.push_back({e.id, e.occurred_on, false,
                                           b.kind == InterventionKind::kThreeWayConversation});
                 },
                 [&](const MonitoringCheckIn& b) {
                   s.check_ins.push_back({e.id, e.occurred_on, b.respondent, b.scores});
                 },
                 [&](const ContactMoment& b) {
                   s.follow_ups.push_back(
                       {e.id, e.occurred_on, true, b.kind == ContactKind::kThreeWayConversation});
                 },
                 [&](const SubsidyGranted& b) {
                   std::erase_if(s.subsidies, [&](const auto& x) { return x.kind == b.kind; });
                   s.subsidies.push_back({e.id, b.kind, b.ends_on});
                 },
                 [&](const SubsidyEnded& b) {
                   std::erase_if(s.subsidies, [&](const auto& x) { return x.kind == b.kind; });
                 },
                 [&](const NoRiskCoverGranted& b) {
                   s.cover_active = true;
                   s.cover_ends_on = b.ends_on;
                   s.cover_event = e.id;
                 },
                 [&](const NoRiskCoverEnded&) {
                   s.cover_active = false;
                   s.cover_ends_on.reset();
                 },
                 [&](const AbsenceReported&) {
                   if (!s.absent_since) {
                     s.absent_since = e.occurred_on;
                     s.absence_event = e.id;
                   }
                 },
                 [&](const AbsenceEnded&) { s.absent_since.reset(); },
                 [&](const NoticeGiven& b) {
                   s.notice_effective_on = b.effective_on;
                   s.notice_event = e.id;
                 },
                 [&](const EmploymentEnded&) {
                   s.ended = true;
                   s.ended_on = e.occurred_on;
                   s.ended_event = e.id;
                 },
                 [&](const ExpertJudgement& b) {
                   s.judgement = b;
                   s.judgement_event = e.id;
                 },
             },
             e.body);
}

CaseState Apply(CaseState state, const Event& event) {
  ApplyTo(&state, event);
  return state;
}

CaseState FoldAsOf(const std::vector<Event>& events, Date as_of) {
  std::vector<const Event*> refs;
  refs.reserve(events.size());
  for (const Event& e : events) refs.push_back(&e);
  return FoldAsOf(refs, as_of);
}

CaseState FoldAsOf(const std::vector<const Event*>& events, Date as_of) {
  // Apply in occurred order (stable: recorded order breaks ties).
  std::vector<const Event*> known;
  known.reserve(events.size());
  for (const Event* e : events) {
    if (e->occurred_on <= as_of && e->recorded_on <= as_of) known.push_back(e);
  }
  std::stable_sort(known.begin(), known.end(),
                   [](const Event* a, const Event* b) { return a->occurred_on < b->occurred_on; });
  CaseState state;
  for (const Event* e : known) ApplyTo(&state, *e);
  return state;
}

const char* TypeName(const EventBody& body) {
  return std::visit(Overloaded{
                        [](const CaseOpened&) { return "CaseOpened"; },
                        [](const CaseClosed&) { return "CaseClosed"; },
                        [](const CaseReopened&) { return "CaseReopened"; },
                        [](const TeamMemberAdded&) { return "TeamMemberAdded"; },
                        [](const TeamMemberRemoved&) { return "TeamMemberRemoved"; },
                        [](const Hired&) { return "PlacementHired"; },
                        [](const ContractChanged&) { return "ContractChanged"; },
                        [](const OrganisationChanged&) { return "OrganisationChanged"; },
                        [](const PrivateLifeChanged&) { return "PrivateLifeChanged"; },
                        [](const SocietalDisruption&) { return "SocietalDisruption"; },
                        [](const InterventionStarted&) { return "InterventionStarted"; },
                        [](const MonitoringCheckIn&) { return "MonitoringCheckIn"; },
                        [](const ContactMoment&) { return "ContactMoment"; },
                        [](const SubsidyGranted&) { return "SubsidyGranted"; },
                        [](const SubsidyEnded&) { return "SubsidyEnded"; },
                        [](const NoRiskCoverGranted&) { return "NoRiskCoverGranted"; },
                        [](const NoRiskCoverEnded&) { return "NoRiskCoverEnded"; },
                        [](const AbsenceReported&) { return "AbsenceReported"; },
                        [](const AbsenceEnded&) { return "AbsenceEnded"; },
                        [](const NoticeGiven&) { return "NoticeGiven"; },
                        [](const EmploymentEnded&) { return "EmploymentEnded"; },
                        [](const ExpertJudgement&) { return "ExpertJudgement"; },
                    },
                    body);
}

}  // namespace duurzaam::domain
