// gRPC calls as metrics, counted in one place: a server interceptor that
// sees every call of every service (health included) and records, per
// method, the calls by status code, their latency and how many are open
// (subscriptions, pulls and other streams stay open).
//
//   duurzaam_grpc_calls_total{method,code}
//   duurzaam_grpc_call_seconds{method}      (histogram)
//   duurzaam_grpc_calls_open{method}
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace duurzaam::services {

class CallMetrics {
 public:
  explicit CallMetrics(prometheus::Registry& registry);

  // For ServerBuilder::experimental().SetInterceptorCreators.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // One method's metrics, made on its first call.
  struct Method {
    std::string name;
    prometheus::Histogram* seconds;
    prometheus::Gauge* open;
    absl::flat_hash_map<int, prometheus::Counter*> calls_by_code;  // under CallMetrics::mu_
  };
  Method* ForMethod(const std::string& method);
  void Finished(Method* method, int code, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  prometheus::Family<prometheus::Gauge>& open_;
  Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace duurzaam::services
