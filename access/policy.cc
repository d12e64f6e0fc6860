#include "access/policy.h"

#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "domain/overloaded.h"

namespace duurzaam::access {
namespace {

using domain::Role;

[[nodiscard]] absl::Status Denied(const domain::Principal& who, const std::string& what) {
  return absl::PermissionDeniedError(
      absl::StrCat(who.id, " (", RoleName(who.role), ") may not ", what));
}

bool OnTeam(const domain::Principal& who, const CaseFacts& facts) {
  return facts.team.count(who.id) > 0;
}

bool OwnPlacement(const domain::Principal& who, const CaseFacts& facts) {
  return !who.organisation.empty() && who.organisation == facts.employer_id;
}

// One sentence for "not yours" and "does not exist", so a refusal is no
// existence oracle.
std::string NotYours(absl::string_view action, const domain::Principal& who,
                     const std::string& case_id) {
  return absl::StrCat(
      action, " case '", case_id, "': it is not ",
      who.role == Role::kEmployer ? "a placement at your organisation" : "one of your cases",
      " (or it does not exist)");
}

bool IsTeamChange(const domain::Event& e) {
  return std::holds_alternative<domain::TeamMemberAdded>(e.body) ||
         std::holds_alternative<domain::TeamMemberRemoved>(e.body);
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kExpert:
      return "EXPERT";
    case Role::kEmployer:
      return "EMPLOYER";
    case Role::kWorker:
      return "WORKER";
    case Role::kAuditor:
      return "AUDITOR";
    case Role::kAdmin:
      return "ADMIN";
  }
  return "UNKNOWN";
}

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kRecordCaseEvent:
      return "record case events";
    case Operation::kRecordEmployerEvent:
      return "record employer events";
    case Operation::kPushIntents:
      return "push offline intents (the expert app)";
    case Operation::kPull:
      return "pull case changes (the expert app)";
    case Operation::kReadCase:
      return "read cases";
    case Operation::kListPortfolio:
      return "list portfolios";
    case Operation::kListPlacements:
      return "list an employer's placements";
    case Operation::kReadStatistics:
      return "read regional statistics";
    case Operation::kAppendRaw:
      return "append raw events (use Cases.RecordCaseEvent, which validates)";
    case Operation::kReadLog:
      return "read the event log";
    case Operation::kReadProofs:
      return "read checkpoints and proofs";
    case Operation::kReadAccessLog:
      return "read the access log";
    case Operation::kEraseCase:
      return "erase a case's personal data";
    case Operation::kRegisterEmployer:
      return "register employers";
    case Operation::kRotateMasterKey:
      return "rotate the master key";
  }
  return "do that";
}

[[nodiscard]] absl::Status CheckOperation(const domain::Principal& who, Operation op) {
  bool allowed = false;
  switch (who.role) {
    case Role::kExpert:
      allowed = op == Operation::kRecordCaseEvent || op == Operation::kRecordEmployerEvent ||
                op == Operation::kPushIntents || op == Operation::kPull ||
                op == Operation::kReadCase || op == Operation::kListPortfolio ||
                op == Operation::kReadStatistics || op == Operation::kReadLog;
      break;
    case Role::kEmployer:
      allowed = op == Operation::kRecordCaseEvent || op == Operation::kRecordEmployerEvent ||
                op == Operation::kReadCase || op == Operation::kReadLog ||
                op == Operation::kListPlacements;
      break;
    case Role::kAuditor:
      allowed = op == Operation::kReadCase || op == Operation::kListPortfolio ||
                op == Operation::kReadStatistics || op == Operation::kReadLog ||
                op == Operation::kReadProofs || op == Operation::kReadAccessLog;
      break;
    case Role::kAdmin:
      // Team changes go through RecordCaseEvent (checked per event below).
      allowed = op == Operation::kRecordCaseEvent || op == Operation::kEraseCase ||
                op == Operation::kRotateMasterKey || op == Operation::kAppendRaw ||
                op == Operation::kRegisterEmployer;
      break;
    case Role::kWorker:
      allowed = false;
      break;
  }
  return allowed ? absl::OkStatus() : Denied(who, OperationName(op));
}

domain::Audience MaxAudience(View view) {
  switch (view) {
    case View::kExpert:
      return domain::Audience::kRestricted;
    case View::kStored:
      return domain::Audience::kExpert;
    case View::kEmployer:
    case View::kNone:
      break;
  }
  return domain::Audience::kEmployer;
}

View CaseView(const domain::Principal& who, const CaseFacts& facts) {
  if (!facts.exists) return View::kNone;
  switch (who.role) {
    case Role::kExpert:
      return OnTeam(who, facts) ? View::kExpert : View::kNone;
    case Role::kEmployer:
      return OwnPlacement(who, facts) ? View::kEmployer : View::kNone;
    case Role::kAuditor:
      return View::kStored;
    case Role::kAdmin:
    case Role::kWorker:
      return View::kNone;
  }
  return View::kNone;
}

[[nodiscard]] absl::StatusOr<View> CheckCaseRead(const domain::Principal& who,
                                                 const std::string& case_id,
                                                 const CaseFacts& facts) {
  if (absl::Status s = CheckOperation(who, Operation::kReadCase); !s.ok()) return s;
  // Only a caller who could read every case learns that one is missing;
  // everyone else gets one answer whether it exists or not.
  if (!facts.exists && who.role == Role::kAuditor) {
    return absl::NotFoundError(absl::StrCat("case '", case_id, "' has no events"));
  }
  View view = CaseView(who, facts);
  if (view == View::kNone) return Denied(who, NotYours("read", who, case_id));
  return view;
}

[[nodiscard]] absl::Status CheckCaseWrite(const domain::Principal& who, const std::string& case_id,
                                          const CaseFacts& facts, const domain::Event& event) {
  if (absl::Status s = CheckOperation(who, Operation::kRecordCaseEvent); !s.ok()) return s;
  const bool opening = std::holds_alternative<domain::CaseOpened>(event.body);
  switch (who.role) {
    case Role::kExpert:
      if (!facts.exists && opening) return absl::OkStatus();  // the opener joins the team
      if (facts.exists && OnTeam(who, facts)) return absl::OkStatus();
      if (!facts.exists) {
        // Opening an existing id fails anyway, so this tells nothing new.
        return MakeRuleViolation(
            "CASE_NOT_OPENED",
            absl::StrCat("case '", case_id, "' has no events: a case starts with CaseOpened"));
      }
      return Denied(who, NotYours("record events on", who, case_id));
    case Role::kEmployer:
      if (!std::holds_alternative<domain::ContractChanged>(event.body)) {
        return Denied(who, absl::StrCat("record a ", domain::TypeName(event.body),
                                        ": an employer records contract changes only"));
      }
      if (!facts.exists || !OwnPlacement(who, facts)) {
        return Denied(who, NotYours("record events on", who, case_id));
      }
      return absl::OkStatus();
    case Role::kAdmin:
      if (!IsTeamChange(event)) {
        return Denied(who, absl::StrCat("record a ", domain::TypeName(event.body),
                                        ": an administrator records case-team changes only"));
      }
      if (!facts.exists) {
        return absl::NotFoundError(absl::StrCat("case '", case_id, "' has no events"));
      }
      return absl::OkStatus();
    case Role::kAuditor:
    case Role::kWorker:
      break;
  }
  return Denied(who, "record events");
}

[[nodiscard]] absl::Status CheckEmployerWrite(const domain::Principal& who,
                                              const std::string& employer_id,
                                              bool expert_has_case_there) {
  if (absl::Status s = CheckOperation(who, Operation::kRecordEmployerEvent); !s.ok()) return s;
  if (who.role == Role::kEmployer && who.organisation != employer_id) {
    return Denied(who, absl::StrCat("record events for employer '", employer_id, "': you act for '",
                                    who.organisation, "'"));
  }
  if (who.role == Role::kExpert && !expert_has_case_there) {
    return Denied(who, absl::StrCat("record events for employer '", employer_id,
                                    "': you are on the team of no case there"));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status CheckRawStream(const domain::Principal& who, const std::string& stream) {
  if (stream.empty() || stream.rfind(kExternalStreamPrefix, 0) == 0) return absl::OkStatus();
  return Denied(
      who,
      absl::StrCat("append raw events to '", stream, "': raw appends write only streams named ",
                   absl::string_view(kExternalStreamPrefix.data(), kExternalStreamPrefix.size()),
                   "<name>; case and employer streams are written through "
                   "duurzaam.v1.Cases, which validates them, and every other name is "
                   "reserved for the server"));
}

[[nodiscard]] absl::Status CheckRawAppend(const domain::Principal& who, const std::string& stream) {
  if (absl::Status s = CheckOperation(who, Operation::kAppendRaw); !s.ok()) return s;
  return CheckRawStream(who, stream);
}

[[nodiscard]] absl::Status CheckPortfolio(const domain::Principal& who,
                                          const std::string& expert_id) {
  if (absl::Status s = CheckOperation(who, Operation::kListPortfolio); !s.ok()) return s;
  if (who.role == Role::kExpert && expert_id != who.id) {
    return Denied(who, absl::StrCat("list the portfolio of '", expert_id, "'"));
  }
  return absl::OkStatus();
}

StreamRef ClassifyStream(std::string_view stream) {
  if (domain::IsCaseStream(stream)) {
    return {StreamKind::kCase, std::string(stream.substr(domain::kCaseStreamPrefix.size()))};
  }
  if (domain::IsEmployerStream(stream)) {
    return {StreamKind::kEmployer,
            std::string(stream.substr(domain::kEmployerStreamPrefix.size()))};
  }
  return {StreamKind::kOther, std::string(stream)};
}

[[nodiscard]] absl::StatusOr<View> StreamView(
    const domain::Principal& who, const StreamRef& stream,
    const std::function<absl::StatusOr<CaseFacts>()>& facts) {
  // Auditors read every record as stored; a record proves its case exists.
  if (who.role == Role::kAuditor) return View::kStored;
  switch (stream.kind) {
    case StreamKind::kOther:
      return View::kNone;
    case StreamKind::kEmployer:
      if (who.role == Role::kExpert) return View::kExpert;  // no personal data there
      if (who.role == Role::kEmployer && who.organisation == stream.id) return View::kEmployer;
      return View::kNone;
    case StreamKind::kCase:
      break;
  }
  absl::StatusOr<CaseFacts> known = facts();
  if (!known.ok()) return known.status();
  return CaseView(who, *known);
}

}  // namespace duurzaam::access
