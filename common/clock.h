// The system clock, in one place. The domain never calls it: services read
// it at the edge ("today", recorded-at) and pass the value inward.
#pragma once

#include <chrono>
#include <cstdint>

namespace duurzaam {

// Microseconds since the Unix epoch.
inline int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace duurzaam
