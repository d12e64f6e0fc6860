// One reader of the committed log for every registered projection, and
// their supervisor.
//
// Each round scans the log once, from the lowest checkpoint among the
// projections due, and gives every projection the records from its own
// checkpoint on (projection.h). A projection that fails (NewBatch, Add or
// Commit) is not stopped: its batch is dropped, it is retried with
// exponential backoff, and until it succeeds again it is reported failing:
// to the services that depend on it (WaitFor answers UNAVAILABLE with the
// reason at once, instead of a time-out), to the health callback (which
// duurzaamd turns into NOT_SERVING for those services), in Health() (a
// counter of failures, for metrics) and in the server log (an ALERT at the
// first failure, and when it recovers). The other projections go on.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "projections/projection.h"

namespace duurzaam::projections {

// What the follower knows of one projection.
struct ProjectionHealth {
  std::string name;
  uint64_t checkpoint = 0;
  bool failing = false;
  uint64_t failures = 0;     // failed rounds since start (a metric: only grows)
  uint64_t consecutive = 0;  // failed rounds since the last success
  std::string last_error;    // of the latest failure ("" if none yet)
};

class LogFollower {
 public:
  struct Options {
    size_t max_batch_events = 10000;  // records scanned per round
    absl::Duration first_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(10);
    absl::Duration idle_wait = absl::Milliseconds(200);  // wake-up when nothing commits
  };
  // Called from the follower's thread when a service's projections all
  // become healthy (true) or one of them starts failing (false).
  using HealthCallback = std::function<void(const std::string& service, bool serving)>;

  LogFollower(eventstore::Store* store, Options options);
  explicit LogFollower(eventstore::Store* store) : LogFollower(store, Options()) {}
  ~LogFollower();

  // Registers a projection (borrowed; it must outlive the follower) read by
  // `services` (names, e.g. "duurzaam.v1.Cases"). Before Start only.
  void Register(Projection* projection, std::vector<std::string> services);
  // Calls `callback` at once for every service with its current state,
  // then on every change; null stops the calls (when this returns, none is
  // running).
  void SetHealthCallback(HealthCallback callback);
  // True unless a projection `service` depends on is failing.
  bool Serving(const std::string& service) const;

  // Runs rounds on a background thread until Stop().
  void Start();
  void Stop();

  // One round now, on the caller's thread (tools and tests; not while the
  // thread runs). Returns the positions the slowest projection advanced.
  [[nodiscard]] absl::StatusOr<uint64_t> RunOnce();

  // Blocks until every projection `service` depends on has applied the
  // log up to `position`. OK, or UNAVAILABLE naming the projection that is
  // failing (at once) or still catching up (after `timeout`);
  // FAILED_PRECONDITION when nothing registered matches (fail closed).
  [[nodiscard]] absl::Status WaitFor(const std::string& service, uint64_t position,
                                     absl::Duration timeout);
  // The same for one registered projection.
  [[nodiscard]] absl::Status WaitFor(const Projection* projection, uint64_t position,
                                     absl::Duration timeout);
  // The same over every registered projection.
  [[nodiscard]] absl::Status WaitForAll(uint64_t position, absl::Duration timeout);

  std::vector<ProjectionHealth> Health() const;

 private:
  struct Entry {
    Projection* projection = nullptr;
    std::vector<std::string> services;
    ProjectionHealth health;
    absl::Time retry_at = absl::InfinitePast();
  };

  [[nodiscard]] absl::StatusOr<uint64_t> Round() ABSL_EXCLUSIVE_LOCKS_REQUIRED(round_mu_);
  // Called by Round only (under round_mu_).
  void Failed(size_t index, const absl::Status& status);
  void Succeeded(size_t index);
  void ReportServices(const std::vector<std::string>& services);
  [[nodiscard]] absl::Status Wait(const std::function<bool(const Entry&)>& which, uint64_t position,
                                  absl::Duration timeout);
  absl::Time NextRetry() const;
  bool ServingLocked(const std::string& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  eventstore::Store* const store_;
  const Options options_;
  Mutex round_mu_;   // one round at a time
  Mutex report_mu_;  // one health report at a time, in order
  mutable Mutex mu_;
  CondVar changed_;  // a checkpoint advanced or a health changed
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  HealthCallback on_health_ ABSL_GUARDED_BY(report_mu_);
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace duurzaam::projections
