#include "eventstore/store.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/time/clock.h"
#include "eventstore/errors.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::eventstore {
namespace {

using duurzaam::testing::TempDir;

ProposedEvent Event(std::string type, std::string data) {
  return ProposedEvent{EventId::Random(), std::move(type), std::move(data), ""};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    Options options;
    options.path = dir_.path();
    options.clock = [this] { return now_micros_; };
    options.max_event_bytes = 1024;
    options.max_append_events = 10;
    options.max_append_bytes = 4096;
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  TempDir dir_;
  int64_t now_micros_ = 1'700'000'000'000'000;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, AppendThenReadStreamForwardsAndBackwards) {
  auto r =
      store_->Append({"case-1",
                      Expectation::NoStream(),
                      {Event("Hired", "a"), Event("ContractChanged", "b"), Event("CheckIn", "c")}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_revision, 0);
  EXPECT_EQ(r->last_revision, 2);
  EXPECT_EQ(r->first_position, 0u);
  EXPECT_EQ(r->last_position, 2u);
  EXPECT_FALSE(r->replayed);

  auto fwd = store_->ReadStream("case-1", 1, Direction::kForwards, 10);
  ASSERT_TRUE(fwd.ok());
  ASSERT_EQ(fwd->size(), 2u);
  EXPECT_EQ((*fwd)[0].type, "ContractChanged");
  EXPECT_EQ((*fwd)[0].data, "b");
  EXPECT_EQ((*fwd)[0].revision, 1);
  EXPECT_EQ((*fwd)[0].recorded_at_micros, now_micros_);

  auto back = store_->ReadStream("case-1", -1, Direction::kBackwards, 2);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].revision, 2);
  EXPECT_EQ((*back)[1].revision, 1);

  auto none = store_->ReadStream("case-unknown", 0, Direction::kForwards, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(*store_->StreamRevision("case-1"), 2);
  EXPECT_EQ(*store_->StreamRevision("case-unknown"), kNoStream);
}

TEST_F(StoreTest, StreamNamesThatArePrefixesStayApart) {
  ASSERT_TRUE(store_->Append({"case-1", Expectation::Any(), {Event("A", "1")}}).ok());
  ASSERT_TRUE(store_->Append({"case-10", Expectation::Any(), {Event("A", "10")}}).ok());
  auto r = store_->ReadStream("case-1", 0, Direction::kForwards, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].data, "1");
  EXPECT_EQ(*store_->StreamRevision("case-1"), 0);
}

TEST_F(StoreTest, ExpectationNoStream) {
  ASSERT_TRUE(store_->Append({"s", Expectation::NoStream(), {Event("A", "")}}).ok());
  auto again = store_->Append({"s", Expectation::NoStream(), {Event("A", "")}});
  ASSERT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  auto conflict = GetRevisionConflict(again.status());
  ASSERT_TRUE(conflict.has_value());
  EXPECT_EQ(conflict->stream, "s");
  EXPECT_EQ(conflict->expected.kind, Expectation::Kind::kNoStream);
  EXPECT_EQ(conflict->actual, 0);
  EXPECT_NE(again.status().message().find("current revision: 0"), std::string::npos)
      << again.status();
}

TEST_F(StoreTest, ExpectationStreamExists) {
  auto missing = store_->Append({"s", Expectation::StreamExists(), {Event("A", "")}});
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetRevisionConflict(missing.status())->actual, kNoStream);
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", "")}}).ok());
  EXPECT_TRUE(store_->Append({"s", Expectation::StreamExists(), {Event("A", "")}}).ok());
}

TEST_F(StoreTest, ExpectationExact) {
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", ""), Event("B", "")}}).ok());
  auto stale = store_->Append({"s", Expectation::Exact(0), {Event("C", "")}});
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetRevisionConflict(stale.status())->actual, 1);
  EXPECT_EQ(GetRevisionConflict(stale.status())->expected.revision, 0);
  auto fresh = store_->Append({"s", Expectation::Exact(1), {Event("C", "")}});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->first_revision, 2);
  // Nothing of the stale append was written.
  EXPECT_EQ(store_->CommittedEnd(), 3u);
}

TEST_F(StoreTest, ExpectationAnyAlwaysAppends) {
  EXPECT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", "")}}).ok());
  EXPECT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", "")}}).ok());
  EXPECT_EQ(*store_->StreamRevision("s"), 1);
}

TEST_F(StoreTest, IdempotentRetryReturnsOriginalResultWhateverTheExpectation) {
  StreamAppend append{"s", Expectation::NoStream(), {Event("A", "x"), Event("B", "y")}};
  auto first = store_->Append(append);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("C", "z")}}).ok());

  auto retry = store_->Append(append);  // NoStream no longer holds, but it is a retry
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_revision, first->first_revision);
  EXPECT_EQ(retry->last_revision, first->last_revision);
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(store_->CommittedEnd(), 3u);

  Reopen();  // the id index survives a restart
  auto after_reopen = store_->Append(append);
  ASSERT_TRUE(after_reopen.ok()) << after_reopen.status();
  EXPECT_TRUE(after_reopen->replayed);
  EXPECT_EQ(after_reopen->last_position, first->last_position);
  EXPECT_EQ(store_->CommittedEnd(), 3u);
}

TEST_F(StoreTest, SameIdWithOtherContentIsRejected) {
  ProposedEvent e = Event("A", "original");
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {e}}).ok());
  ProposedEvent changed = e;
  changed.data = "changed";
  auto r = store_->Append({"s", Expectation::Any(), {changed}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  auto other_stream = store_->Append({"t", Expectation::Any(), {e}});
  EXPECT_EQ(other_stream.status().code(), absl::StatusCode::kAlreadyExists);
  auto mixed = store_->Append({"s", Expectation::Any(), {e, Event("B", "")}});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CommittedEnd(), 1u);
}

TEST_F(StoreTest, MultiStreamAppendIsAtomic) {
  ASSERT_TRUE(store_->Append({"employer-1", Expectation::Any(), {Event("A", "")}}).ok());
  // Second stream's expectation fails: nothing of the first may be written.
  auto failed = store_->AppendMulti({{"case-1", Expectation::NoStream(), {Event("A", "")}},
                                     {"employer-1", Expectation::NoStream(), {Event("B", "")}}});
  ASSERT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetRevisionConflict(failed.status())->stream, "employer-1");
  EXPECT_EQ(*store_->StreamRevision("case-1"), kNoStream);
  EXPECT_EQ(store_->CommittedEnd(), 1u);

  auto ok = store_->AppendMulti({{"case-1", Expectation::NoStream(), {Event("A", "")}},
                                 {"employer-1", Expectation::Exact(0), {Event("B", "")}}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].first_position, 1u);
  EXPECT_EQ((*ok)[1].first_position, 2u);
  EXPECT_EQ((*ok)[1].first_revision, 1);
}

TEST_F(StoreTest, BadInputIsRejectedPreciselyAndWritesNothing) {
  struct Case {
    std::string name;
    std::vector<StreamAppend> appends;
    std::string field;
  };
  ProposedEvent nil_id{EventId(), "A", "", ""};
  ProposedEvent dup = Event("A", "");
  std::vector<Case> cases = {
      {"empty stream", {{"", Expectation::Any(), {Event("A", "")}}}, "stream"},
      {"bad char", {{"case 1", Expectation::Any(), {Event("A", "")}}}, "stream"},
      {"leading dash", {{"-x", Expectation::Any(), {Event("A", "")}}}, "stream"},
      {"long name", {{std::string(201, 'a'), Expectation::Any(), {Event("A", "")}}}, "stream"},
      {"no events", {{"s", Expectation::Any(), {}}}, "events"},
      {"nil id", {{"s", Expectation::Any(), {nil_id}}}, "events[0].event_id"},
      {"dup id", {{"s", Expectation::Any(), {dup, dup}}}, "events[1].event_id"},
      {"empty type", {{"s", Expectation::Any(), {Event("", "")}}}, "events[0].event_type"},
      {"bad type", {{"s", Expectation::Any(), {Event("1abc", "")}}}, "events[0].event_type"},
      {"too big",
       {{"s", Expectation::Any(), {Event("A", std::string(1025, 'x'))}}},
       "events[0].data"},
      {"too many",
       {{"s", Expectation::Any(), std::vector<ProposedEvent>(11, Event("A", ""))}},
       "events[1].event_id"},  // duplicates caught first: check count separately below
      {"negative exact", {{"s", Expectation::Exact(-3), {Event("A", "")}}}, "expected_revision"},
  };
  for (const Case& c : cases) {
    auto r = store_->Append(c.appends[0]);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    auto v = GetFieldViolation(r.status());
    ASSERT_TRUE(v.has_value()) << c.name;
    EXPECT_EQ(v->field, c.field) << c.name << ": " << r.status();
  }
  std::vector<ProposedEvent> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(Event("A", ""));
  auto too_many = store_->Append({"s", Expectation::Any(), eleven});
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolation(too_many.status())->field, "events");
  std::vector<ProposedEvent> heavy;
  for (int i = 0; i < 5; ++i) heavy.push_back(Event("A", std::string(1000, 'x')));
  auto too_heavy = store_->Append({"s", Expectation::Any(), heavy});
  EXPECT_EQ(too_heavy.status().code(), absl::StatusCode::kInvalidArgument);
  auto twice = store_->AppendMulti(
      {{"s", Expectation::Any(), {Event("A", "")}}, {"s", Expectation::Any(), {Event("A", "")}}});
  EXPECT_EQ(GetFieldViolation(twice.status())->field, "appends[1].stream");
  EXPECT_EQ(store_->CommittedEnd(), 0u);
}

TEST_F(StoreTest, ReadAllFiltersByStreamPrefixAndType) {
  ASSERT_TRUE(store_->Append({"case-1", Expectation::Any(), {Event("Hired", "")}}).ok());
  ASSERT_TRUE(store_->Append({"employer-1", Expectation::Any(), {Event("Reorg", "")}}).ok());
  ASSERT_TRUE(store_->Append({"case-2", Expectation::Any(), {Event("CheckIn", "")}}).ok());
  ASSERT_TRUE(store_->Append({"case-2", Expectation::Any(), {Event("Hired", "")}}).ok());

  uint64_t next = 0;
  auto all = store_->ReadAll(0, {}, 100, &next);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ(next, 4u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].position, i);

  auto cases = store_->ReadAll(0, LogFilter{{"case-"}, {}}, 100);
  ASSERT_EQ(cases->size(), 3u);
  auto hires = store_->ReadAll(0, LogFilter{{"case-"}, {"Hired"}}, 100);
  ASSERT_EQ(hires->size(), 2u);
  EXPECT_EQ((*hires)[1].stream, "case-2");

  auto page = store_->ReadAll(1, {}, 2, &next);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].position, 1u);
  EXPECT_EQ(next, 3u);
}

TEST_F(StoreTest, ReopenContinuesPositionsAndChain) {
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", ""), Event("B", "")}}).ok());
  Hash head = store_->Info().last_hash;
  Reopen();
  EXPECT_EQ(store_->CommittedEnd(), 2u);
  EXPECT_EQ(store_->Info().last_hash, head);
  auto r = store_->Append({"s", Expectation::Exact(1), {Event("C", "")}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_position, 2u);
  auto verify = store_->VerifyChain(0, UINT64_MAX);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->detail;
  EXPECT_EQ(verify->verified, 3u);
}

TEST_F(StoreTest, RecordedAtNeverGoesBackwards) {
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", "")}}).ok());
  now_micros_ -= 5'000'000;  // the wall clock steps back
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("B", "")}}).ok());
  auto events = store_->ReadStream("s", 0, Direction::kForwards, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_GE((*events)[1].recorded_at_micros, (*events)[0].recorded_at_micros);
}

TEST_F(StoreTest, WaitForCommitWakesOnAppend) {
  uint64_t end = store_->CommittedEnd();
  // The waiter's timeout is 30 s: only a wake-up by the commit returns it
  // within the 5 s asserted below (a missed signal returns at 30 s with the
  // same end, which is why the time is checked, not only the value).
  const auto started = std::chrono::steady_clock::now();
  uint64_t now = 0;
  std::thread waiter([&] { now = store_->WaitForCommit(end, absl::Seconds(30)); });
  // Give the waiter time to block, so the append is what wakes it.
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(store_->Append({"s", Expectation::Any(), {Event("A", "")}}).ok());
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5))
      << "the waiter was not woken by the commit";
  EXPECT_EQ(now, end + 1);
  // And it times out when nothing comes.
  EXPECT_EQ(store_->WaitForCommit(now, absl::Milliseconds(20)), now);
}

TEST(EventIdTest, ParsesAndPrintsCanonicalForm) {
  auto id = EventId::Parse("123E4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToString(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_FALSE(EventId::Parse("123e4567e89b12d3a456426614174000").ok());
  EXPECT_FALSE(EventId::Parse("123e4567-e89b-12d3-a456-42661417400g").ok());
  EXPECT_TRUE(EventId::Parse("00000000-0000-0000-0000-000000000000")->IsNil());
  // Dashes only at 8, 13, 18 and 23; hex everywhere else.
  EXPECT_FALSE(EventId::Parse("--aabbcc-dddd-eeee-ffff-000000000000").ok());
  EXPECT_FALSE(EventId::Parse("123e4567-e89b-12d3-a456--26614174000").ok());
  EXPECT_FALSE(EventId::Parse("123e4567-e89b-12d3-a456-42661417400-").ok());
  EXPECT_FALSE(EventId::Parse("123e4567-e89b-12d3-a456_426614174000").ok());
  EXPECT_NE(EventId::Random(), EventId::Random());
}

}  // namespace
}  // namespace duurzaam::eventstore

namespace duurzaam::eventstore {
namespace {

// Copies of scanned events outlive the scan, field for field, however the
// buffer grows.
TEST(EventViewBufferTest, KeepsCopiesOfViewedEventsThatOutliveTheScan) {
  TempDir dir;
  Options options;
  options.path = dir.path();
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 300; ++i) {
    StreamAppend append{"s-" + std::to_string(i % 3), Expectation::Any(), {}};
    append.events.push_back(
        {EventId::Random(), "T" + std::to_string(i), std::string(i * 7, 'd'), i % 2 ? "m" : ""});
    ASSERT_TRUE((*store)->Append(append).ok());
  }
  EventViewBuffer buffer;
  buffer.Add(EventView{});  // cleared below: nothing of it stays
  buffer.Clear();
  ASSERT_TRUE((*store)
                  ->ScanAll(0, {}, 1000,
                            [&](const EventView& e) {
                              buffer.Add(e);
                              return true;
                            })
                  .ok());
  ASSERT_EQ(buffer.size(), 300u);
  for (size_t i = 0; i < buffer.size(); ++i) {
    auto stored = (*store)->ReadAt(i);
    ASSERT_TRUE(stored.ok());
    const EventView copy = buffer.at(i);
    EXPECT_EQ(copy.ToOwned().id, stored->id);
    EXPECT_EQ(copy.stream, stored->stream);
    EXPECT_EQ(copy.revision, stored->revision);
    EXPECT_EQ(copy.position, stored->position);
    EXPECT_EQ(copy.type, stored->type);
    EXPECT_EQ(copy.data, stored->data);
    EXPECT_EQ(copy.metadata, stored->metadata);
    EXPECT_EQ(copy.recorded_at_micros, stored->recorded_at_micros);
    EXPECT_EQ(copy.ToOwned().hash, stored->hash);
  }
}

}  // namespace
}  // namespace duurzaam::eventstore
