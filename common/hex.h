// Hex digits, shared by the modules that parse hex text (event ids, key
// files). Encoding is absl::BytesToHexString.
#pragma once

namespace duurzaam {

// The value of a hex digit (either case), or -1 if `c` is not one.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace duurzaam
