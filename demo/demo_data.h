// A realistic demo set: a few employers (one reorganising) and a dozen
// placements over several years, so every status and most rules appear.
// Deterministic for a given day: event ids are derived from the content's
// place in the set, so seeding twice writes nothing the second time.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codec/sealer.h"
#include "domain/events.h"
#include "eventstore/store.h"

namespace duurzaam::demo {

struct DemoEvent {
  std::string stream;  // "case-<id>" or "employer-<id>"
  domain::Event event;
};

// The demo events in append order, dated relative to `today`. `scale` > 1
// repeats the placements (with distinct ids) for benchmarks.
std::vector<DemoEvent> DemoEvents(domain::Date today, int scale = 1);

struct SeedResult {
  int streams = 0;
  int appended = 0;
};

// Appends the demo set, each event checked by the domain rules first, its
// personal data sealed by `sealer` (null: plain text, for tests).
[[nodiscard]] absl::StatusOr<SeedResult> Seed(eventstore::Store* store, domain::Date today,
                                              const codec::Sealer* sealer, int scale = 1);

}  // namespace duurzaam::demo
