#include "projections/case_projection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "codec/placement_codec.h"
#include "demo/demo_data.h"
#include "projections/log_follower.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::projections {
namespace {

using duurzaam::testing::TempDir;

const domain::Date kToday(2026, 11, 23);

std::unique_ptr<eventstore::Store> OpenStore(const std::string& path) {
  eventstore::Options options;
  options.path = path;
  auto store = eventstore::Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(*store);
}

std::unique_ptr<CaseProjection> OpenProjection(const std::string& path) {
  auto p = CaseProjection::Open(path);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

void ExpectParity(eventstore::Store* store, LogFollower* follower, CaseProjection* incremental,
                  const std::string& dir) {
  ASSERT_TRUE(follower->WaitForAll(store->CommittedEnd(), absl::Seconds(60)).ok());
  auto rebuilt = OpenProjection(dir);
  while (true) {
    auto advanced = rebuilt->CatchUp(store, 5000);
    ASSERT_TRUE(advanced.ok()) << advanced.status();
    if (*advanced == 0) break;
  }
  EXPECT_EQ(rebuilt->Checkpoint(), incremental->Checkpoint());
  auto a = incremental->Dump();
  auto b = rebuilt->Dump();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  EXPECT_TRUE(*a == *b) << "incremental and caught-up-from-zero projections differ";
  // And Rebuild (what duurzaamd --rebuild_projections runs) ends equal too.
  auto bulk = OpenProjection(dir + "-bulk");
  uint64_t reports = 0;
  ASSERT_TRUE(bulk->Rebuild(store, [&](uint64_t, uint64_t) { ++reports; }).ok());
  EXPECT_GT(reports, 0u);
  EXPECT_EQ(bulk->Checkpoint(), incremental->Checkpoint());
  auto c = bulk->Dump();
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(a->size(), c->size());
  EXPECT_TRUE(*a == *c) << "incremental and rebuilt projections differ";
}

TEST(CaseProjectionTest, IncrementalEqualsRebuildOnTheDemoSet) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("events"));
  auto projection = OpenProjection(dir.Sub("projection"));
  LogFollower follower(store.get());  // follows while the demo is written
  follower.Register(projection.get(), {});
  follower.Start();
  ASSERT_TRUE(demo::Seed(store.get(), kToday, nullptr).ok());
  // An expert leaves a case: the index entry is deleted in both paths.
  domain::Event leave{eventstore::EventId::Random().ToString(),
                      kToday,
                      kToday,
                      {"expert:jdevries", domain::Role::kExpert},
                      domain::TeamMemberRemoved{"expert:jdevries"}};
  ASSERT_TRUE(store
                  ->Append({"case-koen",
                            eventstore::Expectation::Any(),
                            {*codec::Encode(leave, *eventstore::EventId::Parse(leave.id),
                                            "case-koen", nullptr)}})
                  .ok());
  ExpectParity(store.get(), &follower, projection.get(), dir.Sub("rebuild"));

  auto anna = projection->StreamEvents("case-anna");
  ASSERT_TRUE(anna.ok());
  EXPECT_GT(anna->size(), 5u);
  for (size_t i = 0; i < anna->size(); ++i) EXPECT_EQ((*anna)[i].revision, static_cast<int64_t>(i));
  auto portfolio = projection->CasesOfExpert("expert:jdevries");
  ASSERT_TRUE(portfolio.ok());
  EXPECT_EQ(portfolio->size(), 11u);
  auto cases = projection->AllCases();
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 12u);
}

TEST(CaseProjectionTest, IncrementalEqualsRebuildOnALargeGeneratedSet) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("events"));
  auto projection = OpenProjection(dir.Sub("projection"));
  LogFollower follower(store.get());
  follower.Register(projection.get(), {});
  follower.Start();
  auto seeded = demo::Seed(store.get(), kToday, nullptr, 50);  // 600 placements
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_GT(seeded->appended, 8000);
  auto start = std::chrono::steady_clock::now();
  ExpectParity(store.get(), &follower, projection.get(), dir.Sub("rebuild"));
  std::printf("parity over %llu events checked in %.2f s\n",
              static_cast<unsigned long long>(store->CommittedEnd()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST(CaseProjectionTest, RestartResumesFromTheCheckpointWithoutReplaying) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("events"));
  {
    auto projection = OpenProjection(dir.Sub("projection"));
    ASSERT_TRUE(demo::Seed(store.get(), kToday, nullptr).ok());
    ASSERT_TRUE(projection->CatchUp(store.get(), 100000).ok());
    EXPECT_EQ(projection->Checkpoint(), store->CommittedEnd());
  }
  auto reopened = OpenProjection(dir.Sub("projection"));
  EXPECT_EQ(reopened->Checkpoint(), store->CommittedEnd());
  auto advanced = reopened->CatchUp(store.get(), 100000);
  ASSERT_TRUE(advanced.ok());
  EXPECT_EQ(*advanced, 0u);
  EXPECT_EQ(reopened->Applied(), 0u) << "nothing replayed after a restart";
  // New events after the restart are applied, and only those.
  ASSERT_TRUE(demo::Seed(store.get(), kToday, nullptr, 2).ok());
  ASSERT_TRUE(reopened->CatchUp(store.get(), 100000).ok());
  EXPECT_GT(reopened->Applied(), 0u);
  EXPECT_LT(reopened->Applied(), store->CommittedEnd() / 2 + 10);
  auto cases = reopened->AllCases();
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 24u);
}

TEST(CaseProjectionTest, ClearEmptiesForARebuild) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("events"));
  auto projection = OpenProjection(dir.Sub("projection"));
  ASSERT_TRUE(demo::Seed(store.get(), kToday, nullptr).ok());
  ASSERT_TRUE(projection->CatchUp(store.get(), 100000).ok());
  auto before = projection->Dump();
  ASSERT_TRUE(projection->Clear().ok());
  EXPECT_EQ(projection->Checkpoint(), 0u);
  EXPECT_TRUE(projection->Dump()->empty());
  ASSERT_TRUE(projection->CatchUp(store.get(), 100000).ok());
  EXPECT_TRUE(*projection->Dump() == *before);
}

TEST(CaseProjectionTest, AccessRecordsAreACasesOpeningAndTeamChangesDamagedOrNot) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("events"));
  auto projection = OpenProjection(dir.Sub("projection"));
  ASSERT_TRUE(demo::Seed(store.get(), kToday, nullptr).ok());
  // A team change that does not read: kept among them (a reader must fail
  // closed on it), where a damaged record of another kind is not.
  auto garbage = [&](const std::string& type) {
    ASSERT_TRUE(store
                    ->Append({"case-anna",
                              eventstore::Expectation::Any(),
                              {{eventstore::EventId::Random(), type, "\xff garbage", ""}}})
                    .ok());
  };
  garbage("TeamMemberAdded");
  garbage("ContactMoment");
  ASSERT_TRUE(projection->Rebuild(store.get()).ok());
  auto all = projection->StreamEvents("case-anna");
  ASSERT_TRUE(all.ok() && all->size() > 4);
  for (uint64_t from : {uint64_t{0}, uint64_t{1}, static_cast<uint64_t>(all->size() - 2),
                        static_cast<uint64_t>(all->size())}) {
    auto some = projection->AccessRecords("case-anna", from);
    ASSERT_TRUE(some.ok()) << some.status();
    std::vector<std::string> want, got;
    for (const auto& r : *all) {
      if (static_cast<uint64_t>(r.revision) >= from && codec::DecidesAccess(r.type)) {
        want.push_back(r.id.ToString());
      }
    }
    for (const auto& r : *some) got.push_back(r.id.ToString());
    EXPECT_EQ(got, want) << "from " << from;
  }
  auto some = projection->AccessRecords("case-anna", 0);
  ASSERT_GE(some->size(), 2u);
  EXPECT_EQ(some->front().type, "CaseOpened");
  EXPECT_EQ(some->back().type, "TeamMemberAdded");
  EXPECT_EQ(some->back().data, "\xff garbage");
  EXPECT_LT(some->size(), all->size());
  EXPECT_TRUE(projection->AccessRecords("case-nobody", 0)->empty());
  // The follower's way (CatchUp) keeps the same.
  auto followed = OpenProjection(dir.Sub("followed"));
  ASSERT_TRUE(followed->CatchUp(store.get(), 100000).ok());
  auto again = followed->AccessRecords("case-anna", 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), some->size());
}

}  // namespace
}  // namespace duurzaam::projections
