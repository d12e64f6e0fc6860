#include "bench/harness.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

#include "absl/strings/str_format.h"

namespace duurzaam::bench {

ScratchDir::ScratchDir(const Settings& settings, const std::string& name) {
  std::string tmpl = settings.work_dir + "/duurzaam-bench-" + name + "-XXXXXX";
  path_ = mkdtemp(tmpl.data());
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {
void PerfControl(const char* command) {
  const char* fifo = std::getenv("DUURZAAM_PERF_CTL");
  if (fifo == nullptr) return;
  if (std::FILE* f = std::fopen(fifo, "w")) {
    std::fprintf(f, "%s\n", command);
    std::fclose(f);
  }
}
}  // namespace

PerfSection::PerfSection(const char* name) {
  const char* only = std::getenv("DUURZAAM_PERF_SECTION");
  on_ = std::getenv("DUURZAAM_PERF_CTL") != nullptr &&
        (only == nullptr || std::string_view(only) == name);
  if (on_) PerfControl("enable");
}

PerfSection::~PerfSection() {
  if (on_) PerfControl("disable");
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool WaitUntilIdle(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  constexpr auto kWindow = std::chrono::milliseconds(250);
  while (std::chrono::steady_clock::now() < deadline) {
    double before = CpuSeconds();
    std::this_thread::sleep_for(kWindow);
    if (CpuSeconds() - before < 0.05 * 0.25) return true;
  }
  return false;
}

double Median(std::vector<double> values) { return Percentile(std::move(values), 50); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p / 100.0 * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string Payload(uint64_t i) {
  std::string s = absl::StrFormat(
      R"({"case":"case-%06d","kind":"MonitoringCheckIn","by":"EMPLOYER","scores":{"fit":%d,"meaning":%d,"guidance":%d,"support":%d,"worker":%d},"note":")",
      i % 1000000, 1 + i % 5, 1 + (i / 5) % 5, 1 + (i / 25) % 5, 1 + (i / 125) % 5,
      1 + (i / 625) % 5);
  while (s.size() < 296) s.push_back(static_cast<char>('a' + (i + s.size()) % 26));
  s += "\"}";
  return s;
}

double MedianOf(int runs, const std::function<double()>& fn) {
  std::vector<double> values;
  for (int i = 0; i < runs; ++i) values.push_back(fn());
  return Median(values);
}

namespace {
std::atomic<int> missed{0};
}  // namespace

int MissedTargets() { return missed.load(); }

void Report(const Row& row) {
  if (!row.met) ++missed;
  std::string ratio =
      row.baseline > 0 ? absl::StrFormat("%.2fx", row.value / row.baseline) : std::string("-");
  std::printf("%-44s %12.3f %-8s | %-32s %12.3f | ratio %-7s | target %s%s\n", row.name.c_str(),
              row.value, row.unit.c_str(), row.baseline_name.c_str(), row.baseline, ratio.c_str(),
              row.target.c_str(), row.met ? "" : "  [MISSED]");
  std::fflush(stdout);
}

double ResidentMiB(int pid) {
  std::string path = pid == 0 ? "/proc/self/status" : absl::StrFormat("/proc/%d/status", pid);
  std::ifstream in(path);
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      in >> kib;
      return kib / 1024.0;
    }
  }
  return -1;
}

}  // namespace duurzaam::bench
