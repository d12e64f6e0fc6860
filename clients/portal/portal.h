// duurzaam-portal: the employer portal, its own process in front of
// duurzaamd (the case server never faces the internet). It serves HTML over
// HTTPS (cpp-httplib), signs employer staff in with OpenID Connect
// (oidc.h), keeps their sessions and tokens on the server (the browser holds
// only an HttpOnly, Secure, SameSite cookie), and talks to duurzaamd over
// mutual TLS with its own PORTAL certificate, naming in every call the
// signed-in user and the organisation their sign-in gave: duurzaamd then
// enforces every rule as for any employer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/portal/oidc.h"

namespace duurzaam::portal {

struct PortalConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8443;  // 0: any free port
  // The portal's own TLS certificate and key (PEM).
  std::string tls_cert, tls_key;
  // Where browsers reach the portal, e.g. "https://localhost:8443": the
  // origin forms must come from and the base of the OIDC redirect.
  std::string public_url;
  // duurzaamd: its address, the CA that issued its certificate, and the
  // portal's PORTAL client certificate. With `dev` the connection is
  // plaintext and the user is named in dev-mode metadata (a loopback dev
  // server only).
  std::string server = "localhost:50051";
  std::string server_ca, cert, key;
  bool dev = false;
  std::string name = "werkgeversportaal";  // the portal's name (the certificate's CN)
  OidcConfig oidc;
  // A session ends after this long without a request, and this long after
  // sign-in at the latest.
  int64_t idle_seconds = 15 * 60;
  int64_t absolute_seconds = 8 * 60 * 60;
  size_t max_sessions = 100000;
  int threads = 64;
  int page_size = 25;
  // Seconds since the epoch (tests move it).
  std::function<int64_t()> now;
};

class Portal {
 public:
  // Checks the configuration and the files it names.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Portal>> Create(PortalConfig config);
  ~Portal();

  // Binds and serves on a thread of its own; the port it listens on.
  [[nodiscard]] absl::StatusOr<int> Start();
  void Stop();

 private:
  struct Impl;
  explicit Portal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace duurzaam::portal
