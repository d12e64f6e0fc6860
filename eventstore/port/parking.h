// A one-thread parking spot on a futex word (Linux): the waiter sleeps
// until another thread releases it. The engine wakes synchronous appenders
// with it, without a mutex per waiter.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace duurzaam::eventstore::port {

class Parking {
 public:
  void Wait() {
    while (word_.load(std::memory_order_acquire) == kWaiting) {
      syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, kWaiting, nullptr, nullptr, 0);
    }
  }
  // The waiter may return and free this object as soon as the word is
  // stored: the wake only names the address, which a spurious wake of
  // whatever lives there later tolerates.
  void Release() {
    word_.store(kReleased, std::memory_order_release);
    syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

 private:
  static constexpr uint32_t kWaiting = 0;
  static constexpr uint32_t kReleased = 1;
  std::atomic<uint32_t> word_{kWaiting};
};

}  // namespace duurzaam::eventstore::port
