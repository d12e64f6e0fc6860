// The expert app's core against a real mutual-TLS server: two experts'
// devices on one case, offline, then syncing (the commuting case and the
// conflicting one, resolved by its author); a device taken off a team, a
// revoked device and an erased case purge the case from the replica, whose
// journal then holds none of it (decrypted and searched, with a positive
// control), and a crash in the middle of a save loses nothing acknowledged.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/time/clock.h"
#include "clients/expert/app.h"
#include "codec/placement_codec.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "tests/services/mtls_fixture.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

using expert::ExpertApp;
using expert::IntentState;

const expert::VaultOptions kFastKdf{.log2_n = 10, .r = 8, .p = 1};
constexpr char kPass[] = "lange zin als wachtwoord";

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }
domain::Date Day() { return codec::RecordedDay(NowMicros()); }

// Every plaintext record of a journal, concatenated (decrypted with the
// passphrase: what the device could still read).
std::string Decrypted(const std::string& path) {
  std::string all;
  auto vault = expert::Vault::Open(path, kPass, [&](std::string_view r) {
    all.append(r);
    return absl::OkStatus();
  });
  EXPECT_TRUE(vault.ok()) << vault.status();
  return all;
}

class ExpertSyncTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() {
    MakePki({"EXPERT jdevries", "EXPERT pvisser", "ADMIN beheer", "EXPERT leaver --device laptop",
             "EXPERT leaver --device tablet"});
  }
  static void TearDownTestSuite() { DeletePki(); }
  void SetUp() override {
    revoked_ = dir_.Sub("revoked-serials");
    std::ofstream(revoked_) << "# none yet\n";
    StartAll(
        {.seed = true, .revoked_serials = revoked_, .audit = false, .plugins = {}, .follower = {}});
  }

  struct Device {
    std::string name;
    std::string journal;
    std::unique_ptr<ExpertApp> app;
    std::unique_ptr<v1::Cases::Stub> stub;
  };
  // A device with `name`'s certificate (clients/NAME.pem; "leaver+laptop"
  // is leaver's laptop).
  Device NewDevice(const std::string& name) {
    Device d{name, devices_.Sub(name + ".vault"), nullptr, v1::Cases::NewStub(Channel(name))};
    expert::v1::Identity identity;
    identity.set_server("127.0.0.1");
    identity.set_expert_id("expert:" + name.substr(0, name.find('+')));
    auto app = ExpertApp::Create(d.journal, kPass, identity, kFastKdf);
    EXPECT_TRUE(app.ok()) << app.status();
    d.app = std::move(*app);
    return d;
  }
  static absl::StatusOr<expert::SyncReport> Sync(Device& d) {
    return d.app->Sync(d.stub.get(), [](grpc::ClientContext* c) { Deadline(c); });
  }
  static v1::PlacementEvent Contact(const std::string& summary) {
    v1::PlacementEvent e = MtlsServerTest::Today();
    e.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
    e.mutable_contact_moment()->set_summary(summary);
    return e;
  }
  static v1::PlacementEvent Contract(v1::ContractType type) {
    v1::PlacementEvent e = MtlsServerTest::Today();
    e.mutable_contract_changed()->set_contract(type);
    e.mutable_contract_changed()->set_hours_per_week(24);
    if (type == v1::CONTRACT_TYPE_FIXED_TERM) {
      auto* end = e.mutable_contract_changed()->mutable_contract_end();
      end->set_year(2027);
      end->set_month(6);
      end->set_day(30);
    }
    return e;
  }
  static v1::PlacementEvent TeamChange(const std::string& expert, bool add) {
    v1::PlacementEvent e = MtlsServerTest::Today();
    if (add) {
      e.mutable_team_member_added()->set_expert_id(expert);
    } else {
      e.mutable_team_member_removed()->set_expert_id(expert);
    }
    return e;
  }
  // The device's copy of a case equals the server's events of it.
  void ExpectReplicaEqualsServer(const Device& d, const std::string& case_id) {
    auto held = d.app->replica().cases().find(case_id);
    ASSERT_NE(held, d.app->replica().cases().end());
    auto records =
        store_->ReadStream("case-" + case_id, 0, eventstore::Direction::kForwards, 100000);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(held->second.events.size(), records->size());
    for (const auto& r : *records) {
      v1::SyncedEvent e;
      ASSERT_TRUE(held->second.events.Parse(static_cast<int64_t>(r.revision), &e))
          << case_id << "/" << r.revision;
      EXPECT_EQ(e.event_id(), r.id.ToString());
      EXPECT_EQ(e.position(), r.position);
    }
  }

  TempDir devices_;
  std::string revoked_;
};

TEST_F(ExpertSyncTest, TwoExpertsOfflineOnOneCaseCommuteOrConflictAndTheAuthorResolves) {
  ASSERT_TRUE(Record("jdevries", "anna", TeamChange("expert:pvisser", true)).ok());
  Device a = NewDevice("jdevries"), b = NewDevice("pvisser");
  ASSERT_TRUE(Sync(a).ok());
  auto first = Sync(b);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->caught_up);
  ExpectReplicaEqualsServer(a, "anna");
  ExpectReplicaEqualsServer(b, "anna");

  // Offline, both record a contact: they commute.
  ASSERT_TRUE(a.app->Record("anna", Contact("A belde"), Day(), NowMicros()).ok());
  ASSERT_TRUE(b.app->Record("anna", Contact("B belde"), Day(), NowMicros()).ok());
  EXPECT_EQ(a.app->replica().PendingOn("anna"), 1);
  auto ra = Sync(a);
  ASSERT_TRUE(ra.ok()) << ra.status();
  EXPECT_EQ(ra->appended, 1);
  auto rb = Sync(b);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(rb->rebased, 1);
  ASSERT_TRUE(Sync(a).ok());
  ExpectReplicaEqualsServer(a, "anna");
  ExpectReplicaEqualsServer(b, "anna");

  // Offline, a contract change on each side: the later one conflicts.
  ASSERT_TRUE(
      a.app->Record("anna", Contract(v1::CONTRACT_TYPE_PERMANENT), Day(), NowMicros()).ok());
  auto mine = b.app->Record("anna", Contract(v1::CONTRACT_TYPE_FIXED_TERM), Day(), NowMicros());
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_TRUE(Sync(a).ok());
  rb = Sync(b);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->conflict, 1);
  const expert::IntentRecord* conflicted = b.app->replica().FindIntent(*mine);
  ASSERT_NE(conflicted, nullptr);
  EXPECT_EQ(conflicted->state, IntentState::kConflict);
  EXPECT_EQ(conflicted->outcome.rule_id(), "SYNC_EMPLOYMENT_CHANGED");
  // Resolved by its author: keep mine, on top of A's contract.
  auto kept = b.app->Replace(*mine, Contract(v1::CONTRACT_TYPE_FIXED_TERM), Day(), NowMicros());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(b.app->replica().FindIntent(*mine)->state, IntentState::kReplaced);
  rb = Sync(b);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->appended, 1);
  EXPECT_EQ(b.app->Discard(*mine).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Sync(a).ok());
  ExpectReplicaEqualsServer(a, "anna");
  ExpectReplicaEqualsServer(b, "anna");

  // Everything survives a restart of the app: the replica is the journal.
  const size_t held = b.app->replica().cases().at("anna").events.size();
  b.app.reset();
  auto reopened = ExpertApp::Open(b.journal, kPass);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->replica().cases().at("anna").events.size(), held);
  EXPECT_EQ((*reopened)->replica().FindIntent(*mine)->state, IntentState::kReplaced);
  EXPECT_EQ(ExpertApp::Open(b.journal, "niet het wachtwoord").status().code(),
            absl::StatusCode::kFailedPrecondition);  // still locked by the open app
}

TEST_F(ExpertSyncTest, TheAppRefusesLocallyWhatTheServerWouldRefuse) {
  Device a = NewDevice("jdevries");
  ASSERT_TRUE(Sync(a).ok());
  v1::PlacementEvent no_end = Contract(v1::CONTRACT_TYPE_FIXED_TERM);
  no_end.mutable_contract_changed()->clear_contract_end();
  auto refused = a.app->Record("anna", no_end, Day(), NowMicros());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(refused.status().message().find("contract_end"), std::string::npos);
  // And the same command the server refuses for the same reason.
  grpc::Status server = Record("jdevries", "anna", no_end);
  EXPECT_EQ(server.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(a.app->replica().intents().empty());  // nothing saved
}

TEST_F(ExpertSyncTest, LeavingATeamOrAnErasurePurgesTheCaseFromTheJournal) {
  ASSERT_TRUE(Record("jdevries", "anna", TeamChange("expert:pvisser", true)).ok());
  ASSERT_TRUE(Record("jdevries", "anna", Contact("alleen-voor-het-team-7731")).ok());
  Device b = NewDevice("pvisser");
  ASSERT_TRUE(Sync(b).ok());
  ASSERT_TRUE(b.app->replica().cases().contains("anna"));
  // Positive control: the device can read the case's words from its journal,
  // and the file's raw bytes never show them (encrypted at rest).
  b.app.reset();
  EXPECT_NE(Decrypted(b.journal).find("alleen-voor-het-team-7731"), std::string::npos);
  EXPECT_EQ(Slurp(b.journal).find("alleen-voor-het-team-7731"), std::string::npos);
  b.app = std::move(*ExpertApp::Open(b.journal, kPass));

  ASSERT_TRUE(Record("jdevries", "anna", TeamChange("expert:pvisser", false)).ok());
  // Offline, not yet knowing: an entry the server will refuse.
  auto late = b.app->Record("anna", Contact("te-laat-4410"), Day(), NowMicros());
  ASSERT_TRUE(late.ok()) << late.status();
  auto report = Sync(b);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rejected, 1);
  EXPECT_EQ(report->cases_removed, 1);
  EXPECT_EQ(report->intents_purged, 1);
  EXPECT_FALSE(b.app->replica().cases().contains("anna"));
  // The entry went with the case, not silently: its id stays, and how far
  // it got.
  EXPECT_EQ(b.app->replica().FindIntent(*late), nullptr);
  ASSERT_EQ(b.app->replica().purged_intents().size(), 1u);
  EXPECT_EQ(b.app->replica().purged_intents()[0].event_id, *late);
  EXPECT_EQ(b.app->replica().purged_intents()[0].state, IntentState::kRejected);
  EXPECT_EQ(b.app->replica().purged_intents()[0].reason, v1::CaseRemoved::LEFT_TEAM);
  b.app.reset();
  EXPECT_EQ(Decrypted(b.journal).find("alleen-voor-het-team-7731"), std::string::npos);
  EXPECT_EQ(Decrypted(b.journal).find("te-laat-4410"), std::string::npos);
  EXPECT_EQ(Decrypted(b.journal).find("anna"), std::string::npos);
  EXPECT_NE(Decrypted(b.journal).find(*late), std::string::npos);  // control: the id is kept
  {                                                                // and after a restart of the app
    auto reopened = ExpertApp::Open(b.journal, kPass);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    ASSERT_EQ((*reopened)->replica().purged_intents().size(), 1u);
    EXPECT_EQ((*reopened)->replica().purged_intents()[0].state, IntentState::kRejected);
  }

  // An erased case goes from the device of its expert too.
  Device a = NewDevice("jdevries");
  ASSERT_TRUE(Sync(a).ok());
  a.app.reset();
  EXPECT_NE(Decrypted(a.journal).find("alleen-voor-het-team-7731"), std::string::npos);
  a.app = std::move(*ExpertApp::Open(a.journal, kPass));
  v1::PlacementEvent close = MtlsServerTest::Today();
  close.mutable_case_closed()->set_reason("plaatsing beëindigd");
  ASSERT_TRUE(Record("jdevries", "anna", close).ok());
  ASSERT_TRUE(EraseCase("beheer", "anna").ok());
  report = Sync(a);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(a.app->replica().cases().contains("anna"));
  EXPECT_TRUE(a.app->replica().cases().contains("fleur"));
  a.app.reset();
  const std::string left = Decrypted(a.journal);
  EXPECT_EQ(left.find("alleen-voor-het-team-7731"), std::string::npos);
  EXPECT_NE(left.find("fleur"), std::string::npos);  // control: the rest is there
}

TEST_F(ExpertSyncTest, ARevokedDeviceForgetsEveryCaseWhileTheExpertsOtherDeviceGoesOn) {
  ASSERT_TRUE(Record("beheer", "anna", TeamChange("expert:leaver", true)).ok());
  Device laptop = NewDevice("leaver+laptop"), tablet = NewDevice("leaver+tablet");
  ASSERT_TRUE(Sync(laptop).ok());
  ASSERT_TRUE(Sync(tablet).ok());
  ASSERT_TRUE(laptop.app->replica().cases().contains("anna"));
  ASSERT_TRUE(
      laptop.app->Record("anna", Contact("nog niet verstuurd-5521"), Day(), NowMicros()).ok());
  // The laptop is lost: its certificate alone is revoked.
  RunPki("revoke " + pki_dir_->Sub("pki") + " leaver+laptop");
  std::ofstream(revoked_, std::ios::trunc) << Slurp(Pki("revoked-serials"));
  laptop.stub = v1::Cases::NewStub(Channel("leaver+laptop"));
  auto report = Sync(laptop);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->device_refused);
  EXPECT_TRUE(laptop.app->replica().cases().empty());
  EXPECT_TRUE(laptop.app->replica().intents().empty());
  // The unsent entry is listed as gone with the device's refusal.
  ASSERT_EQ(laptop.app->replica().purged_intents().size(), 1u);
  EXPECT_EQ(laptop.app->replica().purged_intents()[0].state, IntentState::kPending);
  EXPECT_TRUE(laptop.app->replica().purged_intents()[0].device_refused);
  EXPECT_EQ(report->intents_purged, 1);
  laptop.app.reset();
  const std::string left = Decrypted(laptop.journal);
  EXPECT_EQ(left.find("nog niet verstuurd-5521"), std::string::npos);
  EXPECT_EQ(left.find("anna"), std::string::npos);
  // The same expert's tablet is the same principal and still syncs.
  auto other = Sync(tablet);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->device_refused);
  EXPECT_TRUE(tablet.app->replica().cases().contains("anna"));
}

TEST_F(ExpertSyncTest, ACrashInTheMiddleOfASaveLosesNothingAcknowledged) {
  Device a = NewDevice("jdevries");
  ASSERT_TRUE(Sync(a).ok());
  auto saved = a.app->Record("anna", Contact("bewaard"), Day(), NowMicros());
  ASSERT_TRUE(saved.ok());
  a.app.reset();
  // A second save torn halfway by a crash: only its first bytes reached disk.
  const std::string before = Slurp(a.journal);
  {
    auto app = ExpertApp::Open(a.journal, kPass);
    ASSERT_TRUE(app.ok());
    ASSERT_TRUE((*app)->Record("anna", Contact("half"), Day(), NowMicros()).ok());
  }
  const std::string after = Slurp(a.journal);
  std::ofstream(a.journal, std::ios::binary | std::ios::trunc)
      << after.substr(0, before.size() + (after.size() - before.size()) / 2);
  auto app = ExpertApp::Open(a.journal, kPass);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_TRUE((*app)->recovered_unfinished_save());
  ASSERT_NE((*app)->replica().FindIntent(*saved), nullptr);
  EXPECT_EQ((*app)->replica().PendingOn("anna"), 1);
  a.app = std::move(*app);
  auto report = Sync(a);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->appended, 1);
  // A push whose answer was lost: pushed again, it comes back DUPLICATE.
  ExpectReplicaEqualsServer(a, "anna");
}

}  // namespace
}  // namespace duurzaam::testing
