// The replica keeps the events it is given in its arena: a pull parsed there
// is kept without a copy, one made elsewhere is copied in, and Repack moves
// what is held to a new arena (the old one, with a purged case's plaintext,
// is dropped) without changing it.
#include "clients/expert/replica.h"

#include <gtest/gtest.h>

#include "codec/placement_codec.h"
#include "google/protobuf/util/message_differencer.h"

namespace duurzaam::expert {
namespace {

// A pulled entry with `n` contact events on case `case_id`.
void FillPulled(JournalEntry* entry, const std::string& case_id, int n, uint64_t cursor) {
  auto* pulled = entry->mutable_pulled();
  for (int i = 0; i < n; ++i) {
    auto* e = pulled->add_changes()->mutable_event();
    e->set_case_id(case_id);
    e->set_revision(i);
    e->set_position(cursor - n + i);
    e->set_event_id("00000000-0000-4000-8000-00000000000" + std::to_string(i % 10));
    domain::Event event;
    event.id = e->event_id();
    event.occurred_on = domain::Date(2026, 11, 1);
    event.recorded_on = event.occurred_on;
    event.recorded_by = {"expert:jdevries", domain::Role::kExpert, {}};
    if (i == 0) {
      event.body = domain::CaseOpened{"worker-" + case_id, "acme", "Twente", "Wajong"};
    } else {
      event.body = domain::ContactMoment{domain::ContactKind::kVisit,
                                         case_id + " gesprek " + std::to_string(i)};
    }
    codec::ToProto(event, e->mutable_event());
  }
  pulled->set_cursor(cursor);
}

TEST(ReplicaTest, EventsMadeInItsArenaAreKeptWithoutACopyOthersAreCopiedIn) {
  Replica replica;
  auto* in_arena = google::protobuf::Arena::CreateMessage<JournalEntry>(replica.arena());
  FillPulled(in_arena, "anna", 3, 3);
  const ::duurzaam::v1::SyncedEvent* first = &in_arena->pulled().changes(1).event();
  ASSERT_TRUE(replica.Apply(in_arena).ok());
  EXPECT_EQ(replica.cases().at("anna").events.at(1), first);  // the same object
  EXPECT_FALSE(in_arena->pulled().changes(1).has_event());    // taken out

  JournalEntry on_heap;
  FillPulled(&on_heap, "bram", 2, 5);
  ASSERT_TRUE(replica.Apply(&on_heap).ok());
  const auto* kept = replica.cases().at("bram").events.at(1);
  EXPECT_NE(kept, &on_heap.pulled().changes(1).event());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      *kept, on_heap.pulled().changes(1).event()));
  EXPECT_EQ(replica.cases().at("anna").employer_id, "acme");
  EXPECT_EQ(replica.cursor(), 5u);
}

TEST(ReplicaTest, RepackMovesWhatIsHeldAndKeepsItEqual) {
  Replica replica;
  auto* entry = google::protobuf::Arena::CreateMessage<JournalEntry>(replica.arena());
  FillPulled(entry, "anna", 50, 50);
  ASSERT_TRUE(replica.Apply(entry).ok());
  JournalEntry other;
  FillPulled(&other, "bram", 10, 60);
  ASSERT_TRUE(replica.Apply(&other).ok());
  // A purge of bram, then the repack a compaction makes.
  JournalEntry purge;
  purge.mutable_purged()->set_case_id("bram");
  ASSERT_TRUE(replica.Apply(&purge).ok());
  const std::vector<JournalEntry> before = replica.Snapshot();
  const auto* old_event = replica.cases().at("anna").events.at(7);
  google::protobuf::Arena* old_arena = replica.arena();
  replica.Repack();
  EXPECT_NE(replica.arena(), old_arena);
  EXPECT_NE(replica.cases().at("anna").events.at(7), old_event);
  EXPECT_EQ(replica.cases().at("anna").events.at(7)->GetArena(), replica.arena());
  EXPECT_FALSE(replica.cases().contains("bram"));
  const std::vector<JournalEntry> after = replica.Snapshot();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before[i], after[i])) << i;
  }
  // What it holds reads as before.
  auto events = replica.Events("anna", false);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 50u);
}

}  // namespace
}  // namespace duurzaam::expert
