// The composition root: the one place the server is assembled, for
// duurzaamd, the integration tests and the benchmarks alike, so each of them
// runs the production stack.
//
// Over a data folder (services::ServerConfig::data_dir) it opens, in order:
//   events/       the event store (eventstore::Store)
//   keys/         per-case data keys under the master keyring (crypto)
//   (demo data)   seeded into an empty store when config.demo
//   projections/  the case projection (rebuilt when config.rebuild_projections)
//   merkle/       the Merkle tree over the log, and the checkpoint signing key
//   access/       the access log's own store
// then one projections::LogFollower feeding every projection (the built-in
// ones and any plug-ins), and finally the gRPC listener (services::Server).
// Closing runs the other way round.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/data_keys.h"
#include "crypto/master_keyring.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/log_follower.h"
#include "projections/merkle_projection.h"
#include "server/monitor.h"
#include "services/call_metrics.h"
#include "services/server.h"
#include "services/server_config.h"
#include "transparency/checkpoint.h"

namespace duurzaam::server {

struct StackOptions {
  // Listener, TLS, limits, data folder, master key file, signing key, demo
  // data, projection rebuild: as duurzaamd's flags (services/server_config.h).
  services::ServerConfig config;

  // The master keyring itself instead of config.master_key_file (tests and
  // benchmarks). Without either, dev mode creates one beside the data
  // folder (<data_dir>.master.keys).
  std::optional<crypto::MasterKeyring> keyring;
  // The checkpoint signing key itself instead of config.signing_key or
  // <data_dir>/checkpoint.key.
  std::optional<transparency::SigningKey> signing_key;

  // Layers a benchmark may leave out to measure what each costs. duurzaamd
  // runs with all of them; without seal_personal_data, personal data is
  // stored in plain text, and without access_log reads are not recorded.
  bool seal_personal_data = true;
  bool access_log = true;
  bool audit = true;  // the Merkle tree, its signing key and the Audit service

  // The environment every RocksDB store (log, access log, projections,
  // Merkle tree) reads and writes files through; nullptr: the default. The
  // power-loss campaign (tests/faults/crashes.cc) passes one that drops
  // unsynced writes at a simulated crash.
  rocksdb::Env* env = nullptr;
  // Engine tuning beyond the config's limits (benchmarks: unsynced fills).
  std::function<void(eventstore::Options&)> tune_store;
  // Startup and shutdown lines (duurzaamd: the server log). Null: silent.
  std::function<void(const std::string&)> log;
  // Progress of a projection rebuild (done, total).
  std::function<void(uint64_t, uint64_t)> rebuild_progress;

  // Retry and batch settings of the log follower (tests shorten the backoff).
  projections::LogFollower::Options follower;

  // Extra projections the follower feeds beside the built-in ones, each with
  // the services that read it (health NOT_SERVING for them while it fails).
  struct Plugin {
    projections::Projection* projection = nullptr;  // borrowed
    std::vector<std::string> services;
  };
  std::vector<Plugin> plugins;

  // How often the monitor polls the stores (metrics, health of writes,
  // disk warnings).
  absl::Duration monitor_interval = absl::Seconds(1);
};

class ServerStack {
 public:
  // Opens everything and starts the follower; no listener yet.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServerStack>> Open(StackOptions options);
  // Open, then Serve.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServerStack>> Start(StackOptions options);
  ~ServerStack();

  // Starts the gRPC listener (once).
  [[nodiscard]] absl::Status Serve();
  // Stops the listener (ending subscriptions, waiting up to `grace` for
  // running calls); idempotent. The store and projections stay open.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // Blocks until Shutdown.
  void Wait();

  // Waits until every projection has applied the log up to its end now.
  [[nodiscard]] absl::Status CatchUp(absl::Duration timeout);

  const std::string& data_dir() const { return data_dir_; }
  eventstore::Store* store() const { return store_.get(); }
  eventstore::Store* access_store() const { return access_store_.get(); }
  crypto::DataKeyStore* keys() const { return keys_.get(); }
  projections::CaseProjection* projection() const { return projection_.get(); }
  projections::MerkleProjection* merkle() const { return merkle_.get(); }
  const transparency::SigningKey* signing_key() const {
    return signing_key_ ? &*signing_key_ : nullptr;
  }
  projections::LogFollower* follower() const { return follower_.get(); }
  services::Server* server() const { return server_.get(); }
  // Metrics and the health of writes (after Serve).
  Monitor* monitor() const { return monitor_.get(); }
  prometheus::Registry* metrics() const { return registry_.get(); }

 private:
  ServerStack() = default;
  [[nodiscard]] absl::Status OpenAll();
  [[nodiscard]] absl::Status OpenDataKeys();
  void Log(const std::string& line) const;

  StackOptions options_;
  std::string data_dir_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<crypto::DataKeyStore> keys_;
  std::unique_ptr<projections::CaseProjection> projection_;
  std::unique_ptr<projections::MerkleProjection> merkle_;
  std::optional<transparency::SigningKey> signing_key_;
  std::unique_ptr<eventstore::Store> access_store_;
  std::unique_ptr<projections::LogFollower> follower_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<services::CallMetrics> call_metrics_;  // outlives the server
  std::unique_ptr<services::Server> server_;
  std::unique_ptr<Monitor> monitor_;  // polls the server: goes first
};

}  // namespace duurzaam::server
