// A full disk, for real: the event store on a small tmpfs that fills up
// under concurrent appenders. Appends are refused RESOURCE_EXHAUSTED (never
// an abort), reads go on, nothing acknowledged is lost, and once space is
// freed appends resume without a restart.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eventstore/store.h"
#include "tests/support/small_fs.h"

namespace duurzaam::eventstore {
namespace {

struct Load {
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> refused{0};
  std::atomic<int> other_errors{0};
  std::string last_refusal;
  std::string other_error;
};

// Appends from `threads` threads until each has had `stop_after_refusals`
// refusals or `max_appends` appends.
void Run(Store& store, Load& load, int threads, int max_appends, int stop_after_refusals,
         size_t event_bytes) {
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      int refusals = 0;
      for (int i = 0; i < max_appends && refusals < stop_after_refusals; ++i) {
        StreamAppend append;
        append.stream = absl::StrCat("s-", t);
        const EventId id = EventId::Random();
        append.events.push_back({id, "Note", std::string(event_bytes, 'a' + (i % 26)), ""});
        absl::StatusOr<AppendResult> r = store.Append(append);
        if (r.ok()) {
          std::lock_guard<std::mutex> lock(load.mu);
          load.acknowledged.insert(id.ToString());
        } else if (r.status().code() == absl::StatusCode::kResourceExhausted) {
          ++refusals;
          ++load.refused;
          std::lock_guard<std::mutex> lock(load.mu);
          load.last_refusal = std::string(r.status().message());
        } else {
          ++load.other_errors;
          std::lock_guard<std::mutex> lock(load.mu);
          load.other_error = r.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
}

void ExpectAllPresent(Store& store, const std::set<std::string>& acknowledged) {
  std::set<std::string> present;
  auto scanned = store.ScanAll(0, {}, UINT64_MAX, [&](const EventView& e) {
    present.insert(EventId::FromBytes(e.id_bytes).ToString());
    return true;
  });
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  for (const std::string& id : acknowledged) {
    ASSERT_TRUE(present.count(id)) << "acknowledged " << id << " lost";
  }
  auto chain = store.VerifyChain(0, UINT64_MAX);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_TRUE(chain->ok()) << chain->detail;
}

void FillAndRecover(uint64_t min_free_bytes) {
  testing::SmallFilesystem fs;
  if (!fs.Mount(96 << 20)) GTEST_SKIP() << fs.error();
  Options options;
  options.path = fs.Sub("events");
  options.pipeline_nice = 0;
  options.min_free_bytes = min_free_bytes;
  options.write_buffer_bytes = 4 << 20;
  Load load;
  {
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    const std::string ballast = fs.Fill(24 << 20);
    Run(**store, load, 4, 20000, 3, 4000);
    EXPECT_EQ(load.other_errors.load(), 0) << load.other_error;
    ASSERT_GT(load.refused.load(), 0) << "the disk never filled";
    EXPECT_NE(load.last_refusal.find(fs.path()), std::string::npos) << load.last_refusal;
    // Reads go on.
    ExpectAllPresent(**store, load.acknowledged);
    // Space freed: appends resume, without a restart.
    std::filesystem::remove(ballast);
    bool resumed = false;
    absl::Status last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!resumed && std::chrono::steady_clock::now() < deadline) {
      StreamAppend append;
      append.stream = "after";
      const EventId id = EventId::Random();
      append.events.push_back({id, "Note", "space freed", ""});
      absl::StatusOr<AppendResult> r = (*store)->Append(append);
      resumed = r.ok();
      if (resumed) {
        load.acknowledged.insert(id.ToString());
      } else {
        last = r.status();
        ASSERT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    ASSERT_TRUE(resumed) << "appends did not resume: " << last;
    EXPECT_TRUE((*store)->Info().writes.ok()) << (*store)->Info().writes;
    const size_t before = load.acknowledged.size();
    Run(**store, load, 2, 200, 1, 100);
    EXPECT_EQ(load.other_errors.load(), 0) << load.other_error;
    EXPECT_EQ(load.acknowledged.size(), before + 400) << load.last_refusal;
    ExpectAllPresent(**store, load.acknowledged);
  }
  auto reopened = Store::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ExpectAllPresent(**reopened, load.acknowledged);
}

TEST(DiskFullTest, TheLowSpaceThresholdRefusesAppendsBeforeTheDiskIsFull) {
  FillAndRecover(/*min_free_bytes=*/8 << 20);
}

TEST(DiskFullTest, ADiskThatFillsUnderRocksDbIsRefusedNotAnAbortAndWritesResume) {
  FillAndRecover(/*min_free_bytes=*/0);
}

}  // namespace
}  // namespace duurzaam::eventstore
