// Roles and case access: THE one place that decides who may do what
// (DOMAIN.md "Who may see what"; issue 4). Plain C++: the services ask it
// before every operation, every read of case content and every event they
// hand to a subscriber; nothing else grants access.
//
//   EXPERT    reads and writes the cases whose team they are on (all
//             fields); opens new cases; records employer-wide events.
//   EMPLOYER  reads timelines and status of placements at their own
//             organisation, redacted to EMPLOYER fields; records contract
//             changes of those placements and their own organisation's
//             changes.
//   AUDITOR   reads everything needed to verify and replay (stored records,
//             proofs, the access log, any case); never writes.
//   ADMIN     manages case teams and erasure; reads no case content.
//   WORKER    no access yet (a worker portal is future work).
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/events.h"
#include "domain/status.h"
#include "domain/stream_names.h"

namespace duurzaam::access {

// Every kind of request; each RPC maps to exactly one.
enum class Operation {
  kRecordCaseEvent,      // Cases.RecordCaseEvent
  kRecordEmployerEvent,  // Cases.RecordEmployerEvent
  kPushIntents,          // Cases.PushIntents (the expert app; each intent as RecordCaseEvent)
  kPull,                 // Cases.Pull (the expert app: changes to the caller's cases)
  kReadCase,             // Cases.GetTimeline / GetStatus / SubscribeCase
  kListPortfolio,        // Cases.ListPortfolio
  kListPlacements,       // Cases.ListPlacements (an employer's own placements)
  kReadStatistics,       // Cases.GetRegionalStatistics (anonymised)
  kAppendRaw,            // EventStore.Append / AppendMultiStream (unvalidated)
  kReadLog,              // EventStore.ReadStream / ReadAll / Subscribe
  kReadProofs,           // Audit: checkpoints, inclusion and consistency proofs
  kReadAccessLog,        // Audit: who read which case
  kEraseCase,            // Admin: crypto-shred a case's personal data
  kRotateMasterKey,      // Admin: re-wrap data keys under a new master key
  kRegisterEmployer,     // Admin: add an employer to the registry
};
const char* OperationName(Operation op);

// What the policy needs to know about a case.
struct CaseFacts {
  bool exists = false;
  std::string employer_id;
  std::set<std::string> team;  // expert principal ids
};

// How much of a case's content a caller may see.
enum class View {
  kNone,      // nothing (not even that the event exists)
  kEmployer,  // events an employer may see, redacted to EMPLOYER fields
  kExpert,    // every field, decrypted
  kStored,    // auditors (verify and replay): on the log, the stored records
              // as they are (sealed fields stay ciphertext); in the Cases API,
              // every field up to EXPERT (RESTRICTED is for the case's experts)
};

// The most sensitive status reasons a view may read (DOMAIN.md: RESTRICTED
// is for the case's experts only): kEmployer for employers, kExpert for
// auditors (they verify and replay history; they do not need the plaintext
// of private life), kRestricted for the case's experts. Every read path
// that serves status reasons filters them by this.
domain::Audience MaxAudience(View view);

// Role-level: may this role ask for this operation at all?
// PERMISSION_DENIED naming the role and the operation otherwise.
[[nodiscard]] absl::Status CheckOperation(const domain::Principal& who, Operation op);

// How `who` sees case `case_id`: kNone if they may not read it.
View CaseView(const domain::Principal& who, const CaseFacts& facts);

// Reads of one case (timeline, status, subscription): the view, or
// PERMISSION_DENIED (NOT_FOUND when the case does not exist, for callers
// who could read it if it did; otherwise PERMISSION_DENIED so existence does
// not leak).
[[nodiscard]] absl::StatusOr<View> CheckCaseRead(const domain::Principal& who,
                                                 const std::string& case_id,
                                                 const CaseFacts& facts);

// May `who` record `event` on a case with these facts?
[[nodiscard]] absl::Status CheckCaseWrite(const domain::Principal& who, const std::string& case_id,
                                          const CaseFacts& facts, const domain::Event& event);

// May `who` record an employer-wide event for `employer_id`? That
// employer's own principals, and experts on the team of a case there
// (`expert_has_case_there`); no one else shifts other experts' statuses.
[[nodiscard]] absl::Status CheckEmployerWrite(const domain::Principal& who,
                                              const std::string& employer_id,
                                              bool expert_has_case_there);

// Raw (unvalidated) appends through duurzaam.v1.EventStore write only
// streams named "ext-<name>": data of other tools that the log stores,
// orders and proves but that nothing in the server reads or derives from.
// Every other stream is the server's own: case-<id> and employer-<id>
// (written through duurzaam.v1.Cases, which validates and seals them),
// "erasures" (the Admin service's trail), and any name not yet used.
using domain::kExternalStreamPrefix;  // domain/stream_names.h

// The naming rule alone, for every caller (dev tooling included):
// PERMISSION_DENIED unless `stream` is an ext- stream. An empty name passes
// (the store rejects it, naming the field).
[[nodiscard]] absl::Status CheckRawStream(const domain::Principal& who, const std::string& stream);

// May `who` append raw events to `stream`? Only ADMIN (an operator's
// tooling), and only to ext- streams (CheckRawStream).
[[nodiscard]] absl::Status CheckRawAppend(const domain::Principal& who, const std::string& stream);

// May `who` list the portfolio of `expert_id`?
[[nodiscard]] absl::Status CheckPortfolio(const domain::Principal& who,
                                          const std::string& expert_id);

// Global-log and stream reads: the streams of the placement domain are
// "case-<id>" and "employer-<id>"; any other stream is tooling data that
// only auditors read.
enum class StreamKind { kCase, kEmployer, kOther };
struct StreamRef {
  StreamKind kind;
  std::string id;  // case or employer id
};
StreamRef ClassifyStream(std::string_view stream);

// How `who` sees the records of `stream` on the log: auditors every record
// as stored; tooling streams nobody else; employer-wide streams experts and
// that employer; a case's stream by CaseView. `facts` is called only when
// the answer depends on the case (it may fail, e.g. while a read model
// catches up).
[[nodiscard]] absl::StatusOr<View> StreamView(
    const domain::Principal& who, const StreamRef& stream,
    const std::function<absl::StatusOr<CaseFacts>()>& facts);

const char* RoleName(domain::Role role);

}  // namespace duurzaam::access
