// Micro-benchmarks of the record codec and the chain hash.
#include <benchmark/benchmark.h>

#include "eventstore/record_codec.h"

namespace duurzaam::eventstore {
namespace {

void BM_EncodeAndHash(benchmark::State& state) {
  std::string data(300, 'x');
  EventId id = EventId::Random();
  Hash previous{};
  uint64_t position = 0;
  for (auto _ : state) {
    std::string body =
        internal::EncodeRecordBody("case-000001", 42, id, "MonitoringCheckIn", 1, data, "");
    previous = *internal::ChainHash(position++, previous, body);
    benchmark::DoNotOptimize(previous);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeAndHash);

void BM_Decode(benchmark::State& state) {
  std::string record = internal::EncodeRecordBody(
      "case-000001", 42, EventId::Random(), "MonitoringCheckIn", 1, std::string(300, 'x'), "");
  record.append(32, '\0');
  for (auto _ : state) {
    EventView view;
    benchmark::DoNotOptimize(internal::DecodeRecord(record, 7, &view));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

}  // namespace
}  // namespace duurzaam::eventstore
