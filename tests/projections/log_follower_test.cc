// The one log follower: every projection fed from one scan, each from its
// own checkpoint, failures retried with backoff and reported, the others
// unaffected.
#include "projections/log_follower.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "eventstore/store.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::projections {
namespace {

using testing::TempDir;

// A projection kept in memory: the positions it applied, in order. It can be
// told to fail its commits until healed.
class Recorder final : public Projection {
 public:
  explicit Recorder(std::string name, uint64_t checkpoint = 0)
      : name_(std::move(name)), checkpoint_(checkpoint) {}

  std::string_view Name() const override { return name_; }
  uint64_t Checkpoint() const override { return checkpoint_.load(); }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t) override {
    return std::make_unique<RecorderBatch>(this);
  }

  void FailCommits(bool fail) { fail_ = fail; }
  int attempts() const { return attempts_.load(); }
  std::vector<uint64_t> applied() const {
    MutexLock lock(&mu_);
    return applied_;
  }

 private:
  class RecorderBatch final : public Batch {
   public:
    explicit RecorderBatch(Recorder* r) : r_(r) {}
    [[nodiscard]] absl::Status Add(const eventstore::EventView& record) override {
      positions_.push_back(record.position);
      return absl::OkStatus();
    }
    [[nodiscard]] absl::Status Commit(uint64_t next) override {
      ++r_->attempts_;
      if (r_->fail_.load()) return absl::UnavailableError("disk of " + r_->name_ + " is gone");
      MutexLock lock(&r_->mu_);
      r_->applied_.insert(r_->applied_.end(), positions_.begin(), positions_.end());
      r_->checkpoint_ = next;
      return absl::OkStatus();
    }

   private:
    Recorder* r_;
    std::vector<uint64_t> positions_;
  };

  const std::string name_;
  std::atomic<uint64_t> checkpoint_;
  std::atomic<bool> fail_{false};
  std::atomic<int> attempts_{0};
  mutable Mutex mu_;
  std::vector<uint64_t> applied_ ABSL_GUARDED_BY(mu_);
};

class LogFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::Options options;
    options.path = dir_.Sub("events");
    auto store = eventstore::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Append(int n, const std::string& stream = "ext-a") {
    for (int i = 0; i < n; ++i) {
      eventstore::StreamAppend append;
      append.stream = stream;
      append.events.push_back({eventstore::EventId::Random(), "Happened", "data", ""});
      ASSERT_TRUE(store_->Append(append).ok());
    }
  }

  static std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> out;
    for (uint64_t p = from; p < to; ++p) out.push_back(p);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
};

TEST_F(LogFollowerTest, FeedsEveryProjectionEachRecordOnceFromItsOwnCheckpoint) {
  Append(30);
  Recorder fresh("fresh"), ahead("ahead", 20);
  LogFollower::Options options;
  options.max_batch_events = 7;  // several rounds
  LogFollower follower(store_.get(), options);
  follower.Register(&fresh, {"svc.A"});
  follower.Register(&ahead, {"svc.B"});
  follower.Start();
  ASSERT_TRUE(follower.WaitForAll(30, absl::Seconds(10)).ok());
  Append(5);  // live, after catching up
  ASSERT_TRUE(follower.WaitForAll(35, absl::Seconds(10)).ok());
  follower.Stop();
  EXPECT_EQ(fresh.applied(), Range(0, 35));
  EXPECT_EQ(ahead.applied(), Range(20, 35));  // nothing below its checkpoint
}

TEST_F(LogFollowerTest, AProjectionFarBehindDoesNotHoldTheOthersBack) {
  Append(40);
  Recorder behind("new projection"), current("current projection", 35);
  LogFollower::Options options;
  options.max_batch_events = 5;
  LogFollower follower(store_.get(), options);
  follower.Register(&behind, {"svc.New"});
  follower.Register(&current, {"svc.Current"});
  // One round: the new projection gets its first 5 records, and the current
  // one its last 5 too, from a scan of its own.
  ASSERT_TRUE(follower.RunOnce().ok());
  EXPECT_EQ(behind.applied(), Range(0, 5));
  EXPECT_EQ(current.applied(), Range(35, 40));
  EXPECT_TRUE(follower.WaitFor("svc.Current", 40, absl::Milliseconds(1)).ok());
}

TEST_F(LogFollowerTest, AFailingProjectionIsRetriedWithBackoffReportedAndRecovers) {
  Append(10);
  Recorder healthy("healthy"), flaky("flaky projection");
  flaky.FailCommits(true);
  LogFollower::Options options;
  options.first_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(160);
  LogFollower follower(store_.get(), options);
  follower.Register(&healthy, {"svc.Healthy", "svc.Both"});
  follower.Register(&flaky, {"svc.Flaky", "svc.Both"});

  Mutex mu;
  std::map<std::string, std::vector<bool>> reports;
  follower.SetHealthCallback([&](const std::string& service, bool serving) {
    MutexLock lock(&mu);
    reports[service].push_back(serving);
  });
  follower.Start();

  // The healthy projection goes on; callers of the flaky one's services get
  // its reason at once, not a time-out.
  ASSERT_TRUE(follower.WaitFor("svc.Healthy", 10, absl::Seconds(10)).ok());
  const absl::Time asked = absl::Now();
  absl::Status waited = follower.WaitFor("svc.Flaky", 10, absl::Seconds(30));
  EXPECT_LT(absl::Now() - asked, absl::Seconds(5));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("flaky projection"), std::string::npos) << waited;
  EXPECT_NE(waited.message().find("disk of flaky projection is gone"), std::string::npos);
  EXPECT_EQ(follower.WaitFor("svc.Both", 10, absl::Seconds(1)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(follower.Serving("svc.Flaky"));
  EXPECT_TRUE(follower.Serving("svc.Healthy"));

  // Retried, with backoff: over a second, at most ~1 + 1000/20 tries if it
  // never backed off; with backoff capped at 160 ms, far fewer.
  absl::SleepFor(absl::Seconds(1));
  const int attempts = flaky.attempts();
  EXPECT_GE(attempts, 3);
  EXPECT_LE(attempts, 12);
  std::vector<ProjectionHealth> health = follower.Health();
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[1].name, "flaky projection");
  EXPECT_TRUE(health[1].failing);
  EXPECT_GE(health[1].failures, 3u);
  EXPECT_EQ(health[1].checkpoint, 0u);
  EXPECT_FALSE(health[0].failing);
  EXPECT_EQ(health[0].checkpoint, 10u);

  flaky.FailCommits(false);
  // Failing until its next retry succeeds (at most max_backoff away).
  const absl::Time healed = absl::Now();
  while (!follower.Serving("svc.Flaky") && absl::Now() - healed < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_LT(absl::Now() - healed, absl::Seconds(3));
  ASSERT_TRUE(follower.WaitFor("svc.Flaky", 10, absl::Seconds(10)).ok());
  follower.Stop();
  EXPECT_EQ(flaky.applied(), Range(0, 10));  // nothing from the failed rounds twice
  EXPECT_FALSE(follower.Health()[1].failing);
  EXPECT_GE(follower.Health()[1].failures, 3u);  // the counter keeps its history

  MutexLock lock(&mu);
  // At once on registration (all serving), then down, then up again.
  EXPECT_EQ(reports["svc.Flaky"], (std::vector<bool>{true, false, true}));
  EXPECT_EQ(reports["svc.Both"].front(), true);
  EXPECT_EQ(reports["svc.Both"].back(), true);
  EXPECT_EQ(reports["svc.Healthy"], (std::vector<bool>{true}));  // registration only
}

TEST_F(LogFollowerTest, AProjectionBehindAfterTheTimeoutIsNamed) {
  Append(3);
  Recorder never("slow projection");
  LogFollower follower(store_.get());
  follower.Register(&never, {"svc"});
  // Not started: nothing applies.
  absl::Status waited = follower.WaitFor("svc", 3, absl::Milliseconds(100));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("slow projection is still catching up"), std::string::npos)
      << waited;
  // A wait nothing registered answers is refused, never a silent yes.
  EXPECT_EQ(follower.WaitFor("other", 3, absl::Milliseconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  // RunOnce applies one round on the caller's thread.
  auto advanced = follower.RunOnce();
  ASSERT_TRUE(advanced.ok()) << advanced.status();
  EXPECT_EQ(*advanced, 3u);
  EXPECT_TRUE(follower.WaitFor("svc", 3, absl::Milliseconds(1)).ok());
}

TEST_F(LogFollowerTest, AProjectionAheadOfTheLogIsRefusedNotApplied) {
  Append(2);
  // A projection of another, longer log.
  class Foreign final : public Projection {
   public:
    std::string_view Name() const override { return "foreign tree"; }
    uint64_t Checkpoint() const override { return 50; }
    [[nodiscard]] absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t log_end) override {
      if (Checkpoint() > log_end) {
        return absl::FailedPreconditionError(absl::StrCat("at 50, the log has ", log_end));
      }
      return absl::InternalError("unreachable");
    }
  } foreign;
  LogFollower follower(store_.get());
  follower.Register(&foreign, {"svc"});
  EXPECT_EQ(follower.RunOnce().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(follower.Serving("svc"));
  EXPECT_NE(follower.Health()[0].last_error.find("the log has 2"), std::string::npos);
}

}  // namespace
}  // namespace duurzaam::projections
