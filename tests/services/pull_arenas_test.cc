#include "services/pull_arenas.h"

#include <gtest/gtest.h>

#include <thread>

#include "duurzaam/v1/cases.pb.h"

namespace duurzaam::services {
namespace {

// Fills `arena` with about `bytes` of events, as a Pull round does.
void Fill(google::protobuf::Arena* arena, size_t bytes) {
  auto* response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(arena);
  while (static_cast<size_t>(arena->SpaceUsed()) < bytes) {
    auto* e = response->add_changes()->mutable_event();
    e->set_case_id("anna");
    e->mutable_event()->mutable_contact_moment()->set_summary("bezoek");
  }
}

// The round is built on one thread and given back by another (the handler
// that wrote it); taken again, the arena allocates in its own block, not
// in blocks malloc'd afresh for the builder.
TEST(PullArenasTest, AnArenaGivenBackByAnotherThreadBuildsInItsOwnBlockAgain) {
  PullArenas arenas(/*ready=*/1);
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<PullArena> taken;
    std::thread builder([&] {
      taken = arenas.Take();
      Fill(taken->arena.get(), 1 << 20);
    });
    builder.join();
    EXPECT_EQ(static_cast<size_t>(taken->arena->SpaceAllocated()), PullArenas::kBlockBytes)
        << "round " << round;
    std::thread writer([&] { arenas.Give(std::move(taken)); });
    writer.join();
  }
  EXPECT_EQ(arenas.free_count(), 1u);
}

TEST(PullArenasTest, AtMostAFewAreKeptBetweenCalls) {
  PullArenas arenas(/*ready=*/0);
  std::vector<std::unique_ptr<PullArena>> taken;
  for (size_t i = 0; i < PullArenas::kKeptFree + 3; ++i) taken.push_back(arenas.Take());
  for (auto& a : taken) arenas.Give(std::move(a));
  EXPECT_EQ(arenas.free_count(), PullArenas::kKeptFree);
}

}  // namespace
}  // namespace duurzaam::services
