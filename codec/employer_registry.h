// The employers that exist: a registry that administrators keep, stored as
// the server-owned stream "employers" (one "EmployerRegistered" record, a
// v1::EmployerRegistration, per employer; its event id derives from the
// employer id, so registering again changes nothing). A case may only be
// opened at, and an organisation change only recorded for, a registered
// employer. Nothing else writes this stream (raw appends cannot: it is not
// an ext- stream).
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "domain/stream_names.h"
#include "eventstore/store.h"

namespace duurzaam::codec {

using domain::kEmployersStream;  // domain/stream_names.h

// Registers `employer_id` (1..64 of [a-z0-9-]). True when it was new, false
// when it was registered before (nothing written). INVALID_ARGUMENT naming
// "employer_id" / "name" for bad input.
[[nodiscard]] absl::StatusOr<bool> RegisterEmployer(eventstore::Store* store,
                                                    const std::string& employer_id,
                                                    const std::string& name,
                                                    const std::string& registered_by,
                                                    int64_t at_micros);

// Reads the registry, following the stream as it grows. Thread-safe; borrows
// the store, which must outlive it.
class EmployerRegistry {
 public:
  explicit EmployerRegistry(eventstore::Store* store) : store_(store) {}

  // OK when `employer_id` is registered; FAILED_PRECONDITION with rule id
  // EMPLOYER_NOT_REGISTERED when it is not; the read error when the registry
  // cannot be read (never "registered" by default).
  [[nodiscard]] absl::Status CheckRegistered(const std::string& employer_id);

 private:
  eventstore::Store* store_;
  Mutex mu_;
  absl::flat_hash_set<std::string> known_ ABSL_GUARDED_BY(mu_);
  eventstore::Revision read_through_ ABSL_GUARDED_BY(mu_) = eventstore::kNoStream;
};

}  // namespace duurzaam::codec
