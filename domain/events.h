// The placement event catalogue as plain C++ values: what happened in a
// case (or at an employer), independent of wire and storage formats.
// Adding an event type: add its struct here and to `EventBody`; the compiler
// then points at every std::visit that misses it (case_state.cc, codec, ...).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/civil_time.h"

namespace duurzaam::domain {

// A calendar day. Domain time is days; no wall clock inside the domain.
using Date = absl::CivilDay;

// Who recorded an event, in which role.
enum class Role { kExpert, kEmployer, kWorker, kAuditor, kAdmin };
struct Principal {
  std::string id;  // e.g. "expert:jdevries", "employer:acme/hr"
  Role role = Role::kExpert;
  // The organisation an EMPLOYER principal acts for (an employer id); empty
  // for the other roles. Not part of the recorded event.
  std::string organisation;
  // The service that acts for this principal, e.g. "portal:werkgeversportaal"
  // (the employer portal, for a user it signed in); empty when the
  // principal calls itself. Recorded in the access log, not in events.
  std::string via;
};

enum class ContractType { kPermanent, kFixedTerm };
enum class Respondent { kEmployer, kWorker, kExpert };
enum class OrganisationChangeKind { kReorganisation, kManagementChange, kMerger, kRelocation };
enum class InterventionKind {
  kJobCoach,              // (external) job coach, guidance on and off the job
  kCapacityAssessment,    // what the worker can carry (belastbaarheid), never a diagnosis
  kWorkplaceAdaptation,   // tailoring the work or workplace
  kSubsidyAdvice,         // advice on wage-cost subsidy / wage dispensation
  kNoRiskAdvice,          // advice on the no-risk policy
  kCoaching,              // coaching of employer or worker towards own initiative
  kThreeWayConversation,  // driegesprek: employer, worker and expert together
  kOther,
};
enum class ContactKind { kVisit, kPhone, kVideo, kThreeWayConversation };
enum class SubsidyKind { kWageCostSubsidy, kWageDispensation, kOther };
enum class EndReason { kResignation, kDismissal, kContractExpired, kMutualConsent, kOther };

// The questionnaire items scored 1..5 (the success factors of DOMAIN.md).
enum class Item {
  kFit,             // passend werk, maatwerk
  kMeaningfulWork,  // feeling useful and valued
  kGuidance,        // adequate, continuous, low-threshold guidance
  kSupport,         // subsidised work, support to the employer
  kMotivation,      // the worker's motivation and eagerness to learn
  kSelfEfficacy,
  kCoping,               // coping, handling one's own disability
  kIntentionToContinue,  // wants the placement to go on
};

struct CaseOpened {
  std::string worker_ref;    // pseudonymous reference, never a name or BSN
  std::string employer_id;   // the employer organisation
  std::string region;        // labour-market region (arbeidsmarktregio)
  std::string target_group;  // doelgroep (Wajong, Participatiewet, banenafspraak)
};
struct CaseClosed {
  std::string reason;
};
struct CaseReopened {
  std::string reason;
};
struct TeamMemberAdded {
  std::string expert_id;
};
struct TeamMemberRemoved {
  std::string expert_id;
};
struct Hired {
  ContractType contract = ContractType::kFixedTerm;
  std::optional<Date> contract_end;  // required for fixed-term
  double hours_per_week = 0;
  std::string job_title;
  std::string agreed_adaptations;  // EMPLOYER: functional, never medical
};
struct ContractChanged {
  ContractType contract = ContractType::kFixedTerm;
  std::optional<Date> contract_end;
  double hours_per_week = 0;
};
// Recorded once on the employer; joins into every placement there.
struct OrganisationChanged {
  OrganisationChangeKind kind = OrganisationChangeKind::kReorganisation;
  std::string description;
};
struct PrivateLifeChanged {
  std::string details;
};  // RESTRICTED
struct SocietalDisruption {
  std::string description;
};
struct InterventionStarted {
  InterventionKind kind = InterventionKind::kOther;
  std::string description;
  std::string responds_to;  // event id of the disruption it follows up, if any
};
struct MonitoringCheckIn {
  Respondent respondent = Respondent::kWorker;
  std::map<Item, int> scores;  // 1..5
  std::string remarks;         // RESTRICTED free text
};
struct ContactMoment {
  ContactKind kind = ContactKind::kVisit;
  std::string summary;  // EXPERT free text
};
struct SubsidyGranted {
  SubsidyKind kind = SubsidyKind::kWageCostSubsidy;
  int wage_value_percent = 0;  // loonwaarde, 0..100
  std::optional<Date> ends_on;
};
struct SubsidyEnded {
  SubsidyKind kind = SubsidyKind::kWageCostSubsidy;
};
struct NoRiskCoverGranted {
  std::optional<Date> ends_on;
};
struct NoRiskCoverEnded {};
struct AbsenceReported {};  // duration only: never a cause
struct AbsenceEnded {};
struct NoticeGiven {
  bool by_employer = true;
  Date effective_on;
};
struct EmploymentEnded {
  EndReason reason = EndReason::kOther;
};
enum class StatusLevel { kSustainable, kVulnerable, kAtRisk, kEnded };
// An expert's explicit judgement, shown beside the rule output (never
// hiding it) until it expires.
struct ExpertJudgement {
  StatusLevel level = StatusLevel::kVulnerable;
  std::string reason;
  Date expires_on;
};

using EventBody =
    std::variant<CaseOpened, CaseClosed, CaseReopened, TeamMemberAdded, TeamMemberRemoved, Hired,
                 ContractChanged, OrganisationChanged, PrivateLifeChanged, SocietalDisruption,
                 InterventionStarted, MonitoringCheckIn, ContactMoment, SubsidyGranted,
                 SubsidyEnded, NoRiskCoverGranted, NoRiskCoverEnded, AbsenceReported, AbsenceEnded,
                 NoticeGiven, EmploymentEnded, ExpertJudgement>;

// One event with what every event carries.
struct Event {
  std::string id;    // client-generated UUID
  Date occurred_on;  // when it happened
  Date recorded_on;  // when it was stored (UTC day of the log's recorded-at)
  Principal recorded_by;
  EventBody body;
  // The worker's personal details in it (free text about the worker,
  // private-life and health-derived details) were erased with the case and
  // read as empty.
  bool personal_data_erased = false;
};

// A stable, human-readable name per event type ("PlacementHired", ...).
const char* TypeName(const EventBody& body);

}  // namespace duurzaam::domain
