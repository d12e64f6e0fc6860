// The benchmarks the driver can run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/harness.h"
#include "eventstore/store.h"

namespace duurzaam::bench {

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

}  // namespace duurzaam::bench
