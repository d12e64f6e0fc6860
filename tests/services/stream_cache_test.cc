// The write path's stream cache: a command reads only what was committed
// since the last one, sees writes made around it, and stays within its bound.
#include "services/stream_cache.h"

#include <gtest/gtest.h>

#include "codec/placement_codec.h"
#include "eventstore/store.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::services {
namespace {

using testing::TempDir;

class StreamCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::Options options;
    options.path = dir_.Sub("events");
    auto store = eventstore::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // A contact moment on `stream`, encoded as the server stores it.
  void Contact(const std::string& stream) {
    domain::Event event{eventstore::EventId::Random().ToString(),
                        absl::CivilDay(2026, 1, 5),
                        absl::CivilDay(2026, 1, 5),
                        {"expert:jdevries", domain::Role::kExpert, ""},
                        domain::ContactMoment{domain::ContactKind::kPhone, "gebeld"}};
    auto id = eventstore::EventId::Parse(event.id);
    ASSERT_TRUE(id.ok());
    auto encoded = codec::Encode(event, *id, stream, nullptr);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    ASSERT_TRUE(store_->Append({stream, eventstore::Expectation::Any(), {*encoded}}).ok());
  }

  int64_t RevisionSeen(StreamCache& cache, const std::string& stream) {
    int64_t seen = -2;
    EXPECT_TRUE(cache
                    .Use(stream,
                         [&](const DecodedStream& s) {
                           seen = s.revision;
                           EXPECT_EQ(s.records.size(), s.events.size());
                           return absl::OkStatus();
                         })
                    .ok());
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
};

TEST_F(StreamCacheTest, ReadsOnlyWhatIsNewAndSeesWritesMadeAroundIt) {
  for (int i = 0; i < 50; ++i) Contact("case-a");
  StreamCache cache(store_.get(), 1000);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 49);
  EXPECT_EQ(cache.records_read(), 50u);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 49);
  EXPECT_EQ(cache.records_read(), 50u);  // nothing new: nothing read
  Contact("case-a");                     // written around the cache
  Contact("case-a");
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 51);
  EXPECT_EQ(cache.records_read(), 52u);  // only the two new records
  EXPECT_EQ(RevisionSeen(cache, "case-none"), eventstore::kNoStream);
}

TEST_F(StreamCacheTest, ForgetsTheLeastRecentlyUsedStreamsBeyondItsBound) {
  for (const char* s : {"case-a", "case-b", "case-c"}) {
    for (int i = 0; i < 10; ++i) Contact(s);
  }
  StreamCache cache(store_.get(), 25);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 9);
  EXPECT_EQ(RevisionSeen(cache, "case-b"), 9);
  EXPECT_EQ(cache.cached_records(), 20u);
  EXPECT_EQ(RevisionSeen(cache, "case-c"), 9);  // a (least recent) goes
  EXPECT_LE(cache.cached_records(), 25u);
  const uint64_t before = cache.records_read();
  EXPECT_EQ(RevisionSeen(cache, "case-b"), 9);  // still kept
  EXPECT_EQ(cache.records_read(), before);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 9);  // read whole again, still right
  EXPECT_EQ(cache.records_read(), before + 10);
  EXPECT_LE(cache.cached_records(), 25u);
}

TEST_F(StreamCacheTest, AnErrorFromTheCommandIsReturned) {
  Contact("case-a");
  StreamCache cache(store_.get(), 100);
  absl::Status s =
      cache.Use("case-a", [](const DecodedStream&) { return absl::FailedPreconditionError("no"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
}

}  // namespace
}  // namespace duurzaam::services
