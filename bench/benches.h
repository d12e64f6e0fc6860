// The benchmarks the driver can run.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "bench/harness.h"
#include "eventstore/store.h"
#include "server/stack.h"

namespace duurzaam::bench {

// The production stack (server::ServerStack: follower, case projection,
// Merkle tree, access log) over `dir`: a plaintext dev server, or a
// mutual-TLS one with a deployment CA made by deploy/duurzaam-pki and client
// certificates for its benchmark users (bench-admin, bench-auditor,
// bench-expert); with `encrypt`, personal data is sealed under per-case data
// keys as in duurzaamd (without, it is stored plain: the baseline of the
// trust rows). Serves once its projections have caught up with the log.
struct BenchServer {
  BenchServer(const ScratchDir& dir, bool mtls, bool encrypt = false, bool serve = true);
  ~BenchServer();
  // Serves once the projections have caught up (after filling the log).
  void Serve();
  // A channel as `user` (a client certificate of the PKI), or plaintext
  // for "" on a dev server.
  std::shared_ptr<grpc::Channel> ChannelAs(const std::string& user) const;

  std::string pki;
  std::unique_ptr<server::ServerStack> stack;
  eventstore::Store* store = nullptr;
  services::Server* server = nullptr;
};

// Opens a benchmark store; sync=false only for bulk-loading fixtures.
std::unique_ptr<eventstore::Store> OpenBenchStore(const std::string& path, bool sync);

// Fills a store quickly (unsynced batches of 1000) with `events` ~300-byte
// events spread over `streams` streams.
void BulkFill(eventstore::Store* store, uint64_t events, int streams);

void EngineAppendThroughput(const Settings& settings);
void EngineAppendLatency(const Settings& settings);
void EngineReadThroughput(const Settings& settings);
void ServiceAppendThroughput(const Settings& settings);
void ServiceAppendLatency(const Settings& settings);
void SubscribeCatchUp(const Settings& settings);
void OpenLargeStore(const Settings& settings);
void CaseStatusLatency(const Settings& settings);
void ProjectionRebuild(const Settings& settings);
void MixedLoad(const Settings& settings);
void TrustLayerCost(const Settings& settings);
void CaseCommandLatency(const Settings& settings);
void ExpertSync(const Settings& settings);
void AuditLogVerify(const Settings& settings);

}  // namespace duurzaam::bench
