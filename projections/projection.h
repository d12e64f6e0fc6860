// The plug-in point for read models maintained from the event log. A
// projection keeps its own storage and a checkpoint (the next log position
// it needs); the LogFollower (log_follower.h) scans the committed log once
// for every registered projection and hands each the records from its own
// checkpoint on, in batches.
//
// Adding a projection: one file implementing this interface, plus its
// registration in server/stack.cc (LogFollower::Register with the names of
// the services that read it).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eventstore/types.h"

namespace duurzaam::projections {

class Projection {
 public:
  // The records of one round, applied all together or not at all.
  class Batch {
   public:
    virtual ~Batch() = default;
    // A committed record, in log order, each position once, from the
    // checkpoint the batch was made at on. The view is valid only during
    // the call. An error fails the round: the batch is dropped unwritten.
    [[nodiscard]] virtual absl::Status Add(const eventstore::EventView& record) = 0;
    // Writes what was added with `next` (one past the last position seen,
    // which may be past the last record added) as the new checkpoint,
    // atomically. On error nothing is written and the checkpoint stays.
    [[nodiscard]] virtual absl::Status Commit(uint64_t next) = 0;
  };

  virtual ~Projection() = default;

  // A short name for logs, errors and health ("case projection").
  virtual std::string_view Name() const = 0;
  // The next log position to apply.
  virtual uint64_t Checkpoint() const = 0;
  // A batch from Checkpoint() on. `log_end` is the log's committed end: a
  // projection ahead of it (another log's data) must refuse.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t log_end) = 0;
};

}  // namespace duurzaam::projections
