// A running duurzaam gRPC server: the event-store service plus the standard
// health and reflection services, on one listener. Used by duurzaamd and by
// integration tests (which start it on 127.0.0.1:0).
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "codec/employer_registry.h"
#include "codec/sealing.h"
#include "common/mutex.h"
#include "crypto/data_keys.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/log_follower.h"
#include "projections/merkle_projection.h"
#include "services/admin_service.h"
#include "services/audit_service.h"
#include "services/call_metrics.h"
#include "services/case_service.h"
#include "services/eventstore_service.h"
#include "services/guard.h"
#include "services/server_config.h"

namespace duurzaam::services {

// What a server borrows (it does not start or stop any of it); everything
// must outlive the Server.
// server::ServerStack (server/stack.h) is the one place that builds them.
struct ServerDeps {
  eventstore::Store* store = nullptr;                 // required
  projections::CaseProjection* projection = nullptr;  // required
  // Required: feeds the projections (started by the owner); its health
  // reports become the health service's statuses.
  projections::LogFollower* follower = nullptr;
  eventstore::Store* access_store = nullptr;        // the access log's store; null: no records
  projections::MerkleProjection* merkle = nullptr;  // with signing_key: the Audit service
  const transparency::SigningKey* signing_key = nullptr;
  // Per-case data keys: personal data is sealed with them and the Admin
  // service (erasure, rotation of config.master_key_file) is offered. Null
  // stores personal data in plain text: only for tests and benchmark
  // baselines.
  crypto::DataKeyStore* keys = nullptr;
  // Counts every call (services/call_metrics.h); null: not counted.
  CallMetrics* call_metrics = nullptr;
};

class Server {
 public:
  // Starts serving.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config,
                                                                     const ServerDeps& deps);
  ~Server();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // "host:port" as bound.
  const std::string& address() const { return address_; }

  // EventStore.Subscribe handlers running now.
  int open_subscriptions() const { return event_store_->open_subscriptions(); }

  Authenticator* authenticator() const { return auth_.get(); }
  // Records held by the write path's stream cache (metrics).
  size_t write_cache_records() const { return cases_->write_cache_records(); }

  // Health (grpc.health.v1): a service is NOT_SERVING while a projection it
  // reads fails (the follower reports it) and, for the services that write
  // (EventStore, Cases, Admin), while appends are refused: `writes` is why
  // (OK: they are accepted). "" (the process) stays SERVING. Each change is
  // logged with its reason.
  void SetWrites(const absl::Status& writes);
  // The services the health service names.
  const std::vector<std::string>& Services() const { return services_; }
  // The services NOT_SERVING now, each with its reason.
  std::vector<std::pair<std::string, std::string>> NotServing() const;

  // Ends subscriptions, stops accepting calls and waits up to `grace` for
  // running ones. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // Blocks until Shutdown.
  void Wait();

 private:
  Server() = default;

  std::unique_ptr<codec::DataKeySealer> sealer_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<CaseReader> reader_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<codec::EmployerRegistry> employers_;  // before the guard that borrows it
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<EventStoreService> event_store_;
  std::unique_ptr<CaseService> cases_;
  std::unique_ptr<AuditService> audit_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  projections::LogFollower* follower_ = nullptr;

  void ApplyHealth() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_mu_);
  mutable Mutex health_mu_;
  // Set by Shutdown; health changes after it are not applied.
  bool shut_down_ ABSL_GUARDED_BY(health_mu_) = false;
  std::vector<std::string> services_;  // every service the health service names
  absl::flat_hash_set<std::string> projection_down_ ABSL_GUARDED_BY(health_mu_);
  absl::Status writes_ ABSL_GUARDED_BY(health_mu_);
  absl::flat_hash_map<std::string, std::string> not_serving_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace duurzaam::services
