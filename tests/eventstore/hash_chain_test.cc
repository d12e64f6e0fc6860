#include <gtest/gtest.h>

#include <memory>

#include "eventstore/chain.h"
#include "eventstore/record_codec.h"
#include "eventstore/store.h"
#include "tests/eventstore/tamper.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::eventstore {
namespace {

using duurzaam::testing::Tamper;
using duurzaam::testing::TempDir;

void Fill(const std::string& path, int n) {
  Options options;
  options.path = path;
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE((*store)
                    ->Append({"case-" + std::to_string(i % 3),
                              Expectation::Any(),
                              {{EventId::Random(), "E", "payload-" + std::to_string(i), ""}}})
                    .ok());
  }
}

[[nodiscard]] absl::StatusOr<ChainVerification> Verify(const std::string& path, uint64_t from = 0) {
  Options options;
  options.path = path;
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  return (*store)->VerifyChain(from, UINT64_MAX);
}

TEST(HashChainTest, IntactChainVerifies) {
  TempDir dir;
  Fill(dir.path(), 50);
  auto v = Verify(dir.path());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->verified, 50u);
  auto partial = Verify(dir.path(), 20);
  EXPECT_TRUE(partial->ok());
  EXPECT_EQ(partial->verified, 30u);
}

TEST(HashChainTest, ChangedPayloadIsReportedAtItsPosition) {
  TempDir dir;
  Fill(dir.path(), 50);
  Tamper(dir.path(), 17, [](std::string* v) {
    size_t at = v->find("payload-17");
    ASSERT_NE(at, std::string::npos);
    (*v)[at] = 'P';
  });
  auto v = Verify(dir.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(*v->first_broken, 17u);
  EXPECT_EQ(v->verified, 17u);
  EXPECT_NE(v->detail.find("position 17"), std::string::npos) << v->detail;
}

TEST(HashChainTest, RecomputedHashIsCaughtByTheNextLink) {
  TempDir dir;
  Fill(dir.path(), 50);
  Hash previous;
  {
    Options options;
    options.path = dir.path();
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok());
    previous = (*store)->ReadAt(29)->hash;
  }
  // The attacker edits record 30 and recomputes its hash correctly; the
  // chain then breaks at 31, whose hash covers record 30's original hash.
  Tamper(dir.path(), 30, [&](std::string* v) {
    size_t at = v->find("payload-30");
    ASSERT_NE(at, std::string::npos);
    (*v)[at] = 'X';
    std::string body(internal::RecordBody(*v));
    std::optional<Hash> forged = internal::ChainHash(30, previous, body);
    ASSERT_TRUE(forged.has_value());
    *v = body + std::string(internal::HashBytes(*forged));
  });
  auto v = Verify(dir.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(*v->first_broken, 31u);
  EXPECT_EQ(v->verified, 31u);
}

// What a verifier outside the engine does (eventstore/chain.h): recompute
// every link from the records as the API serves them.
TEST(HashChainTest, AClientRecomputesTheChainFromServedRecords) {
  TempDir dir;
  Fill(dir.path(), 25);
  Options options;
  options.path = dir.path();
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok());
  auto records = (*store)->ReadAll(0, {}, 100);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 25u);
  Hash previous{};
  for (const RecordedEvent& r : *records) {
    ASSERT_TRUE(VerifyLink(r, previous).ok()) << r.position;
    previous = r.hash;
  }
  // Any served field changed, or a record left out, breaks a link.
  RecordedEvent changed = (*records)[7];
  changed.data += "x";
  absl::Status s = VerifyLink(changed, (*records)[6].hash);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("position 7"), std::string::npos) << s;
  RecordedEvent moved = (*records)[7];
  moved.revision += 1;
  EXPECT_FALSE(VerifyLink(moved, (*records)[6].hash).ok());
  EXPECT_FALSE(VerifyLink((*records)[8], (*records)[6].hash).ok());  // 7 left out
}

}  // namespace
}  // namespace duurzaam::eventstore
