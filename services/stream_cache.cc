#include "services/stream_cache.h"

#include "common/status_macros.h"

namespace duurzaam::services {

[[nodiscard]] absl::Status StreamCache::Use(
    const std::string& name, const std::function<absl::Status(const DecodedStream&)>& fn) {
  std::shared_ptr<Entry> entry;
  {
    MutexLock lock(&map_mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      entry = std::make_shared<Entry>();
      lru_.push_front(name);
      entry->lru = lru_.begin();
      entries_.emplace(name, entry);
    } else {
      entry = it->second;
      lru_.splice(lru_.begin(), lru_, entry->lru);
    }
  }
  MutexLock stream_lock(&entry->mu);
  DecodedStream& stream = entry->stream;
  // Only what was committed since the last use.
  constexpr size_t kPage = 1000;
  absl::Status read;
  while (read.ok()) {
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> page =
        store_->ReadStream(name, stream.revision + 1, eventstore::Direction::kForwards, kPage);
    if (!page.ok()) {
      read = page.status();
      break;
    }
    records_read_.fetch_add(page->size(), std::memory_order_relaxed);
    for (eventstore::RecordedEvent& record : *page) {
      read = AddRecord(std::move(record), &stream);
      if (!read.ok()) break;
    }
    if (page->size() < kPage) break;
  }
  if (!read.ok()) {
    stream = DecodedStream{};  // read whole next time
    Account(name, entry, 0);
    return read;
  }
  Account(name, entry, stream.records.size() + stream.quarantined.size());
  return fn(stream);
}

void StreamCache::Account(const std::string& name, const std::shared_ptr<Entry>& entry,
                          size_t records) {
  MutexLock lock(&map_mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second != entry) return;  // forgotten meanwhile
  total_records_ = total_records_ - entry->records + records;
  entry->records = records;
  // Forget the least recently used streams (never the one just used) until
  // the bound holds; a stream in use elsewhere stays alive for its user.
  while (total_records_ > max_records_ && lru_.size() > 1) {
    const std::string victim = lru_.back();
    if (victim == name) break;
    auto v = entries_.find(victim);
    total_records_ -= v->second->records;
    entries_.erase(v);
    lru_.pop_back();
  }
}

size_t StreamCache::cached_records() const {
  MutexLock lock(&map_mu_);
  return total_records_;
}

uint64_t StreamCache::records_read() const { return records_read_.load(std::memory_order_relaxed); }

}  // namespace duurzaam::services
