// THE seam for "who is calling": every service asks the Authenticator, and
// nothing else turns a call into a principal.
//
// Outside dev mode callers authenticate with mutual TLS. The handshake asks
// for a client certificate (a call without one is refused here, with the
// reason); this class verifies it against the
// deployment's client CA (chain, validity period, TLS-client purpose), the
// revocation list (re-read when its file changes) and the subject:
//   CN = the user or app name      e.g. "jdevries"
//   OU = the role                  EXPERT | EMPLOYER | AUDITOR | ADMIN
//   O  = the employer id           required for EMPLOYER
// The principal id is "<role in lower case>:<CN>" (e.g. "expert:jdevries",
// the id case teams name), and "employer:<O>/<CN>" for employers (e.g.
// "employer:acme/acme-hr"), so same-named users of two employers differ.
// Any failure is UNAUTHENTICATED with the reason, and is logged. Verified
// certificates are cached by their bytes.
//
// A certificate with OU = PORTAL (the employer portal, CN = its name) is no
// principal by itself: each of its calls acts for one employer's user the
// portal signed in, named in metadata
//   x-duurzaam-on-behalf-of: <user>          (1 to 64 of a-z, 0-9, - . _ @)
//   x-duurzaam-organisation: <employer id>   (from the sign-in, never the page)
// and becomes the EMPLOYER principal "employer:<organisation>/<user>" with
// via = "portal:<CN>". Whatever else the call asks for, it is an employer:
// the policy gives it no more than that organisation's employer views (a
// stolen portal certificate reaches no expert data), and the Guard refuses
// an organisation that is not a registered employer.
//
// In dev mode (plaintext) the caller names itself in request metadata:
//   x-duurzaam-principal: expert:jdevries
//   x-duurzaam-role:      EXPERT | EMPLOYER | AUDITOR | ADMIN
//   x-duurzaam-organisation: <employer id>   (EMPLOYER)
//   x-duurzaam-via: portal:<name>            (optional: a service acting for it)
#pragma once

#include <grpcpp/server_context.h>

#include <array>
#include <atomic>
#include <istream>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "domain/events.h"

namespace duurzaam::services {

inline constexpr char kPrincipalHeader[] = "x-duurzaam-principal";
inline constexpr char kRoleHeader[] = "x-duurzaam-role";
inline constexpr char kOrganisationHeader[] = "x-duurzaam-organisation";
inline constexpr char kOnBehalfOfHeader[] = "x-duurzaam-on-behalf-of";
inline constexpr char kViaHeader[] = "x-duurzaam-via";
// The certificate role (subject OU) of the employer portal's service
// certificate: not a principal's role (see above).
inline constexpr char kPortalRole[] = "PORTAL";

struct AuthConfig {
  bool dev = false;            // metadata principals (plaintext dev servers only)
  std::string client_ca_file;  // PEM CA(s) issuing client certificates
  // Deny list file; when set it must exist and parse at start (else Create
  // fails), and a later broken version keeps the last good list.
  std::string revoked_serials;
};

// Parses a revocation list: hexadecimal serials (colons and leading zeros
// allowed), one per line, '#' starts a comment. INVALID_ARGUMENT naming the
// first line that is not a serial.
[[nodiscard]] absl::StatusOr<absl::flat_hash_set<std::string>> ParseRevokedSerials(
    std::istream& in);

class Authenticator {
 public:
  // Loads the client CA; INVALID_ARGUMENT / NOT_FOUND naming the file.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const AuthConfig& config);
  ~Authenticator();

  // The caller, or UNAUTHENTICATED saying why not.
  [[nodiscard]] absl::StatusOr<domain::Principal> Authenticate(
      const grpc::ServerContextBase& context);

  bool dev() const { return config_.dev; }

  // Why certificates were refused, counted since start (metrics): reasons
  // "no_certificate", "invalid" (not this CA's, not a client certificate,
  // malformed), "expired", "revoked", "portal" (a portal's call that names
  // no valid user). Every reason is listed, zeros too.
  std::vector<std::pair<std::string, uint64_t>> Refusals() const;
  // Seconds since the revocation list in force was last changed (its
  // file's modification time); -1 without one (dev mode).
  int64_t RevocationListAgeSeconds();

  // Parses a role name as certificates and dev metadata spell it; only the
  // roles this server serves (EXPERT, EMPLOYER, AUDITOR, ADMIN).
  [[nodiscard]] static absl::StatusOr<domain::Role> ParseRole(std::string_view role);

 private:
  struct Verified {
    domain::Principal principal;
    std::string portal;     // the portal's name (CN) for a PORTAL certificate, else empty
    int64_t not_after = 0;  // seconds since the epoch
    std::string serial;     // upper-case hex
  };
  explicit Authenticator(AuthConfig config);
  [[nodiscard]] absl::StatusOr<domain::Principal> FromMetadata(
      const grpc::ServerContextBase& context);
  // The employer user a PORTAL certificate's call acts for.
  [[nodiscard]] static absl::StatusOr<domain::Principal> ActingFor(
      const grpc::ServerContextBase& context, const std::string& portal);
  [[nodiscard]] absl::StatusOr<Verified> Verify(const std::string& pem) const;
  bool Revoked(const std::string& serial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  enum Refusal { kNoCertificate, kInvalid, kExpired, kRevoked, kPortal, kRefusals };
  [[nodiscard]] absl::Status Refuse(const grpc::ServerContextBase& context, Refusal reason,
                                    absl::Status why) const;
  mutable std::array<std::atomic<uint64_t>, kRefusals> refusals_{};

  AuthConfig config_;
  struct CaStore;
  std::unique_ptr<CaStore> ca_;
  Mutex mu_;
  absl::flat_hash_map<std::string, Verified> cache_ ABSL_GUARDED_BY(mu_);
  // Re-reads the deny list when its file changed. At start a missing or
  // malformed list is an error; later the last good list is kept (and the
  // problem logged): never an empty one.
  [[nodiscard]] absl::Status ReloadRevoked(bool at_start) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::flat_hash_set<std::string> revoked_ ABSL_GUARDED_BY(mu_);
  std::string revoked_stamp_ ABSL_GUARDED_BY(mu_);   // the file's identity and times
  int64_t revoked_mtime_ ABSL_GUARDED_BY(mu_) = -1;  // of the list in force
};

}  // namespace duurzaam::services
