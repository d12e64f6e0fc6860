// Links only what a client program may link (clients/lib, verify/, the
// event-store types, the domain, the proto mapping, the public proto): if any of them needed
// RocksDB, server internals or key custody, this would not link, and the
// CTest check beside it also reads the binary's NEEDED entries. It then
// does a client's work with them: recompute a record's chain hash and leaf,
// verify a one-leaf tree, read an error's details, evaluate a status, map
// an event to its stored form and back.
#include <cstdio>

#include "clients/lib/error_details.h"
#include "codec/placement_codec.h"
#include "domain/case_state.h"
#include "domain/ruleset.h"
#include "domain/status.h"
#include "eventstore/chain.h"
#include "transparency/merkle.h"
#include "verify/leaf.h"

int main() {
  using namespace duurzaam;
  eventstore::RecordedEvent record;
  record.stream = "case-anna";
  record.revision = 0;
  record.position = 0;
  record.id = eventstore::EventId::Random();
  record.type = "CaseOpened";
  record.recorded_at_micros = 1;
  record.data = "bytes";
  const eventstore::Hash zero{};
  auto hash = eventstore::RecordHash(record, zero);
  if (!hash.has_value()) return 1;
  record.hash = *hash;
  if (!eventstore::VerifyLink(record, zero).ok()) return 2;
  const transparency::Hash leaf = verify::RecordLeafHash(record);
  if (!verify::VerifyRecordInclusion(record, 1, {}, leaf).ok()) return 3;
  if (client::ReadErrorDetails(grpc::Status(grpc::StatusCode::NOT_FOUND, "x")).code !=
      grpc::StatusCode::NOT_FOUND) {
    return 4;
  }
  (void)domain::Evaluate(domain::CaseState{}, absl::CivilDay(2026, 12, 1),
                         domain::CurrentRuleset());
  // Map a domain event to its stored form and back, no crypto linked.
  domain::Event event{record.id.ToString(),
                      absl::CivilDay(2026, 11, 2),
                      absl::CivilDay(2026, 11, 2),
                      {"expert:a", domain::Role::kExpert, ""},
                      domain::ContactMoment{domain::ContactKind::kPhone, "gebeld"}};
  auto encoded = codec::Encode(event, record.id, "case-anna", nullptr);
  if (!encoded.ok()) return 5;
  eventstore::RecordedEvent stored = record;
  stored.data = encoded->data;
  auto decoded = codec::Decode(stored);
  if (!decoded.ok() || !std::holds_alternative<domain::ContactMoment>(decoded->body)) return 6;
  std::puts("client libraries: linked without the server, and working");
  return 0;
}
