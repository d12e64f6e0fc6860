// duurzaam-soak: a soak of a real duurzaamd under steady mixed load, with a
// verdict on whether its memory stays flat.
//
//   duurzaam-soak DUURZAAMD [--seconds=1800] [--rate=400] [--dir=/tmp]
//
// Load, each paced and bounded by the run's length: raw appends (`rate`
// a second over four streams), case commands (contact moments on 100 cases
// of its own, 40/s in all), status and timeline queries (two readers, 50/s
// each) and two live subscribers to the whole log. Every 10 s one line:
// throughput of each, append p50/p99 and the server's resident memory.
// At the end one verdict line: FLAT when the peak and the low of RSS in the
// last third of the run are within 10% + 8 MiB of those in the middle third
// (the first third is the warm-up; RSS cycles with every memtable flush, so
// single samples say little), else GROWING. Exit codes: 0 flat, 1 growing or a failed call, 2
// usage, 3 the server did not start.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "tests/faults/load.h"

namespace {

using Clock = std::chrono::steady_clock;
using duurzaam::eventstore::EventId;
namespace v1 = duurzaam::v1;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double RssMiB(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

void As(grpc::ClientContext* context, const char* who, const char* role) {
  context->AddMetadata("x-duurzaam-principal", who);
  context->AddMetadata("x-duurzaam-role", role);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

struct Counters {
  std::atomic<uint64_t> appends{0}, commands{0}, queries{0}, streamed{0}, errors{0};
  std::mutex mu;
  std::vector<double> append_ms;  // this interval's
  std::string first_error;
  void Error(const std::string& what) {
    ++errors;
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = what;
  }
};

// Runs `step` `per_second` times a second until `end`.
template <typename F>
void Paced(double per_second, Clock::time_point end, F step) {
  const auto interval = std::chrono::duration<double>(1.0 / per_second);
  auto next = Clock::now();
  for (uint64_t i = 0; Clock::now() < end && i < 100'000'000; ++i) {
    step(i);
    next += std::chrono::duration_cast<Clock::duration>(interval);
    std::this_thread::sleep_until(std::min(next, end));
  }
}

// What holds the server's memory, from its metrics: RocksDB memtables and
// block caches of each store (MiB), and the write cache's records.
std::string MemoryColumns(int metrics_port) {
  if (metrics_port <= 0) return "";
  httplib::Client client("127.0.0.1", metrics_port);
  client.set_read_timeout(5, 0);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return " (no metrics)";
  std::string out;
  for (const char* store : {"events", "access", "projections", "merkle"}) {
    std::smatch m;
    const std::regex line(std::string("duurzaam_store_memory_bytes\\{store=\"") + store +
                          "\"\\} ([0-9.e+]+)");
    double mib = 0;
    if (std::regex_search(response->body, m, line)) mib = std::stod(m[1]) / (1 << 20);
    char cell[32];
    std::snprintf(cell, sizeof(cell), " %8.1f", mib);
    out += cell;
  }
  std::smatch m;
  double records = 0;
  if (std::regex_search(response->body, m,
                        std::regex("duurzaam_write_cache_records ([0-9.e+]+)"))) {
    records = std::stod(m[1]);
  }
  char cell[32];
  std::snprintf(cell, sizeof(cell), " %8.0f", records);
  return out + cell;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100 * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: duurzaam-soak DUURZAAMD [--seconds=1800] [--rate=400] [--dir=/tmp]\n");
    return 2;
  }
  const std::string duurzaamd = argv[1];
  int seconds = 1800;
  double rate = 400;
  std::string base = "/tmp";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) {
      seconds = std::max(10, std::min(24 * 3600, std::atoi(a.c_str() + 10)));
    } else if (a.rfind("--rate=", 0) == 0) {
      rate = std::max(1.0, std::min(20000.0, std::atof(a.c_str() + 7)));
    } else if (a.rfind("--dir=", 0) == 0) {
      base = a.substr(6);
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  std::string tmpl = base + "/duurzaam-soak-XXXXXX";
  const std::string dir = mkdtemp(tmpl.data());
  const std::string log = dir + "/duurzaamd.log";
  const pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(fd, STDERR_FILENO);
    execl(duurzaamd.c_str(), duurzaamd.c_str(), "--dev", "--demo", "--listen=127.0.0.1:0",
          "--metrics_listen=127.0.0.1:0", ("--data_dir=" + dir + "/data").c_str(), nullptr);
    _exit(127);
  }
  std::string address;
  int metrics_port = 0;
  for (int i = 0; i < 600 && address.empty(); ++i) {
    std::smatch m;
    const std::string text = Slurp(log);
    if (std::regex_search(text, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/"))) {
      metrics_port = std::stoi(m[1]);
    }
    if (std::regex_search(text, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+) "))) {
      address = m[1];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (address.empty()) {
    std::fprintf(stderr, "duurzaamd did not start; its log:\n%s\n", Slurp(log).c_str());
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return 3;
  }
  std::printf("soak: duurzaamd pid %d on %s, data in %s, %d s, %.0f appends/s\n", pid,
              address.c_str(), dir.c_str(), seconds, rate);
  std::printf("%6s %9s %9s %9s %10s %8s %8s %8s | %8s %8s %8s %8s %8s\n", "t(s)", "appends/s",
              "commands/s", "queries/s", "streamed/s", "p50(ms)", "p99(ms)", "RSS(MiB)", "events",
              "access", "project.", "merkle", "wcache");
  std::printf("%72s | RocksDB memtables + block cache (MiB) per store; write cache records\n", "");
  std::fflush(stdout);

  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  Counters c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::EventStore::NewStub(channel);
      const std::string payload(300, 'a' + t);
      Paced(rate / 4, end, [&](uint64_t) {
        v1::AppendRequest request;
        request.set_stream("ext-soak-" + std::to_string(t));
        auto* e = request.add_events();
        e->set_event_id(EventId::Random().ToString());
        e->set_event_type("SoakNote");
        e->set_data(payload);
        v1::AppendResponse response;
        grpc::ClientContext context;
        As(&context, "admin:soak", "ADMIN");
        const auto t0 = Clock::now();
        grpc::Status s = stub->Append(&context, request, &response);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!s.ok()) return c.Error("append: " + s.error_message());
        ++c.appends;
        std::lock_guard<std::mutex> lock(c.mu);
        c.append_ms.push_back(ms);
      });
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::Cases::NewStub(channel);
      // 50 cases of its own, each command on one at random: after 30
      // minutes ~700 events a case, more than the write cache holds in all.
      constexpr int kCases = 50;
      std::vector<int64_t> revision(kCases, -1);
      std::mt19937 rng(t);
      Paced(20, end, [&](uint64_t i) {
        const int k = static_cast<int>(rng() % kCases);
        const std::string case_id = "soak-" + std::to_string(t) + "-" + std::to_string(k);
        const v1::RecordCaseEventRequest request =
            duurzaam::faults::CaseCommand(case_id, EventId::Random().ToString(), revision[k], i,
                                          "a short call about how the week went");
        v1::RecordCaseEventResponse response;
        grpc::ClientContext context;
        As(&context, "expert:jdevries", "EXPERT");
        grpc::Status s = stub->RecordCaseEvent(&context, request, &response);
        if (!s.ok()) return c.Error("command: " + s.error_message());
        revision[k] = response.revision();
        ++c.commands;
      });
    });
  }
  const char* names[] = {"anna", "bram", "chris", "dewi", "emre", "fleur"};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::Cases::NewStub(channel);
      Paced(50, end, [&](uint64_t i) {
        grpc::ClientContext context;
        As(&context, "expert:jdevries", "EXPERT");
        grpc::Status s;
        if (i % 2 == 0) {
          v1::GetStatusRequest request;
          request.set_case_id(names[(t + i) % 6]);
          v1::CaseStatus status;
          s = stub->GetStatus(&context, request, &status);
        } else {
          v1::GetTimelineRequest request;
          request.set_case_id(names[(t + i) % 6]);
          v1::Timeline timeline;
          s = stub->GetTimeline(&context, request, &timeline);
        }
        if (!s.ok()) return c.Error("query: " + s.error_message());
        ++c.queries;
      });
    });
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> subscriptions;
  std::mutex sub_mu;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      auto stub = v1::EventStore::NewStub(channel);
      v1::SubscribeRequest request;
      request.mutable_all()->set_from_position(0);
      auto context = std::make_unique<grpc::ClientContext>();
      context->AddMetadata("x-duurzaam-principal", "auditor:soak");
      context->AddMetadata("x-duurzaam-role", "AUDITOR");
      grpc::ClientContext* raw = context.get();
      {
        std::lock_guard<std::mutex> lock(sub_mu);
        subscriptions.push_back(std::move(context));
      }
      auto reader = stub->Subscribe(raw, request);
      v1::SubscribeResponse response;
      while (Clock::now() < end && reader->Read(&response)) {
        if (response.has_events()) c.streamed += response.events().events_size();
      }
      raw->TryCancel();
      reader->Finish().IgnoreError();
    });
  }

  std::vector<double> rss;  // one per 10 s
  uint64_t last[4] = {0, 0, 0, 0};
  for (int tick = 1; Clock::now() < end; ++tick) {
    std::this_thread::sleep_until(std::min(end, start + std::chrono::seconds(10 * tick)));
    std::vector<double> ms;
    {
      std::lock_guard<std::mutex> lock(c.mu);
      ms.swap(c.append_ms);
    }
    const double interval = std::chrono::duration<double>(
                                Clock::now() - (start + std::chrono::seconds(10 * (tick - 1))))
                                .count();
    const uint64_t now[4] = {c.appends.load(), c.commands.load(), c.queries.load(),
                             c.streamed.load()};
    rss.push_back(RssMiB(pid));
    std::printf("%6.0f %9.0f %9.0f %9.0f %10.0f %8.2f %8.2f %8.1f |%s\n",
                std::chrono::duration<double>(Clock::now() - start).count(),
                (now[0] - last[0]) / interval, (now[1] - last[1]) / interval,
                (now[2] - last[2]) / interval, (now[3] - last[3]) / interval, Percentile(ms, 50),
                Percentile(ms, 99), rss.back(), MemoryColumns(metrics_port).c_str());
    std::fflush(stdout);
    std::copy(now, now + 4, last);
  }
  {
    std::lock_guard<std::mutex> lock(sub_mu);
    for (auto& s : subscriptions) s->TryCancel();
  }
  for (auto& t : threads) t.join();
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);

  // RSS cycles with every memtable flush (tens of MiB), so a single sample
  // says little: compare the peaks and lows of the middle third of the run
  // (after the warm-up) with those of the last third.
  const size_t third = std::max<size_t>(1, rss.size() / 3);
  auto peak = [&](size_t from, size_t to) {
    return *std::max_element(rss.begin() + std::min(from, rss.size() - 1),
                             rss.begin() + std::min(std::max(to, from + 1), rss.size()));
  };
  auto low = [&](size_t from, size_t to) {
    return *std::min_element(rss.begin() + std::min(from, rss.size() - 1),
                             rss.begin() + std::min(std::max(to, from + 1), rss.size()));
  };
  const double middle_peak = peak(third, 2 * third), last_peak = peak(2 * third, rss.size());
  const double middle_low = low(third, 2 * third), last_low = low(2 * third, rss.size());
  const bool flat = last_peak <= middle_peak * 1.10 + 8 && last_low <= middle_low * 1.10 + 8;
  const bool clean = c.errors.load() == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf(
      "soak: %s: RSS after the warm-up (%zu s): %.1f..%.1f MiB in the middle third, %.1f..%.1f "
      "MiB in the last, %.1f MiB at the end; %llu appends, %llu commands, %llu queries, %llu "
      "streamed; %llu errors%s%s\n",
      !clean ? "FAILED" : (flat ? "FLAT" : "GROWING"), third * 10, middle_low, middle_peak,
      last_low, last_peak, rss.back(), static_cast<unsigned long long>(c.appends.load()),
      static_cast<unsigned long long>(c.commands.load()),
      static_cast<unsigned long long>(c.queries.load()),
      static_cast<unsigned long long>(c.streamed.load()),
      static_cast<unsigned long long>(c.errors.load()), c.first_error.empty() ? "" : ": ",
      c.first_error.c_str());
  if (clean) std::filesystem::remove_all(dir);
  return clean && flat ? 0 : 1;
}
