// Small helpers for the benchmark driver: temp dirs, timing, percentiles,
// the report table.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace duurzaam::bench {

struct Settings {
  bool smoke = false;  // tiny sizes: proves the benchmark runs, measures nothing
  int runs = 3;        // medians over this many runs
  std::string work_dir = "/tmp";
};

// A scratch directory removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const Settings& settings, const std::string& name);
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

double Seconds(std::chrono::steady_clock::duration d);
// CPU time of the whole process (user + system, every thread), seconds.
double CpuSeconds();
// Waits (at most `limit`) until the process's background threads (RocksDB
// flushes and compactions after a bulk fill, for instance) have gone quiet:
// under 5% of one core over 250 ms. Returns whether they did.
bool WaitUntilIdle(std::chrono::seconds limit = std::chrono::seconds(120));
double Median(std::vector<double> values);
// p in [0, 100].
double Percentile(std::vector<double> values, double p);
// A ~300-byte JSON-like payload, varying with i.
std::string Payload(uint64_t i);

// Runs `fn` `runs` times and returns the median of what it returns.
double MedianOf(int runs, const std::function<double()>& fn);

// One line of the report: a figure, its baseline from the same run and the
// target.
struct Row {
  std::string name;
  double value = 0;
  std::string unit;
  std::string baseline_name;
  double baseline = 0;
  std::string target;  // e.g. ">= 50000 /s and >= 1.5x baseline"
  bool met = true;
};

void Report(const Row& row);
// Rows reported with met = false so far (a full run exits non-zero if any).
int MissedTargets();
// Resident set size of a process in MiB (self if pid == 0).
double ResidentMiB(int pid = 0);

// Profiles one section of a benchmark: with DUURZAAM_PERF_CTL set to a perf
// control FIFO (perf record --control=fifo:FIFO --delay=-1 ...), enables
// perf's counting while it lives. Names the section with
// DUURZAAM_PERF_SECTION: only the section of that name is profiled.
class PerfSection {
 public:
  explicit PerfSection(const char* name);
  ~PerfSection();
  PerfSection(const PerfSection&) = delete;
  PerfSection& operator=(const PerfSection&) = delete;

 private:
  bool on_ = false;
};

}  // namespace duurzaam::bench
