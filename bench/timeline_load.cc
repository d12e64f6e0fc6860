// duurzaam_timeline_load: N concurrent callers asking duurzaamd for case
// timelines (Cases.GetTimeline) over mutual TLS, for a time or a count; one
// JSON line with the latencies. The baseline of the portal's load benchmark
// (bench/portal/load.mjs): the same server, the same pages' data, asked
// directly, in the same run.
//
//   duurzaam_timeline_load --server=HOST:PORT --ca=F --cert=F --key=F
//       [--header=NAME:VALUE ...] --cases=a,b,c [--clients=50] [--seconds=5]
//       [--max=100000]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "duurzaam/v1/cases.grpc.pb.h"

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, ca, cert, key;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> cases;
  int clients = 50;
  double seconds = 5;
  long max = 100000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq),
                      value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (name == "--server")
      server = value;
    else if (name == "--ca")
      ca = value;
    else if (name == "--cert")
      cert = value;
    else if (name == "--key")
      key = value;
    else if (name == "--header") {
      const size_t colon = value.find(':');
      if (colon == std::string::npos) return std::fprintf(stderr, "--header=NAME:VALUE\n"), 2;
      headers.emplace_back(value.substr(0, colon), value.substr(colon + 1));
    } else if (name == "--cases")
      cases = absl::StrSplit(value, ',', absl::SkipEmpty());
    else if (name == "--clients" && absl::SimpleAtoi(value, &clients) && clients > 0)
      continue;
    else if (name == "--seconds" && absl::SimpleAtod(value, &seconds) && seconds > 0)
      continue;
    else if (name == "--max" && absl::SimpleAtoi(value, &max) && max > 0)
      continue;
    else
      return std::fprintf(stderr, "duurzaam_timeline_load: unknown or bad option %s\n", argv[i]), 2;
  }
  if (server.empty() || cases.empty()) {
    return std::fprintf(stderr, "duurzaam_timeline_load: --server and --cases are required\n"), 2;
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Slurp(ca);
  ssl.pem_cert_chain = Slurp(cert);
  ssl.pem_private_key = Slurp(key);
  auto channel = grpc::CreateChannel(server, grpc::SslCredentials(ssl));
  std::atomic<long> issued{0};
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(clients);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(static_cast<long>(seconds * 1e6));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = duurzaam::v1::Cases::NewStub(channel);
      for (long i = 0; std::chrono::steady_clock::now() < deadline && issued++ < max; ++i) {
        duurzaam::v1::GetTimelineRequest request;
        request.set_case_id(cases[(c + i) % cases.size()]);
        duurzaam::v1::Timeline timeline;
        grpc::ClientContext context;
        for (const auto& [k, v] : headers) context.AddMetadata(k, v);
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        const auto t0 = std::chrono::steady_clock::now();
        grpc::Status s = stub->GetTimeline(&context, request, &timeline);
        if (!s.ok()) {
          std::fprintf(stderr, "GetTimeline: %s\n", s.error_message().c_str());
          failed = true;
          return;
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (failed || all.empty()) return 1;
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(all.size() - 1, static_cast<size_t>(p / 100 * all.size()))];
  };
  std::printf(
      "{\"requests\":%zu,\"per_second\":%.1f,\"p50_ms\":%.2f,\"p95_ms\":%.2f,\"p99_ms\":%.2f}\n",
      all.size(), all.size() / elapsed, pct(50), pct(95), pct(99));
  return 0;
}
