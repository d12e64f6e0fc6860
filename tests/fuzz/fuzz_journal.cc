// The expert app's journal as a device replays it: a run of JournalEntry
// records (pulled changes, intents, outcomes, resolutions, purges) applied
// to a replica. A damaged or hostile journal is refused entry by entry,
// never a crash.
#include "clients/expert/replica.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_input.h"

// Protobuf logs every string field that is not UTF-8: not a finding.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  duurzaam::fuzz::Input in(data, size);
  duurzaam::expert::Replica replica;
  for (int i = 0; i < 64 && !in.Rest().empty(); ++i) {
    const std::string_view record = in.Piece(65535);
    duurzaam::expert::JournalEntry entry;
    if (!entry.ParseFromArray(record.data(), static_cast<int>(record.size()))) continue;
    (void)replica.Apply(entry);
    (void)replica.cursor();
    // What the replica holds reads back (or is refused), never a crash.
    for (const auto& [id, copy] : replica.cases()) (void)replica.Events(id, true);
  }
  return 0;
}
