#include "server/monitor.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/disk_space.h"
#include "common/log.h"
#include "prometheus/exposer.h"

namespace duurzaam::server {
namespace {

uint64_t FolderBytes(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::unique_ptr<Monitor>> Monitor::Start(
    Options options, Parts parts, std::shared_ptr<prometheus::Registry> registry) {
  if (parts.store == nullptr || registry == nullptr) {
    return absl::InvalidArgumentError("the monitor needs the event store and a registry");
  }
  std::unique_ptr<Monitor> m(new Monitor());
  m->options_ = std::move(options);
  m->parts_ = std::move(parts);
  m->registry_ = std::move(registry);
  if (!m->options_.listen.empty()) {
    try {
      m->exposer_ = std::make_unique<prometheus::Exposer>(m->options_.listen, 1);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve metrics on '", m->options_.listen, "' (in use?): ", e.what()));
    }
    m->exposer_->RegisterCollectable(m->registry_);
    const std::vector<int> ports = m->exposer_->GetListeningPorts();
    m->port_ = ports.empty() ? 0 : ports.front();
  }
  {
    MutexLock lock(&m->mu_);
    m->Poll();
  }
  m->thread_ = std::thread([p = m.get()] { p->Loop(); });
  return m;
}

Monitor::~Monitor() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.Signal();
  }
  if (thread_.joinable()) thread_.join();
  exposer_.reset();
}

void Monitor::PollNow() {
  MutexLock lock(&mu_);
  Poll();
}

void Monitor::Loop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    cv_.WaitWithDeadline(&mu_, absl::Now() + options_.interval);
    if (stop_) break;
    Poll();
  }
}

void Monitor::CountTo(prometheus::Counter& counter, uint64_t value) {
  const double now = counter.Value();
  if (static_cast<double>(value) > now) counter.Increment(static_cast<double>(value) - now);
}

void Monitor::Poll() {
  prometheus::Registry& r = *registry_;
  // Families are registered once; Add returns the existing child.
  static constexpr const char* kStores[] = {"events", "access", "projections", "merkle", "keys"};
  auto& free_bytes = prometheus::BuildGauge()
                         .Name("duurzaam_store_free_disk_bytes")
                         .Help("free space on the disk of each store, bytes")
                         .Register(r);
  auto& min_free = prometheus::BuildGauge()
                       .Name("duurzaam_store_min_free_disk_bytes")
                       .Help("free space each store keeps: below it its writes are refused")
                       .Register(r);
  auto& size = prometheus::BuildGauge()
                   .Name("duurzaam_store_size_bytes")
                   .Help("bytes of each store's files")
                   .Register(r);
  for (const char* store : kStores) {
    const std::string dir = absl::StrCat(parts_.data_dir, "/", store);
    const uint64_t threshold =
        std::string(store) == "events" ? parts_.min_free_bytes : parts_.min_free_bytes / 2;
    absl::StatusOr<uint64_t> free = FreeDiskBytes(dir);
    free_bytes.Add({{"store", store}}).Set(free.ok() ? static_cast<double>(*free) : 0);
    min_free.Add({{"store", store}}).Set(static_cast<double>(threshold));
    size.Add({{"store", store}}).Set(static_cast<double>(FolderBytes(dir)));
    // A disk filling up is told before writes are refused: below twice
    // the threshold a warning, once, and a line again when it has room.
    if (free.ok() && threshold > 0) {
      bool& filling = filling_[store];
      if (!filling && *free < 2 * threshold) {
        filling = true;
        Log(LogLevel::kWarning,
            "a disk is filling up: writes are refused when its free space falls below the "
            "threshold",
            {{"store", store},
             {"path", dir},
             {"free", FormatBytes(*free)},
             {"threshold", FormatBytes(threshold)}});
      } else if (filling && *free > 3 * threshold) {
        filling = false;
        Log(LogLevel::kInfo, "a disk has room again",
            {{"store", store}, {"path", dir}, {"free", FormatBytes(*free)}});
      }
    }
  }

  auto& refused = prometheus::BuildGauge()
                      .Name("duurzaam_store_writes_refused")
                      .Help("1 while the store refuses appends (a full disk, a failed write)")
                      .Register(r);
  auto& stalled = prometheus::BuildGauge()
                      .Name("duurzaam_store_write_stalled")
                      .Help("1 while RocksDB stops or slows the store's writes")
                      .Register(r);
  auto& events = prometheus::BuildGauge()
                     .Name("duurzaam_store_events")
                     .Help("durable records in the store's log")
                     .Register(r);
  auto& appends = prometheus::BuildCounter()
                      .Name("duurzaam_store_appends_total")
                      .Help("append calls finished by the store, by outcome")
                      .Register(r);
  absl::Status writes;
  for (auto [name, store] : {std::pair<const char*, eventstore::Store*>{"events", parts_.store},
                             {"access", parts_.access_store}}) {
    if (store == nullptr) continue;
    const eventstore::StoreInfo info = store->Info();
    refused.Add({{"store", name}}).Set(info.writes.ok() ? 0 : 1);
    stalled.Add({{"store", name}}).Set(info.write_stalled ? 1 : 0);
    events.Add({{"store", name}}).Set(static_cast<double>(info.next_position));
    for (const auto& [outcome, count] : info.appends_by_outcome) {
      CountTo(appends.Add({{"store", name}, {"outcome", outcome}}), count);
    }
    if (writes.ok() && !info.writes.ok()) writes = info.writes;
  }

  if (parts_.follower != nullptr) {
    auto& lag = prometheus::BuildGauge()
                    .Name("duurzaam_projection_lag_events")
                    .Help("log records a projection has yet to apply")
                    .Register(r);
    auto& failing = prometheus::BuildGauge()
                        .Name("duurzaam_projection_failing")
                        .Help("1 while a projection fails (it is retried with backoff)")
                        .Register(r);
    const uint64_t end = parts_.store->CommittedEnd();
    for (const projections::ProjectionHealth& h : parts_.follower->Health()) {
      lag.Add({{"projection", h.name}})
          .Set(static_cast<double>(end > h.checkpoint ? end - h.checkpoint : 0));
      failing.Add({{"projection", h.name}}).Set(h.failing ? 1 : 0);
    }
  }

  auto& memory = prometheus::BuildGauge()
                     .Name("duurzaam_store_memory_bytes")
                     .Help("memory RocksDB holds for each store: memtables and block cache")
                     .Register(r);
  for (auto [name, store] : {std::pair<const char*, eventstore::Store*>{"events", parts_.store},
                             {"access", parts_.access_store}}) {
    if (store == nullptr) continue;
    const eventstore::StoreInfo info = store->Info();
    memory.Add({{"store", name}})
        .Set(static_cast<double>(info.memtable_bytes + info.block_cache_bytes));
  }
  if (parts_.projection != nullptr) {
    memory.Add({{"store", "projections"}})
        .Set(static_cast<double>(parts_.projection->MemoryBytes()));
  }
  if (parts_.merkle != nullptr) {
    memory.Add({{"store", "merkle"}}).Set(static_cast<double>(parts_.merkle->MemoryBytes()));
  }
  prometheus::BuildGauge()
      .Name("duurzaam_process_resident_memory_bytes")
      .Help("resident memory of duurzaamd")
      .Register(r)
      .Add({})
      .Set(static_cast<double>(ResidentBytes()));

  if (parts_.server != nullptr) {
    parts_.server->SetWrites(writes);
    prometheus::BuildGauge()
        .Name("duurzaam_write_cache_records")
        .Help("records held by the write path's stream cache (at most 20,000)")
        .Register(r)
        .Add({})
        .Set(static_cast<double>(parts_.server->write_cache_records()));
    prometheus::BuildGauge()
        .Name("duurzaam_subscriptions_open")
        .Help("EventStore.Subscribe calls open")
        .Register(r)
        .Add({})
        .Set(parts_.server->open_subscriptions());
    auto& serving =
        prometheus::BuildGauge()
            .Name("duurzaam_health_serving")
            .Help("1 while a service is SERVING, 0 while NOT_SERVING (the log says why)")
            .Register(r);
    const auto down = parts_.server->NotServing();
    for (const std::string& service : parts_.server->Services()) {
      bool is_down = false;
      for (const auto& [name, why] : down) is_down = is_down || name == service;
      serving.Add({{"service", service}}).Set(is_down ? 0 : 1);
    }
    services::Authenticator* auth = parts_.server->authenticator();
    prometheus::BuildGauge()
        .Name("duurzaam_revocation_list_age_seconds")
        .Help("seconds since the revocation list in force was changed (-1: none, dev mode)")
        .Register(r)
        .Add({})
        .Set(static_cast<double>(auth->RevocationListAgeSeconds()));
    auto& refusals = prometheus::BuildCounter()
                         .Name("duurzaam_certificate_refusals_total")
                         .Help("client certificates refused, by reason")
                         .Register(r);
    for (const auto& [reason, count] : auth->Refusals()) {
      CountTo(refusals.Add({{"reason", reason}}), count);
    }
  }
}

}  // namespace duurzaam::server
