// duurzaam.v1.Cases over gRPC: loads a case's stream, checks commands with
// the domain rules, appends with optimistic concurrency, and answers
// timeline and status queries by folding the case (and its employer's)
// events. Thread-safe. Borrows the store, which must outlive it.
//
// Queries fold the streams on each call; the maintained projections with
// stored checkpoints are the next step (see docs/ARCHITECTURE.md).
#pragma once

#include <functional>

#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/store.h"

namespace duurzaam::services {

class CaseService final : public v1::Cases::Service {
 public:
  // `now_micros` is the server clock (for "today"); the domain never reads it.
  CaseService(eventstore::Store* store, std::function<int64_t()> now_micros);

  grpc::Status RecordCaseEvent(grpc::ServerContext* context,
                               const v1::RecordCaseEventRequest* request,
                               v1::RecordCaseEventResponse* response) override;
  grpc::Status RecordEmployerEvent(grpc::ServerContext* context,
                                   const v1::RecordEmployerEventRequest* request,
                                   v1::RecordEmployerEventResponse* response) override;
  grpc::Status GetTimeline(grpc::ServerContext* context, const v1::GetTimelineRequest* request,
                           v1::Timeline* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::CaseStatus* response) override;
  // Scans the log for team membership on each call (the maintained
  // portfolio projection replaces that scan).
  grpc::Status ListPortfolio(grpc::ServerContext* context, const v1::ListPortfolioRequest* request,
                             v1::Portfolio* response) override;

 private:
  eventstore::Store* store_;
  std::function<int64_t()> now_micros_;
};

}  // namespace duurzaam::services
