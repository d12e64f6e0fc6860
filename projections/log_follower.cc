#include "projections/log_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"

namespace duurzaam::projections {
namespace {

// A service's status as last reported to the health callback.
struct Report {
  std::string service;
  bool serving;
};

}  // namespace

LogFollower::LogFollower(eventstore::Store* store, Options options)
    : store_(store), options_(options) {}

LogFollower::~LogFollower() { Stop(); }

void LogFollower::Register(Projection* projection, std::vector<std::string> services) {
  MutexLock lock(&mu_);
  Entry entry;
  entry.projection = projection;
  entry.services = std::move(services);
  entry.health.name = std::string(projection->Name());
  entries_.push_back(std::move(entry));
}

void LogFollower::SetHealthCallback(HealthCallback callback) {
  MutexLock report_lock(&report_mu_);
  on_health_ = std::move(callback);
  if (!on_health_) return;
  std::vector<Report> reports;
  {
    MutexLock lock(&mu_);
    for (const Entry& e : entries_) {
      for (const std::string& service : e.services) {
        reports.push_back({service, ServingLocked(service)});
      }
    }
  }
  for (const Report& r : reports) on_health_(r.service, r.serving);
}

bool LogFollower::ServingLocked(const std::string& service) const {
  for (const Entry& e : entries_) {
    if (e.health.failing &&
        std::find(e.services.begin(), e.services.end(), service) != e.services.end()) {
      return false;
    }
  }
  return true;
}

bool LogFollower::Serving(const std::string& service) const {
  MutexLock lock(&mu_);
  return ServingLocked(service);
}

void LogFollower::Start() {
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const uint64_t end = store_->CommittedEnd();
      absl::StatusOr<uint64_t> advanced;
      {
        MutexLock lock(&round_mu_);
        advanced = Round();
      }
      if (advanced.ok() && *advanced > 0) continue;
      // Nothing to do (or every projection due failed): sleep until a
      // commit, the next retry or the idle wake-up, whichever comes first.
      absl::Duration wait = options_.idle_wait;
      const absl::Time retry = NextRetry();
      if (retry != absl::InfiniteFuture()) {
        wait = std::clamp(retry - absl::Now(), absl::Milliseconds(1), wait);
      }
      store_->WaitForCommit(end, wait);
    }
  });
}

void LogFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

[[nodiscard]] absl::StatusOr<uint64_t> LogFollower::RunOnce() {
  MutexLock lock(&round_mu_);
  return Round();
}

absl::Time LogFollower::NextRetry() const {
  MutexLock lock(&mu_);
  absl::Time next = absl::InfiniteFuture();
  for (const Entry& e : entries_) {
    if (e.health.failing) next = std::min(next, e.retry_at);
  }
  return next;
}

[[nodiscard]] absl::StatusOr<uint64_t> LogFollower::Round() {
  const absl::Time now = absl::Now();
  const uint64_t end = store_->CommittedEnd();
  struct Due {
    size_t index;
    Projection* projection;
    uint64_t start = 0;
    std::unique_ptr<Projection::Batch> batch;
  };
  std::vector<Due> due;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!e.health.failing || e.retry_at <= now) due.push_back({i, e.projection, 0, nullptr});
    }
  }
  absl::Status first_error;
  auto fail = [&](Due& d, const absl::Status& status) {
    if (first_error.ok()) first_error = status;
    Failed(d.index, status);
    d.batch.reset();
  };
  bool any = false;
  for (Due& d : due) {
    d.start = d.projection->Checkpoint();
    // Every projection is asked for a batch, even a caught-up one: that is
    // where it checks itself (a refused tree, another log's data) and
    // reports a failure that needs no new record to show.
    absl::StatusOr<std::unique_ptr<Projection::Batch>> batch = d.projection->NewBatch(end);
    if (!batch.ok()) {
      fail(d, batch.status());
      continue;
    }
    if (d.start >= end) {
      Succeeded(d.index);
      continue;
    }
    d.batch = *std::move(batch);
    any = true;
  }
  if (!any) {
    if (!first_error.ok()) return first_error;
    return 0;
  }

  // Scans from the lowest checkpoint among the open batches; a projection
  // the scan did not reach (far ahead of a slower one) gets its own scan in
  // the same round, so none waits for another to catch up.
  uint64_t advanced = 0;
  while (true) {
    std::optional<uint64_t> from;
    size_t open = 0;
    for (const Due& d : due) {
      if (d.batch == nullptr) continue;
      from = std::min(from.value_or(d.start), d.start);
      ++open;
    }
    if (!from.has_value()) break;
    absl::StatusOr<uint64_t> next =
        store_->ScanAll(*from, eventstore::LogFilter{}, options_.max_batch_events,
                        [&](const eventstore::EventView& view) {
                          for (Due& d : due) {
                            if (d.batch == nullptr || view.position < d.start) continue;
                            if (absl::Status added = d.batch->Add(view); !added.ok()) {
                              fail(d, added);
                              --open;
                            }
                          }
                          return open > 0;
                        });
    if (!next.ok()) {
      const absl::Status read_error = absl::UnavailableError(absl::StrCat(
          "the event log cannot be read from position ", *from, ": ", next.status().message()));
      for (Due& d : due) {
        if (d.batch != nullptr) fail(d, read_error);
      }
      return read_error;
    }
    if (*next <= *from) break;  // nothing more to read now
    advanced = std::max(advanced, *next - *from);
    for (Due& d : due) {
      if (d.batch == nullptr || *next <= d.start) continue;  // not reached: next scan
      if (absl::Status committed = d.batch->Commit(*next); !committed.ok()) {
        fail(d, committed);
        continue;
      }
      d.batch.reset();
      Succeeded(d.index);
    }
  }
  {
    MutexLock lock(&mu_);
    changed_.SignalAll();
  }
  if (!first_error.ok()) return first_error;
  return advanced;
}

void LogFollower::Failed(size_t index, const absl::Status& status) {
  std::vector<std::string> services;
  {
    MutexLock lock(&mu_);
    Entry& e = entries_[index];
    const bool was_failing = e.health.failing;
    e.health.failing = true;
    ++e.health.failures;
    ++e.health.consecutive;
    e.health.last_error = std::string(status.message());
    absl::Duration backoff = options_.first_backoff;
    for (uint64_t i = 1; i < e.health.consecutive && backoff < options_.max_backoff; ++i) {
      backoff *= 2;
    }
    backoff = std::min(backoff, options_.max_backoff);
    e.retry_at = absl::Now() + backoff;
    const uint64_t checkpoint = e.projection->Checkpoint();
    if (!was_failing) {
      LogLine(absl::StrCat("ALERT: the ", e.health.name, " failed at log position ", checkpoint,
                           ": ", status.message(), "; retrying with backoff",
                           e.services.empty() ? "" : "; not serving ",
                           absl::StrJoin(e.services, ", ")));
    } else if ((e.health.consecutive & (e.health.consecutive - 1)) == 0) {
      // Every power of two: a lasting failure stays visible without
      // flooding the log.
      LogLine(absl::StrCat("ALERT: the ", e.health.name, " still fails at log position ",
                           checkpoint, " (", e.health.consecutive,
                           " attempts): ", status.message()));
    }
    changed_.SignalAll();
    if (!was_failing) services = e.services;
  }
  ReportServices(services);
}

void LogFollower::Succeeded(size_t index) {
  std::vector<std::string> services;
  {
    MutexLock lock(&mu_);
    Entry& e = entries_[index];
    if (!e.health.failing) return;
    LogLine(absl::StrCat("the ", e.health.name, " recovered at log position ",
                         e.projection->Checkpoint(), " after ", e.health.consecutive,
                         " failed attempts"));
    e.health.failing = false;
    e.health.consecutive = 0;
    e.retry_at = absl::InfinitePast();
    changed_.SignalAll();
    services = e.services;
  }
  ReportServices(services);
}

void LogFollower::ReportServices(const std::vector<std::string>& services) {
  if (services.empty()) return;
  MutexLock report_lock(&report_mu_);
  if (!on_health_) return;
  std::vector<Report> reports;
  {
    MutexLock lock(&mu_);
    for (const std::string& service : services) {
      reports.push_back({service, ServingLocked(service)});
    }
  }
  // Outside mu_ (the callback may take locks of its own) but in order.
  for (const Report& r : reports) on_health_(r.service, r.serving);
}

[[nodiscard]] absl::Status LogFollower::Wait(const std::function<bool(const Entry&)>& which,
                                             uint64_t position, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(&mu_);
  bool timed_out = false;
  while (true) {
    const Entry* behind = nullptr;
    size_t matched = 0;
    for (const Entry& e : entries_) {
      if (!which(e)) continue;
      ++matched;
      if (e.health.failing) {
        return absl::UnavailableError(absl::StrCat("the server's ", e.health.name, " is failing (",
                                                   e.health.consecutive,
                                                   " attempts, retrying): ", e.health.last_error,
                                                   "; an operator must look at the server log"));
      }
      if (e.projection->Checkpoint() < position && behind == nullptr) behind = &e;
    }
    if (matched == 0) {
      return absl::FailedPreconditionError(
          "no registered projection answers this wait (a service or projection not registered "
          "with the log follower)");
    }
    if (behind == nullptr) return absl::OkStatus();
    if (timed_out) {
      return absl::UnavailableError(absl::StrCat(
          "the server's ", behind->health.name, " is still catching up with the log (at position ",
          behind->projection->Checkpoint(), " of ", position, "); retry shortly"));
    }
    // Checked once more after the deadline, so the answer is never stale.
    timed_out = changed_.WaitWithDeadline(&mu_, deadline);
  }
}

[[nodiscard]] absl::Status LogFollower::WaitFor(const std::string& service, uint64_t position,
                                                absl::Duration timeout) {
  return Wait(
      [&](const Entry& e) {
        return std::find(e.services.begin(), e.services.end(), service) != e.services.end();
      },
      position, timeout);
}

[[nodiscard]] absl::Status LogFollower::WaitFor(const Projection* projection, uint64_t position,
                                                absl::Duration timeout) {
  return Wait([&](const Entry& e) { return e.projection == projection; }, position, timeout);
}

[[nodiscard]] absl::Status LogFollower::WaitForAll(uint64_t position, absl::Duration timeout) {
  return Wait([](const Entry&) { return true; }, position, timeout);
}

std::vector<ProjectionHealth> LogFollower::Health() const {
  MutexLock lock(&mu_);
  std::vector<ProjectionHealth> out;
  for (const Entry& e : entries_) {
    out.push_back(e.health);
    out.back().checkpoint = e.projection->Checkpoint();
  }
  return out;
}

}  // namespace duurzaam::projections
