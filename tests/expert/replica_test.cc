// The replica keeps each event it is given as its encoding, by revision
// (a replaced one zeroed); a pulled batch encodes the journal entry it was
// made from; a purge leaves none of a case's bytes in the snapshot.
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

// Applies a pulled entry with `n` events of `case_id` to `replica`; the entry.
JournalEntry ApplyPulled(Replica* replica, const std::string& case_id, int n, uint64_t cursor) {
  JournalEntry entry;
  FillPulled(&entry, case_id, n, cursor);
  EXPECT_TRUE(replica->Apply(entry).ok()) << case_id;
  return entry;
}

TEST(ReplicaTest, EventsAreKeptAsTheyCameAndReadBackEqual) {
  Replica replica;
  const JournalEntry anna = ApplyPulled(&replica, "anna", 3, 3);
  ApplyPulled(&replica, "bram", 2, 5);
  const HeldEvents& held = replica.cases().at("anna").events;
  ASSERT_EQ(held.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ::duurzaam::v1::SyncedEvent e;
    ASSERT_TRUE(held.Parse(i, &e));
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(e, anna.pulled().changes(i).event()))
        << i;
  }
  EXPECT_FALSE(held.Find(3).has_value());
  EXPECT_EQ(replica.cases().at("anna").employer_id, "acme");
  EXPECT_EQ(replica.ServerRevision("bram"), 1);
  EXPECT_EQ(replica.cursor(), 5u);
  auto events = replica.Events("anna", false);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].id, anna.pulled().changes(2).event().event_id());
}

TEST(ReplicaTest, HeldEventsTakeAnyOrderAndAReplacement) {
  HeldEvents held;
  std::string big(5000, 'x');  // beyond the first buffer: it grows
  held.Put(2, "two");
  held.Put(0, "zero");
  held.Put(5, big);
  held.Put(1, "one");
  held.Put(2, "TWO");
  ASSERT_EQ(held.size(), 4u);
  std::vector<int64_t> revisions;
  for (size_t i = 0; i < held.size(); ++i) revisions.push_back(held.revision(i));
  EXPECT_EQ(revisions, (std::vector<int64_t>{0, 1, 2, 5}));
  EXPECT_EQ(*held.Find(2), "TWO");
  // The replaced encoding is zeroed in the buffer, not only unindexed.
  EXPECT_EQ(held.buffer().find("two"), std::string_view::npos);
  EXPECT_NE(held.buffer().find("TWO"), std::string_view::npos);  // the positive control
  EXPECT_EQ(*held.Find(0), "zero");
  EXPECT_EQ(*held.Find(5), big);
  EXPECT_FALSE(held.Find(3).has_value());
  HeldEvents moved(std::move(held));
  EXPECT_EQ(*moved.Find(1), "one");
  EXPECT_TRUE(held.empty());  // NOLINT: moved from, left empty
}

TEST(ReplicaTest, ABatchEncodesTheEntryItWasMadeFrom) {
  JournalEntry entry;
  FillPulled(&entry, "anna", 4, 4);
  auto* removed = entry.mutable_pulled()->add_changes()->mutable_removed();
  removed->set_case_id("bram");
  removed->set_reason(::duurzaam::v1::CaseRemoved::LEFT_TEAM);
  removed->set_position(3);
  const PulledBatch batch = ToBatch(entry.pulled().changes(), entry.pulled().cursor());
  ASSERT_EQ(batch.changes.size(), 5u);
  EXPECT_EQ(batch.changes[0].opened_employer, "acme");
  EXPECT_TRUE(batch.changes[4].removed);
  JournalEntry parsed;
  ASSERT_TRUE(parsed.ParseFromString(EncodeEntry(batch)));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, entry))
      << parsed.ShortDebugString() << "\n"
      << entry.ShortDebugString();
  // And the same as protobuf encodes it (the order is the canonical one).
  EXPECT_EQ(EncodeEntry(batch), entry.SerializeAsString());
  // A batch with no cursor, and an empty one.
  JournalEntry empty;
  empty.mutable_pulled();
  EXPECT_EQ(EncodeEntry(ToBatch(empty.pulled().changes(), 0)), empty.SerializeAsString());
}

TEST(ReplicaTest, APurgeKeepsTheRestAsItWasAndSnapshotsRebuildIt) {
  Replica replica;
  ApplyPulled(&replica, "anna", 50, 50);
  ApplyPulled(&replica, "bram", 10, 60);
  JournalEntry purge;
  purge.mutable_purged()->set_case_id("bram");
  ASSERT_TRUE(replica.Apply(purge).ok());
  EXPECT_FALSE(replica.cases().contains("bram"));
  EXPECT_TRUE(replica.NeedsCompaction());
  // The snapshot rebuilds an equal replica, without bram in any byte.
  const std::vector<JournalEntry> snapshot = replica.Snapshot();
  Replica rebuilt;
  std::string all;
  for (const JournalEntry& e : snapshot) {
    ASSERT_TRUE(rebuilt.Apply(e).ok());
    all += e.SerializeAsString();
  }
  EXPECT_EQ(all.find("bram"), std::string::npos);
  EXPECT_NE(all.find("anna gesprek 7"), std::string::npos);  // the positive control
  EXPECT_EQ(rebuilt.cursor(), replica.cursor());
  auto events = rebuilt.Events("anna", false);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 50u);
  const std::vector<JournalEntry> again = rebuilt.Snapshot();
  ASSERT_EQ(again.size(), snapshot.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again[i], snapshot[i])) << i;
  }
}

}  // namespace
}  // namespace duurzaam::expert
