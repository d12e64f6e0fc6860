#include "services/server_config.h"

#include <fstream>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace duurzaam::services {
namespace {

struct Setting {
  std::string help;
  std::function<absl::Status(ServerConfig*, const std::string&)> set;
  bool is_bool = false;
};

[[nodiscard]] absl::Status SetUint(uint64_t* out, const std::string& name,
                                   const std::string& value) {
  if (!absl::SimpleAtoi(value, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " takes a non-negative number; got '", value, "'"));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status SetBool(bool* out, const std::string& name, const std::string& value) {
  if (value.empty() || value == "true" || value == "1" || value == "yes") {
    *out = true;
  } else if (value == "false" || value == "0" || value == "no") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " takes true or false; got '", value, "'"));
  }
  return absl::OkStatus();
}

const std::map<std::string, Setting>& Settings() {
  static const auto* settings = new std::map<std::string, Setting>{
      {"listen",
       {"host:port to listen on (default 127.0.0.1:50051; port 0 picks one)",
        [](ServerConfig* c, const std::string& v) {
          c->listen = v;
          return absl::OkStatus();
        }}},
      {"data_dir",
       {"data folder: events/ (the event store) and projections/ (read models); default ./data",
        [](ServerConfig* c, const std::string& v) {
          c->data_dir = v;
          return absl::OkStatus();
        }}},
      {"dev",
       {"development mode: plaintext, no authentication; command line only, loopback only, "
        "never with TLS settings",
        [](ServerConfig* c, const std::string& v) { return SetBool(&c->dev, "dev", v); }, true}},
      {"demo",
       {"seed the demo data set (employers, a dozen placements) into an empty store",
        [](ServerConfig* c, const std::string& v) { return SetBool(&c->demo, "demo", v); }, true}},
      {"rebuild_projections",
       {"rebuild the read models (projections) from the event log at start, showing progress",
        [](ServerConfig* c, const std::string& v) {
          return SetBool(&c->rebuild_projections, "rebuild_projections", v);
        },
        true}},
      {"tls_cert",
       {"PEM server certificate chain (required outside --dev)",
        [](ServerConfig* c, const std::string& v) {
          c->tls_cert = v;
          return absl::OkStatus();
        }}},
      {"tls_key",
       {"PEM server private key (required outside --dev)",
        [](ServerConfig* c, const std::string& v) {
          c->tls_key = v;
          return absl::OkStatus();
        }}},
      {"tls_client_ca",
       {"PEM CA certificate(s) issuing client certificates; callers authenticate with mutual "
        "TLS (required outside --dev)",
        [](ServerConfig* c, const std::string& v) {
          c->tls_client_ca = v;
          return absl::OkStatus();
        }}},
      {"revoked_serials",
       {"file of revoked client-certificate serial numbers (hex, one per line), re-read when it "
        "changes",
        [](ServerConfig* c, const std::string& v) {
          c->revoked_serials = v;
          return absl::OkStatus();
        }}},
      {"signing_key",
       {"Ed25519 PEM key signing transparency checkpoints (default <data_dir>/checkpoint.key; "
        "created when missing)",
        [](ServerConfig* c, const std::string& v) {
          c->signing_key = v;
          return absl::OkStatus();
        }}},
      {"checkpoint_origin",
       {"the name this log's signed checkpoints carry (C2SP origin, e.g. "
        "duurzaam.gemeente.example/log: unique per deployment, so auditors keep each log's "
        "history apart); default duurzaam",
        [](ServerConfig* c, const std::string& v) {
          if (v.empty() || v.size() > 200) {
            return absl::InvalidArgumentError("checkpoint_origin is 1..200 characters");
          }
          for (char ch : v) {
            if (ch <= 0x20 || ch >= 0x7f || ch == '+') {
              return absl::InvalidArgumentError(
                  "checkpoint_origin is printable ASCII without spaces or '+'");
            }
          }
          c->checkpoint_origin = v;
          return absl::OkStatus();
        }}},
      {"master_key_file",
       {"master keyring wrapping the per-case data keys: a file outside the data folder, mode "
        "0600 (`duurzaamctl master-key init FILE`); required outside --dev, where it defaults to "
        "<data_dir>.master.keys",
        [](ServerConfig* c, const std::string& v) {
          c->master_key_file = v;
          return absl::OkStatus();
        }}},
      {"max_event_bytes",
       {"largest event (data + metadata) accepted, bytes",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->max_event_bytes, "max_event_bytes", v);
        }}},
      {"max_append_events",
       {"most events in one append request",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->max_append_events, "max_append_events", v);
        }}},
      {"max_append_bytes",
       {"most bytes in one append request",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->max_append_bytes, "max_append_bytes", v);
        }}},
      {"metrics_listen",
       {"serve Prometheus metrics at http://ADDRESS/metrics (a loopback address, e.g. "
        "127.0.0.1:9464; empty: none)",
        [](ServerConfig* c, const std::string& v) {
          c->metrics_listen = v;
          return absl::OkStatus();
        }}},
      {"min_free_disk_mib",
       {"free disk space (MiB) the stores keep: below it writes are refused, and resume once "
        "there is room (0: off)",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->min_free_disk_mib, "min_free_disk_mib", v);
        }}},
      {"max_message_bytes",
       {"largest gRPC message received, bytes",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->max_message_bytes, "max_message_bytes", v);
        }}},
      {"max_threads",
       {"most gRPC server threads",
        [](ServerConfig* c, const std::string& v) {
          return SetUint(&c->max_threads, "max_threads", v);
        }}},
  };
  return *settings;
}

[[nodiscard]] absl::Status Apply(ServerConfig* config, const std::string& name,
                                 const std::string& value, const std::string& where) {
  auto it = Settings().find(name);
  if (it == Settings().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unknown setting '", name, "' (see --help)"));
  }
  absl::Status s = it->second.set(config, value);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  return absl::OkStatus();
}

[[nodiscard]] absl::Status LoadFile(const std::string& path, ServerConfig* config) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view view = absl::StripAsciiWhitespace(line);
    if (view.empty() || view[0] == '#') continue;
    size_t eq = view.find('=');
    std::string where = absl::StrCat(path, ":", number);
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected 'name = value'"));
    }
    std::string name(absl::StripAsciiWhitespace(view.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(view.substr(eq + 1)));
    if (name == "dev") {
      return absl::FailedPreconditionError(
          absl::StrCat(where,
                       ": dev mode cannot be set in a config file (a production config must never "
                       "turn into a plaintext server); pass --dev on the command line of a local "
                       "development server"));
    }
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", name, "' has no value; write 'name = value'"));
    }
    if (absl::Status s = Apply(config, name, value, where); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

[[nodiscard]] absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                                             bool* help_requested) {
  ServerConfig config;
  // Split into name/value pairs first so --config applies before flags.
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      if (help_requested) *help_requested = true;
      return config;
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    arg = arg.substr(2);
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    bool is_bool = Settings().count(name) && Settings().at(name).is_bool;
    if (!has_value && !is_bool) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    flags.emplace_back(name, value);
  }
  for (const auto& [name, value] : flags) {
    if (name == "config") {
      if (absl::Status s = LoadFile(value, &config); !s.ok()) return s;
    }
  }
  for (const auto& [name, value] : flags) {
    if (name == "config") continue;
    if (absl::Status s = Apply(&config, name, value, "command line"); !s.ok()) return s;
  }
  if (absl::Status s = CheckDevMode(config); !s.ok()) return s;
  if (!config.dev && (config.tls_cert.empty() || config.tls_key.empty())) {
    return absl::FailedPreconditionError(
        "refusing to serve without TLS: pass --tls_cert and --tls_key, or --dev for a local "
        "plaintext development server");
  }
  if (!config.dev && config.tls_client_ca.empty()) {
    return absl::FailedPreconditionError(
        "refusing to serve without client authentication: pass --tls_client_ca (the CA that "
        "issues client certificates; deploy/duurzaam-pki creates one), or --dev");
  }
  if (!config.dev && config.revoked_serials.empty()) {
    return absl::FailedPreconditionError(
        "refusing to serve without a revocation list: pass --revoked_serials (deploy/duurzaam-pki "
        "init creates DIR/revoked-serials), or --dev");
  }
  if (!config.dev && config.master_key_file.empty()) {
    return absl::FailedPreconditionError(
        "refusing to store personal data without a master key: pass --master_key_file (a file "
        "outside the data folder; create it with `duurzaamctl master-key init FILE`), or --dev");
  }
  if (!config.metrics_listen.empty() && !IsLoopbackListen(config.metrics_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics_listen '", config.metrics_listen,
        "' is not a loopback address: metrics are served without authentication, so only on "
        "127.0.0.1, [::1] or localhost (let a local Prometheus agent or proxy pass them on)"));
  }
  if (config.max_event_bytes == 0 || config.max_append_events == 0 ||
      config.max_append_bytes == 0) {
    return absl::InvalidArgumentError("limits must be positive");
  }
  if (config.max_event_bytes > config.max_message_bytes / 2 ||
      config.max_append_bytes > config.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_event_bytes (", config.max_event_bytes,
        ") must be at most half of, and "
        "max_append_bytes (",
        config.max_append_bytes, ") at most, max_message_bytes (", config.max_message_bytes,
        "): every event and append must fit in one message"));
  }
  return config;
}

bool IsLoopbackListen(const std::string& listen) {
  std::string host;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos) return false;
    host = listen.substr(1, close - 1);
  } else {
    size_t colon = listen.rfind(':');
    host = listen.substr(0, colon == std::string::npos ? listen.size() : colon);
  }
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, as four decimal octets.
  std::vector<std::string> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (const std::string& octet : octets) {
    int value = 0;
    if (octet.empty() || octet.size() > 3 || !absl::SimpleAtoi(octet, &value) || value < 0 ||
        value > 255) {
      return false;
    }
  }
  return true;
}

[[nodiscard]] absl::Status CheckDevMode(const ServerConfig& config) {
  if (!config.dev) return absl::OkStatus();
  std::vector<std::string> tls;
  if (!config.tls_cert.empty()) tls.push_back("--tls_cert");
  if (!config.tls_key.empty()) tls.push_back("--tls_key");
  if (!config.tls_client_ca.empty()) tls.push_back("--tls_client_ca");
  if (!config.revoked_serials.empty()) tls.push_back("--revoked_serials");
  if (!tls.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--dev (plaintext, no authentication) cannot be combined with ", absl::StrJoin(tls, ", "),
        ": drop --dev to serve with mutual TLS, or drop the TLS settings for a local "
        "development server"));
  }
  if (!IsLoopbackListen(config.listen)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--dev serves plaintext without authentication, so only on a loopback address "
                     "(127.0.0.1, [::1] or localhost); got --listen=",
                     config.listen));
  }
  return absl::OkStatus();
}

std::string ServerConfigUsage() {
  std::string out =
      "usage: duurzaamd [--config FILE] [--name=value ...]\n"
      "A config file holds 'name = value' lines with the names below; flags win.\n\n";
  absl::StrAppend(&out, "  --config FILE  read settings from FILE first\n");
  for (const auto& [name, setting] : Settings()) {
    absl::StrAppend(&out, "  --", name, "  ", setting.help, "\n");
  }
  return out;
}

}  // namespace duurzaam::services
