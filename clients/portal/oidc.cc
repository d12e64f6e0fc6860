#include "clients/portal/oidc.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "domain/events.h"
#include "domain/validation.h"

namespace duurzaam::portal {
namespace {

using json = nlohmann::json;

std::string RandomToken(size_t bytes = 32) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return "";
  }
  return Base64Url(raw);
}

std::string Sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::unique_ptr<httplib::Client> ClientFor(const std::string& origin, const std::string& ca_file) {
  auto client = std::make_unique<httplib::Client>(origin);
  client->enable_server_certificate_verification(true);
  if (!ca_file.empty()) client->set_ca_cert_path(ca_file.c_str());
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(10, 0);
  client->set_write_timeout(10, 0);
  client->set_follow_location(false);
  return client;
}

absl::Status Unreachable(const std::string& what, const httplib::Result& result) {
  return absl::UnavailableError(absl::StrCat(
      "the sign-in provider cannot be reached (", what, ": ",
      result ? absl::StrCat("HTTP ", result->status) : httplib::to_string(result.error()), ")"));
}

absl::StatusOr<json> GetJson(const std::string& url, const std::string& ca_file,
                             const std::string& what) {
  absl::StatusOr<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  auto client = ClientFor(parsed->origin, ca_file);
  httplib::Result result = client->Get(parsed->path.c_str());
  if (!result || result->status != 200) return Unreachable(what, result);
  json doc = json::parse(result->body, nullptr, false);
  if (!doc.is_object()) {
    return absl::UnavailableError(absl::StrCat("the sign-in provider's ", what, " is not JSON"));
  }
  return doc;
}

std::string Str(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<Url> ParseUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.substr(0, scheme) != "https" && url.substr(0, scheme) != "http")) {
    return absl::InvalidArgumentError(absl::StrCat("'", url, "' is not an http(s) URL"));
  }
  const size_t path = url.find('/', scheme + 3);
  if (path == std::string::npos) return Url{url, "/"};
  return Url{url.substr(0, path), url.substr(path)};
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string OidcClient::FormOrigins() {
  absl::StatusOr<Url> issuer = ParseUrl(config_.issuer);
  std::string out = issuer.ok() ? issuer->origin : "";
  MutexLock lock(&mu_);
  if (metadata_ && !metadata_->end_session_endpoint.empty()) {
    absl::StatusOr<Url> logout = ParseUrl(metadata_->end_session_endpoint);
    if (logout.ok() && logout->origin != out) absl::StrAppend(&out, " ", logout->origin);
  }
  return out;
}

absl::StatusOr<OidcClient::Metadata> OidcClient::Discover() {
  {
    MutexLock lock(&mu_);
    if (metadata_) return *metadata_;
  }
  std::string issuer = config_.issuer;
  if (absl::EndsWith(issuer, "/")) issuer.pop_back();
  absl::StatusOr<json> doc =
      GetJson(issuer + "/.well-known/openid-configuration", config_.ca_file, "discovery document");
  if (!doc.ok()) return doc.status();
  if (Str(*doc, "issuer") != config_.issuer) {
    return absl::FailedPreconditionError(
        absl::StrCat("the sign-in provider names itself '", Str(*doc, "issuer"),
                     "', not the configured issuer '", config_.issuer, "': refusing it"));
  }
  Metadata m{Str(*doc, "authorization_endpoint"), Str(*doc, "token_endpoint"),
             Str(*doc, "jwks_uri"), Str(*doc, "end_session_endpoint")};
  for (const std::string* endpoint : {&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri}) {
    if (!absl::StartsWith(*endpoint, "https://")) {
      return absl::FailedPreconditionError(
          "the sign-in provider's discovery document lacks an https authorization, token or JWKS "
          "endpoint");
    }
  }
  MutexLock lock(&mu_);
  metadata_ = std::make_unique<Metadata>(m);
  return m;
}

absl::StatusOr<JwkSet> OidcClient::Keys(bool refresh) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  {
    MutexLock lock(&mu_);
    // Read again on request (a token no key verifies: the provider may have
    // rolled its keys), at most once a minute, and at least every hour (a
    // key the provider withdrew is not trusted for long).
    const bool stale = now - keys_read_at_ > 3600;
    if (keys_ && !stale && (!refresh || now - keys_read_at_ < 60)) return *keys_;
  }
  absl::StatusOr<Metadata> m = Discover();
  if (!m.ok()) return m.status();
  absl::StatusOr<json> doc = GetJson(m->jwks_uri, config_.ca_file, "key set");
  if (!doc.ok()) return doc.status();
  absl::StatusOr<JwkSet> keys = JwkSet::Parse(doc->dump());
  if (!keys.ok()) return keys.status();
  MutexLock lock(&mu_);
  keys_ = std::make_unique<JwkSet>(*keys);
  keys_read_at_ = now;
  return *keys;
}

absl::StatusOr<PendingLogin> OidcClient::Begin() {
  absl::StatusOr<Metadata> m = Discover();
  if (!m.ok()) return m.status();
  PendingLogin login{RandomToken(), RandomToken(), RandomToken(), ""};
  if (login.state.empty() || login.nonce.empty() || login.code_verifier.empty()) {
    return absl::InternalError("the random generator failed");
  }
  const std::string challenge = Base64Url(Sha256(login.code_verifier));
  login.url = absl::StrCat(
      m->authorization_endpoint, absl::StrContains(m->authorization_endpoint, "?") ? "&" : "?",
      "response_type=code&client_id=", UrlEncode(config_.client_id),
      "&redirect_uri=", UrlEncode(config_.redirect_uri), "&scope=", UrlEncode(config_.scopes),
      "&state=", login.state, "&nonce=", login.nonce, "&code_challenge=", challenge,
      "&code_challenge_method=S256",
      config_.acr_values.empty() ? "" : "&acr_values=" + UrlEncode(config_.acr_values));
  return login;
}

absl::StatusOr<SignedIn> OidcClient::Finish(const std::string& code, const PendingLogin& pending,
                                            int64_t now_seconds) {
  absl::StatusOr<Metadata> m = Discover();
  if (!m.ok()) return m.status();
  absl::StatusOr<Url> token_url = ParseUrl(m->token_endpoint);
  if (!token_url.ok()) return token_url.status();
  auto client = ClientFor(token_url->origin, config_.ca_file);
  client->set_basic_auth(config_.client_id.c_str(), config_.client_secret.c_str());
  httplib::Params params{{"grant_type", "authorization_code"},
                         {"code", code},
                         {"redirect_uri", config_.redirect_uri},
                         {"code_verifier", pending.code_verifier}};
  httplib::Result result = client->Post(token_url->path.c_str(), params);
  if (!result) return Unreachable("token request", result);
  json answer = json::parse(result->body, nullptr, false);
  if (result->status != 200 || !answer.is_object()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the sign-in provider refused to redeem the code (HTTP ", result->status,
        answer.is_object() && !Str(answer, "error").empty() ? ": " + Str(answer, "error") : "",
        ")"));
  }
  const std::string id_token = Str(answer, "id_token");
  if (id_token.empty()) return absl::UnauthenticatedError("the provider sent no ID token");
  absl::StatusOr<JwkSet> keys = Keys(/*refresh=*/false);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<json> claims = VerifyJws(id_token, *keys);
  if (absl::IsUnauthenticated(claims.status())) {
    // The provider may have rolled its keys: read them once more.
    keys = Keys(/*refresh=*/true);
    if (!keys.ok()) return keys.status();
    claims = VerifyJws(id_token, *keys);
  }
  if (!claims.ok()) return claims.status();
  absl::StatusOr<SignedIn> in = Check(*claims, pending, now_seconds);
  if (!in.ok()) return in.status();
  in->id_token = id_token;
  return in;
}

absl::StatusOr<SignedIn> OidcClient::Check(const json& claims, const PendingLogin& pending,
                                           int64_t now) {
  auto refuse = [](std::string why) { return absl::UnauthenticatedError(std::move(why)); };
  if (Str(claims, "iss") != config_.issuer) return refuse("the ID token comes from another issuer");
  const json aud = claims.value("aud", json());
  const bool audience =
      (aud.is_string() && aud.get<std::string>() == config_.client_id) ||
      (aud.is_array() && std::find(aud.begin(), aud.end(), config_.client_id) != aud.end());
  if (!audience) return refuse("the ID token is not meant for this portal (aud)");
  if (aud.is_array() && aud.size() > 1 && Str(claims, "azp") != config_.client_id) {
    return refuse("the ID token names another authorized party (azp)");
  }
  if (!claims.contains("exp") || !claims["exp"].is_number() ||
      claims["exp"].get<int64_t>() + config_.leeway_seconds < now) {
    return refuse("the ID token has expired");
  }
  if (claims.contains("iat") && claims["iat"].is_number() &&
      claims["iat"].get<int64_t>() > now + config_.leeway_seconds) {
    return refuse("the ID token was issued in the future: check the clocks");
  }
  if (claims.contains("nbf") && claims["nbf"].is_number() &&
      claims["nbf"].get<int64_t>() > now + config_.leeway_seconds) {
    return refuse("the ID token is not valid yet");
  }
  if (Str(claims, "nonce") != pending.nonce) return refuse("the ID token answers another sign-in");
  if (!config_.acr_values.empty()) {
    const std::string acr = Str(claims, "acr");
    bool accepted = false;
    for (absl::string_view level : absl::StrSplit(config_.acr_values, ' ', absl::SkipEmpty())) {
      accepted = accepted || (!acr.empty() && acr == level);
    }
    if (!accepted) {
      return refuse(absl::StrCat("the sign-in's assurance level ('", acr,
                                 "') is not one this portal accepts (", config_.acr_values, ")"));
    }
  }
  if (config_.user_claim == "email" &&
      !(claims.contains("email_verified") && claims["email_verified"].is_boolean() &&
        claims["email_verified"].get<bool>())) {
    return refuse("the account's email address is not verified by the provider");
  }
  std::string user = absl::AsciiStrToLower(Str(claims, config_.user_claim.c_str()));
  if (!domain::IsPrincipalName(user)) {
    return refuse(absl::StrCat("the account's '", config_.user_claim,
                               "' cannot name a user here (1 to 64 of a-z, 0-9, - . _ @)"));
  }
  const std::string organisation = Str(claims, config_.organisation_claim.c_str());
  if (!domain::IsId(organisation)) {
    return refuse(absl::StrCat("the account names no employer organisation ('",
                               config_.organisation_claim, "')"));
  }
  std::string name = Str(claims, "name");
  if (name.empty()) name = user;
  return SignedIn{user, organisation, name, ""};
}

std::string OidcClient::LogoutUrl(const std::string& id_token) {
  absl::StatusOr<Metadata> m = Discover();
  if (!m.ok() || m->end_session_endpoint.empty()) return "";
  return absl::StrCat(m->end_session_endpoint,
                      absl::StrContains(m->end_session_endpoint, "?") ? "&" : "?",
                      "id_token_hint=", UrlEncode(id_token),
                      "&post_logout_redirect_uri=", UrlEncode(config_.post_logout_redirect_uri),
                      "&client_id=", UrlEncode(config_.client_id));
}

}  // namespace duurzaam::portal
