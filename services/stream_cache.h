// The write path's view of case and employer streams: each stream's records,
// their decoded events (sealed fields not opened) and their fold, read from
// the event store itself (a command must see every committed write, not
// wait for the projection) and kept, so a command reads only what was
// committed since the last one instead of the whole stream.
//
// One command per stream at a time, in arrival order (a command holds the
// stream from its check until its append is durable; the next waits in the
// stream's queue), other streams in parallel; no thread blocks while an
// append is in flight. Bounded: at most
// `max_records` records over all streams; the least recently used streams
// are forgotten first. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "services/case_reader.h"

namespace duurzaam::services {

class StreamCache {
 public:
  StreamCache(eventstore::Store* store, size_t max_records)
      : store_(store), max_records_(max_records) {}

  // Ends a hold; call once (from any thread; later calls do nothing) when
  // the command is done with the stream: with the record it appended (kept
  // as if read back, when it is the stream's next), or null when it appended
  // nothing or cannot say.
  using Release = std::function<void(const eventstore::RecordedEvent* appended)>;
  // Receives the stream brought up to date with the store (or the error that
  // reading it gave: the stream is then forgotten, the next use reads it
  // whole), and holds it until it calls `release`.
  using Holder = std::function<void(absl::StatusOr<const DecodedStream*>, Release release)>;

  // Runs `holder` now if no command holds `stream`, else once the commands
  // queued before it have released it: on the thread of the last release.
  void UseAsync(const std::string& stream, Holder holder);

  // For tests and metrics.
  size_t cached_records() const;
  uint64_t records_read() const;  // records read from the store since start

 private:
  struct Entry {
    Mutex mu;
    bool held ABSL_GUARDED_BY(mu) = false;
    std::deque<Holder> waiting ABSL_GUARDED_BY(mu);
    // A thread is handing the entry down the queue (Pass), and a release
    // came back to it meanwhile.
    bool passing ABSL_GUARDED_BY(mu) = false;
    bool pass_again ABSL_GUARDED_BY(mu) = false;
    // Read and written only by the command that holds the entry (`held`
    // passes it on under mu).
    DecodedStream stream;
    size_t records = 0;  // as last counted into total_records_ (under map_mu_)
    std::list<std::string>::iterator lru;
  };

  std::shared_ptr<Entry> Find(const std::string& name);
  // With the entry held: catches up and hands it to `holder`.
  void Run(const std::string& name, const std::shared_ptr<Entry>& entry, Holder holder);
  // Keeps `appended`, then passes the entry to the next waiting holder, or
  // frees it.
  void Pass(const std::string& name, const std::shared_ptr<Entry>& entry,
            const eventstore::RecordedEvent* appended);
  void Account(const std::string& name, const std::shared_ptr<Entry>& entry, size_t records);

  eventstore::Store* const store_;
  const size_t max_records_;
  mutable Mutex map_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(map_mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(map_mu_);  // most recent first
  size_t total_records_ ABSL_GUARDED_BY(map_mu_) = 0;
  std::atomic<uint64_t> records_read_{0};
};

}  // namespace duurzaam::services
