#include "eventstore/read_ahead.h"

#include <algorithm>
#include <utility>

namespace duurzaam::eventstore {
namespace {

// The consumer's batch, one being read ahead, one read and waiting: the
// reader is not held up by one slow hand-over.
constexpr size_t kBatches = 3;

// How long a scan waits inside the engine for the consumer to free a batch.
constexpr absl::Duration kHoldScan = absl::Milliseconds(20);

}  // namespace

LogReadAhead::LogReadAhead(Store* store, uint64_t from, Options options)
    : store_(store), options_(std::move(options)), next_from_(from) {
  MutexLock lock(&mu_);
  for (size_t i = 0; i < kBatches; ++i) {
    owned_.push_back(std::make_unique<Batch>());
    free_.push_back(owned_.back().get());
  }
}

LogReadAhead::~LogReadAhead() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    changed_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void LogReadAhead::Read(Batch* batch) const {
  batch->records.Clear();
  batch->end =
      store_->ScanAll(batch->from, options_.filter, options_.max_scanned, [&](const EventView& e) {
        batch->records.Add(e);
        return batch->records.size() < options_.max_events &&
               batch->records.bytes() < options_.max_bytes;
      });
  // The engine never moves a reader backwards; say so once, here.
  if (batch->end.ok()) batch->end = std::max(*batch->end, batch->from);
}

const LogReadAhead::Batch& LogReadAhead::Next() {
  MutexLock lock(&mu_);
  if (failed_) return *current_;
  if (current_ != nullptr) {
    free_.push_back(current_);
    current_ = nullptr;
    changed_.SignalAll();
  }
  while (ready_.empty() && (reading_ahead_ || in_flight_)) changed_.Wait(&mu_);
  Batch* batch = nullptr;
  if (!ready_.empty()) {
    batch = ready_.front();
    ready_.pop_front();
  } else {  // nothing read ahead: the thread is idle, read here
    batch = free_.back();
    free_.pop_back();
    batch->from = next_from_;
    mu_.Unlock();
    Read(batch);
    mu_.Lock();
    if (batch->end.ok()) next_from_ = *batch->end;
  }
  current_ = batch;
  if (!batch->end.ok()) {
    failed_ = true;
    reading_ahead_ = false;
  } else if (!reading_ahead_ && !stop_ && next_from_ < store_->CommittedEnd()) {
    // More is committed than this batch took: read it while this one is
    // handled.
    reading_ahead_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { ReadLoop(); });
    changed_.SignalAll();
  }
  return *batch;
}

void LogReadAhead::ReadLoop() {
  // Records one scan looks at before the engine's iterator is renewed (so a
  // long catch-up never pins one view of the store for long).
  const size_t scan_records = 8 * kBatches * options_.max_events;
  const size_t batch_events = std::min(options_.max_events, options_.max_scanned);
  MutexLock lock(&mu_);
  Batch* filling = nullptr;  // the batch being read; this thread's only
  uint64_t resume = 0;       // where the next scan starts
  auto start_batch = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    filling = free_.back();
    free_.pop_back();
    filling->from = next_from_;
    filling->records.Clear();
    resume = next_from_;
    in_flight_ = true;
  };
  while (true) {
    if (filling == nullptr) {
      while (!stop_ && !(reading_ahead_ && !free_.empty())) changed_.Wait(&mu_);
      if (stop_) return;
      start_batch();
    }
    if (!options_.filter.Empty()) {
      // Each batch its own scan, bounded by the records it looks at.
      mu_.Unlock();
      Read(filling);
      mu_.Lock();
      Hand(filling);
      filling = nullptr;
      continue;
    }
    // Every record matches: one scan reads batch after batch (the engine
    // keeps its read-ahead of the files), handing each over when it is full
    // and waiting, inside the scan, for a free one.
    size_t visited = 0;
    mu_.Unlock();
    absl::StatusOr<uint64_t> end =
        store_->ScanAll(resume, options_.filter, scan_records, [&](const EventView& e) {
          ++visited;
          filling->records.Add(e);
          // Every record is visited here, so a batch's records are the
          // records it looked at: max_scanned bounds it too.
          if (filling->records.size() < batch_events &&
              filling->records.bytes() < options_.max_bytes) {
            return true;
          }
          filling->end = e.position + 1;
          MutexLock hand_lock(&mu_);
          Hand(filling);
          filling = nullptr;
          // The scan's iterator pins one view of the store (memtables, files
          // compacted away): a consumer that does not free a batch soon ends
          // the scan, and the next one starts when it does.
          const absl::Time give_up = absl::Now() + kHoldScan;
          while (!stop_ && reading_ahead_ && free_.empty()) {
            if (changed_.WaitWithDeadline(&mu_, give_up)) break;
          }
          if (stop_ || !reading_ahead_ || free_.empty()) return false;
          start_batch();
          return true;
        });
    mu_.Lock();
    if (stop_) return;
    // Stopped by the visitor after handing a full batch (caught up, or the
    // consumer slow): a read error there is met again by the next scan.
    if (filling == nullptr) continue;
    if (end.ok()) {
      resume = std::max(*end, resume);
      // The scan's bound, not the log's end: go on filling this batch; and
      // an empty batch is not handed over while the log has more.
      if (visited == scan_records ||
          (filling->records.size() == 0 && resume < store_->CommittedEnd())) {
        continue;
      }
      filling->end = resume;
    } else {
      filling->end = std::move(end);
    }
    Hand(filling);
    filling = nullptr;
  }
}

void LogReadAhead::Hand(Batch* batch) {
  in_flight_ = false;
  ready_.push_back(batch);
  if (!batch->end.ok()) {
    reading_ahead_ = false;  // the consumer meets the error in order
  } else {
    next_from_ = *batch->end;
    if (next_from_ >= store_->CommittedEnd()) reading_ahead_ = false;  // caught up
  }
  changed_.SignalAll();
}

}  // namespace duurzaam::eventstore
