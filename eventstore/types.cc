#include "eventstore/types.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/hex.h"

namespace duurzaam::eventstore {

[[nodiscard]] absl::StatusOr<EventId> EventId::Parse(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text.substr(0, 64)),
                     "' is not a UUID in canonical form (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"));
  }
  // Hex digits at exactly the 32 positions between the four dashes.
  std::array<uint8_t, 16> bytes{};
  size_t out = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    if (i == 8 || i == 13 || i == 18 || i == 23) ++i;  // skip the dash
    int hi = HexDigitValue(text[i]);
    int lo = HexDigitValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(text), "' is not a UUID: non-hex character"));
    }
    bytes[out++] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return EventId(bytes);
}

EventId EventId::FromBytes(std::string_view raw) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), raw.data(), std::min(bytes.size(), raw.size()));
  return EventId(bytes);
}

EventId EventId::Random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return EventId(bytes);
}

EventId EventId::FromName(std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(name.data(), name.size(), digest, &length, EVP_sha256(), nullptr);
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 16; ++i) bytes[i] = digest[i];
  bytes[6] = (bytes[6] & 0x0f) | 0x50;  // version 5 style
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return EventId(bytes);
}

std::string EventId::ToString() const {
  std::string out(kChars, '\0');
  FormatTo(out.data());
  return out;
}

void EventId::FormatTo(char* p) const {
  static constexpr char kHex[] = "0123456789abcdef";
  // Two characters per byte from one table lookup.
  static constexpr auto kPairs = [] {
    std::array<char, 512> pairs{};
    for (size_t b = 0; b < 256; ++b) {
      pairs[2 * b] = kHex[b >> 4];
      pairs[2 * b + 1] = kHex[b & 0xf];
    }
    return pairs;
  }();
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    std::memcpy(p, &kPairs[2 * bytes_[i]], 2);
    p += 2;
  }
}

bool EventId::IsNil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

bool Expectation::Matches(Revision current) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return current == kNoStream;
    case Kind::kStreamExists:
      return current != kNoStream;
    case Kind::kExact:
      return current == revision;
  }
  return false;
}

std::string Expectation::ToString() const {
  switch (kind) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return absl::StrCat("revision ", revision);
  }
  return "?";
}

bool LogFilter::Matches(std::string_view stream, std::string_view type) const {
  if (!stream_prefixes.empty()) {
    bool any = false;
    for (const std::string& p : stream_prefixes) {
      if (stream.substr(0, p.size()) == p) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!event_types.empty()) {
    for (const std::string& t : event_types) {
      if (type == t) return true;
    }
    return false;
  }
  return true;
}

RecordedEvent EventView::ToOwned() const {
  RecordedEvent e;
  e.stream = std::string(stream);
  e.revision = revision;
  e.position = position;
  e.id = EventId::FromBytes(id_bytes);
  e.type = std::string(type);
  e.recorded_at_micros = recorded_at_micros;
  e.data = std::string(data);
  e.metadata = std::string(metadata);
  for (size_t i = 0; i < e.hash.size() && i < hash.size(); ++i) e.hash[i] = hash[i];
  return e;
}

void EventViewBuffer::Clear() {
  bytes_.clear();
  events_.clear();
}

void EventViewBuffer::Add(const EventView& e) {
  Copied c{bytes_.size(),
           static_cast<uint32_t>(e.stream.size()),
           static_cast<uint32_t>(e.id_bytes.size()),
           static_cast<uint32_t>(e.type.size()),
           static_cast<uint32_t>(e.data.size()),
           static_cast<uint32_t>(e.metadata.size()),
           static_cast<uint32_t>(e.hash.size()),
           e.revision,
           e.position,
           e.recorded_at_micros};
  for (std::string_view part : {e.stream, e.id_bytes, e.type, e.data, e.metadata, e.hash}) {
    bytes_.append(part.data(), part.size());
  }
  events_.push_back(c);
}

EventView EventViewBuffer::at(size_t i) const {
  const Copied& c = events_[i];
  std::string_view all(bytes_);
  size_t at = c.at;
  auto take = [&](uint32_t n) {
    std::string_view part = all.substr(at, n);
    at += n;
    return part;
  };
  EventView v;
  v.stream = take(c.stream);
  v.id_bytes = take(c.id);
  v.type = take(c.type);
  v.data = take(c.data);
  v.metadata = take(c.metadata);
  v.hash = take(c.hash);
  v.revision = c.revision;
  v.position = c.position;
  v.recorded_at_micros = c.recorded_at_micros;
  return v;
}

}  // namespace duurzaam::eventstore
