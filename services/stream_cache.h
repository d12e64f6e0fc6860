// The write path's view of case and employer streams: each stream's records,
// their decoded events (sealed fields not opened) and their fold, read from
// the event store itself (a command must see every committed write, not
// wait for the projection) and kept, so a command reads only what was
// committed since the last one instead of the whole stream.
//
// One command per stream at a time (Use holds the stream's lock while the
// command checks and appends), other streams in parallel. Bounded: at most
// `max_records` records over all streams; the least recently used streams
// are forgotten first. Thread-safe.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "services/case_reader.h"

namespace duurzaam::services {

class StreamCache {
 public:
  StreamCache(eventstore::Store* store, size_t max_records)
      : store_(store), max_records_(max_records) {}

  // Brings `stream` up to date with the store and runs `fn` on it, holding
  // the stream until `fn` returns. An error reading the store forgets the
  // stream (the next use reads it whole) and is returned.
  [[nodiscard]] absl::Status Use(const std::string& stream,
                                 const std::function<absl::Status(const DecodedStream&)>& fn);

  // For tests and metrics.
  size_t cached_records() const;
  uint64_t records_read() const;  // records read from the store since start

 private:
  struct Entry {
    Mutex mu;
    DecodedStream stream ABSL_GUARDED_BY(mu);
    size_t records = 0;  // as last counted into total_records_ (under map_mu_)
    std::list<std::string>::iterator lru;
  };

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
