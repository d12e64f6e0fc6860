#include "server/stack.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "codec/placement_codec.h"
#include "codec/sealing.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"

namespace duurzaam::server {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void ServerStack::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<ServerStack>> ServerStack::Open(StackOptions options) {
  std::unique_ptr<ServerStack> stack(new ServerStack());
  stack->options_ = std::move(options);
  RETURN_IF_ERROR(stack->OpenAll());
  return stack;
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<ServerStack>> ServerStack::Start(
    StackOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<ServerStack> stack, Open(std::move(options)));
  RETURN_IF_ERROR(stack->Serve());
  return stack;
}

// The per-case data keys under <data_dir>/keys, wrapped by the master
// keyring, which must live outside the data folder (a copy of the folder,
// e.g. a backup, holds only wrapped keys).
[[nodiscard]] absl::Status ServerStack::OpenDataKeys() {
  using crypto::MasterKeyring;
  const services::ServerConfig& config = options_.config;
  if (options_.keyring.has_value()) {
    ASSIGN_OR_RETURN(keys_,
                     crypto::DataKeyStore::Open(data_dir_ + "/keys", *std::move(options_.keyring)));
    options_.keyring.reset();
    return absl::OkStatus();
  }
  std::string path = config.master_key_file;
  if (path.empty()) {
    if (!config.dev) {
      return absl::FailedPreconditionError(
          "no master key file: give --master_key_file (outside the data folder)");
    }
    path = data_dir_ + ".master.keys";
    absl::Status created = MasterKeyring::Create(path);
    if (created.ok()) Log(absl::StrCat("created a development master key in ", path));
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  }
  const std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
  if (absolute.rfind(data_dir_ + "/", 0) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the master key file ", absolute, " is inside the data folder ", data_dir_,
                     ": keep it elsewhere (e.g. /etc/duurzaam/master.keys), or a copy of the data "
                     "folder could decrypt everything"));
  }
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  if (absl::IsNotFound(keyring.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("no master key file at ", absolute,
                     ": create one with `duurzaamctl master-key init ", path, "`"));
  }
  RETURN_IF_ERROR(keyring.status());
  Log(absl::StrCat("personal data sealed with per-case keys in ", data_dir_, "/keys (master key ",
                   keyring->current_id(), " from ", absolute, ")"));
  ASSIGN_OR_RETURN(keys_, crypto::DataKeyStore::Open(data_dir_ + "/keys", *std::move(keyring)));
  return absl::OkStatus();
}

[[nodiscard]] absl::Status ServerStack::OpenAll() {
  const services::ServerConfig& config = options_.config;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  data_dir_ = std::filesystem::absolute(config.data_dir).lexically_normal().string();

  // The event store.
  eventstore::Options store_options;
  store_options.path = data_dir_ + "/events";
  store_options.max_event_bytes = config.max_event_bytes;
  store_options.max_append_events = config.max_append_events;
  store_options.max_append_bytes = config.max_append_bytes;
  // duurzaamd appends asynchronously from a few handler threads that do
  // real work per command (validation, sealing). A raised-priority writer
  // and syncer would preempt them for every single event: on two cores,
  // half the events per sync and a quarter fewer case commands a second
  // (bench `trust`). The engine's default (raised) serves many synchronous
  // appender threads.
  store_options.pipeline_nice = 0;
  store_options.min_free_bytes = config.min_free_disk_mib << 20;
  store_options.env = options_.env;
  if (options_.tune_store) options_.tune_store(store_options);
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(store_, eventstore::Store::Open(store_options));
  Log(absl::StrFormat("data in %s (%llu events, opened in %.0f ms)", data_dir_,
                      static_cast<unsigned long long>(store_->CommittedEnd()),
                      SecondsSince(start) * 1e3));
  if (!store_->Info().pipeline_priority_raised) {
    Log("warning: the event store's writer and syncer threads could not get the priority "
        "asked for (no CAP_SYS_NICE or RLIMIT_NICE)");
  }

  // Personal data keys, and the demo data sealed under them.
  if (options_.seal_personal_data) RETURN_IF_ERROR(OpenDataKeys());
  if (config.demo && store_->CommittedEnd() == 0) {
    std::unique_ptr<codec::DataKeySealer> sealer;
    if (keys_) sealer = std::make_unique<codec::DataKeySealer>(keys_.get());
    ASSIGN_OR_RETURN(demo::SeedResult seeded,
                     demo::Seed(store_.get(), codec::RecordedDay(SystemMicros()), sealer.get()));
    Log(absl::StrCat("seeded demo data: ", seeded.streams, " streams, ", seeded.appended,
                     " events"));
  }

  // What the log holds, the projections and the Merkle tree must be able to
  // follow: they write into half the reserve the log keeps.
  const uint64_t derived_min_free = (config.min_free_disk_mib << 20) / 2;

  // The case projection, rebuilt from the log when asked.
  ASSIGN_OR_RETURN(projection_, projections::CaseProjection::Open(data_dir_ + "/projections",
                                                                  derived_min_free, options_.env));
  if (config.rebuild_projections || projection_->OutOfDate()) {
    if (!config.rebuild_projections) {
      Log("the case projection was written by an older version: rebuilding it from the log");
    }
    const uint64_t end = store_->CommittedEnd();
    const auto rebuild_start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(projection_->Rebuild(store_.get(), options_.rebuild_progress));
    Log(absl::StrFormat("projections rebuilt: %llu events in %.2f s",
                        static_cast<unsigned long long>(end), SecondsSince(rebuild_start)));
  }
  Log(absl::StrCat("projections at position ", projection_->Checkpoint(), " of ",
                   store_->CommittedEnd()));

  // Verifiable history: the Merkle tree (derived, follows the log like the
  // projection) and the key that signs its checkpoints.
  if (options_.audit) {
    ASSIGN_OR_RETURN(merkle_, projections::MerkleProjection::Open(data_dir_ + "/merkle",
                                                                  derived_min_free, options_.env));
    Log(absl::StrCat("Merkle tree at ", merkle_->Size(), " leaves of ", store_->CommittedEnd()));
    RETURN_IF_ERROR(merkle_->CheckAgainst(store_.get()));
    if (options_.signing_key.has_value()) {
      signing_key_ = std::move(options_.signing_key);
      options_.signing_key.reset();
    } else {
      const std::string key_path =
          config.signing_key.empty() ? data_dir_ + "/checkpoint.key" : config.signing_key;
      ASSIGN_OR_RETURN(transparency::SigningKey key,
                       transparency::SigningKey::LoadOrCreate(key_path));
      signing_key_ = std::move(key);
      Log(absl::StrCat("checkpoints signed with key ", signing_key_->KeyId(), " (", key_path,
                       "; SHA-256 fingerprint ", signing_key_->Fingerprint(), ")"));
    }
  }

  // The access log: its own store beside the case log (every read of case
  // content is recorded there, durably, before it is served).
  if (options_.access_log) {
    eventstore::Options access_options;
    access_options.path = data_dir_ + "/access";
    access_options.env = options_.env;
    // Small records, rarely read: a small memory budget.
    access_options.write_buffer_bytes = 8 << 20;
    access_options.block_cache_bytes = 8 << 20;
    // Reads write their access-log record into half the reserve the case
    // log keeps: a disk full enough to refuse appends still serves reads.
    access_options.min_free_bytes = (config.min_free_disk_mib << 20) / 2;
    ASSIGN_OR_RETURN(access_store_, eventstore::Store::Open(access_options));
  }

  // One follower for every projection.
  follower_ = std::make_unique<projections::LogFollower>(store_.get(), options_.follower);
  std::vector<std::string> case_readers = {v1::Cases::service_full_name()};
  if (keys_) case_readers.push_back(v1::Admin::service_full_name());  // Admin needs the keys
  follower_->Register(projection_.get(), case_readers);
  if (merkle_) follower_->Register(merkle_.get(), {v1::Audit::service_full_name()});
  for (const StackOptions::Plugin& plugin : options_.plugins) {
    if (plugin.projection == nullptr)
      return absl::InvalidArgumentError("a plug-in without a projection");
    follower_->Register(plugin.projection, plugin.services);
  }
  follower_->Start();
  return absl::OkStatus();
}

[[nodiscard]] absl::Status ServerStack::Serve() {
  if (server_) return absl::FailedPreconditionError("the server is already listening");
  services::ServerDeps deps;
  deps.store = store_.get();
  deps.projection = projection_.get();
  deps.follower = follower_.get();
  deps.access_store = access_store_.get();
  deps.merkle = merkle_.get();
  deps.signing_key = signing_key();
  deps.keys = keys_.get();
  registry_ = std::make_shared<prometheus::Registry>();
  call_metrics_ = std::make_unique<services::CallMetrics>(*registry_);
  deps.call_metrics = call_metrics_.get();
  ASSIGN_OR_RETURN(server_, services::Server::Start(options_.config, deps));
  Monitor::Parts parts;
  parts.data_dir = data_dir_;
  parts.store = store_.get();
  parts.access_store = access_store_.get();
  parts.follower = follower_.get();
  parts.projection = projection_.get();
  parts.merkle = merkle_.get();
  parts.server = server_.get();
  parts.min_free_bytes = options_.config.min_free_disk_mib << 20;
  ASSIGN_OR_RETURN(monitor_,
                   Monitor::Start({options_.config.metrics_listen, options_.monitor_interval},
                                  std::move(parts), registry_));
  if (monitor_->port() != 0) {
    const std::string& listen = options_.config.metrics_listen;
    Log(absl::StrCat("metrics on http://", listen.substr(0, listen.rfind(':')), ":",
                     monitor_->port(), "/metrics"));
  }
  return absl::OkStatus();
}

void ServerStack::Shutdown(absl::Duration grace) {
  if (server_) server_->Shutdown(grace);
}

void ServerStack::Wait() {
  if (server_) server_->Wait();
}

[[nodiscard]] absl::Status ServerStack::CatchUp(absl::Duration timeout) {
  return follower_->WaitForAll(store_->CommittedEnd(), timeout);
}

ServerStack::~ServerStack() {
  monitor_.reset();
  if (server_) server_->Shutdown(absl::Milliseconds(500));
  server_.reset();
  if (follower_) follower_->Stop();
  follower_.reset();
}

}  // namespace duurzaam::server
