#include "services/stream_cache.h"

#include "common/status_macros.h"

namespace duurzaam::services {

std::shared_ptr<StreamCache::Entry> StreamCache::Find(const std::string& name) {
  MutexLock lock(&map_mu_);
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second->lru);
    return it->second;
  }
  auto entry = std::make_shared<Entry>();
  lru_.push_front(name);
  entry->lru = lru_.begin();
  entries_.emplace(name, entry);
  return entry;
}

void StreamCache::UseAsync(const std::string& name, Holder holder) {
  std::shared_ptr<Entry> entry = Find(name);
  {
    MutexLock lock(&entry->mu);
    if (entry->held) {
      entry->waiting.push_back(std::move(holder));
      return;
    }
    entry->held = true;
  }
  Run(name, entry, std::move(holder));
}

void StreamCache::Run(const std::string& name, const std::shared_ptr<Entry>& entry, Holder holder) {
  DecodedStream& stream = entry->stream;
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
  if (!read.ok()) stream = DecodedStream{};  // read whole next time
  Account(name, entry, stream.records.size() + stream.quarantined.size());
  // One release per hold, whatever the holder does.
  auto released = std::make_shared<std::atomic<bool>>(false);
  Release release = [this, name, entry, released](const eventstore::RecordedEvent* appended) {
    if (!released->exchange(true)) Pass(name, entry, appended);
  };
  if (!read.ok()) {
    holder(read, std::move(release));
    return;
  }
  holder(&stream, std::move(release));
}

void StreamCache::Pass(const std::string& name, const std::shared_ptr<Entry>& entry,
                       const eventstore::RecordedEvent* appended) {
  // Still held: the stream is ours to extend. A record decodes as it would
  // read back; one that is not the next (or does not decode) is left for
  // the next catch-up to read.
  DecodedStream& stream = entry->stream;
  if (appended != nullptr && appended->revision == stream.revision + 1 &&
      !AddRecord(*appended, &stream).ok()) {
    stream = DecodedStream{};
  }
  Account(name, entry, stream.records.size() + stream.quarantined.size());
  // Hand the stream to the waiting commands one after another, in a loop
  // rather than by recursion: a command that releases at once (refused,
  // replayed) lands back here on this thread, which then runs the next one.
  {
    MutexLock lock(&entry->mu);
    if (entry->passing) {  // a loop below, on some thread, carries on
      entry->pass_again = true;
      return;
    }
    entry->passing = true;
  }
  while (true) {
    Holder next;
    {
      MutexLock lock(&entry->mu);
      if (entry->waiting.empty()) {
        entry->held = false;
        entry->passing = false;
        return;
      }
      next = std::move(entry->waiting.front());
      entry->waiting.pop_front();
      entry->pass_again = false;
    }
    Run(name, entry, std::move(next));
    MutexLock lock(&entry->mu);
    if (!entry->pass_again) {  // still held: its release passes it on later
      entry->passing = false;
      return;
    }
  }
}

void StreamCache::Account(const std::string& name, const std::shared_ptr<Entry>& entry,
                          size_t records) {
  MutexLock lock(&map_mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second != entry) return;  // forgotten meanwhile
  total_records_ = total_records_ - entry->records + records;
  entry->records = records;
  // Forget the least recently used streams (never the one just used) until
  // the bound holds, but none that a command holds or is about to: anyone
  // with a reference got it from Find under map_mu_, and forgetting such an
  // entry would let a second command in beside it.
  auto lru = lru_.end();
  while (total_records_ > max_records_ && lru != lru_.begin()) {
    --lru;
    if (*lru == name) continue;
    auto victim = entries_.find(*lru);
    if (victim->second.use_count() > 1) continue;
    total_records_ -= victim->second->records;
    entries_.erase(victim);
    lru = lru_.erase(lru);
  }
}

size_t StreamCache::cached_records() const {
  MutexLock lock(&map_mu_);
  return total_records_;
}

uint64_t StreamCache::records_read() const { return records_read_.load(std::memory_order_relaxed); }

}  // namespace duurzaam::services
