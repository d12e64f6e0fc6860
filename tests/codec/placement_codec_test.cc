#include "codec/placement_codec.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <functional>

#include "codec/sealing.h"
#include "common/field_violation.h"
#include "crypto/data_keys.h"
#include "duurzaam/storage/v1/placement_record.pb.h"
#include "duurzaam/v1/eventstore.pb.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::codec {
namespace {

using domain::Date;

domain::Event Make(domain::EventBody body) {
  return domain::Event{"6b2f1c1e-4a8d-4f3e-9d2a-0c1b2a3d4e5f",
                       Date(2024, 3, 1),
                       Date(2024, 3, 2),
                       {"expert:jdevries", domain::Role::kExpert},
                       std::move(body)};
}

std::vector<domain::EventBody> OneOfEach() {
  using namespace domain;
  return {
      CaseOpened{"worker-1", "employer:acme", "Groot Amsterdam", "Wajong"},
      CaseClosed{"moved away"},
      CaseReopened{"back"},
      TeamMemberAdded{"expert:a"},
      TeamMemberRemoved{"expert:a"},
      Hired{ContractType::kFixedTerm, Date(2025, 1, 31), 24.5, "warehouse", "no night shifts"},
      ContractChanged{ContractType::kPermanent, std::nullopt, 32},
      OrganisationChanged{OrganisationChangeKind::kMerger, "merged with beta"},
      PrivateLifeChanged{"moved house"},
      SocietalDisruption{"pandemic"},
      InterventionStarted{InterventionKind::kCapacityAssessment, "assessment", "e12"},
      MonitoringCheckIn{Respondent::kEmployer, {{Item::kFit, 4}, {Item::kCoping, 2}}, "ok"},
      ContactMoment{ContactKind::kThreeWayConversation, "driegesprek"},
      SubsidyGranted{SubsidyKind::kWageDispensation, 55, Date(2026, 6, 30)},
      SubsidyEnded{SubsidyKind::kOther},
      NoRiskCoverGranted{Date(2029, 3, 1)},
      NoRiskCoverEnded{},
      AbsenceReported{},
      AbsenceEnded{},
      NoticeGiven{false, Date(2024, 4, 1)},
      EmploymentEnded{EndReason::kMutualConsent},
      ExpertJudgement{StatusLevel::kAtRisk, "manager leaves", Date(2024, 6, 1)},
  };
}

TEST(PlacementCodecTest, EveryEventTypeRoundTrips) {
  std::vector<domain::EventBody> bodies = OneOfEach();
  ASSERT_EQ(bodies.size(), std::variant_size_v<domain::EventBody>) << "add the new event here";
  for (const auto& body : bodies) {
    domain::Event original = Make(body);
    v1::PlacementEvent proto;
    ToProto(original, &proto);
    auto back = FromProto(proto, original.id, original.recorded_on, original.recorded_by);
    ASSERT_TRUE(back.ok()) << domain::TypeName(body) << ": " << back.status();
    EXPECT_EQ(back->occurred_on, original.occurred_on);
    EXPECT_EQ(back->body.index(), original.body.index());
    v1::PlacementEvent again;
    ToProto(*back, &again);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(proto, again))
        << domain::TypeName(body) << "\n"
        << proto.DebugString() << "\n"
        << again.DebugString();
  }
}

// Each domain value maps to the proto value of the same name, both ways
// (a table of names, not arithmetic: a shifted or swapped mapping fails).
TEST(PlacementCodecTest, EveryEnumValueMapsToItsNamedProtoValue) {
  using namespace domain;
  const std::pair<InterventionKind, v1::InterventionKind> kinds[] = {
      {InterventionKind::kJobCoach, v1::INTERVENTION_KIND_JOB_COACH},
      {InterventionKind::kCapacityAssessment, v1::INTERVENTION_KIND_CAPACITY_ASSESSMENT},
      {InterventionKind::kWorkplaceAdaptation, v1::INTERVENTION_KIND_WORKPLACE_ADAPTATION},
      {InterventionKind::kSubsidyAdvice, v1::INTERVENTION_KIND_SUBSIDY_ADVICE},
      {InterventionKind::kNoRiskAdvice, v1::INTERVENTION_KIND_NO_RISK_ADVICE},
      {InterventionKind::kCoaching, v1::INTERVENTION_KIND_COACHING},
      {InterventionKind::kThreeWayConversation, v1::INTERVENTION_KIND_THREE_WAY_CONVERSATION},
      {InterventionKind::kOther, v1::INTERVENTION_KIND_OTHER},
  };
  for (const auto& [kind, proto] : kinds) {
    v1::PlacementEvent p;
    ToProto(Make(InterventionStarted{kind, "x", ""}), &p);
    EXPECT_EQ(p.intervention_started().kind(), proto) << v1::InterventionKind_Name(proto);
    auto back = FromProto(p, "id", Date(2024, 3, 2), {"expert:a", Role::kExpert, ""});
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(std::get<InterventionStarted>(back->body).kind, kind);
  }
  const std::pair<Item, v1::Item> items[] = {
      {Item::kFit, v1::ITEM_FIT},
      {Item::kMeaningfulWork, v1::ITEM_MEANINGFUL_WORK},
      {Item::kGuidance, v1::ITEM_GUIDANCE},
      {Item::kSupport, v1::ITEM_SUPPORT},
      {Item::kMotivation, v1::ITEM_MOTIVATION},
      {Item::kSelfEfficacy, v1::ITEM_SELF_EFFICACY},
      {Item::kCoping, v1::ITEM_COPING},
      {Item::kIntentionToContinue, v1::ITEM_INTENTION_TO_CONTINUE},
  };
  for (const auto& [item, proto] : items) {
    v1::PlacementEvent p;
    ToProto(Make(MonitoringCheckIn{Respondent::kWorker, {{item, 3}}, ""}), &p);
    ASSERT_EQ(p.monitoring_check_in().scores_size(), 1);
    EXPECT_EQ(p.monitoring_check_in().scores(0).item(), proto) << v1::Item_Name(proto);
    EXPECT_EQ(p.monitoring_check_in().respondent(), v1::RESPONDENT_WORKER);
    auto back = FromProto(p, "id", Date(2024, 3, 2), {"expert:a", Role::kExpert, ""});
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(std::get<MonitoringCheckIn>(back->body).scores.begin()->first, item);
  }
  const std::pair<StatusLevel, v1::StatusLevel> levels[] = {
      {StatusLevel::kSustainable, v1::STATUS_LEVEL_SUSTAINABLE},
      {StatusLevel::kVulnerable, v1::STATUS_LEVEL_VULNERABLE},
      {StatusLevel::kAtRisk, v1::STATUS_LEVEL_AT_RISK},
      {StatusLevel::kEnded, v1::STATUS_LEVEL_ENDED},
  };
  for (const auto& [level, proto] : levels) {
    v1::PlacementEvent p;
    ToProto(Make(ExpertJudgement{level, "r", Date(2025, 1, 1)}), &p);
    EXPECT_EQ(p.expert_judgement().level(), proto) << v1::StatusLevel_Name(proto);
    auto back = FromProto(p, "id", Date(2024, 3, 2), {"expert:a", Role::kExpert, ""});
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(std::get<ExpertJudgement>(back->body).level, level);
  }
  // Roles as stored in recorded_by.
  const std::pair<Role, v1::Role> roles[] = {
      {Role::kExpert, v1::ROLE_EXPERT}, {Role::kEmployer, v1::ROLE_EMPLOYER},
      {Role::kWorker, v1::ROLE_WORKER}, {Role::kAuditor, v1::ROLE_AUDITOR},
      {Role::kAdmin, v1::ROLE_ADMIN},
  };
  for (const auto& [role, proto] : roles) {
    domain::Event e = Make(ContactMoment{ContactKind::kPhone, ""});
    e.recorded_by.role = role;
    v1::PlacementEvent p;
    ToProto(e, &p);
    EXPECT_EQ(p.recorded_by().role(), proto) << v1::Role_Name(proto);
  }
}

void ExpectField(const absl::StatusOr<domain::Event>& r, const std::string& field) {
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  auto v = GetFieldViolation(r.status());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->field, field);
}

TEST(PlacementCodecTest, BadInputNamesTheField) {
  v1::PlacementEvent p;
  ToProto(Make(domain::ContactMoment{domain::ContactKind::kVisit, ""}), &p);
  v1::PlacementEvent no_body = p;
  no_body.clear_body();
  ExpectField(FromProto(no_body, "id", Date(2024, 3, 2), {}), "event.body");
  v1::PlacementEvent bad_day = p;
  bad_day.mutable_occurred_on()->set_month(2);
  bad_day.mutable_occurred_on()->set_day(30);
  ExpectField(FromProto(bad_day, "id", Date(2024, 3, 2), {}), "event.occurred_on");
  v1::PlacementEvent no_day = p;
  no_day.clear_occurred_on();
  ExpectField(FromProto(no_day, "id", Date(2024, 3, 2), {}), "event.occurred_on");
  v1::PlacementEvent unknown_kind = p;
  unknown_kind.mutable_contact_moment()->set_kind(static_cast<v1::ContactKind>(42));
  ExpectField(FromProto(unknown_kind, "id", Date(2024, 3, 2), {}), "event.contact_moment.kind");
  v1::PlacementEvent hired;
  ToProto(Make(domain::Hired{}), &hired);
  hired.mutable_hired()->set_contract(v1::CONTRACT_TYPE_UNSPECIFIED);
  ExpectField(FromProto(hired, "id", Date(2024, 3, 2), {}), "event.hired.contract");
  v1::PlacementEvent twice;
  ToProto(
      Make(domain::MonitoringCheckIn{domain::Respondent::kWorker, {{domain::Item::kFit, 3}}, ""}),
      &twice);
  *twice.mutable_monitoring_check_in()->add_scores() = twice.monitoring_check_in().scores(0);
  ExpectField(FromProto(twice, "id", Date(2024, 3, 2), {}),
              "event.monitoring_check_in.scores[1].item");
}

// A check-in as schema version 1 stored it (2021-05-04, by the worker).
storage::v1::StoredPlacementEvent StoredVersionOneCheckIn() {
  storage::v1::StoredPlacementEvent old;
  old.mutable_occurred_on()->set_year(2021);
  old.mutable_occurred_on()->set_month(5);
  old.mutable_occurred_on()->set_day(4);
  old.set_schema_version(1);
  old.mutable_recorded_by()->set_id("expert:jdevries");
  old.mutable_recorded_by()->set_role(v1::ROLE_EXPERT);
  auto* c = old.mutable_monitoring_check_in_v1();
  c->set_respondent(v1::RESPONDENT_WORKER);
  c->set_fit(4);
  return old;
}

TEST(PlacementCodecTest, StoredVersionOneCheckInIsUpcast) {
  storage::v1::StoredPlacementEvent old = StoredVersionOneCheckIn();
  old.mutable_monitoring_check_in_v1()->set_intention_to_continue(2);
  eventstore::RecordedEvent record;
  record.id = eventstore::EventId::Random();
  record.type = "MonitoringCheckIn";
  record.data = old.SerializeAsString();
  record.recorded_at_micros = 1620172800LL * 1'000'000;  // 2021-05-05 00:00 UTC
  auto event = Decode(record);
  ASSERT_TRUE(event.ok()) << event.status();
  const auto& checkin = std::get<domain::MonitoringCheckIn>(event->body);
  EXPECT_EQ(checkin.respondent, domain::Respondent::kWorker);
  EXPECT_EQ(checkin.scores.at(domain::Item::kFit), 4);
  EXPECT_EQ(checkin.scores.at(domain::Item::kIntentionToContinue), 2);
  EXPECT_EQ(checkin.scores.count(domain::Item::kGuidance), 0u) << "0 meant not scored";
  EXPECT_EQ(event->recorded_on, Date(2021, 5, 5));
  // Written back, it is the current version.
  v1::PlacementEvent now;
  ToProto(*event, &now);
  EXPECT_TRUE(now.has_monitoring_check_in());
  EXPECT_EQ(now.schema_version(), 2u);
}

TEST(PlacementCodecTest, EncodeNamesTheTypeAndDecodeRestoresTheEvent) {
  domain::Event e = Make(domain::Hired{domain::ContractType::kPermanent, std::nullopt, 30, "", ""});
  eventstore::EventId id = eventstore::EventId::Random();
  absl::StatusOr<eventstore::ProposedEvent> encoded = Encode(e, id, "case-1", nullptr);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  const eventstore::ProposedEvent& proposed = *encoded;
  EXPECT_EQ(proposed.type, "PlacementHired");
  eventstore::RecordedEvent record;
  record.id = id;
  record.data = proposed.data;
  record.recorded_at_micros = 0;
  auto back = Decode(record);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, id.ToString());
  EXPECT_EQ(back->recorded_by.id, "expert:jdevries");
  EXPECT_EQ(back->recorded_on, Date(1970, 1, 1));
  record.data = "not a protobuf \xff\xff";
  EXPECT_EQ(Decode(record).status().code(), absl::StatusCode::kDataLoss);
}

TEST(PlacementCodecTest, AnUnknownStoredRoleIsDamageNotADefaultRole) {
  domain::Event e = Make(domain::ContactMoment{domain::ContactKind::kPhone, "called"});
  eventstore::EventId id = eventstore::EventId::Random();
  absl::StatusOr<eventstore::ProposedEvent> encoded = Encode(e, id, "case-1", nullptr);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  for (int role : {0, 6, 99}) {
    storage::v1::StoredPlacementEvent stored;
    ASSERT_TRUE(stored.ParseFromString(encoded->data));
    stored.mutable_recorded_by()->set_role(static_cast<v1::Role>(role));
    eventstore::RecordedEvent record;
    record.id = id;
    record.position = 7;
    record.data = stored.SerializeAsString();
    auto decoded = Decode(record);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << role;
    EXPECT_NE(decoded.status().message().find("recorded_by.role"), std::string::npos)
        << decoded.status();
  }
}

TEST(PlacementCodecTest, RedactionHidesValuesThatDeclareNoVisibility) {
  // RecordedEvent (eventstore.proto) declares no visibility at all: to the
  // redaction every value in it is RESTRICTED.
  v1::RecordedEvent message;
  message.set_stream("case-1");
  message.set_data("secret");
  message.set_position(3);
  message.mutable_recorded_at()->set_seconds(1700000000);
  EXPECT_EQ(Redact(&message, v1::VISIBILITY_EXPERT), 4);
  EXPECT_EQ(message.stream(), "");
  EXPECT_EQ(message.data(), "");
  EXPECT_EQ(message.position(), 0u);
  EXPECT_EQ(message.recorded_at().seconds(), 0);
}

TEST(PlacementCodecTest, RedactionFollowsTheSchemaVisibility) {
  v1::PlacementEvent private_life;
  ToProto(Make(domain::PrivateLifeChanged{"divorce"}), &private_life);
  v1::PlacementEvent for_employer = private_life;
  EXPECT_GT(Redact(&for_employer, v1::VISIBILITY_EMPLOYER), 0);
  EXPECT_EQ(for_employer.private_life_changed().details(), "");
  EXPECT_EQ(for_employer.SerializeAsString().find("divorce"), std::string::npos);
  v1::PlacementEvent for_expert = private_life;
  Redact(&for_expert, v1::VISIBILITY_EXPERT);
  EXPECT_EQ(for_expert.private_life_changed().details(), "");
  v1::PlacementEvent for_case_team = private_life;
  EXPECT_EQ(Redact(&for_case_team, v1::VISIBILITY_RESTRICTED), 0);
  EXPECT_EQ(for_case_team.private_life_changed().details(), "divorce");

  v1::PlacementEvent hired;
  ToProto(Make(domain::Hired{domain::ContractType::kFixedTerm, Date(2025, 1, 1), 20, "cook",
                             "short shifts"}),
          &hired);
  v1::PlacementEvent hired_for_employer = hired;
  Redact(&hired_for_employer, v1::VISIBILITY_EMPLOYER);
  EXPECT_EQ(hired_for_employer.hired().agreed_adaptations(), "short shifts");
  EXPECT_EQ(hired_for_employer.recorded_by().id(), "") << "who recorded it is EXPERT";
  EXPECT_EQ(hired_for_employer.recorded_by().role(), v1::ROLE_EXPERT);

  v1::PlacementEvent checkin;
  ToProto(Make(domain::MonitoringCheckIn{
              domain::Respondent::kWorker, {{domain::Item::kCoping, 1}}, "struggling at home"}),
          &checkin);
  v1::PlacementEvent checkin_for_expert = checkin;
  Redact(&checkin_for_expert, v1::VISIBILITY_EXPERT);
  EXPECT_EQ(checkin_for_expert.monitoring_check_in().scores_size(), 1);
  EXPECT_EQ(checkin_for_expert.monitoring_check_in().remarks(), "");
  v1::PlacementEvent checkin_for_employer = checkin;
  Redact(&checkin_for_employer, v1::VISIBILITY_EMPLOYER);
  EXPECT_EQ(checkin_for_employer.monitoring_check_in().scores_size(), 0);
}

TEST(PlacementCodecTest, EveryCatalogueFieldDeclaresItsVisibility) {
  const google::protobuf::Descriptor* event = v1::PlacementEvent::descriptor();
  const google::protobuf::OneofDescriptor* body = event->FindOneofByName("body");
  for (int i = 0; i < body->field_count(); ++i) {
    const google::protobuf::Descriptor* message = body->field(i)->message_type();
    EXPECT_GT(message->options().GetExtension(v1::schema_version), 0u) << message->name();
    for (int k = 0; k < message->field_count(); ++k) {
      EXPECT_NE(message->field(k)->options().GetExtension(v1::visibility),
                v1::VISIBILITY_UNSPECIFIED)
          << message->name() << "." << message->field(k)->name();
    }
  }
}

TEST(PlacementCodecTest, RecordedDayIsTheUtcDay) {
  EXPECT_EQ(RecordedDay(0), Date(1970, 1, 1));
  EXPECT_EQ(RecordedDay(86'400'000'000LL - 1), Date(1970, 1, 1));
  EXPECT_EQ(RecordedDay(86'400'000'000LL), Date(1970, 1, 2));
  EXPECT_EQ(RecordedDay(-1), Date(1969, 12, 31));
}

// Sealing personal data at rest (codec/sealing.h) through Encode / Decode.
class SealingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keyring = crypto::MasterKeyring::FromKeys({{"m1", std::string(32, '\x07')}});
    ASSERT_TRUE(keyring.ok());
    auto keys = crypto::DataKeyStore::Open(dir_.Sub("keys"), *std::move(keyring));
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
    sealer_ = std::make_unique<DataKeySealer>(keys_.get());
  }

  // A stored record of `event` in `stream`, sealed (or not, without sealer).
  eventstore::RecordedEvent Stored(const domain::Event& event, const std::string& stream,
                                   const Sealer* sealer) {
    const eventstore::EventId id = *eventstore::EventId::Parse(event.id);
    auto encoded = Encode(event, id, stream, sealer);
    EXPECT_TRUE(encoded.ok()) << encoded.status();
    eventstore::RecordedEvent record;
    record.stream = stream;
    record.id = id;
    record.type = encoded.ok() ? encoded->type : "";
    record.data = encoded.ok() ? encoded->data : "";
    record.recorded_at_micros = 1709337600LL * 1'000'000;  // 2024-03-02
    return record;
  }

  duurzaam::testing::TempDir dir_;
  std::unique_ptr<crypto::DataKeyStore> keys_;
  std::unique_ptr<DataKeySealer> sealer_;
};

// Every sealed field of the schema is free text an employer never sees, so
// the employer's view needs no case key and sealing never hides what the
// employer may read.
TEST(SealedSchemaTest, SealedFieldsAreStringsAboveEmployerVisibility) {
  int sealed = 0;
  const google::protobuf::Descriptor* event = v1::PlacementEvent::descriptor();
  const google::protobuf::OneofDescriptor* body = event->FindOneofByName("body");
  for (int i = 0; i < body->field_count(); ++i) {
    const google::protobuf::Descriptor* message = body->field(i)->message_type();
    for (int k = 0; k < message->field_count(); ++k) {
      const google::protobuf::FieldDescriptor* field = message->field(k);
      if (!field->options().GetExtension(v1::sealed)) continue;
      ++sealed;
      EXPECT_EQ(field->type(), google::protobuf::FieldDescriptor::TYPE_STRING)
          << field->full_name();
      EXPECT_GT(field->options().GetExtension(v1::visibility), v1::VISIBILITY_EMPLOYER)
          << field->full_name();
    }
  }
  EXPECT_GE(sealed, 8);
  // Private-life details and health-derived details are among them.
  EXPECT_TRUE(
      v1::PrivateLifeChanged::descriptor()->FindFieldByName("details")->options().GetExtension(
          v1::sealed));
  EXPECT_TRUE(v1::InterventionStarted::descriptor()
                  ->FindFieldByName("description")
                  ->options()
                  .GetExtension(v1::sealed));
}

TEST_F(SealingTest, EveryEventTypeRoundTripsAndSealedTextIsNotStoredInPlain) {
  for (const auto& body : OneOfEach()) {
    const domain::Event original = Make(body);
    const eventstore::RecordedEvent record = Stored(original, "case-1", sealer_.get());
    storage::v1::StoredPlacementEvent stored;
    ASSERT_TRUE(stored.ParseFromString(record.data));
    // What is left in plain text has no sealed field set.
    storage::v1::StoredPlacementEvent stripped = stored;
    EXPECT_EQ(ClearSealed(&stripped), 0) << domain::TypeName(body);
    auto back = Decode(record, sealer_.get());
    ASSERT_TRUE(back.ok()) << domain::TypeName(body) << ": " << back.status();
    v1::PlacementEvent want, got;
    ToProto(original, &want);
    ToProto(*back, &got);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(want, got))
        << domain::TypeName(body) << "\nwant " << want.ShortDebugString() << "\ngot  "
        << got.ShortDebugString();
  }
  const auto secret =
      Stored(Make(domain::PrivateLifeChanged{"scheiding, verhuisd"}), "case-1", sealer_.get());
  EXPECT_EQ(secret.data.find("scheiding"), std::string::npos);
  // The control: without a sealer the same text is stored in plain.
  const auto plain =
      Stored(Make(domain::PrivateLifeChanged{"scheiding, verhuisd"}), "case-1", nullptr);
  EXPECT_NE(plain.data.find("scheiding"), std::string::npos);
}

TEST_F(SealingTest, SealingIsDeterministicSoRetriesAreByteIdentical) {
  const domain::Event event = Make(domain::ContactMoment{domain::ContactKind::kPhone, "gesprek"});
  EXPECT_EQ(Stored(event, "case-1", sealer_.get()).data,
            Stored(event, "case-1", sealer_.get()).data);
  EXPECT_NE(Stored(event, "case-1", sealer_.get()).data,
            Stored(event, "case-2", sealer_.get()).data);
}

TEST_F(SealingTest, WithoutASealerSealedFieldsReadAsEmptyAndPublicOnesStay) {
  const auto record =
      Stored(Make(domain::CaseOpened{"worker-1", "acme", "Groot Amsterdam", "Wajong"}), "case-1",
             sealer_.get());
  auto event = Decode(record);
  ASSERT_TRUE(event.ok()) << event.status();
  const auto& opened = std::get<domain::CaseOpened>(event->body);
  EXPECT_EQ(opened.worker_ref, "");
  EXPECT_EQ(opened.employer_id, "acme");
  EXPECT_EQ(opened.region, "Groot Amsterdam");
  EXPECT_FALSE(event->personal_data_erased);
}

TEST_F(SealingTest, AnOlderSchemaVersionIsOpenedThenUpcast) {
  storage::v1::StoredPlacementEvent old = StoredVersionOneCheckIn();
  old.mutable_monitoring_check_in_v1()->set_remarks("rugklachten");
  const eventstore::EventId id = eventstore::EventId::Random();
  ASSERT_TRUE(sealer_->Seal("case-1", id, &old).ok());
  EXPECT_EQ(old.monitoring_check_in_v1().remarks(), "");
  eventstore::RecordedEvent record;
  record.stream = "case-1";
  record.id = id;
  record.data = old.SerializeAsString();
  auto event = Decode(record, sealer_.get());
  ASSERT_TRUE(event.ok()) << event.status();
  const auto& checkin = std::get<domain::MonitoringCheckIn>(event->body);
  EXPECT_EQ(checkin.remarks, "rugklachten");
  EXPECT_EQ(checkin.scores.at(domain::Item::kFit), 4);
}

TEST_F(SealingTest, ErasedStreamsReadAsErasedAndTakeNoNewEvents) {
  const auto record =
      Stored(Make(domain::PrivateLifeChanged{"mantelzorg"}), "case-1", sealer_.get());
  const auto other =
      Stored(Make(domain::PrivateLifeChanged{"mantelzorg"}), "case-2", sealer_.get());
  ASSERT_TRUE(keys_->Erase("case-1", 1709337600LL * 1'000'000).ok());
  auto event = Decode(record, sealer_.get());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->personal_data_erased);
  EXPECT_EQ(std::get<domain::PrivateLifeChanged>(event->body).details, "");
  EXPECT_EQ(event->occurred_on, Date(2024, 3, 1));
  v1::PlacementEvent proto;
  ToProto(*event, &proto);
  EXPECT_TRUE(proto.personal_data_erased());
  // Other cases are untouched.
  auto kept = Decode(other, sealer_.get());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(std::get<domain::PrivateLifeChanged>(kept->body).details, "mantelzorg");
  // No new events, not even without personal data.
  const domain::Event late = Make(domain::AbsenceReported{});
  auto encoded = Encode(late, *eventstore::EventId::Parse(late.id), "case-1", sealer_.get());
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(crypto::IsErased(encoded.status())) << encoded.status();
  EXPECT_NE(encoded.status().message().find("erased on 2024-03-02"), std::string::npos)
      << encoded.status();
}

TEST_F(SealingTest, EnvelopesAreBoundToTheirStreamAndEventAndTamperingIsDataLoss) {
  auto record = Stored(Make(domain::PrivateLifeChanged{"mantelzorg"}), "case-1", sealer_.get());
  auto moved = record;
  moved.stream = "case-2";
  EXPECT_EQ(Decode(moved, sealer_.get()).status().code(), absl::StatusCode::kDataLoss);
  auto renamed = record;
  renamed.id = eventstore::EventId::Random();
  EXPECT_EQ(Decode(renamed, sealer_.get()).status().code(), absl::StatusCode::kDataLoss);
  storage::v1::StoredPlacementEvent stored;
  ASSERT_TRUE(stored.ParseFromString(record.data));
  std::string envelope = stored.sealed_fields();
  envelope[envelope.size() / 2] ^= 1;
  stored.set_sealed_fields(envelope);
  record.data = stored.SerializeAsString();
  auto tampered = Decode(record, sealer_.get());
  EXPECT_EQ(tampered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(tampered.status().message().find("case-1"), std::string::npos) << tampered.status();
}

// ToApi gives what ToProto(Decode(record)) gives, for every kind of
// record: each event type sealed, in plain text (before sealing), without
// a sealer, an older schema, an erased stream; and the same refusals.
TEST_F(SealingTest, ToApiIsTheDomainRoundTripWithoutIt) {
  auto expect_same = [&](const eventstore::RecordedEvent& record, const Sealer* sealer,
                         const std::string& what) {
    absl::StatusOr<domain::Event> decoded = Decode(record, sealer);
    v1::PlacementEvent fast;
    absl::Status s = ToApi(record.stream, record.id, record.data, sealer, &fast);
    ASSERT_EQ(s.code(), decoded.status().code()) << what << ": " << s << " / " << decoded.status();
    if (!decoded.ok()) return;
    v1::PlacementEvent slow;
    ToProto(*decoded, &slow);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(slow, fast))
        << what << "\nround trip " << slow.ShortDebugString() << "\nToApi      "
        << fast.ShortDebugString();
  };
  for (const auto& body : OneOfEach()) {
    const std::string name = domain::TypeName(body);
    const domain::Event event = Make(body);
    expect_same(Stored(event, "case-1", sealer_.get()), sealer_.get(), name + " sealed");
    expect_same(Stored(event, "case-1", sealer_.get()), nullptr, name + " without a sealer");
    expect_same(Stored(event, "case-1", nullptr), sealer_.get(), name + " in plain text");
  }
  // A current sealed record takes no round trip: with a sealer that only
  // opens envelopes (its Open, the round trip's, fails) it still reads.
  class EnvelopesOnly : public Sealer {
   public:
    explicit EnvelopesOnly(const Sealer* real) : real_(real) {}
    absl::Status Seal(std::string_view stream, const eventstore::EventId& id,
                      storage::v1::StoredPlacementEvent* event) const override {
      return real_->Seal(stream, id, event);
    }
    absl::Status Open(std::string_view, const eventstore::EventId&,
                      storage::v1::StoredPlacementEvent*, bool*) const override {
      return absl::InternalError("the round trip was taken");
    }
    absl::StatusOr<std::optional<std::string>> OpenEnvelope(
        std::string_view stream, const eventstore::EventId& id,
        std::string_view envelope) const override {
      return real_->OpenEnvelope(stream, id, envelope);
    }

   private:
    const Sealer* real_;
  };
  const EnvelopesOnly envelopes_only(sealer_.get());
  v1::PlacementEvent opened;
  const auto secret =
      Stored(Make(domain::PrivateLifeChanged{"mantelzorg"}), "case-1", sealer_.get());
  ASSERT_TRUE(ToApi("case-1", secret.id, secret.data, &envelopes_only, &opened).ok());
  EXPECT_EQ(opened.private_life_changed().details(), "mantelzorg");
  // The control: a record in plain text with sealed fields takes it.
  const auto legacy = Stored(Make(domain::PrivateLifeChanged{"mantelzorg"}), "case-1", nullptr);
  EXPECT_EQ(ToApi("case-1", legacy.id, legacy.data, &envelopes_only, &opened).code(),
            absl::StatusCode::kInternal);
  // Streams erased after they were written: their sealed fields read as erased.
  std::vector<eventstore::RecordedEvent> before_erasure;
  for (const auto& body : OneOfEach()) {
    before_erasure.push_back(Stored(Make(body), "case-4", sealer_.get()));
    before_erasure.push_back(Stored(Make(body), "case-5", nullptr));
  }
  ASSERT_TRUE(keys_->Erase("case-4", 1709337600LL * 1'000'000).ok());
  ASSERT_TRUE(keys_->Erase("case-5", 1709337600LL * 1'000'000).ok());
  for (const auto& record : before_erasure) {
    expect_same(record, sealer_.get(), record.stream + " erased " + record.type);
  }
  // An older schema version, sealed.
  storage::v1::StoredPlacementEvent old = StoredVersionOneCheckIn();
  old.mutable_monitoring_check_in_v1()->set_remarks("rugklachten");
  eventstore::RecordedEvent v1_record;
  v1_record.stream = "case-1";
  v1_record.id = eventstore::EventId::Random();
  ASSERT_TRUE(sealer_->Seal("case-1", v1_record.id, &old).ok());
  v1_record.data = old.SerializeAsString();
  expect_same(v1_record, sealer_.get(), "schema 1 check-in");
  // Damage: not a message, an envelope moved to another event, an unknown role.
  auto damaged = secret;
  damaged.data = "\xff\xff\xff";
  expect_same(damaged, sealer_.get(), "garbage");
  auto moved = secret;
  moved.id = eventstore::EventId::Random();
  expect_same(moved, sealer_.get(), "envelope of another event");
  storage::v1::StoredPlacementEvent role;
  ASSERT_TRUE(role.ParseFromString(secret.data));
  role.mutable_recorded_by()->set_role(static_cast<v1::Role>(9));
  auto bad_role = secret;
  bad_role.data = role.SerializeAsString();
  expect_same(bad_role, sealer_.get(), "unknown role");
  // Damage only the domain sees: an enum out of range, a missing day.
  const auto contract =
      Stored(Make(domain::ContractChanged{domain::ContractType::kPermanent, std::nullopt, 24}),
             "case-1", sealer_.get());
  auto damaged_by = [&](const std::function<void(storage::v1::StoredPlacementEvent*)>& damage) {
    storage::v1::StoredPlacementEvent broken;
    EXPECT_TRUE(broken.ParseFromString(contract.data));
    damage(&broken);
    eventstore::RecordedEvent record = contract;
    record.data = broken.SerializeAsString();
    return record;
  };
  expect_same(damaged_by([](auto* e) {
                e->mutable_contract_changed()->set_contract(static_cast<v1::ContractType>(77));
              }),
              sealer_.get(), "contract out of range");
  expect_same(damaged_by([](auto* e) { e->clear_occurred_on(); }), sealer_.get(), "no occurred_on");
  // Sealed text in plain beside an envelope, on an erased stream.
  auto beside = before_erasure[0];
  for (const auto& record : before_erasure) {
    if (record.type == "PrivateLifeChanged" && record.stream == "case-4") beside = record;
  }
  storage::v1::StoredPlacementEvent merged;
  ASSERT_TRUE(merged.ParseFromString(beside.data));
  ASSERT_FALSE(merged.sealed_fields().empty());
  merged.mutable_private_life_changed()->set_details("in plain text beside it");
  beside.data = merged.SerializeAsString();
  expect_same(beside, sealer_.get(), "plain sealed text beside an envelope, erased");
  v1::PlacementEvent hidden;
  ASSERT_TRUE(ToApi(beside.stream, beside.id, beside.data, sealer_.get(), &hidden).ok());
  EXPECT_EQ(hidden.private_life_changed().details(), "");
  EXPECT_TRUE(hidden.personal_data_erased());
}

TEST(PlacementCodecTest, FromRecordedTakesTheServersErasedMark) {
  v1::PlacementEvent proto;
  ToProto(Make(domain::PrivateLifeChanged{""}), &proto);
  proto.set_personal_data_erased(true);
  auto event = FromRecorded(proto, "e1", 0);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(event->personal_data_erased);
}

TEST(PlacementCodecTest, TheApiHasNoStorageFieldsAndClientBytesNeverReachStorage) {
  // The stored form's envelope and old bodies are not in the API schema.
  const auto* api = v1::PlacementEvent::descriptor();
  EXPECT_EQ(api->FindFieldByNumber(4), nullptr);
  EXPECT_EQ(api->FindFieldByNumber(40), nullptr);
  EXPECT_EQ(api->FindFieldByName("sealed_fields"), nullptr);
  EXPECT_NE(storage::v1::StoredPlacementEvent::descriptor()->FindFieldByName("sealed_fields"),
            nullptr);
  // A client that sends bytes under the envelope's field number: they are
  // an unknown field of the request and never reach a stored record.
  v1::PlacementEvent proto;
  ToProto(Make(domain::PrivateLifeChanged{"x"}), &proto);
  proto.GetReflection()->MutableUnknownFields(&proto)->AddLengthDelimited(4, "forged");
  auto sent = FromProto(proto, "id", Date(2024, 3, 2), {"expert:a", domain::Role::kExpert});
  ASSERT_TRUE(sent.ok()) << sent.status();
  sent->id = eventstore::EventId::Random().ToString();
  auto encoded = Encode(*sent, *eventstore::EventId::Parse(sent->id), "case-1", nullptr);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  storage::v1::StoredPlacementEvent stored;
  ASSERT_TRUE(stored.ParseFromString(encoded->data));
  EXPECT_EQ(stored.sealed_fields(), "");
  EXPECT_EQ(encoded->data.find("forged"), std::string::npos);
  // The API's output-only flag is refused on input.
  proto.set_personal_data_erased(true);
  sent = FromProto(proto, "id", Date(2024, 3, 2), {"expert:a", domain::Role::kExpert});
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument);
}

// Every API field of a stored event keeps its number and type in the stored
// schema (the codec maps them by wire form).
TEST(PlacementCodecTest, TheStoredSchemaMirrorsTheApiFieldNumbers) {
  const auto* api = v1::PlacementEvent::descriptor();
  const auto* stored = storage::v1::StoredPlacementEvent::descriptor();
  for (int i = 0; i < api->field_count(); ++i) {
    const auto* a = api->field(i);
    if (a->name() == "personal_data_erased") continue;  // output only
    const auto* s = stored->FindFieldByNumber(a->number());
    ASSERT_NE(s, nullptr) << a->name();
    EXPECT_EQ(s->name(), a->name());
    EXPECT_EQ(s->type(), a->type()) << a->name();
    if (a->message_type() != nullptr) EXPECT_EQ(s->message_type(), a->message_type()) << a->name();
  }
}

}  // namespace
}  // namespace duurzaam::codec
