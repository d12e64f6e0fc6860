// The event log's record codec: any bytes stored at a position decode to a
// record or are refused, never read past the end; what decodes re-encodes
// to the same body and hashes.
#include <cstdlib>

#include "eventstore/chain.h"
#include "eventstore/record_codec.h"
#include "eventstore/types.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace duurzaam::eventstore;
  duurzaam::fuzz::Input in(data, size);
  const uint64_t position = in.U64() % 1000000;
  const std::string_view value = in.Rest();
  EventView view;
  if (!internal::DecodeRecord(value, position, &view)) return 0;
  const std::string body =
      internal::EncodeRecordBody(view.stream, view.revision, EventId::FromBytes(view.id_bytes),
                                 view.type, view.recorded_at_micros, view.data, view.metadata);
  if (body != internal::RecordBody(value)) std::abort();  // decode and encode disagree
  (void)RecordHash(view, Hash{});
  return 0;
}
