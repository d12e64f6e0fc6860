#include "services/principal.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <istream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "access/policy.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "domain/validation.h"

namespace duurzaam::services {
namespace {

constexpr char kPemCertProperty[] = "x509_pem_cert";
constexpr size_t kMaxCached = 10000;

std::optional<std::string> Header(const grpc::ServerContextBase& context, const char* name) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(name);
  if (it == metadata.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

// The one value of a subject attribute as UTF-8: std::nullopt when absent,
// UNAUTHENTICATED when the subject holds it more than once (in separate RDNs
// or in one multi-valued RDN: either way it would be ambiguous who the caller
// is) or it cannot be read.
[[nodiscard]] absl::StatusOr<std::optional<std::string>> SubjectField(X509_NAME* name, int nid,
                                                                      absl::string_view what) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return std::nullopt;
  if (X509_NAME_get_index_by_NID(name, nid, index) >= 0) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate refused: its subject holds more than one ", what,
                     "; a certificate names exactly one"));
  }
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate refused: its ", what, " cannot be read as text"));
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

struct Authenticator::CaStore {
  X509_STORE* store = nullptr;
  ~CaStore() { X509_STORE_free(store); }
};

Authenticator::Authenticator(AuthConfig config) : config_(std::move(config)) {}
Authenticator::~Authenticator() = default;

[[nodiscard]] absl::StatusOr<domain::Role> Authenticator::ParseRole(std::string_view role) {
  // WORKER is a domain role (a respondent), not one this server serves yet:
  // refusing it here keeps it from ever reaching the policy.
  for (domain::Role r : {domain::Role::kExpert, domain::Role::kEmployer, domain::Role::kAuditor,
                         domain::Role::kAdmin}) {
    if (role == access::RoleName(r)) return r;
  }
  return absl::UnauthenticatedError(absl::StrCat("the role '", std::string(role),
                                                 "' is not served here: use EXPERT, EMPLOYER, "
                                                 "AUDITOR or ADMIN"));
}

[[nodiscard]] absl::StatusOr<absl::flat_hash_set<std::string>> ParseRevokedSerials(
    std::istream& in) {
  absl::flat_hash_set<std::string> serials;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view s = line;
    s = s.substr(0, s.find('#'));  // "SERIAL  # who, when"
    s = absl::StripAsciiWhitespace(s);
    if (s.empty()) continue;
    std::string upper = absl::AsciiStrToUpper(s);
    // Accept "01:A2:..." as well as "01A2...", and leading zeros.
    upper.erase(std::remove(upper.begin(), upper.end(), ':'), upper.end());
    const bool hex =
        !upper.empty() && upper.size() <= 64 && std::all_of(upper.begin(), upper.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
        });
    if (!hex) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, " is not a hexadecimal serial number"));
    }
    upper.erase(0, std::min(upper.find_first_not_of('0'), upper.size() - 1));
    serials.insert(upper);
  }
  if (in.bad()) return absl::DataLossError("reading it failed");
  return serials;
}

[[nodiscard]] absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const AuthConfig& config) {
  std::unique_ptr<Authenticator> auth(new Authenticator(config));
  if (config.dev) return auth;
  if (FILE* f = fopen(config.client_ca_file.c_str(), "r")) {
    fclose(f);
  } else {
    return absl::NotFoundError(
        absl::StrCat("cannot read the client CA certificate(s) '", config.client_ca_file, "'"));
  }
  auth->ca_ = std::make_unique<CaStore>();
  auth->ca_->store = X509_STORE_new();
  if (auth->ca_->store == nullptr ||
      X509_STORE_load_file(auth->ca_->store, config.client_ca_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the client CA certificate(s) from '", config.client_ca_file,
                     "': expected a readable PEM file"));
  }
  if (config.revoked_serials.empty()) {
    return absl::FailedPreconditionError(
        "refusing to authenticate without a revocation list: set revoked_serials "
        "(deploy/duurzaam-pki init creates DIR/revoked-serials)");
  }
  {
    // At start the list must be there and well-formed: a server that
    // cannot tell who is revoked does not serve.
    MutexLock lock(&auth->mu_);
    RETURN_IF_ERROR(auth->ReloadRevoked(/*at_start=*/true));
  }
  return auth;
}

[[nodiscard]] absl::StatusOr<domain::Principal> Authenticator::FromMetadata(
    const grpc::ServerContextBase& context) {
  std::optional<std::string> id = Header(context, kPrincipalHeader);
  if (!id || id->empty() || id->size() > 128) {
    return absl::UnauthenticatedError(absl::StrCat("no principal: in dev mode send the '",
                                                   kPrincipalHeader, "' and '", kRoleHeader,
                                                   "' metadata (e.g. expert:jdevries / EXPERT)"));
  }
  auto role = ParseRole(Header(context, kRoleHeader).value_or(""));
  if (!role.ok()) return role.status();
  domain::Principal principal{*id, *role, Header(context, kOrganisationHeader).value_or(""),
                              Header(context, kViaHeader).value_or("")};
  if (principal.role == domain::Role::kEmployer && principal.organisation.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("an EMPLOYER principal names its organisation in '", kOrganisationHeader,
                     "' (the employer id)"));
  }
  return principal;
}

[[nodiscard]] absl::StatusOr<Authenticator::Verified> Authenticator::Verify(
    const std::string& pem) const {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (cert == nullptr) return absl::UnauthenticatedError("the client certificate cannot be parsed");
  std::unique_ptr<X509, decltype(&X509_free)> owned(cert, X509_free);

  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), ca_->store, cert, nullptr) != 1) {
    return absl::InternalError("cannot set up certificate verification");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    std::string why = X509_verify_cert_error_string(error);
    if (error == X509_V_ERR_CERT_HAS_EXPIRED) {
      why = "the client certificate has expired; ask for a new one";
    } else if (error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
               error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
               error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
               error == X509_V_ERR_CERT_SIGNATURE_FAILURE) {
      why = "the client certificate is not issued by this deployment's client CA";
    } else if (error == X509_V_ERR_INVALID_PURPOSE) {
      why = "the certificate is not meant for TLS clients (no clientAuth key usage)";
    }
    return absl::UnauthenticatedError(absl::StrCat("certificate refused: ", why));
  }

  // A client certificate that can issue certificates would let its holder
  // mint identities; the deployment CA never issues one.
  if ((X509_get_extension_flags(cert) & EXFLAG_CA) != 0) {
    return absl::UnauthenticatedError(
        "certificate refused: it is a CA certificate (CA:TRUE), not a client certificate");
  }
  Verified v;
  X509_NAME* subject = X509_get_subject_name(cert);
  ASSIGN_OR_RETURN(std::optional<std::string> name,
                   SubjectField(subject, NID_commonName, "name (CN)"));
  ASSIGN_OR_RETURN(std::optional<std::string> role_name,
                   SubjectField(subject, NID_organizationalUnitName, "role (OU)"));
  ASSIGN_OR_RETURN(std::optional<std::string> organisation,
                   SubjectField(subject, NID_organizationName, "organisation (O)"));
  if (!name || !domain::IsPrincipalName(*name)) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate refused: its name (subject CN) '", name.value_or(""),
                     "' must be 1 to 64 of a-z, 0-9, '-', '.', '_' and '@'"));
  }
  const bool portal = role_name.value_or("") == kPortalRole;
  auto role = portal ? absl::StatusOr<domain::Role>(domain::Role::kEmployer)
                     : ParseRole(role_name.value_or(""));
  if (!role.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate refused: its role (subject OU) '", role_name.value_or(""),
                     "' is not one of EXPERT, EMPLOYER, AUDITOR, ADMIN, PORTAL"));
  }
  if (portal) {
    // Acts for employer users only, named per call (ActingFor).
    if (organisation && !organisation->empty()) {
      return absl::UnauthenticatedError(
          "certificate refused: a PORTAL certificate names no organisation (subject O); the "
          "organisation comes with each call, from the user's sign-in");
    }
    v.portal = *name;
  }
  v.principal = {absl::StrCat(absl::AsciiStrToLower(access::RoleName(*role)), ":", *name), *role,
                 ""};
  if (*role == domain::Role::kEmployer && !portal) {
    if (!organisation || organisation->empty()) {
      return absl::UnauthenticatedError(
          "certificate refused: an EMPLOYER certificate names its employer id in the subject O");
    }
    if (!domain::IsId(*organisation)) {
      return absl::UnauthenticatedError(
          absl::StrCat("certificate refused: its organisation (subject O) '", *organisation,
                       "' is not an employer id (1 to 64 of a-z, 0-9 and '-')"));
    }
    v.principal.organisation = *organisation;
    // Two organisations may each have a user with the same CN: the id names
    // both, so the access log and the statistics rule tell them apart.
    v.principal.id = absl::StrCat("employer:", *organisation, "/", *name);
  }
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return absl::UnauthenticatedError("certificate refused: unreadable validity period");
  }
  v.not_after = timegm(&tm);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = bn ? BN_bn2hex(bn) : nullptr;
  v.serial = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  // A serial that cannot be read could never match the revocation list.
  if (v.serial.empty() || v.serial[0] == '-') {
    return absl::UnauthenticatedError("certificate refused: its serial number cannot be read");
  }
  return v;
}

[[nodiscard]] absl::Status Authenticator::ReloadRevoked(bool at_start) {
  struct stat st {};
  std::string stamp = "missing";  // or unreadable
  const bool exists = stat(config_.revoked_serials.c_str(), &st) == 0;
  if (exists) {
    stamp = absl::StrCat(st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                         st.st_mtim.tv_nsec, ":", st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
  }
  if (stamp == revoked_stamp_) return absl::OkStatus();
  revoked_stamp_ = stamp;
  absl::StatusOr<absl::flat_hash_set<std::string>> serials;
  std::ifstream in(config_.revoked_serials);
  if (!exists || !in) {
    serials = absl::NotFoundError("it is missing or cannot be read");
  } else {
    serials = ParseRevokedSerials(in);
  }
  if (!serials.ok()) {
    absl::Status why = absl::FailedPreconditionError(absl::StrCat(
        "revocation list '", config_.revoked_serials, "': ", serials.status().message()));
    if (at_start) {
      return absl::FailedPreconditionError(
          absl::StrCat(why.message(),
                       "; refusing to start without a readable revocation list "
                       "(deploy/duurzaam-pki init creates an empty one)"));
    }
    // Never an empty list: the last good one stays in force until the
    // file is fixed.
    LogLine(absl::StrCat("ALERT: ", why.message(), "; keeping the last good list (",
                         revoked_.size(), " serial(s)) until it is fixed"));
    return why;
  }
  revoked_ = *std::move(serials);
  revoked_mtime_ = st.st_mtim.tv_sec;
  LogLine(absl::StrCat("revocation list '", config_.revoked_serials, "': ", revoked_.size(),
                       " serial(s)"));
  return absl::OkStatus();
}

std::vector<std::pair<std::string, uint64_t>> Authenticator::Refusals() const {
  static constexpr const char* kNames[kRefusals] = {"no_certificate", "invalid", "expired",
                                                    "revoked", "portal"};
  std::vector<std::pair<std::string, uint64_t>> out;
  for (int i = 0; i < kRefusals; ++i) {
    out.emplace_back(kNames[i], refusals_[i].load(std::memory_order_relaxed));
  }
  return out;
}

int64_t Authenticator::RevocationListAgeSeconds() {
  if (config_.revoked_serials.empty()) return -1;
  MutexLock lock(&mu_);
  ReloadRevoked(/*at_start=*/false).IgnoreError();  // logged there
  if (revoked_mtime_ < 0) return -1;
  return std::max<int64_t>(0, SystemMicros() / 1000000 - revoked_mtime_);
}

// Reloads the deny list when its file changed. Caller holds mu_.
bool Authenticator::Revoked(const std::string& serial) {
  if (config_.revoked_serials.empty()) return false;
  (void)ReloadRevoked(/*at_start=*/false);  // failures keep the last good list, logged
  std::string key = serial;
  key.erase(0, std::min(key.find_first_not_of('0'), key.size() - (key.empty() ? 0 : 1)));
  return revoked_.contains(key);
}

[[nodiscard]] absl::Status Authenticator::Refuse(const grpc::ServerContextBase& context,
                                                 Refusal reason, absl::Status why) const {
  refusals_[reason].fetch_add(1, std::memory_order_relaxed);
  LogLine(absl::StrCat("refused ", context.peer(), ": ", why.message()));
  return why;
}

[[nodiscard]] absl::StatusOr<domain::Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) {
  if (config_.dev) return FromMetadata(context);
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> pems =
      auth ? auth->FindPropertyValues(kPemCertProperty) : std::vector<grpc::string_ref>{};
  if (pems.empty()) {
    return Refuse(context, kNoCertificate,
                  absl::UnauthenticatedError(
                      "no client certificate: this server authenticates callers with "
                      "mutual TLS; connect with a certificate from the deployment's CA"));
  }
  std::string pem(pems.front().data(), pems.front().size());
  const int64_t now = SystemMicros() / 1000000;
  MutexLock lock(&mu_);
  auto it = cache_.find(pem);
  if (it == cache_.end()) {
    absl::StatusOr<Verified> verified = Verify(pem);
    if (!verified.ok()) {
      const bool expired = absl::StrContains(verified.status().message(), "has expired");
      return Refuse(context, expired ? kExpired : kInvalid, verified.status());
    }
    if (cache_.size() >= kMaxCached) cache_.clear();
    it = cache_.emplace(pem, *std::move(verified)).first;
  }
  const Verified& v = it->second;
  if (now >= v.not_after) {
    cache_.erase(it);
    return Refuse(context, kExpired,
                  absl::UnauthenticatedError(
                      "certificate refused: the client certificate has expired; ask for "
                      "a new one"));
  }
  if (Revoked(v.serial)) {
    return Refuse(context, kRevoked,
                  absl::UnauthenticatedError(absl::StrCat(
                      "certificate refused: serial ", v.serial, " (", v.principal.id,
                      ") has been revoked; ask the administrator for a new certificate")));
  }
  if (!v.portal.empty()) {
    absl::StatusOr<domain::Principal> user = ActingFor(context, v.portal);
    if (!user.ok()) return Refuse(context, kPortal, user.status());
    return user;
  }
  return v.principal;
}

[[nodiscard]] absl::StatusOr<domain::Principal> Authenticator::ActingFor(
    const grpc::ServerContextBase& context, const std::string& portal) {
  const auto& metadata = context.client_metadata();
  if (metadata.count(kOnBehalfOfHeader) > 1 || metadata.count(kOrganisationHeader) > 1) {
    return absl::UnauthenticatedError(
        "the portal names more than one user or organisation in one call: whom it acts for is "
        "ambiguous");
  }
  const std::optional<std::string> user = Header(context, kOnBehalfOfHeader);
  const std::optional<std::string> organisation = Header(context, kOrganisationHeader);
  if (!user || !organisation) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the portal '", portal, "' acts only for a signed-in employer user: send '",
        kOnBehalfOfHeader, "' (the user) and '", kOrganisationHeader, "' (their employer id)"));
  }
  if (!domain::IsPrincipalName(*user)) {
    return absl::UnauthenticatedError(
        absl::StrCat("the user the portal acts for ('", kOnBehalfOfHeader,
                     "') must be 1 to 64 of a-z, 0-9, '-', '.', '_' and '@'"));
  }
  if (!domain::IsId(*organisation)) {
    return absl::UnauthenticatedError(
        absl::StrCat("the organisation the portal asserts ('", kOrganisationHeader,
                     "') is not an employer id (1 to 64 of a-z, 0-9 and '-')"));
  }
  return domain::Principal{absl::StrCat("employer:", *organisation, "/", *user),
                           domain::Role::kEmployer, *organisation, absl::StrCat("portal:", portal)};
}

}  // namespace duurzaam::services
