#include "domain/timeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "domain/overloaded.h"

namespace duurzaam::domain {
namespace {

Text Contract(ContractType c) {
  return c == ContractType::kPermanent ? Text{"vast contract", "permanent contract"}
                                       : Text{"tijdelijk contract", "fixed-term contract"};
}

// The window in which the employer's events concern this case.
struct Window {
  std::optional<Date> from, to;
};

Window CaseWindow(const std::vector<Event>& case_events) {
  Window w;
  for (const Event& e : case_events) {
    if (std::holds_alternative<CaseOpened>(e.body) && !w.from) w.from = e.occurred_on;
    if (std::holds_alternative<Hired>(e.body)) w.to.reset();
    if (std::holds_alternative<EmploymentEnded>(e.body)) w.to = e.occurred_on;
  }
  return w;
}

bool InWindow(const Window& w, Date d) { return w.from && d >= *w.from && (!w.to || d <= *w.to); }

}  // namespace

Text Title(const Event& e) {
  return std::visit(
      Overloaded{
          [](const CaseOpened&) {
            return Text{"Casus geopend", "Case opened"};
          },
          [](const CaseClosed&) {
            return Text{"Casus gesloten", "Case closed"};
          },
          [](const CaseReopened&) {
            return Text{"Casus heropend", "Case reopened"};
          },
          [](const TeamMemberAdded& b) {
            return Text{absl::StrCat(b.expert_id, " toegevoegd aan het casusteam"),
                        absl::StrCat(b.expert_id, " joined the case team")};
          },
          [](const TeamMemberRemoved& b) {
            return Text{absl::StrCat(b.expert_id, " uit het casusteam"),
                        absl::StrCat(b.expert_id, " left the case team")};
          },
          [](const Hired& b) {
            Text c = Contract(b.contract);
            return Text{absl::StrCat("In dienst (", c.nl, ")"), absl::StrCat("Hired (", c.en, ")")};
          },
          [](const ContractChanged& b) {
            Text c = Contract(b.contract);
            return Text{absl::StrCat("Contract gewijzigd: ", c.nl),
                        absl::StrCat("Contract changed: ", c.en)};
          },
          [](const OrganisationChanged& b) {
            switch (b.kind) {
              case OrganisationChangeKind::kReorganisation:
                return Text{"Reorganisatie bij de werkgever", "Reorganisation at the employer"};
              case OrganisationChangeKind::kManagementChange:
                return Text{"Wisseling leidinggevende", "Change of manager"};
              case OrganisationChangeKind::kMerger:
                return Text{"Fusie bij de werkgever", "Merger at the employer"};
              case OrganisationChangeKind::kRelocation:
                return Text{"Verhuizing van de werkgever", "Employer relocated"};
            }
            return Text{"Organisatieverandering", "Organisational change"};
          },
          [](const PrivateLifeChanged&) {
            return Text{"Verandering in privé-omstandigheden", "Change in private circumstances"};
          },
          [](const SocietalDisruption&) {
            return Text{"Maatschappelijke verstoring", "Societal disruption"};
          },
          [](const InterventionStarted& b) {
            switch (b.kind) {
              case InterventionKind::kJobCoach:
                return Text{"Jobcoach ingezet", "Job coach started"};
              case InterventionKind::kCapacityAssessment:
                return Text{"Belastbaarheid beoordeeld", "Capacity assessed"};
              case InterventionKind::kWorkplaceAdaptation:
                return Text{"Werkplek aangepast", "Workplace adapted"};
              case InterventionKind::kSubsidyAdvice:
                return Text{"Advies over loonkostensubsidie", "Advice on wage subsidy"};
              case InterventionKind::kNoRiskAdvice:
                return Text{"Advies over de no-riskpolis", "Advice on no-risk policy"};
              case InterventionKind::kCoaching:
                return Text{"Coaching", "Coaching"};
              case InterventionKind::kThreeWayConversation:
                return Text{"Driegesprek", "Three-way conversation"};
              case InterventionKind::kOther:
                break;
            }
            return Text{"Interventie", "Intervention"};
          },
          [](const MonitoringCheckIn& b) {
            switch (b.respondent) {
              case Respondent::kEmployer:
                return Text{"Vragenlijst werkgever", "Employer questionnaire"};
              case Respondent::kWorker:
                return Text{"Vragenlijst werknemer", "Worker questionnaire"};
              case Respondent::kExpert:
                break;
            }
            return Text{"Voortgangsrapportage arbeidsdeskundige", "Expert progress report"};
          },
          [](const ContactMoment& b) {
            return b.kind == ContactKind::kThreeWayConversation
                       ? Text{"Driegesprek", "Three-way conversation"}
                       : Text{"Contactmoment", "Contact"};
          },
          [](const SubsidyGranted& b) {
            return Text{absl::StrCat("Subsidie toegekend (loonwaarde ", b.wage_value_percent, "%)"),
                        absl::StrCat("Subsidy granted (wage value ", b.wage_value_percent, "%)")};
          },
          [](const SubsidyEnded&) {
            return Text{"Subsidie beëindigd", "Subsidy ended"};
          },
          [](const NoRiskCoverGranted&) {
            return Text{"No-riskpolis van kracht", "No-risk cover granted"};
          },
          [](const NoRiskCoverEnded&) {
            return Text{"No-riskpolis beëindigd", "No-risk cover ended"};
          },
          [](const AbsenceReported&) {
            return Text{"Ziekmelding", "Absence reported"};
          },
          [](const AbsenceEnded&) {
            return Text{"Hersteld gemeld", "Absence ended"};
          },
          [](const NoticeGiven& b) {
            return b.by_employer
                       ? Text{"Ontslag aangezegd door werkgever", "Notice given by employer"}
                       : Text{"Ontslag genomen door werknemer", "Notice given by worker"};
          },
          [](const EmploymentEnded&) {
            return Text{"Dienstverband beëindigd", "Employment ended"};
          },
          [](const ExpertJudgement&) {
            return Text{"Oordeel arbeidsdeskundige", "Expert judgement"};
          },
      },
      e.body);
}

std::vector<TimelineEntry> BuildTimeline(const std::vector<Event>& case_events,
                                         const std::vector<Event>& employer_events) {
  std::vector<TimelineEntry> entries;
  for (const Event& e : case_events) entries.push_back({&e, false, Title(e)});
  Window window = CaseWindow(case_events);
  for (const Event& e : employer_events) {
    if (InWindow(window, e.occurred_on)) entries.push_back({&e, true, Title(e)});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.event->occurred_on < b.event->occurred_on;
  });
  return entries;
}

std::vector<const Event*> WithEmployerEventRefs(const std::vector<Event>& case_events,
                                                const std::vector<Event>& employer_events) {
  std::vector<const Event*> all;
  all.reserve(case_events.size() + employer_events.size());
  for (const Event& e : case_events) all.push_back(&e);
  Window window = CaseWindow(case_events);
  for (const Event& e : employer_events) {
    if (InWindow(window, e.occurred_on)) all.push_back(&e);
  }
  return all;
}

std::vector<Event> WithEmployerEvents(const std::vector<Event>& case_events,
                                      const std::vector<Event>& employer_events) {
  std::vector<Event> all;
  for (const Event* e : WithEmployerEventRefs(case_events, employer_events)) all.push_back(*e);
  return all;
}

}  // namespace duurzaam::domain
