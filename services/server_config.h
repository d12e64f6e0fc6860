// Configuration of duurzaamd: command-line flags and an optional config
// file of `name = value` lines using the same names. Flags win over the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace duurzaam::services {

struct ServerConfig {
  std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  std::string data_dir = "./data";
  // Plaintext without client authentication, for local development only:
  // set by the --dev flag alone (never from a config file), refused beside
  // TLS settings and off loopback (CheckDevMode). Without it the server
  // requires TLS, a client CA, a revocation list and a master key.
  bool dev = false;
  std::string tls_cert;  // PEM server certificate chain
  std::string tls_key;   // PEM private key
  // PEM CA certificate(s) that issue client certificates (mutual TLS: the
  // caller's principal and role come from its certificate). Required
  // outside dev mode.
  std::string tls_client_ca;
  // File of revoked client-certificate serial numbers (hex, one per line,
  // '#' comments), required outside dev mode; re-read when it changes, no
  // restart needed. Missing or malformed at start: the server refuses to
  // start; broken later: the last good list stays in force.
  std::string revoked_serials;
  // Ed25519 key that signs transparency checkpoints (PEM; created when
  // missing). Default <data_dir>/checkpoint.key.
  std::string signing_key;
  // The origin line of this log's checkpoints: names the log for auditors
  // and witnesses (C2SP: a unique, schema-less URL-like name such as
  // "duurzaam.gemeente.example/log"). 1..200 printable ASCII characters, no
  // spaces or '+'.
  std::string checkpoint_origin = "duurzaam";
  // The master keyring (data/keys are wrapped by its current key): a file
  // outside data_dir, mode 0600, created with `duurzaamctl master-key init`.
  // Required outside dev mode; in dev mode it defaults to
  // <data_dir>.master.keys, created when missing.
  std::string master_key_file;
  uint64_t max_event_bytes = 1 << 20;
  uint64_t max_append_events = 1000;
  uint64_t max_append_bytes = 4 << 20;
  uint64_t max_message_bytes = 8 << 20;  // gRPC receive limit
  uint64_t max_threads = 512;            // gRPC sync server thread cap
  // Free disk space every store keeps: below it writes are refused
  // RESOURCE_EXHAUSTED before the disk is full, and resume by themselves
  // once there is room. 0 turns the threshold off.
  uint64_t min_free_disk_mib = 256;
  // Prometheus metrics over plain HTTP at http://<metrics_listen>/metrics: a
  // loopback address and port ("127.0.0.1:9464"; port 0 picks one). Empty:
  // none.
  std::string metrics_listen;
  bool demo = false;                 // seed the demo data set into an empty store
  bool rebuild_projections = false;  // rebuild read models from the log at start
};

// Parses argv (argv[0] is skipped). Recognises --help via `help_requested`.
[[nodiscard]] absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                                             bool* help_requested = nullptr);
// Dev mode belongs on one developer's machine: FAILED_PRECONDITION when
// `dev` is set beside any TLS or revocation setting, or `listen` is not a
// loopback address (127.0.0.0/8, [::1] or localhost). OK when dev is off.
[[nodiscard]] absl::Status CheckDevMode(const ServerConfig& config);
// True when `listen` ("host:port") names a loopback host.
bool IsLoopbackListen(const std::string& listen);

// The usage text for --help.
std::string ServerConfigUsage();

}  // namespace duurzaam::services
