#include "services/pull_arenas.h"

#include <cstring>

namespace duurzaam::services {

PullArena::PullArena() : block(new char[PullArenas::kBlockBytes]) {  // NOLINT: touched below
  // Touched once, now: later rounds find it mapped.
  std::memset(block.get(), 0, PullArenas::kBlockBytes);
  google::protobuf::ArenaOptions options;
  options.initial_block = block.get();
  options.initial_block_size = PullArenas::kBlockBytes;
  arena = std::make_unique<google::protobuf::Arena>(options);
}

PullArenas::PullArenas(size_t ready) {
  MutexLock lock(&mu_);
  for (size_t i = 0; i < ready; ++i) free_.push_back(std::make_unique<PullArena>());
}

std::unique_ptr<PullArena> PullArenas::Take() {
  std::unique_ptr<PullArena> taken;
  {
    MutexLock lock(&mu_);
    if (!free_.empty()) {
      taken = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (taken == nullptr) return std::make_unique<PullArena>();
  // Reset again (nothing is left to free) to make the block this thread's.
  taken->arena->Reset();
  return taken;
}

void PullArenas::Give(std::unique_ptr<PullArena> arena) {
  arena->arena->Reset();
  MutexLock lock(&mu_);
  if (free_.size() < kKeptFree) free_.push_back(std::move(arena));
}

size_t PullArenas::free_count() const {
  MutexLock lock(&mu_);
  return free_.size();
}

}  // namespace duurzaam::services
