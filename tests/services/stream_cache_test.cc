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

  // A contact moment for `stream`, encoded as the server stores it.
  static eventstore::ProposedEvent Encoded(const std::string& stream) {
    domain::Event event{eventstore::EventId::Random().ToString(),
                        absl::CivilDay(2026, 1, 5),
                        absl::CivilDay(2026, 1, 5),
                        {"expert:jdevries", domain::Role::kExpert, ""},
                        domain::ContactMoment{domain::ContactKind::kPhone, "gebeld"}};
    auto encoded = codec::Encode(event, *eventstore::EventId::Parse(event.id), stream, nullptr);
    EXPECT_TRUE(encoded.ok()) << encoded.status();
    return encoded.ok() ? *std::move(encoded) : eventstore::ProposedEvent{};
  }
  // ... appended to the store.
  void Contact(const std::string& stream) {
    ASSERT_TRUE(store_->Append({stream, eventstore::Expectation::Any(), {Encoded(stream)}}).ok());
  }

  // Uses `stream` and releases it at once (nothing holds it here, so the
  // holder runs before UseAsync returns).
  int64_t RevisionSeen(StreamCache& cache, const std::string& stream) {
    int64_t seen = -2;
    cache.UseAsync(stream,
                   [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release release) {
                     EXPECT_TRUE(s.ok()) << s.status();
                     if (s.ok()) {
                       seen = (*s)->revision;
                       EXPECT_EQ((*s)->records.size(), (*s)->events.size());
                     }
                     release(nullptr);
                   });
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

TEST_F(StreamCacheTest, AHeldStreamQueuesTheNextCommandsInArrivalOrderUntilReleased) {
  Contact("case-a");
  StreamCache cache(store_.get(), 1000);
  std::vector<std::string> ran;
  StreamCache::Release first_release;
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
    ASSERT_TRUE(s.ok());
    ran.push_back("first@" + std::to_string((*s)->revision));
    first_release = std::move(r);  // held, as by an append in flight
  });
  StreamCache::Release second_release;
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
    ASSERT_TRUE(s.ok());
    ran.push_back("second@" + std::to_string((*s)->revision));
    second_release = std::move(r);
  });
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
    ASSERT_TRUE(s.ok());
    ran.push_back("third@" + std::to_string((*s)->revision));
    r(nullptr);
  });
  // Another stream is not held up.
  EXPECT_EQ(RevisionSeen(cache, "case-b"), eventstore::kNoStream);
  EXPECT_EQ(ran, std::vector<std::string>({"first@0"}));
  // The first command's append lands before it releases: the next sees it.
  Contact("case-a");
  first_release(nullptr);
  first_release(nullptr);  // a second release of one hold changes nothing
  EXPECT_EQ(ran, std::vector<std::string>({"first@0", "second@1"}));
  second_release(nullptr);
  EXPECT_EQ(ran, std::vector<std::string>({"first@0", "second@1", "third@1"}));
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 1);  // free again
}

TEST_F(StreamCacheTest, TheRecordAHolderAppendedIsKeptWithoutReadingItBack) {
  Contact("case-a");
  StreamCache cache(store_.get(), 1000);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
  const uint64_t before = cache.records_read();
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
    ASSERT_TRUE(s.ok());
    // Append as the write path does, and release with what was written.
    const eventstore::ProposedEvent encoded = Encoded("case-a");
    auto result = store_->Append({"case-a", eventstore::Expectation::Exact(0), {encoded}});
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->hashes.size(), 1u);
    eventstore::RecordedEvent kept{"case-a",     result->first_revision, result->first_position,
                                   encoded.id,   encoded.type,           result->recorded_at_micros,
                                   encoded.data, encoded.metadata,       result->hashes[0]};
    r(&kept);
  });
  std::string seen_type;
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->revision, 1);
    ASSERT_EQ((*s)->records.size(), 2u);
    // The kept record is the stored one, byte for byte.
    auto stored = store_->ReadAt((*s)->records[1].position);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ((*s)->records[1].data, stored->data);
    EXPECT_EQ((*s)->records[1].hash, stored->hash);
    EXPECT_EQ((*s)->records[1].recorded_at_micros, stored->recorded_at_micros);
    EXPECT_EQ((*s)->events.size(), 2u);
    r(nullptr);
  });
  EXPECT_EQ(cache.records_read(), before);  // nothing read back
}

TEST_F(StreamCacheTest, ARecordThatIsNotTheNextIsLeftForTheStoreToTell) {
  Contact("case-a");
  StreamCache cache(store_.get(), 1000);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*>, StreamCache::Release r) {
    eventstore::RecordedEvent wrong;
    wrong.stream = "case-a";
    wrong.revision = 5;  // not the next revision
    r(&wrong);
  });
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
}

TEST_F(StreamCacheTest, ALongQueueOfCommandsThatReleaseAtOnceRunsInALoopNotARecursion) {
  Contact("case-a");
  StreamCache cache(store_.get(), 1000);
  StreamCache::Release first;
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*>, StreamCache::Release r) {
    first = std::move(r);
  });
  // Refused or replayed commands release at once; 100,000 of them queued
  // behind one held command would overflow the stack if each release ran
  // the next one a frame deeper.
  constexpr int kQueued = 100'000;
  int ran = 0;
  for (int i = 0; i < kQueued; ++i) {
    cache.UseAsync("case-a",
                   [&, i](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
                     EXPECT_TRUE(s.ok());
                     EXPECT_EQ(ran, i);  // in arrival order
                     ++ran;
                     r(nullptr);
                   });
  }
  EXPECT_EQ(ran, 0);
  first(nullptr);
  EXPECT_EQ(ran, kQueued);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);  // free again
}

TEST_F(StreamCacheTest, AHeldStreamIsNeverForgotten) {
  for (const char* s : {"case-a", "case-b", "case-c"}) {
    for (int i = 0; i < 10; ++i) Contact(s);
  }
  StreamCache cache(store_.get(), 15);
  StreamCache::Release hold;
  cache.UseAsync("case-a", [&](absl::StatusOr<const DecodedStream*>, StreamCache::Release r) {
    hold = std::move(r);
  });
  // Over the bound, and a is the least recently used, but held.
  EXPECT_EQ(RevisionSeen(cache, "case-b"), 9);
  EXPECT_EQ(RevisionSeen(cache, "case-c"), 9);
  hold(nullptr);
  const uint64_t before = cache.records_read();
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 9);
  EXPECT_EQ(cache.records_read(), before);  // a was kept, not read again
}

TEST_F(StreamCacheTest, AStreamThatCannotBeReadIsReportedAndReadWholeNextTime) {
  Contact("case-a");
  StreamCache cache(store_.get(), 100);
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
  // A stream name the store refuses: the holder gets the error.
  absl::Status seen;
  cache.UseAsync(std::string(1000, 'x'),
                 [&](absl::StatusOr<const DecodedStream*> s, StreamCache::Release r) {
                   seen = s.status();
                   r(nullptr);
                 });
  EXPECT_FALSE(seen.ok());
  EXPECT_EQ(RevisionSeen(cache, "case-a"), 0);
}

}  // namespace
}  // namespace duurzaam::services
