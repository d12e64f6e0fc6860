// What operators see of a running server besides its log: Prometheus
// metrics on a port of their own (--metrics_listen, loopback only), the
// health of each service kept in step with whether appends are accepted,
// and warnings in the log while a disk fills up, before writes are refused.
// One thread polls the stores every `interval`; gRPC calls are counted as
// they happen (services/call_metrics.h).
//
// Metrics (besides duurzaam_grpc_*):
//   duurzaam_store_free_disk_bytes{store}      free space on the store's disk
//   duurzaam_store_min_free_disk_bytes{store}  below it, its writes are refused
//   duurzaam_store_size_bytes{store}           the store's files
//   duurzaam_store_writes_refused{store}       1 while appends are refused
//   duurzaam_store_write_stalled{store}        1 while RocksDB slows writes
//   duurzaam_store_events{store}               durable records in the log
//   duurzaam_store_appends_total{store,outcome}
//   duurzaam_projection_lag_events{projection}, duurzaam_projection_failing{projection}
//   duurzaam_subscriptions_open                EventStore.Subscribe calls open
//   duurzaam_health_serving{service}           1 SERVING, 0 NOT_SERVING
//   duurzaam_process_resident_memory_bytes, and what holds it:
//   duurzaam_store_memory_bytes{store}         RocksDB memtables + block cache
//   duurzaam_write_cache_records               the write path's stream cache
//   duurzaam_revocation_list_age_seconds       since the list in force changed
//   duurzaam_certificate_refusals_total{reason}
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/log_follower.h"
#include "projections/merkle_projection.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/server.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace duurzaam::server {

class Monitor {
 public:
  struct Options {
    std::string listen;  // "127.0.0.1:9464"; empty: no metrics endpoint
    absl::Duration interval = absl::Seconds(1);
  };
  struct Parts {
    std::string data_dir;
    eventstore::Store* store = nullptr;         // required
    eventstore::Store* access_store = nullptr;  // optional
    projections::LogFollower* follower = nullptr;
    services::Server* server = nullptr;                 // health and authentication; optional
    projections::CaseProjection* projection = nullptr;  // memory; optional
    projections::MerkleProjection* merkle = nullptr;    // memory; optional
    uint64_t min_free_bytes = 0;  // the log's threshold (the others keep half)
  };

  // Polls once, then every interval on a thread of its own.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Monitor>> Start(
      Options options, Parts parts, std::shared_ptr<prometheus::Registry> registry);
  ~Monitor();

  // The port the metrics endpoint listens on (0: none).
  int port() const { return port_; }
  // Polls now (tests).
  void PollNow();

 private:
  Monitor() = default;
  void Poll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // Sets a counter to an absolute value that only grows.
  static void CountTo(prometheus::Counter& counter, uint64_t value);

  Options options_;
  Parts parts_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;

  Mutex mu_;
  CondVar cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Stores whose disk is below twice their threshold (a warning was logged).
  absl::flat_hash_map<std::string, bool> filling_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace duurzaam::server
