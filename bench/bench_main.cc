// duurzaam_bench: runs the speed targets of the event log and prints each
// figure beside its baseline from the same run.
//
//   duurzaam_bench [--smoke] [--runs=N] [--dir=/tmp] all|NAME...
//
// --smoke runs tiny sizes to prove each benchmark still works (the test
// suite does this); its figures mean nothing.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "bench/benches.h"

int main(int argc, char** argv) {
  using namespace duurzaam::bench;
  const std::map<std::string, void (*)(const Settings&)> benches = {
      {"engine-append", EngineAppendThroughput},
      {"engine-latency", EngineAppendLatency},
      {"engine-read", EngineReadThroughput},
      {"service-append", ServiceAppendThroughput},
      {"service-latency", ServiceAppendLatency},
      {"subscribe", SubscribeCatchUp},
      {"trust", TrustLayerCost},
      {"case-latency", CaseCommandLatency},
      {"open", OpenLargeStore},
      {"case-status", CaseStatusLatency},
      {"rebuild", ProjectionRebuild},
      {"mixed", MixedLoad},
      {"expert-sync", ExpertSync},
      {"audit-log", AuditLogVerify},
  };
  const char* order[] = {
      "engine-append", "engine-latency", "engine-read",  "service-append", "service-latency",
      "subscribe",     "trust",          "case-latency", "open",           "case-status",
      "rebuild",       "mixed",          "expert-sync",  "audit-log"};
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as duurzaamd does
  Settings settings;
  std::vector<std::string> selected;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--smoke") {
      settings.smoke = true;
      settings.runs = 1;
    } else if (arg.rfind("--runs=", 0) == 0) {
      settings.runs = std::max(1, std::atoi(arg.c_str() + 7));
    } else if (arg.rfind("--dir=", 0) == 0) {
      settings.work_dir = arg.substr(6);
    } else if (arg == "all") {
      selected.assign(std::begin(order), std::end(order));
    } else if (benches.count(arg)) {
      selected.push_back(arg);
    } else {
      std::fprintf(stderr, "unknown argument '%s'; benchmarks:", arg.c_str());
      for (const char* name : order) std::fprintf(stderr, " %s", name);
      std::fprintf(stderr, " (or all)\n");
      return 2;
    }
  }
  if (selected.empty()) selected.assign(std::begin(order), std::end(order));
  std::printf("duurzaam_bench%s, medians of %d run(s)\n", settings.smoke ? " (smoke)" : "",
              settings.runs);
  for (const std::string& name : selected) benches.at(name)(settings);
  if (!settings.smoke && MissedTargets() > 0) {
    std::printf("%d target(s) missed\n", MissedTargets());
    return 1;
  }
  return 0;
}
