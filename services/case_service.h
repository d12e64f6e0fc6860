// duurzaam.v1.Cases over gRPC: loads a case's stream, checks commands with
// the domain rules, appends with optimistic concurrency, and answers
// timeline and status queries by folding the case (and its employer's)
// events. Thread-safe. Borrows the store, which must outlive it.
//
// Commands read the case's stream from the store (the authority); queries
// read the maintained projection once it has caught up with the log as it
// was when the query arrived (read-your-writes), and fold from there.
// Every call is admitted by the Guard (authentication, role, case access;
// case reads are recorded in the access log); employers get the employer
// view (their events only, redacted; status reasons for them only).
#pragma once

#include <functional>

#include "codec/case_codec.h"
#include "codec/employer_registry.h"
#include "domain/events.h"
#include "domain/timeline.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "services/guard.h"
#include "services/pull_arenas.h"
#include "services/stream_cache.h"

namespace duurzaam::services {

// The commands are callback methods: a command waiting for its append to
// become durable holds no thread.
using CaseServiceBase =
    v1::Cases::WithCallbackMethod_RecordCaseEvent<v1::Cases::WithCallbackMethod_RecordEmployerEvent<
        v1::Cases::WithCallbackMethod_PushIntents<v1::Cases::Service>>>;

// The day a query is about: `as_of` (INVALID_ARGUMENT naming "as_of" when it
// is not a date or is after today, UTC), or today when it is null.
[[nodiscard]] absl::StatusOr<domain::Date> AsOfDay(const v1::CalendarDate* as_of,
                                                   const std::function<int64_t()>& now_micros);

class CaseService final : public CaseServiceBase {
 public:
  // `now_micros` is the server clock (for "today"); the domain never reads it.
  // `sealer` seals personal data before it is stored (null: stored in plain
  // text, for tests and benchmark baselines only). Borrows all; they must
  // outlive the service.
  // `employers` decides which employers exist.
  CaseService(eventstore::Store* store, projections::CaseProjection* projection, Guard* guard,
              const codec::Sealer* sealer, codec::EmployerRegistry* employers,
              std::function<int64_t()> now_micros);

  grpc::ServerUnaryReactor* RecordCaseEvent(grpc::CallbackServerContext* context,
                                            const v1::RecordCaseEventRequest* request,
                                            v1::RecordCaseEventResponse* response) override;
  grpc::ServerUnaryReactor* RecordEmployerEvent(grpc::CallbackServerContext* context,
                                                const v1::RecordEmployerEventRequest* request,
                                                v1::RecordEmployerEventResponse* response) override;
  // Each intent is judged in order, as RecordCaseEvent judges a command,
  // by domain::DecideIntent (duplicate, append, rebase or conflict).
  grpc::ServerUnaryReactor* PushIntents(grpc::CallbackServerContext* context,
                                        const v1::PushIntentsRequest* request,
                                        v1::PushIntentsResponse* response) override;
  grpc::Status GetTimeline(grpc::ServerContext* context, const v1::GetTimelineRequest* request,
                           v1::Timeline* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::CaseStatus* response) override;
  grpc::Status ListPortfolio(grpc::ServerContext* context, const v1::ListPortfolioRequest* request,
                             v1::Portfolio* response) override;
  // An employer's placements (services/case_placements.cc).
  grpc::Status ListPlacements(grpc::ServerContext* context,
                              const v1::ListPlacementsRequest* request,
                              v1::PlacementList* response) override;
  grpc::Status SubscribeCase(grpc::ServerContext* context, const v1::SubscribeCaseRequest* request,
                             grpc::ServerWriter<v1::CaseUpdate>* writer) override;
  // The expert app's pull: every change to the caller's cases from a log
  // cursor, then live (services/case_pull.cc).
  grpc::Status Pull(grpc::ServerContext* context, const v1::PullRequest* request,
                    grpc::ServerWriter<v1::PullResponse>* writer) override;
  grpc::Status GetRegionalStatistics(grpc::ServerContext* context,
                                     const v1::GetRegionalStatisticsRequest* request,
                                     v1::RegionalStatistics* response) override;

 private:
  // Whether `who` may record an event on a case, judged on the case as
  // loaded (team, employer) and, for CaseOpened, the employer registry.
  std::function<absl::Status(const DecodedStream&, const domain::Event&)> CaseWriteAuthorizer(
      const domain::Principal& who, const std::string& case_id) const;
  // May `who` record an employer-wide event for `employer` (which must be
  // registered)?
  [[nodiscard]] absl::Status CheckEmployerWrite(const domain::Principal& who,
                                                const std::string& employer);
  // A read admitted by the guard: who, how they see the case, the case.
  struct Admitted {
    domain::Principal who;
    access::View seen;
    CaseView view;
  };
  [[nodiscard]] absl::StatusOr<Admitted> AdmitRead(grpc::ServerContext* context,
                                                   const std::string& case_id,
                                                   std::string_view view, std::string_view method);
  static void ToEntry(const domain::TimelineEntry& entry, const eventstore::RecordedEvent& record,
                      codec::Language language, access::View view, v1::TimelineEntry* out);

  eventstore::Store* store_;
  projections::CaseProjection* projection_;
  Guard* guard_;
  const codec::Sealer* sealer_;
  codec::EmployerRegistry* employers_;
  std::function<int64_t()> now_micros_;
  // The streams commands check against: at most this many records kept.
  // About 1.5 KiB a record (stored bytes, decoded event, fold): ~30 MiB.
  static constexpr size_t kWriteCacheRecords = 20000;
  StreamCache write_cache_;
  PullArenas pull_arenas_;  // Pull's rounds, reused across calls

 public:
  size_t write_cache_records() const { return write_cache_.cached_records(); }
};

}  // namespace duurzaam::services
