#include "services/case_service.h"

#include <atomic>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "codec/case_codec.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/field_violation.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "domain/decide.h"
#include "domain/status.h"
#include "domain/timeline.h"
#include "domain/validation.h"
#include "domain/visibility.h"
#include "eventstore/errors.h"
#include "services/grpc_status.h"

namespace duurzaam::services {
namespace {

using Loaded = DecodedStream;

constexpr char kMethodPrefix[] = "duurzaam.v1.Cases/";
constexpr int kMaxIntentsPerPush = 1000;

struct Appended {
  int64_t revision;
  uint64_t position;
  bool replayed;
};

using domain::Numbering;

using Authorize = std::function<absl::Status(const DecodedStream&, const domain::Event&)>;
using RecordDone = std::function<void(absl::StatusOr<Appended>)>;

// What a command comes to once checked against its stream: the original
// result of a retry, or the append to make.
struct Plan {
  std::optional<Appended> replayed;
  eventstore::StreamAppend append;
  int64_t revision_after = 0;
};

// A retry: the same id in this stream with the same content gives the
// original result; the same id with other content is ALREADY_EXISTS;
// nullopt when the id is new here.
absl::StatusOr<std::optional<Appended>> FindRetry(const DecodedStream& loaded,
                                                  const eventstore::EventId& id,
                                                  const eventstore::ProposedEvent& encoded,
                                                  Numbering numbering) {
  for (size_t i = 0; i < loaded.records.size(); ++i) {
    const auto& record = loaded.records[i];
    if (record.id != id) continue;
    if (record.data != encoded.data || record.type != encoded.type) {
      return absl::AlreadyExistsError(absl::StrCat(
          "event id ", id.ToString(), " is already recorded with other content; use a new id"));
    }
    const int64_t seen = numbering == Numbering::kStream
                             ? record.revision
                             : domain::EmployerRevision(loaded.events, i + 1);
    return Appended{seen, record.position, true};
  }
  return std::nullopt;
}

// The check of one command against its stream as committed, translation
// only: the stream -> domain::History, domain::Decide, the Decision -> an
// append. What is not a domain rule stays here: access (`authorize`),
// sealing (codec::Encode) and the store's idempotency (a retried event id
// gives the original result).
[[nodiscard]] absl::StatusOr<Plan> PlanAt(const DecodedStream& loaded, const codec::Sealer* sealer,
                                          const std::string& stream, domain::StreamKind kind,
                                          const eventstore::EventId& id, const domain::Event& event,
                                          int64_t expected, Numbering numbering) {
  // Sealing is deterministic, so a retry encodes to the very same bytes.
  ASSIGN_OR_RETURN(eventstore::ProposedEvent encoded, codec::Encode(event, id, stream, sealer));
  ASSIGN_OR_RETURN(std::optional<Appended> retry, FindRetry(loaded, id, encoded, numbering));
  if (retry) return Plan{*retry, {}, 0};
  const domain::History history{kind, &loaded.events, &loaded.state, loaded.revision,
                                loaded.quarantined.size()};
  absl::StatusOr<domain::Decision> decided = domain::Decide(history, {event, expected, numbering});
  RETURN_IF_ERROR(codec::FromRequestRoot(decided.status(), event, "event."));
  domain::Decision decision = *std::move(decided);
  if (decision.stale) {
    const eventstore::Expectation seen = expected == -1 ? eventstore::Expectation::NoStream()
                                                        : eventstore::Expectation::Exact(expected);
    return eventstore::MakeRevisionConflictError({stream, seen, decision.current});
  }
  // The store checks the stream's own revision (read above), so a write in
  // between is still a conflict. A decision to append is the command's own
  // event, already encoded.
  const eventstore::Expectation actual = loaded.revision == eventstore::kNoStream
                                             ? eventstore::Expectation::NoStream()
                                             : eventstore::Expectation::Exact(loaded.revision);
  Plan plan;
  plan.append = {stream, actual, {std::move(encoded)}};
  plan.revision_after = decision.revision_after;
  return plan;
}

// PlanAt for a caller `authorize` admits. Access first: a caller who may
// not write here learns nothing more.
[[nodiscard]] absl::StatusOr<Plan> Check(const DecodedStream& loaded, const codec::Sealer* sealer,
                                         const std::string& stream, domain::StreamKind kind,
                                         const eventstore::EventId& id, const domain::Event& event,
                                         int64_t expected, Numbering numbering,
                                         const Authorize& authorize) {
  RETURN_IF_ERROR(authorize(loaded, event));
  return PlanAt(loaded, sealer, stream, kind, id, event, expected, numbering);
}

// A command's event id: a non-nil UUID (errors name "event_id").
[[nodiscard]] absl::StatusOr<eventstore::EventId> ParseEventId(const std::string& text) {
  absl::StatusOr<eventstore::EventId> id = eventstore::EventId::Parse(text);
  if (!id.ok()) return MakeInvalidArgument({"event_id", std::string(id.status().message())});
  if (id->IsNil()) return MakeInvalidArgument({"event_id", "a non-nil UUID is required"});
  return id;
}

// Appends a checked command's event without blocking a thread; the stream
// passes to the next command (with the appended record kept) once the
// outcome is known and `done` has it.
void AppendPlanned(eventstore::Store* store, Plan plan, Numbering numbering,
                   StreamCache::Release release, RecordDone done) {
  const int64_t revision_after = plan.revision_after;
  // What the append writes, kept in the cache once it is durable.
  auto kept = std::make_shared<eventstore::RecordedEvent>();
  const eventstore::ProposedEvent& proposed = plan.append.events.front();
  kept->stream = plan.append.stream;
  kept->id = proposed.id;
  kept->type = proposed.type;
  kept->data = proposed.data;
  kept->metadata = proposed.metadata;
  store->AppendAsync(
      std::move(plan.append),
      [numbering, revision_after, kept, release = std::move(release),
       done = std::move(done)](absl::StatusOr<eventstore::AppendResult> appended) {
        const bool fresh = appended.ok() && !appended->replayed && appended->hashes.size() == 1;
        if (fresh) {
          kept->revision = appended->first_revision;
          kept->position = appended->first_position;
          kept->recorded_at_micros = appended->recorded_at_micros;
          kept->hash = appended->hashes.front();
        }
        if (numbering == Numbering::kEmployer &&
            eventstore::GetRevisionConflict(appended.status())) {
          // Written to between our read and the append: the store's
          // conflict names the stream revision, which an employer must
          // not see.
          done(absl::AbortedError(
              "the case changed while this was recorded; read it again and retry"));
        } else if (!appended.ok()) {
          done(appended.status());
        } else {
          // Replayed by the store itself: the original's revision (an
          // employer's numbering cannot be told from the store's).
          const int64_t revision = appended->replayed && numbering == Numbering::kStream
                                       ? appended->last_revision
                                       : revision_after;
          done(Appended{revision, appended->last_position, appended->replayed});
        }
        release(fresh ? kept.get() : nullptr);
      });
}

// The shared write path of case and employer events: the command is checked
// against its stream (StreamCache, held from the check until the append is
// durable, so one command per stream at a time) and appended without
// blocking a thread. `done` gets the outcome, with `expected` and the
// revision in `numbering`.
void Record(eventstore::Store* store, StreamCache* cache, const codec::Sealer* sealer,
            const std::string& stream, domain::StreamKind kind, const std::string& event_id_text,
            int64_t expected, const v1::PlacementEvent& proto, domain::Principal principal,
            domain::Date today, Numbering numbering, Authorize authorize, RecordDone done) {
  absl::StatusOr<eventstore::EventId> id = ParseEventId(event_id_text);
  if (!id.ok()) return done(id.status());
  if (expected < -1) return done(MakeInvalidArgument({"expected_revision", "-1 or more"}));
  absl::StatusOr<domain::Event> event =
      codec::FromProto(proto, id->ToString(), today, principal, "event.");
  if (!event.ok()) return done(event.status());
  cache->UseAsync(
      stream, [store, sealer, stream, kind, id = *id, event = *std::move(event), expected,
               numbering, authorize = std::move(authorize), done = std::move(done)](
                  absl::StatusOr<const DecodedStream*> loaded, StreamCache::Release release) {
        absl::StatusOr<Plan> plan = loaded.ok() ? Check(**loaded, sealer, stream, kind, id, event,
                                                        expected, numbering, authorize)
                                                : absl::StatusOr<Plan>(loaded.status());
        // The answer goes out before the stream passes to the next command.
        if (!plan.ok() || plan->replayed) {
          done(plan.ok() ? absl::StatusOr<Appended>(*plan->replayed) : plan.status());
          return release(nullptr);
        }
        AppendPlanned(store, *std::move(plan), numbering, std::move(release), std::move(done));
      });
}

// A permanent refusal of an intent as its REJECTED outcome (field paths
// under `prefix`, the intent's place in the request); false for a
// transient error, which fails the whole push.
bool Reject(const absl::Status& status, const std::string& prefix, v1::IntentOutcome* out) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kAlreadyExists:
      break;
    case absl::StatusCode::kFailedPrecondition:
      // A write in between, or holes an administrator can repair: the
      // intent may pass later.
      if (eventstore::GetRevisionConflict(status) ||
          GetRuleId(status) == "CASE_HAS_UNREADABLE_RECORDS") {
        return false;
      }
      break;
    default:
      return false;
  }
  out->set_kind(v1::IntentOutcome::REJECTED);
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
  if (std::optional<std::string> rule = GetRuleId(status)) out->set_rule_id(*rule);
  if (std::optional<FieldViolation> v = GetFieldViolation(status)) {
    out->set_field(absl::StrCat(prefix, v->field));
  }
  return true;
}

using IntentDone = std::function<void(absl::StatusOr<v1::IntentOutcome>)>;

// One intent of a push: checked against its case as recorded now
// (domain::DecideIntent), then appended like a command (Check, AppendPlanned)
// or answered as a duplicate or a conflict. `done` gets its outcome, or the
// transient error that fails the push.
void RecordIntent(eventstore::Store* store, StreamCache* cache, const codec::Sealer* sealer,
                  const v1::Intent& intent, size_t index, domain::Principal principal,
                  domain::Date today, Authorize authorize, IntentDone done) {
  const std::string prefix = absl::StrCat("intents[", index, "].");
  v1::IntentOutcome out;
  out.set_event_id(intent.event_id());
  auto refuse = [&](const absl::Status& status) {
    if (!Reject(status, prefix, &out)) return done(status);
    done(out);
  };
  if (absl::Status s = CheckId(intent.case_id(), "case_id"); !s.ok()) return refuse(s);
  absl::StatusOr<eventstore::EventId> id = ParseEventId(intent.event_id());
  if (!id.ok()) return refuse(id.status());
  if (intent.seen_revision() < -1) {
    return refuse(MakeInvalidArgument({"seen_revision", "-1 or more"}));
  }
  absl::StatusOr<domain::Event> event =
      codec::FromProto(intent.event(), id->ToString(), today, principal, "event.");
  if (!event.ok()) return refuse(event.status());
  const std::string stream = domain::CaseStream(intent.case_id());
  std::vector<std::string> own_earlier(intent.own_earlier_event_ids().begin(),
                                       intent.own_earlier_event_ids().end());
  cache->UseAsync(stream, [store, sealer, stream, prefix, out, id = *id, event = *std::move(event),
                           seen = intent.seen_revision(), own_earlier = std::move(own_earlier),
                           authorize = std::move(authorize),
                           done = std::move(done)](absl::StatusOr<const DecodedStream*> loaded,
                                                   StreamCache::Release release) mutable {
    auto answer = [&](absl::StatusOr<v1::IntentOutcome> result) {
      done(std::move(result));
      release(nullptr);
    };
    // A permanent refusal is the intent's outcome; anything else fails the push.
    auto fail = [&](const absl::Status& status) {
      if (!Reject(status, prefix, &out)) return answer(status);
      answer(out);
    };
    if (!loaded.ok()) return fail(loaded.status());
    const DecodedStream& stream_now = **loaded;
    // A retried push of what this caller recorded (the same id and content,
    // hence the same author): the original result, whatever happened since
    // (a conflicting change, the caller's removal from the team). Encoded
    // (sealed) only when the id is already in the case: a new intent is
    // encoded once, by PlanAt.
    const bool id_known =
        std::any_of(stream_now.records.begin(), stream_now.records.end(),
                    [&](const eventstore::RecordedEvent& r) { return r.id == id; });
    if (absl::StatusOr<eventstore::ProposedEvent> encoded =
            id_known ? codec::Encode(event, id, stream, sealer)
                     : absl::StatusOr<eventstore::ProposedEvent>(absl::NotFoundError("new id"));
        encoded.ok()) {
      absl::StatusOr<std::optional<Appended>> retry =
          FindRetry(stream_now, id, *encoded, Numbering::kStream);
      if (retry.ok() && *retry) {
        out.set_kind(v1::IntentOutcome::DUPLICATE);
        out.set_revision((*retry)->revision);
        out.set_position((*retry)->position);
        return answer(out);
      }
    }
    // Access first: a caller who may not write here learns nothing more.
    if (absl::Status s = authorize(stream_now, event); !s.ok()) return fail(s);
    const domain::History history{domain::StreamKind::kCase, &stream_now.events, &stream_now.state,
                                  stream_now.revision, stream_now.quarantined.size()};
    absl::StatusOr<domain::IntentDecision> decided =
        domain::DecideIntent(history, {event, seen, std::move(own_earlier)});
    // Rule and body errors are the event's; seen_revision is the intent's own.
    const std::optional<FieldViolation> seen_wrong = GetFieldViolation(decided.status());
    absl::Status judged = seen_wrong.has_value() && seen_wrong->field == "seen_revision"
                              ? decided.status()
                              : codec::FromRequestRoot(decided.status(), event, "event.");
    if (!judged.ok()) return fail(judged);
    if (decided->outcome == domain::IntentDecision::Outcome::kConflict) {
      out.set_kind(v1::IntentOutcome::CONFLICT);
      out.set_rule_id(std::string(decided->rule_id));
      // Revisions only: what they hold is read from the case (an
      // access-logged read), never served here.
      std::string revisions;
      for (size_t i : decided->conflicting) {
        out.add_conflicting_revisions(stream_now.records[i].revision);
        absl::StrAppend(&revisions, revisions.empty() ? "" : ", ", stream_now.records[i].revision);
      }
      out.set_message(absl::StrCat("the case changed after revision ", seen,
                                   " in a way this intent did not take into account (",
                                   std::string(decided->rule_id), ": revision(s) ", revisions,
                                   "); read the case, then keep yours (a new intent on revision ",
                                   stream_now.revision, ") or drop it"));
      return answer(out);
    }
    // A duplicate, or an append on the case as it is now (the device's own
    // view, or rebased): checked and encoded as any command.
    const bool rebased = decided->outcome == domain::IntentDecision::Outcome::kRebase;
    // Access was checked above: planned as a command, not checked again.
    absl::StatusOr<Plan> plan = PlanAt(stream_now, sealer, stream, domain::StreamKind::kCase, id,
                                       event, stream_now.revision, Numbering::kStream);
    if (!plan.ok()) return fail(plan.status());
    if (plan->replayed) {
      out.set_kind(v1::IntentOutcome::DUPLICATE);
      out.set_revision(plan->replayed->revision);
      out.set_position(plan->replayed->position);
      return answer(out);
    }
    AppendPlanned(
        store, *std::move(plan), Numbering::kStream, std::move(release),
        [out, rebased, prefix, done = std::move(done)](absl::StatusOr<Appended> appended) mutable {
          if (!appended.ok()) {
            if (!Reject(appended.status(), prefix, &out)) return done(appended.status());
            return done(std::move(out));
          }
          out.set_kind(appended->replayed ? v1::IntentOutcome::DUPLICATE
                       : rebased          ? v1::IntentOutcome::REBASED
                                          : v1::IntentOutcome::APPENDED);
          out.set_revision(appended->revision);
          out.set_position(appended->position);
          done(std::move(out));
        });
  });
}

domain::Date Today(const std::function<int64_t()>& now_micros) {
  return codec::RecordedDay(now_micros());
}

// The request's as_of day, or today when it names none.
template <typename Request>
[[nodiscard]] absl::StatusOr<domain::Date> AsOf(const Request& request,
                                                const std::function<int64_t()>& now_micros) {
  return AsOfDay(request.has_as_of() ? &request.as_of() : nullptr, now_micros);
}

// Fills a Record*EventResponse from the outcome of Record.
template <typename Response>
grpc::Status Respond(const absl::StatusOr<Appended>& appended, Response* response) {
  if (!appended.ok()) return ToGrpcStatus(appended.status());
  response->set_revision(appended->revision);
  response->set_position(appended->position);
  response->set_replayed(appended->replayed);
  return grpc::Status::OK;
}

void ToProto(const Quarantined& q, v1::QuarantinedRecord* out) {
  out->set_stream(q.stream);
  out->set_position(q.position);
  out->set_revision(q.revision);
  out->set_event_type(q.type);
  out->set_reason(q.reason);
}

// Reports the records a read was served without (never to employers).
template <typename Response>
void ReportQuarantined(const CaseView& view, access::View seen, Response* response) {
  if (seen == access::View::kEmployer) return;
  for (const DecodedStream* stream : {view.own.get(), view.employer.get()}) {
    for (const Quarantined& q : stream->quarantined) ToProto(q, response->add_quarantined());
  }
}

}  // namespace

[[nodiscard]] absl::StatusOr<domain::Date> AsOfDay(const v1::CalendarDate* as_of,
                                                   const std::function<int64_t()>& now_micros) {
  const domain::Date today = Today(now_micros);
  if (as_of == nullptr) return today;
  ASSIGN_OR_RETURN(domain::Date day, codec::DateFromProto(*as_of, "as_of"));
  // A status as of a day counts what was recorded by that day, so it is
  // stable only once the day has come; a later day is refused.
  if (today < day) {
    return MakeInvalidArgument(
        {"as_of", absl::StrCat("as_of ", domain::FormatDate(day), " is after today (",
                               domain::FormatDate(today),
                               "): a status is given for today or an earlier day")});
  }
  return day;
}

CaseService::CaseService(eventstore::Store* store, projections::CaseProjection* projection,
                         Guard* guard, const codec::Sealer* sealer,
                         codec::EmployerRegistry* employers, std::function<int64_t()> now_micros)
    : store_(store),
      projection_(projection),
      guard_(guard),
      sealer_(sealer),
      employers_(employers),
      now_micros_(std::move(now_micros)),
      write_cache_(store, kWriteCacheRecords) {}

std::function<absl::Status(const DecodedStream&, const domain::Event&)>
CaseService::CaseWriteAuthorizer(const domain::Principal& who, const std::string& case_id) const {
  return [who, case_id, employers = employers_](const DecodedStream& stream,
                                                const domain::Event& event) -> absl::Status {
    ASSIGN_OR_RETURN(access::CaseFacts facts, FactsOf(stream));
    RETURN_IF_ERROR(access::CheckCaseWrite(who, case_id, facts, event));
    // A case is opened only at an employer that exists.
    if (const auto* opened = std::get_if<domain::CaseOpened>(&event.body)) {
      RETURN_IF_ERROR(employers->CheckRegistered(opened->employer_id));
    }
    return absl::OkStatus();
  };
}

grpc::ServerUnaryReactor* CaseService::RecordCaseEvent(grpc::CallbackServerContext* context,
                                                       const v1::RecordCaseEventRequest* request,
                                                       v1::RecordCaseEventResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The request and response stay valid until Finish.
  auto finish = [reactor, response](absl::StatusOr<Appended> appended) {
    reactor->Finish(Respond(appended, response));
  };
  auto who = guard_->Admit(*context, access::Operation::kRecordCaseEvent);
  if (!who.ok()) {
    finish(who.status());
    return reactor;
  }
  if (absl::Status s = CheckId(request->case_id(), "case_id"); !s.ok()) {
    finish(s);
    return reactor;
  }
  Authorize authorize = CaseWriteAuthorizer(*who, request->case_id());
  const Numbering numbering =
      who->role == domain::Role::kEmployer ? Numbering::kEmployer : Numbering::kStream;
  Record(store_, &write_cache_, sealer_, domain::CaseStream(request->case_id()),
         domain::StreamKind::kCase, request->event_id(), request->expected_revision(),
         request->event(), *who, Today(now_micros_), numbering, std::move(authorize),
         std::move(finish));
  return reactor;
}

grpc::ServerUnaryReactor* CaseService::PushIntents(grpc::CallbackServerContext* context,
                                                   const v1::PushIntentsRequest* request,
                                                   v1::PushIntentsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto who = guard_->Admit(*context, access::Operation::kPushIntents);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  if (request->intents_size() > kMaxIntentsPerPush) {
    reactor->Finish(ToGrpcStatus(MakeInvalidArgument(
        {"intents", absl::StrCat(request->intents_size(), " intents: push at most ",
                                 kMaxIntentsPerPush, " at a time")})));
    return reactor;
  }
  // Every intent starts at once, in request order. The stream cache runs the
  // commands on one case in arrival order, each after the previous one's
  // append is durable, so a device's intents on a case are judged in its
  // order; intents on different cases run side by side. The call finishes
  // when the last outcome is in.
  struct Push {
    grpc::ServerUnaryReactor* reactor;
    std::atomic<int> pending{0};
    Mutex mu;
    absl::Status failed ABSL_GUARDED_BY(mu);
    void Done() {
      if (pending.fetch_sub(1) != 1) return;
      MutexLock lock(&mu);
      reactor->Finish(failed.ok() ? grpc::Status::OK : ToGrpcStatus(failed));
    }
  };
  auto push = std::make_shared<Push>();
  push->reactor = reactor;
  // Each outcome has its place before any runs: callbacks on different
  // threads each write their own.
  for (int i = 0; i < request->intents_size(); ++i) response->add_outcomes();
  push->pending = request->intents_size() + 1;  // + this loop
  const domain::Principal principal = *who;
  const domain::Date today = Today(now_micros_);
  for (int i = 0; i < request->intents_size(); ++i) {
    const v1::Intent& intent = request->intents(i);
    v1::IntentOutcome* slot = response->mutable_outcomes(i);
    RecordIntent(store_, &write_cache_, sealer_, intent, static_cast<size_t>(i), principal, today,
                 CaseWriteAuthorizer(principal, intent.case_id()),
                 [push, slot](absl::StatusOr<v1::IntentOutcome> outcome) {
                   if (outcome.ok()) {
                     *slot = *std::move(outcome);
                   } else {
                     MutexLock lock(&push->mu);
                     if (push->failed.ok()) push->failed = outcome.status();
                   }
                   push->Done();
                 });
  }
  push->Done();
  return reactor;
}

grpc::ServerUnaryReactor* CaseService::RecordEmployerEvent(
    grpc::CallbackServerContext* context, const v1::RecordEmployerEventRequest* request,
    v1::RecordEmployerEventResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = [reactor, response](absl::StatusOr<Appended> appended) {
    reactor->Finish(Respond(appended, response));
  };
  auto who = guard_->Admit(*context, access::Operation::kRecordEmployerEvent);
  if (!who.ok()) {
    finish(who.status());
    return reactor;
  }
  if (absl::Status s = CheckId(request->employer_id(), "employer_id"); !s.ok()) {
    finish(s);
    return reactor;
  }
  const std::string& employer = request->employer_id();
  if (absl::Status s = CheckEmployerWrite(*who, employer); !s.ok()) {
    finish(s);
    return reactor;
  }
  Record(
      store_, &write_cache_, sealer_, domain::EmployerStream(employer),
      domain::StreamKind::kEmployer, request->event_id(), request->expected_revision(),
      request->event(), *who, Today(now_micros_), Numbering::kStream,
      [](const DecodedStream&, const domain::Event&) { return absl::OkStatus(); },
      std::move(finish));
  return reactor;
}

[[nodiscard]] absl::Status CaseService::CheckEmployerWrite(const domain::Principal& who,
                                                           const std::string& employer) {
  // An expert records an employer-wide event only for an employer where
  // they are on the team of a case.
  bool has_case_there = false;
  if (who.role == domain::Role::kExpert) {
    RETURN_IF_ERROR(guard_->cases()->CatchUp());
    ASSIGN_OR_RETURN(std::vector<std::string> ids, projection_->CasesOfExpert(who.id));
    for (const std::string& case_id : ids) {
      ASSIGN_OR_RETURN(std::shared_ptr<const DecodedStream> stream,
                       guard_->cases()->Stream(domain::CaseStream(case_id)));
      absl::StatusOr<access::CaseFacts> facts = FactsOf(*stream);
      if (!facts.ok()) continue;  // undecidable access never grants
      if (facts->employer_id == employer && facts->team.count(who.id)) {
        has_case_there = true;
        break;
      }
    }
  }
  RETURN_IF_ERROR(access::CheckEmployerWrite(who, employer, has_case_there));
  return employers_->CheckRegistered(employer);
}

void CaseService::ToEntry(const domain::TimelineEntry& entry,
                          const eventstore::RecordedEvent& record, codec::Language language,
                          access::View view, v1::TimelineEntry* out) {
  out->set_event_id(entry.event->id);
  codec::ToProto(entry.event->occurred_on, out->mutable_occurred_on());
  codec::ToTimestamp(record.recorded_at_micros, out->mutable_recorded_at());
  out->set_title(codec::In(entry.title, language));
  out->set_event_type(record.type);
  codec::ToProto(*entry.event, out->mutable_event());
  if (view == access::View::kEmployer) codec::Redact(out->mutable_event(), v1::VISIBILITY_EMPLOYER);
  if (view == access::View::kStored) codec::Redact(out->mutable_event(), v1::VISIBILITY_EXPERT);
  out->set_employer_wide(entry.employer_wide);
}

[[nodiscard]] absl::StatusOr<CaseService::Admitted> CaseService::AdmitRead(
    grpc::ServerContext* context, const std::string& case_id, std::string_view view,
    std::string_view method) {
  ASSIGN_OR_RETURN(domain::Principal who, guard_->Admit(*context, access::Operation::kReadCase));
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  RETURN_IF_ERROR(guard_->cases()->CatchUp());
  // The case is read once: its facts decide access, then it is served.
  ASSIGN_OR_RETURN(auto own, guard_->cases()->Stream(domain::CaseStream(case_id)));
  ASSIGN_OR_RETURN(access::CaseFacts facts, FactsOf(*own));
  ASSIGN_OR_RETURN(access::View seen,
                   guard_->ReadCase(who, case_id, facts, view,
                                    absl::StrCat(kMethodPrefix, std::string(method))));
  ASSIGN_OR_RETURN(CaseView loaded, guard_->cases()->WithEmployer(case_id, std::move(own)));
  return Admitted{std::move(who), seen, std::move(loaded)};
}

grpc::Status CaseService::SubscribeCase(grpc::ServerContext* context,
                                        const v1::SubscribeCaseRequest* request,
                                        grpc::ServerWriter<v1::CaseUpdate>* writer) {
  absl::StatusOr<codec::Language> language = codec::ParseLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  auto admitted = AdmitRead(context, request->case_id(), "subscription", "SubscribeCase");
  if (!admitted.ok()) return ToGrpcStatus(admitted.status());
  std::set<std::string> sent;  // event ids already sent
  bool caught_up = false;
  while (true) {
    if (grpc::Status alive = CallAlive(*context); !alive.ok()) return alive;
    const uint64_t known_end = store_->CommittedEnd();
    if (absl::Status s = guard_->cases()->CatchUp(); !s.ok()) return ToGrpcStatus(s);
    absl::StatusOr<CaseView> view = guard_->cases()->Load(request->case_id());
    if (!view.ok()) return ToGrpcStatus(view.status());
    // Access is re-checked as the case changes: a caller taken off the
    // team stops receiving at once.
    absl::StatusOr<access::CaseFacts> facts = FactsOf(*view->own);
    if (!facts.ok()) return ToGrpcStatus(facts.status());
    absl::StatusOr<access::View> seen =
        access::CheckCaseRead(admitted->who, request->case_id(), *facts);
    if (!seen.ok()) return ToGrpcStatus(seen.status());
    if (absl::Status s = guard_->StillAdmitted(*context, admitted->who); !s.ok()) {
      return ToGrpcStatus(s);
    }
    // New entries in timeline order; employer-wide ones may arrive later
    // than case events that happened after them, and are sent when they do.
    auto timeline = domain::BuildTimeline(view->own->events, view->employer->events);
    for (const auto& entry : timeline) {
      if (!sent.insert(entry.event->id).second) continue;
      if (*seen == access::View::kEmployer && !domain::EmployerMaySee(entry.event->body)) continue;
      const auto& records = entry.employer_wide ? view->employer->records : view->own->records;
      const auto& events = entry.employer_wide ? view->employer->events : view->own->events;
      v1::CaseUpdate update;
      ToEntry(entry, records[entry.event - events.data()], *language, *seen,
              update.mutable_entry());
      // A case event carries its own revision; an employer-wide one the
      // case revision read for this batch (employers: employer revisions).
      const size_t own_count = entry.employer_wide
                                   ? view->own->events.size()
                                   : static_cast<size_t>(entry.event - events.data()) + 1;
      update.set_revision(*seen == access::View::kEmployer
                              ? domain::EmployerRevision(view->own->events, own_count)
                          : entry.employer_wide ? view->own->revision
                                                : records[entry.event - events.data()].revision);
      if (!writer->Write(update)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    if (!caught_up) {
      caught_up = true;
      v1::CaseUpdate marker;
      marker.set_caught_up(true);
      marker.set_revision(
          *seen == access::View::kEmployer
              ? domain::EmployerRevision(view->own->events, view->own->events.size())
              : view->own->revision);
      if (!writer->Write(marker)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    store_->WaitForCommit(known_end, absl::Milliseconds(200));
  }
}

grpc::Status CaseService::GetTimeline(grpc::ServerContext* context,
                                      const v1::GetTimelineRequest* request,
                                      v1::Timeline* response) {
  absl::StatusOr<codec::Language> language = codec::ParseLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  auto admitted = AdmitRead(context, request->case_id(), "timeline", "GetTimeline");
  if (!admitted.ok()) return ToGrpcStatus(admitted.status());
  const CaseView& view = admitted->view;
  auto timeline = domain::BuildTimeline(view.own->events, view.employer->events);
  response->set_case_id(request->case_id());
  response->set_revision(admitted->seen == access::View::kEmployer
                             ? domain::EmployerRevision(view.own->events, view.own->events.size())
                             : view.own->revision);
  for (const auto& entry : timeline) {
    if (admitted->seen == access::View::kEmployer && !domain::EmployerMaySee(entry.event->body)) {
      continue;
    }
    const auto& records = entry.employer_wide ? view.employer->records : view.own->records;
    const auto& events = entry.employer_wide ? view.employer->events : view.own->events;
    ToEntry(entry, records[entry.event - events.data()], *language, admitted->seen,
            response->add_entries());
  }
  ReportQuarantined(view, admitted->seen, response);
  return grpc::Status::OK;
}

grpc::Status CaseService::GetStatus(grpc::ServerContext* context,
                                    const v1::GetStatusRequest* request, v1::CaseStatus* response) {
  absl::StatusOr<codec::Language> language = codec::ParseLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  absl::StatusOr<domain::Date> day = AsOf(*request, now_micros_);
  if (!day.ok()) return ToGrpcStatus(day.status());
  const domain::Date as_of = *day;
  auto admitted = AdmitRead(context, request->case_id(), "status", "GetStatus");
  if (!admitted.ok()) return ToGrpcStatus(admitted.status());
  const CaseView& view = admitted->view;
  domain::CaseState state = domain::FoldAsOf(
      domain::WithEmployerEventRefs(view.own->events, view.employer->events), as_of);
  domain::CaseStatus status = domain::Evaluate(state, as_of, domain::RulesetInForce(as_of));
  ReportQuarantined(view, admitted->seen, response);
  status = domain::ForAudience(status, access::MaxAudience(admitted->seen));
  response->set_case_id(request->case_id());
  codec::ToProto(status, *language, response);
  return grpc::Status::OK;
}

grpc::Status CaseService::ListPortfolio(grpc::ServerContext* context,
                                        const v1::ListPortfolioRequest* request,
                                        v1::Portfolio* response) {
  auto who = guard_->Admit(*context, access::Operation::kListPortfolio);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<codec::Language> language = codec::ParseLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  const std::string expert = request->expert_id().empty() ? who->id : request->expert_id();
  if (absl::Status s = access::CheckPortfolio(*who, expert); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<domain::Date> day = AsOf(*request, now_micros_);
  if (!day.ok()) return ToGrpcStatus(day.status());
  const domain::Date as_of = *day;
  CaseReader* cases = guard_->cases();
  if (absl::Status s = cases->CatchUp(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<std::vector<std::string>> ids = projection_->CasesOfExpert(expert);
  if (!ids.ok()) return ToGrpcStatus(ids.status());
  struct Item {
    std::string case_id;
    std::string employer;
    domain::CaseStatus status;
  };
  std::vector<Item> items;
  std::vector<std::string> read;
  for (const std::string& case_id : *ids) {
    absl::StatusOr<CaseView> view = cases->Load(case_id);
    if (!view.ok()) return ToGrpcStatus(view.status());
    absl::StatusOr<access::CaseFacts> facts = FactsOf(*view->own);
    if (absl::IsDataLoss(facts.status())) {
      // Listed as unreadable, never silently left out.
      for (const Quarantined& q : view->own->quarantined) ToProto(q, response->add_quarantined());
      continue;
    }
    if (!facts.ok()) return ToGrpcStatus(facts.status());
    const access::View seen = access::CaseView(*who, *facts);
    if (seen == access::View::kNone) continue;
    read.push_back(case_id);
    domain::CaseState state = domain::FoldAsOf(
        domain::WithEmployerEventRefs(view->own->events, view->employer->events), as_of);
    items.push_back(
        {case_id, state.employer_id,
         domain::ForAudience(domain::Evaluate(state, as_of, domain::RulesetInForce(as_of)),
                             access::MaxAudience(seen))});
  }
  if (guard_->access_log() != nullptr) {
    absl::Status logged = guard_->access_log()->Record(
        *who, read, "portfolio", absl::StrCat(kMethodPrefix, "ListPortfolio"));
    if (!logged.ok()) return ToGrpcStatus(logged);
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (domain::MoreUrgent(a.status, b.status)) return true;
    if (domain::MoreUrgent(b.status, a.status)) return false;
    return a.case_id < b.case_id;
  });
  response->set_expert_id(expert);
  codec::ToProto(as_of, response->mutable_as_of());
  for (const Item& item : items) {
    auto* out = response->add_items();
    out->set_case_id(item.case_id);
    out->set_employer_id(item.employer);
    out->set_level(static_cast<v1::StatusLevel>(static_cast<int>(item.status.level) + 1));
    for (const auto& r : item.status.reasons) out->add_rule_ids(r.rule_id);
    for (const auto& a : item.status.actions) out->add_attention(codec::In(a.text, *language));
  }
  return grpc::Status::OK;
}

grpc::Status CaseService::GetRegionalStatistics(grpc::ServerContext* context,
                                                const v1::GetRegionalStatisticsRequest* request,
                                                v1::RegionalStatistics* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadStatistics);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<domain::Date> day = AsOf(*request, now_micros_);
  if (!day.ok()) return ToGrpcStatus(day.status());
  const domain::Date as_of = *day;
  CaseReader* cases = guard_->cases();
  if (absl::Status s = cases->CatchUp(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<std::vector<projections::CaseProjection::CaseKey>> keys = projection_->AllCases();
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  std::vector<domain::CaseHistory> histories;
  for (const auto& key : *keys) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    absl::StatusOr<CaseView> view = cases->Load(key.case_id);
    if (!view.ok()) return ToGrpcStatus(view.status());
    histories.push_back({domain::WithEmployerEvents(view->own->events, view->employer->events),
                         domain::Contributors(view->own->events)});
  }
  const domain::Ruleset& rules = domain::RulesetInForce(as_of);
  codec::ToProto(as_of, response->mutable_as_of());
  codec::ToProto(
      domain::RegionalStatistics(histories, as_of, rules, rules.min_statistics_group, who->id),
      response);
  return grpc::Status::OK;
}

}  // namespace duurzaam::services
