#include "demo/demo_data.h"

#include <gtest/gtest.h>

#include <map>

#include "codec/sealing.h"
#include "crypto/data_keys.h"
#include "domain/status.h"
#include "domain/timeline.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::demo {
namespace {

using domain::StatusLevel;

std::map<std::string, domain::CaseStatus> Statuses(domain::Date today) {
  std::map<std::string, std::vector<domain::Event>> streams;
  for (auto& d : DemoEvents(today)) streams[d.stream].push_back(d.event);
  std::map<std::string, domain::CaseStatus> out;
  for (const auto& [stream, events] : streams) {
    if (stream.rfind("case-", 0) != 0) continue;
    std::string employer;
    for (const auto& e : events) {
      if (auto* o = std::get_if<domain::CaseOpened>(&e.body)) employer = o->employer_id;
    }
    auto all = domain::WithEmployerEvents(events, streams["employer-" + employer]);
    out[stream] = domain::Evaluate(domain::FoldAsOf(all, today), today, domain::CurrentRuleset());
  }
  return out;
}

TEST(DemoDataTest, EveryStatusAppearsAsDesigned) {
  const domain::Date today(2026, 11, 23);
  auto statuses = Statuses(today);
  ASSERT_EQ(statuses.size(), 12u);
  const std::map<std::string, StatusLevel> expected = {
      {"case-anna", StatusLevel::kVulnerable},   {"case-bram", StatusLevel::kAtRisk},
      {"case-chris", StatusLevel::kSustainable}, {"case-dewi", StatusLevel::kVulnerable},
      {"case-emre", StatusLevel::kAtRisk},       {"case-fleur", StatusLevel::kAtRisk},
      {"case-gijs", StatusLevel::kAtRisk},       {"case-hanna", StatusLevel::kEnded},
      {"case-ivo", StatusLevel::kAtRisk},        {"case-jasmijn", StatusLevel::kVulnerable},
      {"case-koen", StatusLevel::kVulnerable},   {"case-lotte", StatusLevel::kVulnerable},
  };
  std::set<std::string> rules;
  for (const auto& [stream, level] : expected) {
    const auto& s = statuses.at(stream);
    std::string why;
    for (const auto& r : s.reasons) why += r.rule_id + " ";
    EXPECT_EQ(s.level, level) << stream << ": " << why;
    for (const auto& r : s.reasons) rules.insert(r.rule_id);
  }
  EXPECT_GE(rules.size(), 10u) << "most rules should appear in the demo";
}

TEST(DemoDataTest, SeedingPassesTheRulesAndIsIdempotentAlsoWhenSealed) {
  duurzaam::testing::TempDir dir;
  eventstore::Options options;
  options.path = dir.Sub("events");
  auto store = eventstore::Store::Open(options);
  ASSERT_TRUE(store.ok());
  auto keyring = crypto::MasterKeyring::FromKeys({{"m1", std::string(32, '\x01')}});
  ASSERT_TRUE(keyring.ok());
  auto keys = crypto::DataKeyStore::Open(dir.Sub("keys"), *std::move(keyring));
  ASSERT_TRUE(keys.ok()) << keys.status();
  const codec::DataKeySealer sealer(keys->get());
  const domain::Date today(2026, 11, 23);
  auto first = Seed(store->get(), today, &sealer);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->streams, 13);
  EXPECT_GT(first->appended, 100);
  uint64_t end = (*store)->CommittedEnd();
  // Sealing is deterministic: the same events seal to the same bytes, so a
  // second seeding is an idempotent replay that writes nothing.
  auto second = Seed(store->get(), today, &sealer);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->appended, 0);
  EXPECT_EQ((*store)->CommittedEnd(), end);
  auto scaled = Seed(store->get(), today, &sealer, 3);
  ASSERT_TRUE(scaled.ok()) << scaled.status();
  EXPECT_EQ(scaled->streams, 13 + 2 * 12);
}

}  // namespace
}  // namespace duurzaam::demo
