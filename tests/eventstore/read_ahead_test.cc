#include "eventstore/read_ahead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "eventstore/store.h"
#include "tests/eventstore/tamper.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::eventstore {
namespace {

using duurzaam::testing::Tamper;
using duurzaam::testing::TempDir;

std::unique_ptr<Store> Open(const std::string& path) {
  Options options;
  options.path = path;
  auto store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Appends `n` events, ten per append, the i-th (from `first`) on stream
// `prefix` + (i % 7) with data "payload-i".
void Fill(Store* store, int first, int n, const std::string& prefix = "s-") {
  for (int i = first; i < first + n; i += 10) {
    StreamAppend request{prefix + std::to_string(i % 7), Expectation::Any(), {}};
    for (int j = i; j < std::min(i + 10, first + n); ++j) {
      request.events.push_back({EventId::Random(), "E", "payload-" + std::to_string(j), ""});
    }
    ASSERT_TRUE(store->Append(request).ok());
  }
}

LogReadAhead::Options Filtered(std::vector<std::string> prefixes, size_t max_scanned) {
  LogReadAhead::Options options;
  options.filter.stream_prefixes = std::move(prefixes);
  options.max_scanned = max_scanned;
  return options;
}

LogReadAhead::Options Batches(size_t max_events, size_t max_bytes = 2 << 20) {
  LogReadAhead::Options options;
  options.max_events = max_events;
  options.max_bytes = max_bytes;
  return options;
}

// What a consumer saw: every position in order, and each batch's bounds
// checked against the last one.
struct Consumer {
  std::vector<uint64_t> positions;
  std::vector<std::string> data;
  uint64_t expected_from = 0;
  size_t batches = 0;

  // Takes one batch; false when it carries an error.
  bool Take(LogReadAhead& log, size_t max_events) {
    const LogReadAhead::Batch& batch = log.Next();
    EXPECT_EQ(batch.from, expected_from);
    if (!batch.end.ok()) return false;
    EXPECT_LE(batch.records.size(), max_events);
    for (size_t i = 0; i < batch.records.size(); ++i) {
      EventView e = batch.records.at(i);
      EXPECT_GE(e.position, batch.from);
      EXPECT_LT(e.position, *batch.end);
      positions.push_back(e.position);
      data.emplace_back(e.data);
    }
    expected_from = *batch.end;
    ++batches;
    return true;
  }

  // Every position from 0, each with the data Fill wrote there.
  void ExpectTheLogInOrder() const {
    for (size_t i = 0; i < positions.size(); ++i) {
      ASSERT_EQ(positions[i], i);
      ASSERT_EQ(data[i], "payload-" + std::to_string(i));
    }
  }
};

TEST(LogReadAheadTest, ReadsTheWholeLogInOrderAcrossBatchesAndScans) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 10'000);
  // 100 events a batch: the read-ahead's scans (2,400 records each) end
  // between batches.
  LogReadAhead log(store.get(), 0, Batches(100));
  Consumer consumer;
  while (consumer.expected_from < store->CommittedEnd()) {
    ASSERT_TRUE(consumer.Take(log, 100));
    ASSERT_LT(consumer.batches, 1000u);
  }
  ASSERT_EQ(consumer.positions.size(), 10'000u);
  consumer.ExpectTheLogInOrder();
  EXPECT_EQ(consumer.batches, 100u);  // every batch full
}

TEST(LogReadAheadTest, ABatchCutAcrossTheEndOfAScanGoesOnInTheNext) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 1'000);
  // Batches of 7 records (max_scanned), scans of 240 (24 x max_events):
  // most scans end inside a batch, which the next scan fills up.
  LogReadAhead::Options options = Batches(10);
  options.max_scanned = 7;
  LogReadAhead log(store.get(), 0, options);
  Consumer consumer;
  while (consumer.expected_from < store->CommittedEnd()) {
    const size_t before = consumer.positions.size();
    ASSERT_TRUE(consumer.Take(log, 7));
    if (consumer.expected_from < store->CommittedEnd()) {
      EXPECT_EQ(consumer.positions.size() - before, 7u);  // full, whatever the scans
    }
    ASSERT_LT(consumer.batches, 1000u);
  }
  ASSERT_EQ(consumer.positions.size(), 1'000u);
  consumer.ExpectTheLogInOrder();
}

TEST(LogReadAheadTest, AConsumerThatPausesGetsEverythingAfterwards) {
  // A consumer that holds its batch longer than the reader waits inside a
  // scan: the reader ends the scan (freeing the engine's view) and starts
  // another when a batch is free.
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 3'000);
  LogReadAhead log(store.get(), 0, Batches(100));
  Consumer consumer;
  while (consumer.expected_from < store->CommittedEnd()) {
    ASSERT_TRUE(consumer.Take(log, 100));
    if (consumer.batches % 5 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(60));
    ASSERT_LT(consumer.batches, 1000u);
  }
  ASSERT_EQ(consumer.positions.size(), 3'000u);
  for (size_t i = 0; i < consumer.positions.size(); ++i) ASSERT_EQ(consumer.positions[i], i);
}

TEST(LogReadAheadTest, StartsWhereItIsToldAndCutsBatchesByBytes) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 3'000);
  // Each record is well over 20 bytes: a batch closes after a few events.
  LogReadAhead log(store.get(), 1'234, Batches(2000, 200));
  Consumer consumer;
  consumer.expected_from = 1'234;
  while (consumer.expected_from < store->CommittedEnd()) {
    ASSERT_TRUE(consumer.Take(log, 2000));
    ASSERT_LT(consumer.batches, 3000u);
  }
  ASSERT_EQ(consumer.positions.size(), 3'000u - 1'234u);
  for (size_t i = 0; i < consumer.positions.size(); ++i) {
    ASSERT_EQ(consumer.positions[i], 1'234 + i);
  }
  EXPECT_GT(consumer.batches, 100u);
}

TEST(LogReadAheadTest, AFilteredReadReportsProgressEveryMaxScannedRecords) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 500, "a-");
  Fill(store.get(), 500, 2'000, "b-");  // a long stretch with no match
  Fill(store.get(), 2'500, 500, "a-");
  LogReadAhead log(store.get(), 0, Filtered({"a-"}, 50));
  Consumer consumer;
  uint64_t last_from = 0;
  while (consumer.expected_from < store->CommittedEnd()) {
    last_from = consumer.expected_from;
    ASSERT_TRUE(consumer.Take(log, 2000));
    EXPECT_LE(consumer.expected_from - last_from, 50u);  // never more than 50 looked at
    ASSERT_LT(consumer.batches, 1000u);
  }
  ASSERT_EQ(consumer.positions.size(), 1'000u);
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(consumer.positions[i], i);
    EXPECT_EQ(consumer.positions[500 + i], 2'500 + i);
  }
}

TEST(LogReadAheadTest, AnUnfilteredReadHonoursTheScanBoundToo) {
  // (A caller that filters by itself, e.g. by access, reports progress
  // every max_scanned records.)
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 1'000);
  LogReadAhead::Options options;
  options.max_scanned = 30;
  LogReadAhead log(store.get(), 0, options);
  Consumer consumer;
  uint64_t last_from = 0;
  while (consumer.expected_from < store->CommittedEnd()) {
    last_from = consumer.expected_from;
    ASSERT_TRUE(consumer.Take(log, 30));
    EXPECT_LE(consumer.expected_from - last_from, 30u);
    ASSERT_LT(consumer.batches, 1000u);
  }
  ASSERT_EQ(consumer.positions.size(), 1'000u);
  for (size_t i = 0; i < consumer.positions.size(); ++i) ASSERT_EQ(consumer.positions[i], i);
}

TEST(LogReadAheadTest, AtTheEndItAnswersNothingNewThenWhatIsAppendedLater) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 30);
  LogReadAhead log(store.get(), 0, Batches(20));
  Consumer consumer;
  ASSERT_TRUE(consumer.Take(log, 20));
  ASSERT_TRUE(consumer.Take(log, 20));
  EXPECT_EQ(consumer.expected_from, 30u);
  // Nothing new: an empty batch that ends where it starts.
  ASSERT_TRUE(consumer.Take(log, 20));
  EXPECT_EQ(consumer.positions.size(), 30u);
  EXPECT_EQ(consumer.expected_from, 30u);
  Fill(store.get(), 30, 45);
  while (consumer.expected_from < 75) {
    ASSERT_TRUE(consumer.Take(log, 20));
    ASSERT_LT(consumer.batches, 20u);
  }
  ASSERT_EQ(consumer.positions.size(), 75u);
  for (size_t i = 0; i < 75; ++i) ASSERT_EQ(consumer.positions[i], i);
}

TEST(LogReadAheadTest, AppendsDuringTheReadAreDeliveredOnceEach) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 2'000);
  constexpr int kMore = 20'000;
  std::thread writer([&] { Fill(store.get(), 2'000, kMore); });
  LogReadAhead log(store.get(), 0, Batches(128));
  Consumer consumer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (consumer.positions.size() < 2'000u + kMore &&
         std::chrono::steady_clock::now() < deadline) {
    const size_t before = consumer.positions.size();
    if (!consumer.Take(log, 128)) break;
    // Caught up with the writer: wait for its next commit, not in a spin.
    if (consumer.positions.size() == before) {
      store->WaitForCommit(consumer.expected_from, absl::Milliseconds(100));
    }
  }
  writer.join();
  ASSERT_EQ(consumer.positions.size(), 2'000u + kMore);
  consumer.ExpectTheLogInOrder();
}

TEST(LogReadAheadTest, AConsumerThatStopsEarlyStopsTheReaderPromptly) {
  TempDir dir;
  auto store = Open(dir.path());
  Fill(store.get(), 0, 20'000);
  for (int round = 0; round < 20; ++round) {
    auto log = std::make_unique<LogReadAhead>(store.get(), 0, Batches(50));
    Consumer consumer;
    for (int i = 0; i <= round % 4; ++i) ASSERT_TRUE(consumer.Take(*log, 50));
    const auto start = std::chrono::steady_clock::now();
    log.reset();  // the reader waits inside its scan for a free batch
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
}

TEST(LogReadAheadTest, ARecordThatCannotBeReadEndsTheReadAtItsPosition) {
  TempDir dir;
  {
    auto store = Open(dir.path());
    Fill(store.get(), 0, 1'000);
  }
  Tamper(dir.path(), 600, [](std::string* v) { v->resize(3); });
  auto store = Open(dir.path());
  ASSERT_NE(store, nullptr);
  LogReadAhead log(store.get(), 0, Batches(64));
  Consumer consumer;
  while (consumer.Take(log, 64)) ASSERT_LT(consumer.batches, 100u);
  // Every full batch before the bad record arrived, in order; nothing after.
  ASSERT_EQ(consumer.positions.size(), 600u - 600u % 64u);
  for (size_t i = 0; i < consumer.positions.size(); ++i) ASSERT_EQ(consumer.positions[i], i);
  const LogReadAhead::Batch& failed = log.Next();
  ASSERT_FALSE(failed.end.ok());
  EXPECT_EQ(failed.end.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(failed.end.status().message().find("600"), std::string::npos);
  // It stays failed.
  const LogReadAhead::Batch& again = log.Next();
  ASSERT_FALSE(again.end.ok());
  EXPECT_EQ(again.end.status(), failed.end.status());
}

}  // namespace
}  // namespace duurzaam::eventstore
