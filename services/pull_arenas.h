// The arenas Cases.Pull builds its responses on, shared by every Pull call
// of a server. A round (a few responses) is built on one and written from
// it; then the arena is reset and used again. Its block stays mapped and
// touched, so a sync does not take a page fault every 4 KiB of fresh
// memory (on a virtual machine whose host backs memory lazily, that was
// most of the cost of a first sync). Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "common/mutex.h"
#include "google/protobuf/arena.h"

namespace duurzaam::services {

// An arena on a block of its own.
struct PullArena {
  PullArena();
  std::unique_ptr<char[]> block;  // first member: freed after the arena
  std::unique_ptr<google::protobuf::Arena> arena;
};

class PullArenas {
 public:
  // A round of 12,288 small events uses about 5.6 MiB; a larger one goes on
  // in blocks malloc'd for it.
  static constexpr size_t kBlockBytes = size_t{8} << 20;
  // Kept between calls; the rest are freed when given back.
  static constexpr size_t kKeptFree = 6;
  // `ready` arenas are made and touched now (a Pull call holds three at a
  // time: one being built, one ready, one being written).
  explicit PullArenas(size_t ready = 3);

  // An empty arena whose block belongs to the calling thread (protobuf
  // gives an arena's initial block to the thread that last reset it; other
  // threads allocate blocks of their own).
  std::unique_ptr<PullArena> Take();
  // Back for reuse: reset here (its objects' destructors run on the caller).
  void Give(std::unique_ptr<PullArena> arena);

  size_t free_count() const;

 private:
  mutable Mutex mu_;
  std::vector<std::unique_ptr<PullArena>> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace duurzaam::services
