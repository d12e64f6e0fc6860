#include "domain/validation.h"

#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "domain/overloaded.h"
#include "domain/regions.h"
#include "domain/status.h"

namespace duurzaam::domain {
namespace {

const Date kEarliest(1990, 1, 1);

[[nodiscard]] absl::Status Invalid(std::string field, std::string rule) {
  return MakeInvalidArgument({std::move(field), std::move(rule)});
}

// A history rule, with its stable id (cases.proto lists them).
[[nodiscard]] absl::Status Precondition(absl::string_view rule_id, std::string message) {
  return MakeRuleViolation(rule_id, message);
}

// "expert:<name>", as certificates make principal ids.
bool IsExpertId(const std::string& id) {
  constexpr std::string_view kPrefix = "expert:";
  return id.rfind(kPrefix, 0) == 0 && IsPrincipalName(std::string_view(id).substr(kPrefix.size()));
}

// A field of the event's body ("body.<field>"; the service names it from the
// request root, e.g. event.contract_changed.contract_end).
std::string Body(absl::string_view field) { return absl::StrCat("body.", field); }

[[nodiscard]] absl::Status CheckContract(ContractType contract, const std::optional<Date>& end,
                                         Date from) {
  if (contract == ContractType::kFixedTerm) {
    if (!end) return Invalid(Body("contract_end"), "a fixed-term contract needs an end date");
    if (*end <= from) {
      return Invalid(Body("contract_end"), absl::StrCat("the contract must end after it starts (",
                                                        FormatDate(from), ")"));
    }
  } else if (end) {
    return Invalid(Body("contract_end"), "a permanent contract has no end date");
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status CheckHours(double hours, const std::string& field) {
  if (!(hours > 0 && hours <= 60)) {
    return Invalid(field, "hours per week are more than 0 and at most 60");
  }
  return absl::OkStatus();
}

// Events that only make sense during employment.
[[nodiscard]] absl::Status RequireEmployment(const CaseState& s, const Event& e, const char* what) {
  if (!s.hired_on) {
    return Precondition("NOT_HIRED",
                        absl::StrCat(what, " needs a hire first: record PlacementHired"));
  }
  if (s.ended) {
    return Precondition("EMPLOYMENT_ENDED",
                        absl::StrCat(what, " cannot follow the end of employment on ",
                                     FormatDate(s.ended_on), "; record a new hire first"));
  }
  if (e.occurred_on < *s.hired_on) {
    return Invalid("occurred_on",
                   absl::StrCat(what, " cannot predate the hire on ", FormatDate(*s.hired_on)));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status CheckScores(const MonitoringCheckIn& c) {
  if (c.scores.empty()) return Invalid(Body("scores"), "a check-in scores at least one item");
  // The codec checks each score's range where the request's index is known;
  // this holds for events from anywhere else.
  for (const auto& [item, score] : c.scores) {
    if (score < 1 || score > 5) {
      return Invalid(Body("scores"), absl::StrCat("scores are 1 to 5; got ", score));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsPrincipalName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || c == '@';
    if (!ok) return false;
  }
  return true;
}

[[nodiscard]] absl::Status ValidateCaseEvent(const CaseState& s, const Event& e) {
  if (e.id.empty()) return Invalid("event_id", "an event id is required");
  if (e.occurred_on < kEarliest) {
    return Invalid("occurred_on",
                   absl::StrCat("a date on or after ", FormatDate(kEarliest), " is required"));
  }
  if (e.occurred_on > e.recorded_on + 1) {
    return Invalid("occurred_on", absl::StrCat("an event cannot happen in the future (after ",
                                               FormatDate(e.recorded_on), ")"));
  }
  const bool opening = std::holds_alternative<CaseOpened>(e.body);
  if (!s.opened && !opening) {
    return Precondition("CASE_NOT_OPENED", "the case is not opened: record CaseOpened first");
  }
  if (s.closed && !std::holds_alternative<CaseReopened>(e.body)) {
    return Precondition("CASE_CLOSED",
                        "the case is closed: record CaseReopened before adding events");
  }
  return std::visit(
      Overloaded{
          [&](const CaseOpened& b) -> absl::Status {
            if (s.opened) return Precondition("CASE_ALREADY_OPENED", "the case is already opened");
            if (b.worker_ref.empty()) {
              return Invalid(Body("worker_ref"), "a worker reference is required");
            }
            if (b.employer_id.empty())
              return Invalid(Body("employer_id"), "an employer is required");
            if (!IsLabourMarketRegion(b.region)) {
              return Invalid(Body("region"),
                             absl::StrCat("'", b.region,
                                          "' is not one of the 35 labour-market regions "
                                          "(arbeidsmarktregio's), spelled as on the official "
                                          "list, e.g. 'Groot Amsterdam'"));
            }
            if (!IsTargetGroup(b.target_group)) {
              return Invalid(Body("target_group"),
                             absl::StrCat("'", b.target_group,
                                          "' is not a target group: Wajong, Participatiewet or "
                                          "banenafspraak"));
            }
            return absl::OkStatus();
          },
          [&](const CaseClosed&) -> absl::Status { return absl::OkStatus(); },
          [&](const CaseReopened&) -> absl::Status {
            if (!s.closed) return Precondition("CASE_NOT_CLOSED", "the case is not closed");
            if (e.occurred_on < s.closed_on) {
              return Precondition("REOPEN_BEFORE_CLOSE",
                                  absl::StrCat("a reopening cannot predate the closing it undoes (",
                                               FormatDate(s.closed_on), ")"));
            }
            return absl::OkStatus();
          },
          [&](const TeamMemberAdded& b) -> absl::Status {
            if (!IsExpertId(b.expert_id)) {
              return Invalid(Body("expert_id"),
                             "an expert's principal id: 'expert:' and 1 to 64 of a-z, 0-9, '-', "
                             "'.', '_' and '@'");
            }
            if (s.team.count(b.expert_id)) {
              return Precondition("TEAM_MEMBER_PRESENT",
                                  absl::StrCat(b.expert_id, " is already in the case team"));
            }
            return absl::OkStatus();
          },
          [&](const TeamMemberRemoved& b) -> absl::Status {
            if (!s.team.count(b.expert_id)) {
              return Precondition("TEAM_MEMBER_ABSENT",
                                  absl::StrCat(b.expert_id, " is not in the case team"));
            }
            if (s.team.size() == 1) {
              return Precondition(
                  "TEAM_LAST_EXPERT",
                  absl::StrCat(b.expert_id,
                               " is the case's last expert: add another expert to the team "
                               "before removing them, so the case is never left without one"));
            }
            return absl::OkStatus();
          },
          [&](const Hired& b) -> absl::Status {
            if (s.hired_on && !s.ended) {
              return Precondition(
                  "ALREADY_EMPLOYED",
                  absl::StrCat("the worker is already employed here since ",
                               FormatDate(*s.hired_on), "; record a ContractChanged instead"));
            }
            if (absl::Status c = CheckContract(b.contract, b.contract_end, e.occurred_on);
                !c.ok()) {
              return c;
            }
            return CheckHours(b.hours_per_week, Body("hours_per_week"));
          },
          [&](const ContractChanged& b) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "a contract change"); !r.ok()) return r;
            if (absl::Status c = CheckContract(b.contract, b.contract_end, e.occurred_on);
                !c.ok()) {
              return c;
            }
            return CheckHours(b.hours_per_week, Body("hours_per_week"));
          },
          [&](const OrganisationChanged&) -> absl::Status {
            return Invalid("body",
                           "organisation changes are recorded once on the employer "
                           "(RecordEmployerEvent), not on a case");
          },
          [&](const PrivateLifeChanged& b) -> absl::Status {
            if (b.details.empty()) return Invalid(Body("details"), "details are required");
            return absl::OkStatus();
          },
          [&](const SocietalDisruption& b) -> absl::Status {
            if (b.description.empty())
              return Invalid(Body("description"), "a description is required");
            return absl::OkStatus();
          },
          [&](const InterventionStarted& b) -> absl::Status {
            if (b.description.empty())
              return Invalid(Body("description"), "a description is required");
            return absl::OkStatus();
          },
          [&](const MonitoringCheckIn& b) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "a monitoring check-in"); !r.ok())
              return r;
            return CheckScores(b);
          },
          [&](const ContactMoment&) -> absl::Status { return absl::OkStatus(); },
          [&](const SubsidyGranted& b) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "a subsidy"); !r.ok()) return r;
            if (b.wage_value_percent < 0 || b.wage_value_percent > 100) {
              return Invalid(Body("wage_value_percent"), "the wage value is 0 to 100 percent");
            }
            if (b.ends_on && *b.ends_on <= e.occurred_on) {
              return Invalid(Body("ends_on"), "a subsidy ends after it is granted");
            }
            return absl::OkStatus();
          },
          [&](const SubsidyEnded& b) -> absl::Status {
            for (const auto& sub : s.subsidies) {
              if (sub.kind == b.kind) return absl::OkStatus();
            }
            return Precondition("SUBSIDY_NOT_ACTIVE", "no such subsidy is active");
          },
          [&](const NoRiskCoverGranted& b) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "no-risk cover"); !r.ok()) return r;
            if (b.ends_on && *b.ends_on <= e.occurred_on) {
              return Invalid(Body("ends_on"), "the cover ends after it is granted");
            }
            return absl::OkStatus();
          },
          [&](const NoRiskCoverEnded&) -> absl::Status {
            if (!s.cover_active) {
              return Precondition("NO_RISK_COVER_NOT_ACTIVE", "no no-risk cover is active");
            }
            return absl::OkStatus();
          },
          [&](const AbsenceReported&) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "an absence"); !r.ok()) return r;
            if (s.absent_since) {
              return Precondition(
                  "ALREADY_ABSENT",
                  absl::StrCat("the worker is already absent since ", FormatDate(*s.absent_since)));
            }
            return absl::OkStatus();
          },
          [&](const AbsenceEnded&) -> absl::Status {
            if (!s.absent_since) return Precondition("NO_ABSENCE_OPEN", "no absence is open");
            if (e.occurred_on < *s.absent_since) {
              return Invalid("occurred_on", "an absence ends after it starts");
            }
            return absl::OkStatus();
          },
          [&](const NoticeGiven& b) -> absl::Status {
            if (absl::Status r = RequireEmployment(s, e, "a notice"); !r.ok()) return r;
            if (b.effective_on < e.occurred_on) {
              return Invalid(Body("effective_on"),
                             "notice takes effect on or after the day it is given");
            }
            return absl::OkStatus();
          },
          [&](const EmploymentEnded&) -> absl::Status {
            return RequireEmployment(s, e, "the end of employment");
          },
          [&](const ExpertJudgement& b) -> absl::Status {
            if (e.recorded_by.role != Role::kExpert) {
              return absl::PermissionDeniedError("only an expert records an expert judgement");
            }
            if (b.reason.empty()) return Invalid(Body("reason"), "a judgement states its reason");
            if (b.expires_on <= e.occurred_on) {
              return Invalid(Body("expires_on"), "a judgement expires after it is made");
            }
            return absl::OkStatus();
          },
      },
      e.body);
}

[[nodiscard]] absl::Status ValidateEmployerEvent(const Event& e) {
  if (e.id.empty()) return Invalid("event_id", "an event id is required");
  if (e.occurred_on < kEarliest || e.occurred_on > e.recorded_on + 1) {
    return Invalid("occurred_on", "the date is out of range");
  }
  const auto* change = std::get_if<OrganisationChanged>(&e.body);
  if (change == nullptr) {
    return Invalid("body", "an employer stream holds organisation changes only");
  }
  if (change->description.empty()) return Invalid(Body("description"), "a description is required");
  return absl::OkStatus();
}

}  // namespace duurzaam::domain
