// The project's mutex, lock guards and condition variable: absl's, with the
// same thread-safety attributes (clang's -Wthread-safety checks every
// ABSL_GUARDED_BY against them), and, in ThreadSanitizer builds only, a
// happens-before edge at every acquire and release. Debian's libabsl is
// built without TSan annotations, so TSan cannot see its locks by itself.
// Use these instead of absl::Mutex / MutexLock / CondVar.
#pragma once

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DUURZAAM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define DUURZAAM_TSAN 1
#endif
#ifdef DUURZAAM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace duurzaam {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    Acquired();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    Releasing();
    mu_.Unlock();
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    mu_.ReaderLock();
    Acquired();
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    Releasing();
    mu_.ReaderUnlock();
  }
  // Releases the mutex until `condition` holds (as absl::Mutex::Await).
  // absl evaluates the condition with its lock held, in whichever thread;
  // the evaluation is wrapped so TSan sees it under this mutex too.
  void Await(const absl::Condition& condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Guarded guarded{this, &condition};
    Releasing();
    mu_.Await(absl::Condition(&EvalGuarded, &guarded));
    Acquired();
  }
  // As Await, giving up after `timeout`; true when the condition holds.
  bool AwaitWithTimeout(const absl::Condition& condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Guarded guarded{this, &condition};
    Releasing();
    const bool held = mu_.AwaitWithTimeout(absl::Condition(&EvalGuarded, &guarded), timeout);
    Acquired();
    return held;
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() { mu_.AssertHeld(); }

 private:
  friend class CondVar;
  struct Guarded {
    Mutex* mu;
    const absl::Condition* condition;
  };
  static bool EvalGuarded(Guarded* guarded) {
    guarded->mu->Acquired();
    const bool held = guarded->condition->Eval();
    guarded->mu->Releasing();
    return held;
  }
  void Acquired() {
#ifdef DUURZAAM_TSAN
    __tsan_acquire(this);
#endif
  }
  void Releasing() {
#ifdef DUURZAAM_TSAN
    __tsan_release(this);
#endif
  }
  absl::Mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// As absl::CondVar, waiting on a duurzaam::Mutex (which it releases while
// waiting and holds again when it returns).
class CondVar {
 public:
  void Wait(Mutex* mu) {
    mu->Releasing();
    cv_.Wait(&mu->mu_);
    mu->Acquired();
  }
  // True when the deadline passed (as absl::CondVar::WaitWithDeadline).
  bool WaitWithDeadline(Mutex* mu, absl::Time deadline) {
    mu->Releasing();
    const bool timed_out = cv_.WaitWithDeadline(&mu->mu_, deadline);
    mu->Acquired();
    return timed_out;
  }
  void Signal() { cv_.Signal(); }
  void SignalAll() { cv_.SignalAll(); }

 private:
  absl::CondVar cv_;
};

}  // namespace duurzaam
