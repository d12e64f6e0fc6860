#include "domain/visibility.h"

#include <set>
#include <string>

#include "domain/overloaded.h"

namespace duurzaam::domain {

bool EmployerMaySee(const EventBody& body) {
  return std::visit(Overloaded{
                        [](const CaseOpened&) { return true; },
                        [](const CaseClosed&) { return true; },
                        [](const CaseReopened&) { return true; },
                        [](const TeamMemberAdded&) { return false; },
                        [](const TeamMemberRemoved&) { return false; },
                        [](const Hired&) { return true; },
                        [](const ContractChanged&) { return true; },
                        [](const OrganisationChanged&) { return true; },
                        [](const PrivateLifeChanged&) { return false; },
                        [](const SocietalDisruption&) { return true; },
                        [](const InterventionStarted&) { return false; },
                        [](const MonitoringCheckIn&) { return false; },
                        [](const ContactMoment&) { return false; },
                        [](const SubsidyGranted&) { return true; },
                        [](const SubsidyEnded&) { return true; },
                        [](const NoRiskCoverGranted&) { return true; },
                        [](const NoRiskCoverEnded&) { return true; },
                        [](const AbsenceReported&) { return true; },
                        [](const AbsenceEnded&) { return true; },
                        [](const NoticeGiven&) { return true; },
                        [](const EmploymentEnded&) { return true; },
                        [](const ExpertJudgement&) { return false; },
                    },
                    body);
}

int64_t EmployerRevision(const std::vector<Event>& case_events, size_t count) {
  int64_t visible = 0;
  for (size_t i = 0; i < count && i < case_events.size(); ++i) {
    if (EmployerMaySee(case_events[i].body)) ++visible;
  }
  return visible - 1;
}

namespace {

// Keeps the employer-audience reasons; true when any was withheld.
bool KeepEmployerReasons(const std::vector<Reason>& in, std::vector<Reason>* out) {
  bool withheld = false;
  for (const Reason& r : in) {
    if (r.audience == Audience::kEmployer) {
      out->push_back(r);
    } else {
      withheld = true;
    }
  }
  return withheld;
}

}  // namespace

CaseStatus ForEmployer(const CaseStatus& status) {
  CaseStatus out;
  out.level = status.level;
  out.ruleset_version = status.ruleset_version;
  out.as_of = status.as_of;
  bool withheld = KeepEmployerReasons(status.reasons, &out.reasons);
  KeepEmployerReasons(status.watch_items, &out.watch_items);
  if (withheld) {
    out.reasons.push_back({"EMPLOYER.CIRCUMSTANCES_FOLLOWED",
                           {"De arbeidsdeskundige volgt omstandigheden die van invloed kunnen zijn "
                            "op de plaatsing.",
                            "The labour expert is following circumstances that may affect the "
                            "placement."},
                           {},
                           Audience::kEmployer});
  }
  return out;
}

CaseStatus ForAudience(const CaseStatus& status, Audience max) {
  switch (max) {
    case Audience::kEmployer:
      return ForEmployer(status);
    case Audience::kRestricted:
      return status;
    case Audience::kExpert:
      break;
  }
  CaseStatus out = status;
  std::set<std::string> withheld_rules;
  auto withhold = [&withheld_rules](std::vector<Reason>* reasons) {
    for (Reason& r : *reasons) {
      if (r.audience != Audience::kRestricted) continue;
      withheld_rules.insert(r.rule_id);
      r.sentence = {
          "Een reden met privé- of gezondheidsgegevens; alleen de arbeidsdeskundigen "
          "van de casus lezen die.",
          "A reason with private-life or health details; only the case's labour "
          "experts read it."};
      r.audience = Audience::kExpert;
    }
  };
  withhold(&out.reasons);
  withhold(&out.watch_items);
  std::erase_if(out.actions, [&withheld_rules](const SuggestedAction& a) {
    return withheld_rules.count(a.rule_id) > 0;
  });
  return out;
}

}  // namespace duurzaam::domain
