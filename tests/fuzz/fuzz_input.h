// Reading structured values out of a fuzzer's bytes, never past the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duurzaam::fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return v;
  }
  // A piece of at most `max` bytes, its length from the next byte (two
  // bytes when `max` is above 255).
  std::string_view Piece(size_t max = 255) {
    size_t length = Byte();
    if (max > 255) length = (length << 8) | Byte();
    const size_t n = std::min<size_t>({length, max, rest_.size()});
    std::string_view piece = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return piece;
  }
  std::string_view Rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace duurzaam::fuzz
