#include "domain/concurrency.h"

#include "domain/overloaded.h"

namespace duurzaam::domain {

Aspect AspectOf(const EventBody& body) {
  return std::visit(Overloaded{
                        [](const CaseOpened&) { return Aspect::kLifecycle; },
                        [](const CaseClosed&) { return Aspect::kLifecycle; },
                        [](const CaseReopened&) { return Aspect::kLifecycle; },
                        [](const TeamMemberAdded&) { return Aspect::kTeam; },
                        [](const TeamMemberRemoved&) { return Aspect::kTeam; },
                        [](const Hired&) { return Aspect::kEmployment; },
                        [](const ContractChanged&) { return Aspect::kEmployment; },
                        [](const OrganisationChanged&) { return Aspect::kObservation; },
                        [](const PrivateLifeChanged&) { return Aspect::kObservation; },
                        [](const SocietalDisruption&) { return Aspect::kObservation; },
                        [](const InterventionStarted&) { return Aspect::kObservation; },
                        [](const MonitoringCheckIn&) { return Aspect::kObservation; },
                        [](const ContactMoment&) { return Aspect::kObservation; },
                        [](const SubsidyGranted&) { return Aspect::kSubsidy; },
                        [](const SubsidyEnded&) { return Aspect::kSubsidy; },
                        [](const NoRiskCoverGranted&) { return Aspect::kNoRiskCover; },
                        [](const NoRiskCoverEnded&) { return Aspect::kNoRiskCover; },
                        [](const AbsenceReported&) { return Aspect::kAbsence; },
                        [](const AbsenceEnded&) { return Aspect::kAbsence; },
                        [](const NoticeGiven&) { return Aspect::kEmployment; },
                        [](const EmploymentEnded&) { return Aspect::kEmployment; },
                        [](const ExpertJudgement&) { return Aspect::kJudgement; },
                    },
                    body);
}

namespace {

std::string_view RuleOf(Aspect aspect) {
  switch (aspect) {
    case Aspect::kLifecycle:
      return "SYNC_CASE_LIFECYCLE_CHANGED";
    case Aspect::kTeam:
      return "SYNC_TEAM_CHANGED";
    case Aspect::kEmployment:
      return "SYNC_EMPLOYMENT_CHANGED";
    case Aspect::kSubsidy:
      return "SYNC_SUBSIDY_CHANGED";
    case Aspect::kNoRiskCover:
      return "SYNC_NO_RISK_COVER_CHANGED";
    case Aspect::kAbsence:
      return "SYNC_ABSENCE_CHANGED";
    case Aspect::kJudgement:
      return "SYNC_JUDGEMENT_CHANGED";
    case Aspect::kObservation:
      break;
  }
  return "";
}

}  // namespace

std::optional<std::string_view> ConflictRule(const EventBody& command, const EventBody& unseen) {
  const Aspect seen_aspect = AspectOf(unseen);
  if (seen_aspect == Aspect::kLifecycle) return RuleOf(Aspect::kLifecycle);
  if (seen_aspect == Aspect::kObservation) return std::nullopt;
  const Aspect own = AspectOf(command);
  // A judgement, or closing or reopening the case, weighs the whole case:
  // any change of its facts made unseen conflicts.
  if (own == Aspect::kJudgement || own == Aspect::kLifecycle) return RuleOf(seen_aspect);
  if (own != seen_aspect) return std::nullopt;
  return RuleOf(own);
}

std::optional<UnseenConflict> FindConflicts(const std::vector<const Event*>& unseen,
                                            const Event& command) {
  std::optional<UnseenConflict> found;
  for (size_t i = 0; i < unseen.size(); ++i) {
    std::optional<std::string_view> rule = ConflictRule(command.body, unseen[i]->body);
    if (!rule.has_value()) continue;
    if (!found.has_value()) found = UnseenConflict{*rule, {}};
    found->conflicting.push_back(i);
  }
  return found;
}

}  // namespace duurzaam::domain
