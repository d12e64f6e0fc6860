// The hand-written wire encoding of a record (used by catch-up) against the
// protobuf library's own serialization of the same record.
#include "codec/eventstore_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "duurzaam/v1/eventstore.pb.h"

namespace duurzaam::codec {
namespace {

struct Sample {
  std::string stream, id_bytes, type, data, metadata, hash;
  eventstore::Revision revision = 0;
  uint64_t position = 0;
  int64_t recorded_at_micros = 0;

  eventstore::EventView View() const {
    eventstore::EventView v;
    v.stream = stream;
    v.revision = revision;
    v.position = position;
    v.id_bytes = id_bytes;
    v.type = type;
    v.recorded_at_micros = recorded_at_micros;
    v.data = data;
    v.metadata = metadata;
    v.hash = hash;
    return v;
  }
};

std::vector<Sample> Samples() {
  const std::string id_bytes(eventstore::EventId::Random().Bytes());
  std::vector<Sample> samples;
  // Everything set, with multi-byte varints and lengths.
  samples.push_back({"case-abc", id_bytes, "ContactMoment", std::string(300, 'x'), "{\"a\":1}",
                     std::string(32, '\x7f'), 1'000'000, 1ull << 40, 1'764'590'400'123'456});
  // Defaults everywhere proto3 leaves a field out: revision 0, position 0,
  // no metadata, the epoch (an empty Timestamp, still present).
  samples.push_back({"s", id_bytes, "T", "", "", "", 0, 0, 0});
  // Before the epoch: negative seconds, positive nanos.
  samples.push_back({"employer-acme", id_bytes, "ReorganisationAnnounced", std::string(200, '\0'),
                     std::string(70000, 'm'), std::string(32, '\x01'), 127, 128, -1});
  // A revision whose varint needs every byte.
  samples.push_back({std::string(200, 's'), id_bytes, "T", "d", "", std::string(32, 'h'), INT64_MAX,
                     UINT64_MAX, INT64_MAX / 2});
  return samples;
}

TEST(EventStoreCodecWireTest, EncodesExactlyWhatTheProtobufLibrarySerializes) {
  for (const Sample& sample : Samples()) {
    const eventstore::EventView view = sample.View();
    v1::RecordedEvent message;
    ToProto(view, &message);
    std::string expected;
    ASSERT_TRUE(message.SerializeToString(&expected));
    std::string wire;
    AppendWire(view, &wire);
    EXPECT_EQ(wire, expected) << "stream " << sample.stream.substr(0, 20);
    v1::RecordedEvent parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire));
    EXPECT_EQ(parsed.SerializeAsString(), expected);
  }
}

TEST(EventStoreCodecWireTest, FieldEntriesMakeABatchThatParsesBackEventForEvent) {
  std::string wire;
  const std::vector<Sample> samples = Samples();
  for (const Sample& sample : samples) {
    AppendWireField(v1::EventBatch::kEventsFieldNumber, sample.View(), &wire);
  }
  v1::EventBatch batch;
  ASSERT_TRUE(batch.ParseFromString(wire));
  ASSERT_EQ(batch.events_size(), static_cast<int>(samples.size()));
  for (size_t i = 0; i < samples.size(); ++i) {
    v1::RecordedEvent expected;
    ToProto(samples[i].View(), &expected);
    EXPECT_EQ(batch.events(static_cast<int>(i)).SerializeAsString(), expected.SerializeAsString());
  }
  // Carried as field 1 of a response, it reads as the response's events.
  std::string response_wire;
  AppendLengthDelimited(v1::SubscribeResponse::kEventsFieldNumber, wire, &response_wire);
  v1::SubscribeResponse response;
  ASSERT_TRUE(response.ParseFromString(response_wire));
  ASSERT_TRUE(response.has_events());
  EXPECT_EQ(response.events().events_size(), static_cast<int>(samples.size()));
}

}  // namespace
}  // namespace duurzaam::codec
