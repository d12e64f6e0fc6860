// duurzaam.v1.EventStore over gRPC: translation only. Thread-safe. Appends
// use gRPC's callback API over the store's asynchronous append, so a call
// waiting for group commit holds no thread; reads and subscriptions run on
// sync-server threads. Every call is admitted by the Guard; every record a
// read or subscription sends is shaped by it to what the caller may see
// (an employer following the log never receives a private-life event).
#pragma once

#include <atomic>

#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/store.h"
#include "services/guard.h"

namespace duurzaam::services {

using EventStoreServiceBase = v1::EventStore::WithCallbackMethod_Append<
    v1::EventStore::WithCallbackMethod_AppendMultiStream<v1::EventStore::Service>>;

class EventStoreService final : public EventStoreServiceBase {
 public:
  // Borrows both; they must outlive the service.
  EventStoreService(eventstore::Store* store, Guard* guard) : store_(store), guard_(guard) {}

  // Makes running subscriptions end (with UNAVAILABLE) so a server can stop.
  void BeginShutdown() { stopping_.store(true); }
  // Subscribe handlers running now (a handler that outlives its call's
  // cancel or deadline would hold a server thread).
  int open_subscriptions() const { return open_subscriptions_.load(); }

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* AppendMultiStream(grpc::CallbackServerContext* context,
                                              const v1::AppendMultiStreamRequest* request,
                                              v1::AppendMultiStreamResponse* response) override;
  grpc::Status ReadStream(grpc::ServerContext* context, const v1::ReadStreamRequest* request,
                          v1::ReadStreamResponse* response) override;
  grpc::Status ReadAll(grpc::ServerContext* context, const v1::ReadAllRequest* request,
                       v1::ReadAllResponse* response) override;
  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;

 private:
  grpc::Status SubscribeAll(grpc::ServerContext* context, const v1::SubscribeRequest& request,
                            Guard::LogReader& reader,
                            grpc::ServerWriter<v1::SubscribeResponse>* writer);
  grpc::Status SubscribeStream(grpc::ServerContext* context, const v1::SubscribeRequest& request,
                               Guard::LogReader& reader,
                               grpc::ServerWriter<v1::SubscribeResponse>* writer);
  // Admits a raw append of these streams, or says why not.
  [[nodiscard]] absl::Status AdmitAppend(const grpc::ServerContextBase& context,
                                         const std::vector<const std::string*>& streams);
  // Non-OK when the call should stop: cancelled, past its deadline, or the
  // server is stopping.
  grpc::Status CheckAlive(grpc::ServerContextBase* context) const;

  eventstore::Store* store_;
  Guard* guard_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_subscriptions_{0};
};

}  // namespace duurzaam::services
