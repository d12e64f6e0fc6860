#include "services/call_metrics.h"

#include <chrono>

#include "absl/status/status.h"

namespace duurzaam::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(CallMetrics* metrics, CallMetrics::Method* method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {
    method_->open->Increment();
  }
  ~CallInterceptor() override { method_->open->Decrement(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
      metrics_->Finished(method_, static_cast<int>(methods->GetSendStatus().error_code()),
                         took.count());
    }
    methods->Proceed();
  }

 private:
  CallMetrics* metrics_;
  CallMetrics::Method* method_;
  std::chrono::steady_clock::time_point start_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(CallMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_, metrics_->ForMethod(info->method()));
  }

 private:
  CallMetrics* metrics_;
};

}  // namespace

CallMetrics::CallMetrics(prometheus::Registry& registry)
    : calls_(prometheus::BuildCounter()
                 .Name("duurzaam_grpc_calls_total")
                 .Help("gRPC calls finished, by method and status code")
                 .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("duurzaam_grpc_call_seconds")
                   .Help("gRPC call latency from arrival to status, by method (appends: "
                         "/duurzaam.v1.EventStore/Append, /duurzaam.v1.Cases/RecordCaseEvent, "
                         "/duurzaam.v1.Cases/PushIntents)")
                   .Register(registry)),
      open_(prometheus::BuildGauge()
                .Name("duurzaam_grpc_calls_open")
                .Help("gRPC calls running now, by method (subscriptions and pulls stay open)")
                .Register(registry)) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallMetrics::NewInterceptorFactory() {
  return std::make_unique<Factory>(this);
}

CallMetrics::Method* CallMetrics::ForMethod(const std::string& method) {
  MutexLock lock(&mu_);
  auto it = methods_.find(method);
  if (it != methods_.end()) return it->second.get();
  auto m = std::make_unique<Method>();
  m->name = method;
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60};
  m->seconds = &seconds_.Add({{"method", method}}, kBuckets);
  m->open = &open_.Add({{"method", method}});
  return methods_.emplace(method, std::move(m)).first->second.get();
}

void CallMetrics::Finished(Method* method, int code, double seconds) {
  method->seconds->Observe(seconds);
  prometheus::Counter* counter;
  {
    MutexLock lock(&mu_);
    auto it = method->calls_by_code.find(code);
    if (it == method->calls_by_code.end()) {
      const std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
      it = method->calls_by_code
               .emplace(code, &calls_.Add({{"method", method->name}, {"code", name}}))
               .first;
    }
    counter = it->second;
  }
  counter->Increment();
}

}  // namespace duurzaam::services
