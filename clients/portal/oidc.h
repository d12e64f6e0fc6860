// The portal as an OpenID Connect relying party (OpenID Connect Core 1.0,
// authorization code flow with PKCE, RFC 7636): a confidential client that
// keeps every token on the server; the browser only ever holds a session
// cookie (OAuth 2.0 for Browser-Based Applications, the backend-for-frontend
// pattern). In the Netherlands the provider is an eHerkenning broker.
//
// Which organisation a user acts for comes from one configured claim of
// the verified ID token (e.g. "employer_id"), never from the page; which
// user from another ("email" or "sub"), lower-cased. A user without a
// usable organisation cannot sign in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/portal/jwt.h"
#include "common/mutex.h"

namespace duurzaam::portal {

struct OidcConfig {
  // The provider's issuer identifier, exactly as it names itself (https).
  std::string issuer;
  std::string client_id;
  std::string client_secret;
  // Where the provider sends the browser back: <public url>/auth/callback.
  std::string redirect_uri;
  // Where the provider sends the browser after signing out there.
  std::string post_logout_redirect_uri;
  // PEM file of the CA(s) the provider's TLS certificate is checked
  // against; empty: the system's.
  std::string ca_file;
  std::string scopes = "openid profile email";
  // The assurance levels accepted (e.g. eHerkenning's EH3 and up, as the
  // broker names them), space-separated: asked for as acr_values and
  // required of the ID token's "acr". Empty: no level asked or checked
  // (the demo provider has none).
  std::string acr_values;
  std::string organisation_claim = "employer_id";
  std::string user_claim = "email";
  // Clock skew allowed on exp, iat and nbf.
  int64_t leeway_seconds = 60;
};

// A sign-in on its way: kept by the portal (never the browser) until the
// provider sends the browser back.
struct PendingLogin {
  std::string state;          // random; the browser brings it back
  std::string nonce;          // random; must come back inside the ID token
  std::string code_verifier;  // PKCE
  std::string url;            // where to send the browser
};

// Who signed in.
struct SignedIn {
  std::string user;          // a principal name (1..64 of a-z 0-9 - . _ @)
  std::string organisation;  // an employer id
  std::string display_name;  // the "name" claim, or the user
  std::string id_token;      // kept for signing out at the provider
};

class OidcClient {
 public:
  explicit OidcClient(OidcConfig config) : config_(std::move(config)) {}

  // A new sign-in: its state, nonce, PKCE verifier and the provider URL to
  // send the browser to. UNAVAILABLE when the provider cannot be reached.
  [[nodiscard]] absl::StatusOr<PendingLogin> Begin();

  // Redeems the authorization `code` for the sign-in it answers: the token
  // request (client_secret_basic, the PKCE verifier), then the ID token's
  // signature (the provider's JWKS), issuer, audience, expiry and nonce,
  // then the user and organisation claims. UNAUTHENTICATED saying what is
  // wrong; UNAVAILABLE when the provider cannot be reached.
  [[nodiscard]] absl::StatusOr<SignedIn> Finish(const std::string& code,
                                                const PendingLogin& pending, int64_t now_seconds);

  // Where to send the browser to sign out at the provider too (RP-initiated
  // logout); empty when the provider offers none.
  std::string LogoutUrl(const std::string& id_token);

  // The provider's origin (scheme://host[:port]) and, once discovered, its
  // sign-out endpoint's: where a form's redirect may lead.
  std::string FormOrigins();

 private:
  struct Metadata {
    std::string authorization_endpoint, token_endpoint, jwks_uri, end_session_endpoint;
  };
  [[nodiscard]] absl::StatusOr<Metadata> Discover();
  [[nodiscard]] absl::StatusOr<JwkSet> Keys(bool refresh);
  [[nodiscard]] absl::StatusOr<SignedIn> Check(const nlohmann::json& claims,
                                               const PendingLogin& pending, int64_t now_seconds);

  const OidcConfig config_;
  Mutex mu_;
  std::unique_ptr<Metadata> metadata_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<JwkSet> keys_ ABSL_GUARDED_BY(mu_);
  int64_t keys_read_at_ ABSL_GUARDED_BY(mu_) = 0;  // seconds
};

// Splits "https://host:port/path?query" into origin and path (with query).
struct Url {
  std::string origin;  // "https://host:port"
  std::string path;    // "/path?query" ("/" when empty)
};
[[nodiscard]] absl::StatusOr<Url> ParseUrl(const std::string& url);

// application/x-www-form-urlencoded / query component encoding.
std::string UrlEncode(std::string_view s);

}  // namespace duurzaam::portal
