// The access log: every read of case content is itself recorded (who, which
// case, when, which view), append-only and durable before the content is
// served, so a worker can be told who saw their file (AVG art. 15) and
// auditors can query it. It is its own event store (<data>/access), one
// stream per case, so it has the engine's durability and hash chain without
// mixing reads into the case history.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/events.h"
#include "duurzaam/v1/audit.pb.h"
#include "eventstore/store.h"

namespace duurzaam::services {

class AccessLog {
 public:
  // Borrows `store` (the access store, not the case log).
  AccessLog(eventstore::Store* store, std::function<int64_t()> now_micros)
      : store_(store), now_micros_(std::move(now_micros)) {}

  // Records that `who` read the content of each case in `case_ids` (one
  // record per case, atomically), durable when it returns OK.
  [[nodiscard]] absl::Status Record(const domain::Principal& who,
                                    const std::vector<std::string>& case_ids, std::string_view view,
                                    std::string_view method);

  // A case's access records, oldest first.
  [[nodiscard]] absl::StatusOr<std::vector<v1::AccessRecord>> List(
      const std::string& case_id) const;

 private:
  eventstore::Store* store_;
  std::function<int64_t()> now_micros_;
};

}  // namespace duurzaam::services
