// Real threads racing on real RocksDB.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/mutex.h"
#include "eventstore/errors.h"
#include "eventstore/store.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::eventstore {
namespace {

using duurzaam::testing::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  Options options;
  options.path = path;
  auto store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(*store);
}

TEST(ConcurrencyTest, ExactlyOneWriterWinsEachRevision) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 16;
  constexpr int kRevisions = 40;
  std::atomic<int> wins{0}, conflicts{0};
  std::mutex mu;
  std::map<Revision, std::string> winners;  // revision -> thread/attempt label
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (int attempt = 0; attempt < 100000 && std::chrono::steady_clock::now() < deadline;
           ++attempt) {
        Revision current = *store->StreamRevision("race");
        if (current + 1 >= kRevisions) return;
        std::string label = std::to_string(t) + "/" + std::to_string(attempt);
        auto r = store->Append(
            {"race",
             current == kNoStream ? Expectation::NoStream() : Expectation::Exact(current),
             {{EventId::Random(), "Tick", label, ""}}});
        if (r.ok()) {
          ++wins;
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_TRUE(winners.emplace(r->first_revision, label).second)
              << "two winners for revision " << r->first_revision;
        } else {
          ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
          ASSERT_TRUE(GetRevisionConflict(r.status()).has_value());
          ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), kRevisions);
  EXPECT_GT(conflicts.load(), 0) << "no race happened; the test proved nothing";
  auto events = store->ReadStream("race", 0, Direction::kForwards, 1000);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), static_cast<size_t>(kRevisions));
  for (int r = 0; r < kRevisions; ++r) {
    EXPECT_EQ((*events)[r].revision, r);
    EXPECT_EQ((*events)[r].data, winners[r]);  // the stored event is the winner's
  }
}

TEST(ConcurrencyTest, GlobalLogIsGapFreeAndOrderedUnderConcurrentAppends) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 32;
  constexpr int kPerThread = 60;
  std::atomic<bool> stop_reader{false};
  std::vector<uint64_t> reader_positions;
  // A live reader follows the log while writers race: it must never see a
  // gap, i.e. never skip an event that commits later with a lower position.
  std::thread reader([&] {
    uint64_t next = 0;
    while (!stop_reader.load() || next < store->CommittedEnd()) {
      auto r = store->ScanAll(next, {}, 1000, [&](const EventView& e) {
        reader_positions.push_back(e.position);
        return true;
      });
      ASSERT_TRUE(r.ok());
      next = *r;
      store->WaitForCommit(next, absl::Milliseconds(50));
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::string stream = "w-" + std::to_string(t % 8);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store->Append({stream,
                                Expectation::Any(),
                                {{EventId::Random(), "E", std::to_string(t), ""},
                                 {EventId::Random(), "E", std::to_string(t), ""}}});
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->last_position, r->first_position + 1);  // batch stays contiguous
      }
    });
  }
  for (auto& th : writers) th.join();
  stop_reader = true;
  reader.join();

  const uint64_t total = kThreads * kPerThread * 2;
  EXPECT_EQ(store->CommittedEnd(), total);
  ASSERT_EQ(reader_positions.size(), total);
  for (uint64_t i = 0; i < total; ++i) ASSERT_EQ(reader_positions[i], i);
  // Per stream: revisions gap-free and increasing with position.
  for (int s = 0; s < 8; ++s) {
    auto events = store->ReadStream("w-" + std::to_string(s), 0, Direction::kForwards, 100000);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), total / 8);
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].revision, static_cast<Revision>(i));
      if (i > 0) EXPECT_GT((*events)[i].position, (*events)[i - 1].position);
    }
  }
  auto verify = store->VerifyChain(0, UINT64_MAX);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->detail;
  EXPECT_EQ(verify->verified, total);
}

TEST(ConcurrencyTest, ConcurrentRetriesOfOneAppendWriteItOnce) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  StreamAppend append{"s", Expectation::NoStream(), {{EventId::Random(), "A", "x", ""}}};
  std::vector<std::thread> threads;
  std::atomic<int> replayed{0}, fresh{0};
  std::set<uint64_t> positions;
  std::mutex mu;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = store->Append(append);
      ASSERT_TRUE(r.ok()) << r.status();
      (r->replayed ? replayed : fresh)++;
      std::lock_guard<std::mutex> lock(mu);
      positions.insert(r->first_position);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fresh.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
  EXPECT_EQ(positions.size(), 1u);
  EXPECT_EQ(store->CommittedEnd(), 1u);
}

// A lone appender commits on its own thread (one sync per append); appenders
// arriving together go through the writer and syncer threads. Switching
// between the two, in both directions, keeps one gap-free, ordered log, and
// every acknowledged append is readable the moment it is acknowledged.
TEST(ConcurrencyTest, LoneAndConcurrentAppendersShareOneLog) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::mutex mu;
  std::vector<uint64_t> acknowledged;
  auto append = [&](const std::string& stream) {
    auto r = store->Append({stream, Expectation::Any(), {{EventId::Random(), "E", stream, ""}}});
    ASSERT_TRUE(r.ok()) << r.status();
    // Readable at once, whichever path committed it.
    ASSERT_GT(store->CommittedEnd(), r->last_position);
    auto read = store->ReadAt(r->last_position);
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_EQ(read->stream, stream);
    std::lock_guard<std::mutex> lock(mu);
    acknowledged.push_back(r->last_position);
  };

  for (int i = 0; i < 20; ++i) append("lone");
  const StoreInfo lone = store->Info();
  EXPECT_EQ(lone.syncs, 20u) << "a lone appender's append is one sync of its own";

  std::vector<std::thread> burst;
  for (int t = 0; t < 16; ++t) {
    burst.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) append("burst-" + std::to_string(t % 4));
    });
  }
  for (int i = 0; i < 40; ++i) append("lone");  // keeps appending through the burst
  for (auto& th : burst) th.join();
  const StoreInfo busy = store->Info();
  EXPECT_LT(busy.syncs - lone.syncs, 16u * 40 + 40) << "concurrent appends shared no sync";

  for (int i = 0; i < 20; ++i) append("lone");  // and alone again

  const uint64_t total = 20 + 16 * 40 + 40 + 20;
  ASSERT_EQ(acknowledged.size(), total);
  std::sort(acknowledged.begin(), acknowledged.end());
  for (uint64_t i = 0; i < total; ++i) ASSERT_EQ(acknowledged[i], i);
  EXPECT_EQ(store->CommittedEnd(), total);
  auto lone_events = store->ReadStream("lone", 0, Direction::kForwards, 1000);
  ASSERT_TRUE(lone_events.ok());
  ASSERT_EQ(lone_events->size(), 80u);
  for (size_t i = 1; i < lone_events->size(); ++i) {
    EXPECT_GT((*lone_events)[i].position, (*lone_events)[i - 1].position);
  }
  auto verify = store->VerifyChain(0, UINT64_MAX);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->detail;
  EXPECT_EQ(verify->verified, total);
}

// Nice values of this process's threads, from /proc.
std::multiset<int> ThreadNiceValues() {
  std::multiset<int> nice;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return nice;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream stat(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t command_end = line.rfind(')');
    if (command_end == std::string::npos) continue;  // the thread ended meanwhile
    // Fields after the parenthesised command: state is field 3, nice is 19.
    std::istringstream fields(line.substr(command_end + 1));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) nice.insert(std::stoi(field));
    }
  }
  closedir(tasks);
  return nice;
}

TEST(ConcurrencyTest, WriterAndSyncerThreadsRunAtTheConfiguredPriority) {
  TempDir dir;
  const size_t before = ThreadNiceValues().count(-7);
  Options options;
  options.path = dir.path();
  options.pipeline_nice = -7;
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  // The threads set their priority as they start; an append has passed
  // through both once it is acknowledged.
  for (int i = 0; i < 2; ++i) {
    std::vector<std::thread> burst;
    for (int t = 0; t < 4; ++t) {
      burst.emplace_back([&] {
        ASSERT_TRUE(
            (*store)->Append({"s", Expectation::Any(), {{EventId::Random(), "E", "", ""}}}).ok());
      });
    }
    for (auto& th : burst) th.join();
  }
  const size_t raised = ThreadNiceValues().count(-7) - before;
  if ((*store)->Info().pipeline_priority_raised) {
    EXPECT_EQ(raised, 2u) << "the writer and the syncer thread";
  } else {
    // Without CAP_SYS_NICE or RLIMIT_NICE the store says so and runs on.
    EXPECT_EQ(raised, 0u);
  }
  store->reset();
  EXPECT_EQ(ThreadNiceValues().count(-7), before) << "the threads end with the store";
}

TEST(ConcurrencyTest, AsyncCallbacksRunAtNormalPriorityNotOnThePipeline) {
  TempDir dir;
  Options options;
  options.path = dir.path();
  options.pipeline_nice = -7;
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  const int normal = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  duurzaam::Mutex mu;
  std::vector<int> seen;
  std::vector<pid_t> threads;
  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i) {
    (*store)->AppendAsync({"s", Expectation::Any(), {{EventId::Random(), "E", "", ""}}},
                          [&](absl::StatusOr<AppendResult> r) {
                            EXPECT_TRUE(r.ok()) << r.status();
                            duurzaam::MutexLock lock(&mu);
                            seen.push_back(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())));
                            threads.push_back(gettid());
                          });
  }
  store->reset();  // completes every callback first
  ASSERT_EQ(seen.size(), static_cast<size_t>(kCalls));
  for (int nice : seen) EXPECT_EQ(nice, normal);
  // One completion thread, never the caller's.
  for (pid_t t : threads) {
    EXPECT_EQ(t, threads.front());
    EXPECT_NE(t, gettid());
  }
}

}  // namespace
}  // namespace duurzaam::eventstore

namespace duurzaam::eventstore {
namespace {

TEST(AsyncAppendTest, CallbacksFireOnceWithResultsAndErrors) {
  duurzaam::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  duurzaam::Mutex amu;
  int completed = 0;
  std::vector<AppendResult> results;
  constexpr int kAsync = 600;
  for (int i = 0; i < kAsync; ++i) {
    store->AppendAsync({"async-" + std::to_string(i % 6),
                        Expectation::Any(),
                        {{EventId::Random(), "E", std::to_string(i), ""}}},
                       [&](absl::StatusOr<AppendResult> r) {
                         ASSERT_TRUE(r.ok()) << r.status();
                         duurzaam::MutexLock lock(&amu);
                         results.push_back(*r);
                         ++completed;
                       });
  }
  // Synchronous appends interleave with the asynchronous ones.
  std::vector<std::thread> sync;
  for (int t = 0; t < 4; ++t) {
    sync.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(store
                        ->Append({"sync-" + std::to_string(t),
                                  Expectation::Any(),
                                  {{EventId::Random(), "E", "", ""}}})
                        .ok());
      }
    });
  }
  for (auto& th : sync) th.join();
  {
    duurzaam::MutexLock lock(&amu);
    ASSERT_TRUE(amu.AwaitWithTimeout(absl::Condition(
                                         +[](int* c) { return *c == kAsync; }, &completed),
                                     absl::Seconds(60)));
  }
  EXPECT_EQ(store->CommittedEnd(), static_cast<uint64_t>(kAsync + 200));
  std::set<uint64_t> positions;
  for (const auto& r : results) EXPECT_TRUE(positions.insert(r.first_position).second);
  // A result is only reported once durable and readable.
  for (const auto& r : results) ASSERT_LT(r.last_position, store->CommittedEnd());

  // Errors come through the callback too.
  std::atomic<int> codes{0};
  store->AppendAsync({"bad name", Expectation::Any(), {{EventId::Random(), "E", "", ""}}},
                     [&](absl::StatusOr<AppendResult> r) {
                       EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
                       ++codes;
                     });
  duurzaam::Mutex done_mu;
  bool conflict_seen = false;
  store->AppendAsync({"async-0", Expectation::NoStream(), {{EventId::Random(), "E", "", ""}}},
                     [&](absl::StatusOr<AppendResult> r) {
                       EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
                       duurzaam::MutexLock lock(&done_mu);
                       conflict_seen = true;
                     });
  duurzaam::MutexLock lock(&done_mu);
  EXPECT_TRUE(done_mu.AwaitWithTimeout(absl::Condition(&conflict_seen), absl::Seconds(30)));
  EXPECT_EQ(codes.load(), 1);
}

// An asynchronous append returns at once, even when the store is idle (a
// lone synchronous appender would commit inline): its callback never runs
// inside the AppendAsync call, so a callback that starts the next append
// does not recurse, however long the chain.
TEST(AsyncAppendTest, CallbacksNeverRunInsideTheCall) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kChain = 2000;
  duurzaam::Mutex mu;
  int completed = 0;
  int inside_call = 0;
  // AppendAsync calls open on this thread: a callback that finds one open
  // runs nested inside it.
  static thread_local int calls_open = 0;
  std::function<void(int)> issue = [&](int i) {
    ++calls_open;
    store->AppendAsync({"chain", Expectation::Any(), {{EventId::Random(), "E", "", ""}}},
                       [&, i](absl::StatusOr<AppendResult> r) {
                         EXPECT_TRUE(r.ok()) << r.status();
                         {
                           duurzaam::MutexLock lock(&mu);
                           ++completed;
                           if (calls_open > 0) ++inside_call;
                         }
                         if (i + 1 < kChain) issue(i + 1);
                       });
    --calls_open;
  };
  issue(0);
  duurzaam::MutexLock lock(&mu);
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                      +[](int* c) { return *c == kChain; }, &completed),
                                  absl::Seconds(60)));
  EXPECT_EQ(inside_call, 0);
  EXPECT_EQ(store->CommittedEnd(), static_cast<uint64_t>(kChain));
}

TEST(AsyncAppendTest, DestroyingTheStoreCompletesPendingAppends) {
  duurzaam::testing::TempDir dir;
  std::atomic<int> completed{0};
  {
    auto store = OpenStore(dir.path());
    for (int i = 0; i < 300; ++i) {
      store->AppendAsync({"s", Expectation::Any(), {{EventId::Random(), "E", "", ""}}},
                         [&](absl::StatusOr<AppendResult> r) {
                           EXPECT_TRUE(r.ok());
                           ++completed;
                         });
    }
  }
  EXPECT_EQ(completed.load(), 300);
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->CommittedEnd(), 300u);
}

}  // namespace
}  // namespace duurzaam::eventstore
