// Reads the global log ahead of its consumer: while the consumer handles
// one batch, the next is read on a thread of the read-ahead's own (kept for
// its whole life, so the engine's per-thread read state stays warm).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore {

class LogReadAhead {
 public:
  struct Options {
    LogFilter filter;
    size_t max_scanned = 20000;  // records looked at per batch (matching or not)
    size_t max_events = 2000;    // events per batch
    size_t max_bytes = 2 << 20;  // bytes per batch (a batch holds at least one event)
  };
  // One read of the log: the matching records of [from, end), copied out.
  struct Batch {
    uint64_t from = 0;
    EventViewBuffer records;
    // Where the next batch starts; an error when the read failed.
    absl::StatusOr<uint64_t> end = uint64_t{0};
  };

  // Reads from `from` (at most the committed end: a later position reads
  // as nothing until the log reaches it).
  LogReadAhead(Store* store, uint64_t from, Options options);
  ~LogReadAhead();  // stops the reading thread and waits for it
  LogReadAhead(const LogReadAhead&) = delete;
  LogReadAhead& operator=(const LogReadAhead&) = delete;

  // The batch after the last one returned (the first from `from`), valid
  // until the next call. Read ahead when the log had more than the last
  // batch took; read now, on the caller's thread, otherwise (a live reader
  // at the end of the log). After an error, every call returns it again.
  const Batch& Next();

 private:
  void Read(Batch* batch) const;
  void ReadLoop();
  // Puts a batch read ahead on the ready queue and moves on past it.
  void Hand(Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const Options options_;
  Batch* current_ = nullptr;  // the consumer's; touched only by it

  Mutex mu_;
  CondVar changed_;
  std::vector<std::unique_ptr<Batch>> owned_;
  std::vector<Batch*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch*> ready_ ABSL_GUARDED_BY(mu_);  // read ahead, in order
  uint64_t next_from_ ABSL_GUARDED_BY(mu_);        // where the next read starts
  bool reading_ahead_ ABSL_GUARDED_BY(mu_) = false;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;  // the thread is reading
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // started by the first read ahead
};

}  // namespace duurzaam::eventstore
