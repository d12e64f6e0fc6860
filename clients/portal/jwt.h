// Verifying a signed JSON Web Token (RFC 7515 compact JWS, RFC 7519 claims)
// against a JSON Web Key Set (RFC 7517), with OpenSSL: what the portal needs
// to trust an OpenID Connect ID token. RS256, PS256 and ES256 only ("none"
// and the HMAC algorithms are refused: a client secret must never sign an ID
// token the portal accepts).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace duurzaam::portal {

// One public key of a JWKS.
struct Jwk {
  std::string kid;
  std::string kty;  // "RSA" or "EC"
  std::string alg;  // may be empty (then any algorithm of its type)
  std::shared_ptr<EVP_PKEY> key;
};

class JwkSet {
 public:
  // The usable signing keys of a JWKS document ({"keys": [...]}); keys of
  // other types or uses are skipped. INVALID_ARGUMENT when it is not a JWKS.
  [[nodiscard]] static absl::StatusOr<JwkSet> Parse(std::string_view json);
  // The keys that fit a token header's kid and alg (every key of the
  // algorithm's type when the header names no kid).
  std::vector<const Jwk*> Find(const std::string& kid, const std::string& alg) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// The claims of `token` once its signature verifies under a key of `keys`
// (chosen by the header's kid and alg). UNAUTHENTICATED naming what is wrong
// otherwise (malformed, an algorithm not allowed, no such key, a bad
// signature). The claims themselves (iss, aud, exp, nonce) are the caller's
// to check.
[[nodiscard]] absl::StatusOr<nlohmann::json> VerifyJws(std::string_view token, const JwkSet& keys);

// Base64url without padding (RFC 7515 appendix C).
std::string Base64Url(std::string_view bytes);

}  // namespace duurzaam::portal
