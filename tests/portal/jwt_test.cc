// The portal's ID-token signature check: tokens signed with real RSA and EC
// keys verify against their JWKS; a flipped byte, another key, "none", an
// HMAC algorithm, a short RSA key or a malformed token never does.
#include "clients/portal/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"

namespace duurzaam::portal {
namespace {

using json = nlohmann::json;

std::string Param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(BN_num_bytes(bn), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

struct Key {
  std::shared_ptr<EVP_PKEY> pkey;
  json jwk;
};

Key Rsa(int bits, const std::string& kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  Key k{std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free), {}};
  k.jwk = {{"kty", "RSA"},
           {"kid", kid},
           {"use", "sig"},
           {"n", Base64Url(Param(key, OSSL_PKEY_PARAM_RSA_N))},
           {"e", Base64Url(Param(key, OSSL_PKEY_PARAM_RSA_E))}};
  return k;
}

Key Ec(const std::string& kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  Key k{std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free), {}};
  unsigned char point[65];
  size_t length = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
  k.jwk = {{"kty", "EC"},
           {"kid", kid},
           {"crv", "P-256"},
           {"x", Base64Url(std::string(reinterpret_cast<char*>(point) + 1, 32))},
           {"y", Base64Url(std::string(reinterpret_cast<char*>(point) + 33, 32))}};
  return k;
}

std::string Sign(const Key& key, const std::string& alg, const json& claims,
                 const std::string& kid) {
  const std::string input = Base64Url(json({{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}).dump()) +
                            "." + Base64Url(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key.pkey.get());
  size_t length = 0;
  EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(length, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &length,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(length);
  EVP_MD_CTX_free(ctx);
  if (alg == "ES256") {  // DER -> r || s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(ecdsa);
    sig = raw;
  }
  return input + "." + Base64Url(sig);
}

JwkSet Set(std::initializer_list<const Key*> keys) {
  json doc = {{"keys", json::array()}};
  for (const Key* k : keys) doc["keys"].push_back(k->jwk);
  absl::StatusOr<JwkSet> set = JwkSet::Parse(doc.dump());
  EXPECT_TRUE(set.ok());
  return *set;
}

const json kClaims = {{"iss", "https://idp.example"}, {"sub", "acme-hr"}, {"employer_id", "acme"}};

TEST(JwtTest, RsaAndEcTokensVerifyAgainstTheirKeys) {
  const Key rsa = Rsa(2048, "r1"), ec = Ec("e1");
  const JwkSet keys = Set({&rsa, &ec});
  EXPECT_EQ(keys.size(), 2u);
  for (const auto& [key, alg, kid] :
       {std::tuple{&rsa, "RS256", "r1"}, std::tuple{&ec, "ES256", "e1"}}) {
    absl::StatusOr<json> claims = VerifyJws(Sign(*key, alg, kClaims, kid), keys);
    ASSERT_TRUE(claims.ok()) << alg << ": " << claims.status();
    EXPECT_EQ((*claims)["employer_id"], "acme");
  }
}

TEST(JwtTest, AnAlteredTokenOrAnotherKeyNeverVerifies) {
  const Key rsa = Rsa(2048, "r1"), other = Rsa(2048, "r1");
  const JwkSet keys = Set({&rsa});
  const std::string token = Sign(rsa, "RS256", kClaims, "r1");
  // Another organisation in the claims, the signature kept.
  json forged = kClaims;
  forged["employer_id"] = "techniek-bv";
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  const std::string swapped =
      token.substr(0, dot1 + 1) + Base64Url(forged.dump()) + token.substr(dot2);
  EXPECT_TRUE(absl::IsUnauthenticated(VerifyJws(swapped, keys).status()));
  // Every single flipped character of the signature.
  for (size_t i = dot2 + 1; i < token.size(); i += 7) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyJws(bad, keys).ok()) << i;
  }
  // Signed by a key with the same kid that is not the provider's.
  EXPECT_FALSE(VerifyJws(Sign(other, "RS256", kClaims, "r1"), keys).ok());
  // No key with that kid.
  EXPECT_FALSE(VerifyJws(Sign(rsa, "RS256", kClaims, "r2"), keys).ok());
}

TEST(JwtTest, WithoutAKidEveryKeyOfTheTypeIsTried) {
  // A provider rolling its keys without kids: the token is signed by the
  // second of its keys.
  const Key first = Rsa(2048, ""), second = Rsa(2048, "");
  const JwkSet keys = Set({&first, &second});
  EXPECT_TRUE(VerifyJws(Sign(second, "RS256", kClaims, ""), keys).ok());
  const Key stranger = Rsa(2048, "");
  EXPECT_FALSE(VerifyJws(Sign(stranger, "RS256", kClaims, ""), keys).ok());
}

TEST(JwtTest, NoneHmacShortKeysAndMalformedTokensAreRefused) {
  const Key rsa = Rsa(2048, "r1");
  const JwkSet keys = Set({&rsa});
  const std::string body = Base64Url(kClaims.dump());
  for (const char* alg : {"none", "HS256", "RS512"}) {
    const std::string token =
        Base64Url(json({{"alg", alg}, {"kid", "r1"}}).dump()) + "." + body + ".";
    absl::StatusOr<json> claims = VerifyJws(token, keys);
    EXPECT_TRUE(absl::IsUnauthenticated(claims.status())) << alg;
  }
  for (const char* token : {"", "a.b", "a.b.c.d", "!!!.###.$$$"}) {
    EXPECT_FALSE(VerifyJws(token, keys).ok()) << token;
  }
  // A 1024-bit RSA key is not taken into the set at all.
  const Key weak = Rsa(1024, "w1");
  EXPECT_EQ(Set({&weak}).size(), 0u);
  EXPECT_FALSE(JwkSet::Parse("not json").ok());
  EXPECT_FALSE(JwkSet::Parse("{\"nokeys\": 1}").ok());
}

}  // namespace
}  // namespace duurzaam::portal
