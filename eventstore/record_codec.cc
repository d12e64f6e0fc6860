#include "eventstore/record_codec.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace duurzaam::eventstore::internal {
namespace {

constexpr char kHashDomain[] = "duurzaam.log.v1";

void PutFixed64BE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

uint64_t GetFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      // Only the one encoding PutVarint writes: no overlong form (a last
      // byte of zero) and nothing past 64 bits. A record decodes from
      // exactly one byte string, so its hash and Merkle leaf, computed from
      // the decoded fields, always cover the bytes stored.
      if ((byte == 0 && shift > 0) || (shift == 63 && byte > 1)) return false;
      *v = result;
      return true;
    }
  }
  return false;
}

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetBytes(std::string_view* in, std::string_view* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

bool GetFixed(std::string_view* in, size_t n, std::string_view* s) {
  if (in->size() < n) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string PositionKey(uint64_t position) {
  std::string key;
  key.reserve(8);
  PutFixed64BE(&key, position);
  return key;
}

uint64_t DecodePosition(std::string_view key) {
  return key.size() < 8 ? 0 : GetFixed64BE(key.data());
}

std::string StreamKeyPrefix(std::string_view stream) {
  std::string key(stream);
  key.push_back('\0');
  return key;
}

std::string StreamKey(std::string_view stream, Revision revision) {
  std::string key = StreamKeyPrefix(stream);
  PutFixed64BE(&key, static_cast<uint64_t>(revision));
  return key;
}

std::string EncodeRecordBody(std::string_view stream, Revision revision, const EventId& id,
                             std::string_view type, int64_t recorded_at_micros,
                             std::string_view data, std::string_view metadata) {
  std::string out;
  out.reserve(1 + 2 + stream.size() + 8 + 16 + 2 + type.size() + 8 + 4 + data.size() + 4 +
              metadata.size() + kHashSize);
  out.push_back(static_cast<char>(kRecordFormat));
  PutBytes(&out, stream);
  PutFixed64BE(&out, static_cast<uint64_t>(revision));
  out.append(id.Bytes());
  PutBytes(&out, type);
  PutFixed64BE(&out, static_cast<uint64_t>(recorded_at_micros));
  PutBytes(&out, data);
  PutBytes(&out, metadata);
  return out;
}

std::optional<Hash> ChainHash(uint64_t position, const Hash& previous, std::string_view body) {
  // The digest is fetched once; each thread reuses its own context.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  std::string pos;
  PutFixed64BE(&pos, position);
  Hash out{};
  unsigned int length = 0;
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), kHashDomain, sizeof(kHashDomain) - 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), pos.data(), pos.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), previous.data(), previous.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), body.data(), body.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1 || length != out.size()) {
    return std::nullopt;
  }
  return out;
}

bool DecodeRecord(std::string_view value, uint64_t position, EventView* out) {
  if (value.size() < 1 + kHashSize || static_cast<uint8_t>(value[0]) != kRecordFormat) {
    return false;
  }
  std::string_view in = value.substr(1, value.size() - 1 - kHashSize);
  std::string_view revision, recorded_at;
  if (!GetBytes(&in, &out->stream) || !GetFixed(&in, 8, &revision) ||
      !GetFixed(&in, 16, &out->id_bytes) || !GetBytes(&in, &out->type) ||
      !GetFixed(&in, 8, &recorded_at) || !GetBytes(&in, &out->data) ||
      !GetBytes(&in, &out->metadata) || !in.empty()) {
    return false;
  }
  out->revision = static_cast<Revision>(GetFixed64BE(revision.data()));
  out->recorded_at_micros = static_cast<int64_t>(GetFixed64BE(recorded_at.data()));
  out->position = position;
  out->hash = value.substr(value.size() - kHashSize);
  return true;
}

std::string_view RecordBody(std::string_view value) {
  return value.size() < kHashSize ? std::string_view() : value.substr(0, value.size() - kHashSize);
}

Hash HashFromBytes(std::string_view bytes) {
  Hash h{};
  if (bytes.size() == h.size()) std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

std::string_view HashBytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

}  // namespace duurzaam::eventstore::internal
