// Internal: input rules of the store. Field paths name the request fields as
// the public API spells them, so adapters can pass violations through.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "eventstore/options.h"
#include "eventstore/types.h"

namespace duurzaam::eventstore::internal {

// Stream names: 1..max bytes of [A-Za-z0-9._:@/-], starting with a letter or
// digit (so names never contain the 0x00 key separator).
[[nodiscard]] absl::Status ValidateStreamName(std::string_view name, const Options& options,
                                              std::string_view field);
// Event types: 1..max bytes of [A-Za-z0-9._-], starting with a letter.
[[nodiscard]] absl::Status ValidateEventType(std::string_view type, const Options& options,
                                             std::string_view field);

// Validates a whole append request: names, types, ids (non-nil, unique),
// sizes and counts. `multi` selects "appends[i]." field prefixes.
[[nodiscard]] absl::Status ValidateAppends(const std::vector<StreamAppend>& appends,
                                           const Options& options, bool multi);

}  // namespace duurzaam::eventstore::internal
