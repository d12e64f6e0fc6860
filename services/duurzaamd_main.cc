// duurzaamd: the duurzaam case server on its embedded event store.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "codec/placement_codec.h"
#include "common/clock.h"
#include "common/log.h"
#include "crypto/data_keys.h"
#include "crypto/master_keyring.h"
#include "demo/demo_data.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/merkle_projection.h"
#include "services/server.h"
#include "services/server_config.h"
#include "transparency/checkpoint.h"

namespace {

volatile std::sig_atomic_t g_signal = 0;

void Log(const std::string& line) { duurzaam::LogLine(line); }

// The per-case data keys under <data_dir>/keys, wrapped by the master
// keyring, which must live outside the data folder (a copy of the folder,
// e.g. a backup, holds only wrapped keys).
[[nodiscard]] absl::StatusOr<std::unique_ptr<duurzaam::crypto::DataKeyStore>> OpenDataKeys(
    const duurzaam::services::ServerConfig& config, const std::string& data_dir) {
  using duurzaam::crypto::MasterKeyring;
  std::string path = config.master_key_file;
  if (path.empty()) {  // dev mode only (the config requires it otherwise)
    path = data_dir + ".master.keys";
    absl::Status created = MasterKeyring::Create(path);
    if (created.ok()) Log(absl::StrCat("created a development master key in ", path));
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  }
  const std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
  if (absolute.rfind(data_dir + "/", 0) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the master key file ", absolute, " is inside the data folder ", data_dir,
                     ": keep it elsewhere (e.g. /etc/duurzaam/master.keys), or a copy of the data "
                     "folder could decrypt everything"));
  }
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  if (absl::IsNotFound(keyring.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("no master key file at ", absolute,
                     ": create one with `duurzaamctl master-key init ", path, "`"));
  }
  if (!keyring.ok()) return keyring.status();
  Log(absl::StrCat("personal data sealed with per-case keys in ", data_dir, "/keys (master key ",
                   keyring->current_id(), " from ", absolute, ")"));
  return duurzaam::crypto::DataKeyStore::Open(data_dir + "/keys", *std::move(keyring));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace duurzaam;
  // Abseil's mutex deadlock detection keeps a global lock graph that every
  // mutex created or destroyed (gRPC makes some per call) must update: a
  // debugging aid, too costly on the request path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv, argv + argc);
  bool help = false;
  auto config = services::ParseServerConfig(args, &help);
  if (help) {
    std::fputs(services::ServerConfigUsage().c_str(), stdout);
    return 0;
  }
  if (!config.ok()) {
    Log(std::string(config.status().message()));
    return 2;
  }

  std::error_code ec;
  std::filesystem::create_directories(config->data_dir, ec);
  std::string data_dir = std::filesystem::absolute(config->data_dir).lexically_normal().string();
  eventstore::Options options;
  options.path = data_dir + "/events";
  options.max_event_bytes = config->max_event_bytes;
  options.max_append_events = config->max_append_events;
  options.max_append_bytes = config->max_append_bytes;
  auto start = std::chrono::steady_clock::now();
  auto store = eventstore::Store::Open(options);
  if (!store.ok()) {
    Log(std::string(store.status().message()));
    return 1;
  }
  auto opened_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  Log(absl::StrCat("data in ", data_dir, " (", (*store)->CommittedEnd(), " events, opened in ",
                   opened_ms, " ms)"));
  if (!(*store)->Info().pipeline_priority_raised) {
    Log("warning: the event store's writer and syncer threads run at normal priority (no "
        "CAP_SYS_NICE or RLIMIT_NICE, see deploy/duurzaamd.service); appends under heavy load "
        "are slower");
  }

  auto keys = OpenDataKeys(*config, data_dir);
  if (!keys.ok()) {
    Log(std::string(keys.status().message()));
    return 1;
  }
  codec::Sealer sealer(keys->get());

  if (config->demo && (*store)->CommittedEnd() == 0) {
    auto seeded = demo::Seed(store->get(), codec::RecordedDay(SystemMicros()), &sealer);
    if (!seeded.ok()) {
      Log(std::string(seeded.status().message()));
      return 1;
    }
    Log(absl::StrCat("seeded demo data: ", seeded->streams, " streams, ", seeded->appended,
                     " events"));
  }

  auto projection = projections::CaseProjection::Open(data_dir + "/projections");
  if (!projection.ok()) {
    Log(std::string(projection.status().message()));
    return 1;
  }
  if (config->rebuild_projections) {
    const uint64_t end = (*store)->CommittedEnd();
    auto rebuild_start = std::chrono::steady_clock::now();
    absl::Status rebuilt = (*projection)->Rebuild(store->get(), [](uint64_t done, uint64_t total) {
      Log(absl::StrCat("rebuilding projections: ", done, " / ", total));
    });
    if (!rebuilt.ok()) {
      Log(std::string(rebuilt.message()));
      return 1;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - rebuild_start).count();
    Log(absl::StrFormat("projections rebuilt: %llu events in %.2f s",
                        static_cast<unsigned long long>(end), seconds));
  }
  Log(absl::StrCat("projections at position ", (*projection)->Checkpoint(), " of ",
                   (*store)->CommittedEnd()));
  (*projection)->Start(store->get());

  // The access log: its own store beside the case log (every read of case
  // content is recorded there, durably, before it is served).
  eventstore::Options access_options;
  access_options.path = data_dir + "/access";
  auto access_store = eventstore::Store::Open(access_options);
  if (!access_store.ok()) {
    Log(std::string(access_store.status().message()));
    return 1;
  }

  // Verifiable history: the Merkle tree over the log (derived data, follows
  // the log like the projection) and the key that signs its checkpoints.
  auto merkle = projections::MerkleProjection::Open(data_dir + "/merkle");
  if (!merkle.ok()) {
    Log(std::string(merkle.status().message()));
    return 1;
  }
  Log(absl::StrCat("Merkle tree at ", (*merkle)->Size(), " leaves of ", (*store)->CommittedEnd()));
  (*merkle)->Start(store->get());
  const std::string key_path =
      config->signing_key.empty() ? data_dir + "/checkpoint.key" : config->signing_key;
  auto signing_key = transparency::SigningKey::LoadOrCreate(key_path);
  if (!signing_key.ok()) {
    Log(std::string(signing_key.status().message()));
    return 1;
  }
  Log(absl::StrCat("checkpoints signed with key ", signing_key->KeyId(), " (", key_path,
                   "; SHA-256 fingerprint ", signing_key->Fingerprint(), ")"));

  services::ServerDeps deps;
  deps.store = store->get();
  deps.projection = projection->get();
  deps.access_store = access_store->get();
  deps.merkle = merkle->get();
  deps.signing_key = &*signing_key;
  deps.keys = keys->get();
  auto server = services::Server::Start(*config, deps);
  if (!server.ok()) {
    Log(std::string(server.status().message()));
    return 1;
  }
  if (config->dev) {
    Log("********************************************************************");
    Log("* DEV MODE: plaintext, NO authentication: callers name themselves  *");
    Log("* in request metadata. For a developer's own machine only; never   *");
    Log("* for real data. Without --dev the server requires mutual TLS.     *");
    Log("********************************************************************");
  }
  Log(absl::StrCat("listening on ", (*server)->address(),
                   config->dev ? " (plaintext, DEV MODE: no TLS, principals from request metadata)"
                               : " (mutual TLS: callers authenticate with client certificates)"));

  std::signal(SIGINT, [](int s) { g_signal = s; });
  std::signal(SIGTERM, [](int s) { g_signal = s; });
  while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Log(absl::StrCat("signal ", static_cast<int>(g_signal), ": shutting down"));
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  (*projection)->Stop();
  (*merkle)->Stop();
  Log("stopped");
  return 0;
}
