#include "clients/portal/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace duurzaam::portal {
namespace {

using json = nlohmann::json;

absl::StatusOr<std::string> FromBase64Url(std::string_view s, const char* what) {
  std::string out;
  if (!absl::WebSafeBase64Unescape(absl::string_view(s.data(), s.size()), &out)) {
    return absl::UnauthenticatedError(absl::StrCat("the token's ", what, " is not base64url"));
  }
  return out;
}

std::string Member(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

using ParamBuild = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using Bignum = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

std::shared_ptr<EVP_PKEY> FromData(const char* type, OSSL_PARAM* params) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> RsaKey(const json& jwk) {
  absl::StatusOr<std::string> n = FromBase64Url(Member(jwk, "n"), "key modulus");
  absl::StatusOr<std::string> e = FromBase64Url(Member(jwk, "e"), "key exponent");
  if (!n.ok() || !e.ok() || n->size() < 256) return nullptr;  // RSA below 2048 bits: refused
  Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                        static_cast<int>(n->size()), nullptr),
              BN_free);
  Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                        static_cast<int>(e->size()), nullptr),
              BN_free);
  ParamBuild build(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return nullptr;
  }
  Params params(OSSL_PARAM_BLD_to_param(build.get()), OSSL_PARAM_free);
  return params ? FromData("RSA", params.get()) : nullptr;
}

std::shared_ptr<EVP_PKEY> EcKey(const json& jwk) {
  if (Member(jwk, "crv") != "P-256") return nullptr;
  absl::StatusOr<std::string> x = FromBase64Url(Member(jwk, "x"), "key x");
  absl::StatusOr<std::string> y = FromBase64Url(Member(jwk, "y"), "key y");
  if (!x.ok() || !y.ok() || x->size() != 32 || y->size() != 32) return nullptr;
  const std::string point = std::string(1, '\x04') + *x + *y;  // uncompressed
  ParamBuild build(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  Params params(OSSL_PARAM_BLD_to_param(build.get()), OSSL_PARAM_free);
  return params ? FromData("EC", params.get()) : nullptr;
}

// ES256's signature is r || s (32 bytes each); OpenSSL verifies DER.
absl::StatusOr<std::string> EcdsaDer(const std::string& raw) {
  if (raw.size() != 64) return absl::UnauthenticatedError("an ES256 signature is 64 bytes");
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return absl::InternalError("cannot read an ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return absl::InternalError("cannot encode an ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string Base64Url(std::string_view bytes) {
  return absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<JwkSet> JwkSet::Parse(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return absl::InvalidArgumentError("the provider's JWKS is not a JSON object with \"keys\"");
  }
  JwkSet set;
  for (const json& jwk : doc["keys"]) {
    if (!jwk.is_object()) continue;
    const std::string use = Member(jwk, "use");
    if (!use.empty() && use != "sig") continue;
    Jwk key{Member(jwk, "kid"), Member(jwk, "kty"), Member(jwk, "alg"), nullptr};
    if (key.kty == "RSA") key.key = RsaKey(jwk);
    if (key.kty == "EC") key.key = EcKey(jwk);
    if (key.key) set.keys_.push_back(std::move(key));
  }
  return set;
}

std::vector<const Jwk*> JwkSet::Find(const std::string& kid, const std::string& alg) const {
  const std::string kty = alg == "ES256" ? "EC" : "RSA";
  std::vector<const Jwk*> out;
  for (const Jwk& k : keys_) {
    if (k.kty != kty || (!k.alg.empty() && k.alg != alg)) continue;
    if (!kid.empty() && k.kid != kid) continue;
    out.push_back(&k);
  }
  return out;
}

absl::StatusOr<json> VerifyJws(std::string_view token, const JwkSet& keys) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t dot = token.find('.', at);
    parts.push_back(token.substr(at, dot == std::string_view::npos ? dot : dot - at));
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  if (parts.size() != 3) return absl::UnauthenticatedError("the token is not a signed JWT");
  absl::StatusOr<std::string> header_bytes = FromBase64Url(parts[0], "header");
  if (!header_bytes.ok()) return header_bytes.status();
  const json header = json::parse(*header_bytes, nullptr, false);
  if (!header.is_object()) return absl::UnauthenticatedError("the token's header is not JSON");
  const std::string alg = Member(header, "alg");
  const EVP_MD* digest = EVP_sha256();
  if (alg != "RS256" && alg != "PS256" && alg != "ES256") {
    return absl::UnauthenticatedError(absl::StrCat("the token is signed with '", alg,
                                                   "'; only RS256, PS256 and ES256 are accepted"));
  }
  const std::vector<const Jwk*> candidates = keys.Find(Member(header, "kid"), alg);
  if (candidates.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("no key of the provider fits the token (kid '",
                                                   Member(header, "kid"), "', ", alg, ")"));
  }
  absl::StatusOr<std::string> signature = FromBase64Url(parts[2], "signature");
  if (!signature.ok()) return signature.status();
  if (alg == "ES256") {
    absl::StatusOr<std::string> der = EcdsaDer(*signature);
    if (!der.ok()) return der.status();
    signature = *std::move(der);
  }
  const std::string signed_part =
      std::string(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  bool ok = false;
  for (const Jwk* key : candidates) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pkey_ctx = nullptr;
    bool good =
        ctx && EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, digest, nullptr, key->key.get()) == 1;
    if (good && alg == "PS256") {
      good = EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    ok = good && EVP_DigestVerify(
                     ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                     signature->size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                     signed_part.size()) == 1;
    if (ok) break;
  }
  if (!ok) return absl::UnauthenticatedError("the token's signature does not verify");
  absl::StatusOr<std::string> payload = FromBase64Url(parts[1], "payload");
  if (!payload.ok()) return payload.status();
  json claims = json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return absl::UnauthenticatedError("the token's claims are not JSON");
  return claims;
}

}  // namespace duurzaam::portal
