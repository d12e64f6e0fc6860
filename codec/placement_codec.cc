#include "codec/placement_codec.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "codec/case_codec.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "domain/visibility.h"
#include "duurzaam/storage/v1/placement_record.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"

namespace duurzaam::codec {
namespace {

using domain::Date;

[[nodiscard]] absl::Status Invalid(const std::string& field, const std::string& rule) {
  return MakeInvalidArgument({field, rule});
}

[[nodiscard]] absl::StatusOr<Date> FromProto(const v1::CalendarDate& d, const std::string& field) {
  return DateFromProto(d, field);
}

[[nodiscard]] absl::StatusOr<std::optional<Date>> OptionalDate(bool has, const v1::CalendarDate& d,
                                                               const std::string& field) {
  if (!has) return std::optional<Date>();
  ASSIGN_OR_RETURN(Date day, FromProto(d, field));
  return std::optional<Date>(day);
}

// Enum mappings: proto value 0 (UNSPECIFIED) and unknown values are errors.
template <typename Domain>
[[nodiscard]] absl::StatusOr<Domain> Enum(int value, int max, const std::string& field) {
  if (value < 1 || value > max) {
    return Invalid(field, absl::StrCat("a known value is required; got ", value));
  }
  return static_cast<Domain>(value - 1);
}

[[nodiscard]] absl::StatusOr<domain::ContractType> Contract(v1::ContractType c,
                                                            const std::string& field) {
  if (c == v1::CONTRACT_TYPE_PERMANENT) return domain::ContractType::kPermanent;
  if (c == v1::CONTRACT_TYPE_FIXED_TERM) return domain::ContractType::kFixedTerm;
  return Invalid(field, "contract is PERMANENT or FIXED_TERM");
}

v1::ContractType Contract(domain::ContractType c) {
  return c == domain::ContractType::kPermanent ? v1::CONTRACT_TYPE_PERMANENT
                                               : v1::CONTRACT_TYPE_FIXED_TERM;
}

[[nodiscard]] absl::StatusOr<domain::Item> ItemFrom(v1::Item item, const std::string& field) {
  return Enum<domain::Item>(item, 8, field);
}

[[nodiscard]] absl::StatusOr<domain::Respondent> RespondentFrom(v1::Respondent r,
                                                                const std::string& field) {
  return Enum<domain::Respondent>(r, 3, field);
}

}  // namespace

domain::Date RecordedDay(int64_t recorded_at_micros) {
  int64_t seconds = recorded_at_micros / 1'000'000;
  if (recorded_at_micros < 0 && recorded_at_micros % 1'000'000 != 0) --seconds;
  int64_t days = seconds / 86400;
  if (seconds < 0 && seconds % 86400 != 0) --days;
  return Date(1970, 1, 1) + days;
}

[[nodiscard]] absl::StatusOr<domain::Event> FromProto(const v1::PlacementEvent& p, std::string id,
                                                      domain::Date recorded_on,
                                                      domain::Principal recorded_by,
                                                      const std::string& f) {
  domain::Event e;
  e.id = std::move(id);
  e.recorded_on = recorded_on;
  e.recorded_by = std::move(recorded_by);
  if (p.personal_data_erased()) {
    return Invalid(f + "personal_data_erased", "is output only; leave it unset");
  }
  if (!p.has_occurred_on()) return Invalid(f + "occurred_on", "the day it happened is required");
  ASSIGN_OR_RETURN(e.occurred_on, FromProto(p.occurred_on(), f + "occurred_on"));
  switch (p.body_case()) {
    case v1::PlacementEvent::kCaseOpened: {
      const auto& b = p.case_opened();
      e.body = domain::CaseOpened{b.worker_ref(), b.employer_id(), b.region(), b.target_group()};
      break;
    }
    case v1::PlacementEvent::kCaseClosed:
      e.body = domain::CaseClosed{p.case_closed().reason()};
      break;
    case v1::PlacementEvent::kCaseReopened:
      e.body = domain::CaseReopened{p.case_reopened().reason()};
      break;
    case v1::PlacementEvent::kTeamMemberAdded:
      e.body = domain::TeamMemberAdded{p.team_member_added().expert_id()};
      break;
    case v1::PlacementEvent::kTeamMemberRemoved:
      e.body = domain::TeamMemberRemoved{p.team_member_removed().expert_id()};
      break;
    case v1::PlacementEvent::kHired: {
      const auto& b = p.hired();
      ASSIGN_OR_RETURN(auto contract, Contract(b.contract(), f + "hired.contract"));
      ASSIGN_OR_RETURN(
          auto end, OptionalDate(b.has_contract_end(), b.contract_end(), f + "hired.contract_end"));
      e.body =
          domain::Hired{contract, end, b.hours_per_week(), b.job_title(), b.agreed_adaptations()};
      break;
    }
    case v1::PlacementEvent::kContractChanged: {
      const auto& b = p.contract_changed();
      ASSIGN_OR_RETURN(auto contract, Contract(b.contract(), f + "contract_changed.contract"));
      ASSIGN_OR_RETURN(auto end, OptionalDate(b.has_contract_end(), b.contract_end(),
                                              f + "contract_changed.contract_end"));
      e.body = domain::ContractChanged{contract, end, b.hours_per_week()};
      break;
    }
    case v1::PlacementEvent::kOrganisationChanged: {
      const auto& b = p.organisation_changed();
      ASSIGN_OR_RETURN(auto kind, Enum<domain::OrganisationChangeKind>(
                                      b.kind(), 4, f + "organisation_changed.kind"));
      e.body = domain::OrganisationChanged{kind, b.description()};
      break;
    }
    case v1::PlacementEvent::kPrivateLifeChanged:
      e.body = domain::PrivateLifeChanged{p.private_life_changed().details()};
      break;
    case v1::PlacementEvent::kSocietalDisruption:
      e.body = domain::SocietalDisruption{p.societal_disruption().description()};
      break;
    case v1::PlacementEvent::kInterventionStarted: {
      const auto& b = p.intervention_started();
      ASSIGN_OR_RETURN(
          auto kind, Enum<domain::InterventionKind>(b.kind(), 8, f + "intervention_started.kind"));
      e.body = domain::InterventionStarted{kind, b.description(), b.responds_to()};
      break;
    }
    case v1::PlacementEvent::kMonitoringCheckIn: {
      const auto& b = p.monitoring_check_in();
      domain::MonitoringCheckIn c;
      ASSIGN_OR_RETURN(c.respondent,
                       RespondentFrom(b.respondent(), f + "monitoring_check_in.respondent"));
      for (int i = 0; i < b.scores_size(); ++i) {
        std::string field = absl::StrCat(f, "monitoring_check_in.scores[", i, "]");
        ASSIGN_OR_RETURN(domain::Item item, ItemFrom(b.scores(i).item(), field + ".item"));
        const int score = b.scores(i).score();
        if (score < 1 || score > 5) {
          return Invalid(field + ".score", absl::StrCat("scores are 1 to 5; got ", score));
        }
        if (!c.scores.emplace(item, score).second) {
          return Invalid(field + ".item", "each item is scored once");
        }
      }
      c.remarks = b.remarks();
      e.body = std::move(c);
      break;
    }
    case v1::PlacementEvent::kContactMoment: {
      const auto& b = p.contact_moment();
      ASSIGN_OR_RETURN(auto kind,
                       Enum<domain::ContactKind>(b.kind(), 4, f + "contact_moment.kind"));
      e.body = domain::ContactMoment{kind, b.summary()};
      break;
    }
    case v1::PlacementEvent::kSubsidyGranted: {
      const auto& b = p.subsidy_granted();
      ASSIGN_OR_RETURN(auto kind,
                       Enum<domain::SubsidyKind>(b.kind(), 3, f + "subsidy_granted.kind"));
      ASSIGN_OR_RETURN(auto ends,
                       OptionalDate(b.has_ends_on(), b.ends_on(), f + "subsidy_granted.ends_on"));
      e.body = domain::SubsidyGranted{kind, b.wage_value_percent(), ends};
      break;
    }
    case v1::PlacementEvent::kSubsidyEnded: {
      ASSIGN_OR_RETURN(auto kind, Enum<domain::SubsidyKind>(p.subsidy_ended().kind(), 3,
                                                            f + "subsidy_ended.kind"));
      e.body = domain::SubsidyEnded{kind};
      break;
    }
    case v1::PlacementEvent::kNoRiskCoverGranted: {
      const auto& b = p.no_risk_cover_granted();
      ASSIGN_OR_RETURN(auto ends, OptionalDate(b.has_ends_on(), b.ends_on(),
                                               f + "no_risk_cover_granted.ends_on"));
      e.body = domain::NoRiskCoverGranted{ends};
      break;
    }
    case v1::PlacementEvent::kNoRiskCoverEnded:
      e.body = domain::NoRiskCoverEnded{};
      break;
    case v1::PlacementEvent::kAbsenceReported:
      e.body = domain::AbsenceReported{};
      break;
    case v1::PlacementEvent::kAbsenceEnded:
      e.body = domain::AbsenceEnded{};
      break;
    case v1::PlacementEvent::kNoticeGiven: {
      const auto& b = p.notice_given();
      if (!b.has_effective_on()) {
        return Invalid(f + "notice_given.effective_on", "the effective day is required");
      }
      ASSIGN_OR_RETURN(Date effective,
                       FromProto(b.effective_on(), f + "notice_given.effective_on"));
      e.body = domain::NoticeGiven{b.by_employer(), effective};
      break;
    }
    case v1::PlacementEvent::kEmploymentEnded: {
      ASSIGN_OR_RETURN(auto reason, Enum<domain::EndReason>(p.employment_ended().reason(), 5,
                                                            f + "employment_ended.reason"));
      e.body = domain::EmploymentEnded{reason};
      break;
    }
    case v1::PlacementEvent::kExpertJudgement: {
      const auto& b = p.expert_judgement();
      ASSIGN_OR_RETURN(auto level,
                       Enum<domain::StatusLevel>(b.level(), 4, f + "expert_judgement.level"));
      if (!b.has_expires_on()) {
        return Invalid(f + "expert_judgement.expires_on", "a judgement has an expiry day");
      }
      ASSIGN_OR_RETURN(Date expires, FromProto(b.expires_on(), f + "expert_judgement.expires_on"));
      e.body = domain::ExpertJudgement{level, b.reason(), expires};
      break;
    }
    case v1::PlacementEvent::BODY_NOT_SET:
      return Invalid(f + "body", "an event body (which kind of event) is required");
  }
  return e;
}

void ToProto(const domain::Event& e, v1::PlacementEvent* out) {
  ToProto(e.occurred_on, out->mutable_occurred_on());
  out->mutable_recorded_by()->set_id(e.recorded_by.id);
  out->mutable_recorded_by()->set_role(
      static_cast<v1::Role>(static_cast<int>(e.recorded_by.role) + 1));
  struct Visitor {
    v1::PlacementEvent* out;
    void operator()(const domain::CaseOpened& b) {
      auto* m = out->mutable_case_opened();
      m->set_worker_ref(b.worker_ref);
      m->set_employer_id(b.employer_id);
      m->set_region(b.region);
      m->set_target_group(b.target_group);
    }
    void operator()(const domain::CaseClosed& b) {
      out->mutable_case_closed()->set_reason(b.reason);
    }
    void operator()(const domain::CaseReopened& b) {
      out->mutable_case_reopened()->set_reason(b.reason);
    }
    void operator()(const domain::TeamMemberAdded& b) {
      out->mutable_team_member_added()->set_expert_id(b.expert_id);
    }
    void operator()(const domain::TeamMemberRemoved& b) {
      out->mutable_team_member_removed()->set_expert_id(b.expert_id);
    }
    void operator()(const domain::Hired& b) {
      auto* m = out->mutable_hired();
      m->set_contract(Contract(b.contract));
      if (b.contract_end) ToProto(*b.contract_end, m->mutable_contract_end());
      m->set_hours_per_week(b.hours_per_week);
      m->set_job_title(b.job_title);
      m->set_agreed_adaptations(b.agreed_adaptations);
    }
    void operator()(const domain::ContractChanged& b) {
      auto* m = out->mutable_contract_changed();
      m->set_contract(Contract(b.contract));
      if (b.contract_end) ToProto(*b.contract_end, m->mutable_contract_end());
      m->set_hours_per_week(b.hours_per_week);
    }
    void operator()(const domain::OrganisationChanged& b) {
      auto* m = out->mutable_organisation_changed();
      m->set_kind(static_cast<v1::OrganisationChangeKind>(static_cast<int>(b.kind) + 1));
      m->set_description(b.description);
    }
    void operator()(const domain::PrivateLifeChanged& b) {
      out->mutable_private_life_changed()->set_details(b.details);
    }
    void operator()(const domain::SocietalDisruption& b) {
      out->mutable_societal_disruption()->set_description(b.description);
    }
    void operator()(const domain::InterventionStarted& b) {
      auto* m = out->mutable_intervention_started();
      m->set_kind(static_cast<v1::InterventionKind>(static_cast<int>(b.kind) + 1));
      m->set_description(b.description);
      m->set_responds_to(b.responds_to);
    }
    void operator()(const domain::MonitoringCheckIn& b) {
      auto* m = out->mutable_monitoring_check_in();
      m->set_respondent(static_cast<v1::Respondent>(static_cast<int>(b.respondent) + 1));
      for (const auto& [item, score] : b.scores) {
        auto* s = m->add_scores();
        s->set_item(static_cast<v1::Item>(static_cast<int>(item) + 1));
        s->set_score(score);
      }
      m->set_remarks(b.remarks);
    }
    void operator()(const domain::ContactMoment& b) {
      auto* m = out->mutable_contact_moment();
      m->set_kind(static_cast<v1::ContactKind>(static_cast<int>(b.kind) + 1));
      m->set_summary(b.summary);
    }
    void operator()(const domain::SubsidyGranted& b) {
      auto* m = out->mutable_subsidy_granted();
      m->set_kind(static_cast<v1::SubsidyKind>(static_cast<int>(b.kind) + 1));
      m->set_wage_value_percent(b.wage_value_percent);
      if (b.ends_on) ToProto(*b.ends_on, m->mutable_ends_on());
    }
    void operator()(const domain::SubsidyEnded& b) {
      out->mutable_subsidy_ended()->set_kind(
          static_cast<v1::SubsidyKind>(static_cast<int>(b.kind) + 1));
    }
    void operator()(const domain::NoRiskCoverGranted& b) {
      auto* m = out->mutable_no_risk_cover_granted();
      if (b.ends_on) ToProto(*b.ends_on, m->mutable_ends_on());
    }
    void operator()(const domain::NoRiskCoverEnded&) { out->mutable_no_risk_cover_ended(); }
    void operator()(const domain::AbsenceReported&) { out->mutable_absence_reported(); }
    void operator()(const domain::AbsenceEnded&) { out->mutable_absence_ended(); }
    void operator()(const domain::NoticeGiven& b) {
      auto* m = out->mutable_notice_given();
      m->set_by_employer(b.by_employer);
      ToProto(b.effective_on, m->mutable_effective_on());
    }
    void operator()(const domain::EmploymentEnded& b) {
      out->mutable_employment_ended()->set_reason(
          static_cast<v1::EndReason>(static_cast<int>(b.reason) + 1));
    }
    void operator()(const domain::ExpertJudgement& b) {
      auto* m = out->mutable_expert_judgement();
      m->set_level(static_cast<v1::StatusLevel>(static_cast<int>(b.level) + 1));
      m->set_reason(b.reason);
      ToProto(b.expires_on, m->mutable_expires_on());
    }
  };
  std::visit(Visitor{out}, e.body);
  if (e.personal_data_erased) out->set_personal_data_erased(true);
  // The schema version written is the body message's current one.
  const google::protobuf::Reflection* reflection = out->GetReflection();
  const google::protobuf::FieldDescriptor* body =
      reflection->GetOneofFieldDescriptor(*out, out->GetDescriptor()->FindOneofByName("body"));
  if (body != nullptr) {
    out->set_schema_version(body->message_type()->options().GetExtension(v1::schema_version));
  }
}

namespace {

// The API message and the stored one share their body messages and field
// numbers (placement_record.proto), so each maps to the other by its wire
// form; what only one of them has (the envelope, MonitoringCheckIn schema 1,
// the API's output-only flag) is handled before the mapping.
void ToStored(const v1::PlacementEvent& api, storage::v1::StoredPlacementEvent* stored) {
  stored->ParseFromString(api.SerializeAsString());
  stored->DiscardUnknownFields();  // the API's output-only flag is never stored
}

// MonitoringCheckIn schema version 1 (one field per item, 0 meaning "not
// scored") upcast to the current body.
void Upcast(storage::v1::StoredPlacementEvent* stored) {
  if (stored->body_case() != storage::v1::StoredPlacementEvent::kMonitoringCheckInV1) return;
  const storage::v1::MonitoringCheckInV1 old = stored->monitoring_check_in_v1();
  v1::MonitoringCheckIn* now = stored->mutable_monitoring_check_in();  // clears the old body
  now->set_respondent(old.respondent());
  auto add = [&](v1::Item item, int32_t score) {
    if (score == 0) return;
    v1::Score* s = now->add_scores();
    s->set_item(item);
    s->set_score(score);
  };
  add(v1::ITEM_FIT, old.fit());
  add(v1::ITEM_GUIDANCE, old.guidance());
  add(v1::ITEM_INTENTION_TO_CONTINUE, old.intention_to_continue());
  now->set_remarks(old.remarks());
}

}  // namespace

[[nodiscard]] absl::StatusOr<eventstore::ProposedEvent> Encode(const domain::Event& event,
                                                               const eventstore::EventId& id,
                                                               std::string_view stream,
                                                               const Sealer* sealer) {
  v1::PlacementEvent proto;
  ToProto(event, &proto);
  storage::v1::StoredPlacementEvent stored;
  ToStored(proto, &stored);
  if (sealer != nullptr) RETURN_IF_ERROR(sealer->Seal(stream, id, &stored));
  return eventstore::ProposedEvent{id, domain::TypeName(event.body), stored.SerializeAsString(),
                                   ""};
}

[[nodiscard]] absl::StatusOr<domain::Event> Decode(const eventstore::RecordedEvent& record,
                                                   const Sealer* sealer) {
  storage::v1::StoredPlacementEvent stored;
  if (!stored.ParseFromString(record.data)) {
    return absl::DataLossError(
        absl::StrCat("event at position ", record.position, " is not a StoredPlacementEvent"));
  }
  bool erased = false;
  if (sealer != nullptr) {
    RETURN_IF_ERROR(sealer->Open(record.stream, record.id, &stored, &erased));
  } else {
    stored.clear_sealed_fields();
  }
  Upcast(&stored);
  // An unknown stored role is damage, never a default role (it would put
  // whoever recorded it on a case team).
  const int role = stored.recorded_by().role();
  if (role < 1 || role > 5) {
    return absl::DataLossError(absl::StrCat("event at position ", record.position,
                                            " names an unknown recorded_by.role (", role, ")"));
  }
  v1::PlacementEvent proto;
  proto.ParseFromString(stored.SerializeAsString());
  proto.DiscardUnknownFields();
  domain::Principal by{proto.recorded_by().id(), static_cast<domain::Role>(role - 1), ""};
  absl::StatusOr<domain::Event> event =
      FromProto(proto, record.id.ToString(), RecordedDay(record.recorded_at_micros), by, "");
  if (!event.ok()) {
    return absl::DataLossError(absl::StrCat("event at position ", record.position,
                                            " cannot be read: ", event.status().message()));
  }
  event->personal_data_erased = erased;
  return event;
}

namespace {

// What ToApi learns of a PlacementEvent's top-level fields at the wire
// level, without parsing them.
struct WireFields {
  bool ok = false;            // every field read, and the API message knows it
  std::string_view envelope;  // field 4 (the stored form's sealed fields)
  size_t envelope_begin = 0;  // where field 4 (tag and all) starts and ends
  size_t envelope_end = 0;
  int body = 0;  // the field number of the body (oneof) set, 0: none
};

// The API message's field numbers, and which of them are a body.
struct KnownFields {
  std::vector<bool> known, body;
  KnownFields() {
    const google::protobuf::Descriptor* d = v1::PlacementEvent::descriptor();
    const google::protobuf::OneofDescriptor* oneof = d->FindOneofByName("body");
    for (int i = 0; i < d->field_count(); ++i) {
      const int n = d->field(i)->number();
      if (n >= static_cast<int>(known.size())) {
        known.resize(n + 1);
        body.resize(n + 1);
      }
      known[n] = true;
      body[n] = d->field(i)->containing_oneof() == oneof;
    }
  }
};

// Reads the top-level fields of `bytes`; `envelope_allowed`: field 4 may
// occur (once).
WireFields ScanFields(std::string_view bytes, bool envelope_allowed) {
  static const KnownFields* const kKnown = new KnownFields();
  using google::protobuf::internal::WireFormatLite;
  WireFields out;
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  while (true) {
    const size_t begin = static_cast<size_t>(input.CurrentPosition());
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (number == 4 && envelope_allowed && out.envelope_end == 0 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!input.ReadVarint32(&length)) return out;
      const size_t at = static_cast<size_t>(input.CurrentPosition());
      if (at + length > bytes.size() || !input.Skip(static_cast<int>(length))) return out;
      out.envelope = bytes.substr(at, length);
      out.envelope_begin = begin;
      out.envelope_end = at + length;
      continue;
    }
    if (number >= static_cast<int>(kKnown->known.size()) || !kKnown->known[number]) return out;
    if (kKnown->body[number]) {
      if (out.body != 0 && out.body != number) return out;  // two bodies: damage
      out.body = number;
    }
    if (!WireFormatLite::SkipField(&input, tag)) return out;
  }
  out.ok = static_cast<size_t>(input.CurrentPosition()) == bytes.size();
  return out;
}

}  // namespace

absl::Status ToApi(std::string_view stream, const eventstore::EventId& id, std::string_view data,
                   const Sealer* sealer, v1::PlacementEvent* out) {
  auto round_trip = [&]() -> absl::Status {
    eventstore::RecordedEvent record;
    record.stream = std::string(stream);
    record.id = id;
    record.data = std::string(data);
    ASSIGN_OR_RETURN(domain::Event event, Decode(record, sealer));
    out->Clear();
    ToProto(event, out);
    return absl::OkStatus();
  };
  out->Clear();
  // The API message shares the stored form's field numbers. The stored
  // form's own fields are read at the wire level: the envelope (4) is cut
  // out and opened, and the opened fields are appended to the rest, so one
  // parse gives the merged message (a parse of concatenated messages is
  // their merge). Anything else the API message does not know (40,
  // MonitoringCheckIn schema 1; damage) takes the round trip.
  const WireFields stored = ScanFields(data, /*envelope_allowed=*/true);
  if (!stored.ok || stored.body == 0) return round_trip();
  const bool sealed = stored.envelope_end != 0;
  thread_local std::string merged;
  merged.assign(data.substr(0, sealed ? stored.envelope_begin : data.size()));
  if (sealed) merged.append(data.substr(stored.envelope_end));
  bool erased = false;
  if (sealed && sealer != nullptr) {  // without a sealer they read as empty
    absl::StatusOr<std::optional<std::string>> plaintext =
        sealer->OpenEnvelope(stream, id, stored.envelope);
    if (!plaintext.ok()) return round_trip();
    erased = !plaintext->has_value();
    if (!erased) {
      // The opened fields belong to the same body, and nothing else.
      const WireFields opened = ScanFields(**plaintext, /*envelope_allowed=*/false);
      if (!opened.ok || (opened.body != 0 && opened.body != stored.body)) return round_trip();
      merged.append(**plaintext);
    }
  }
  if (!out->ParseFromArray(merged.data(), static_cast<int>(merged.size())) ||
      !out->GetReflection()->GetUnknownFields(*out).empty()) {
    return round_trip();
  }
  if (erased) ClearSealed(out);  // as Open does: none beside the envelope either
  const int role = out->recorded_by().role();
  static const google::protobuf::OneofDescriptor* const kBody =
      v1::PlacementEvent::descriptor()->FindOneofByName("body");
  const google::protobuf::FieldDescriptor* body =
      out->GetReflection()->GetOneofFieldDescriptor(*out, kBody);
  if (role < 1 || role > 5 || body == nullptr ||
      out->schema_version() != body->message_type()->options().GetExtension(v1::schema_version)) {
    return round_trip();
  }
  // Sealed fields in plain text (written before sealing): the sealer
  // decides whether an erasure hides them.
  if (!sealed && sealer != nullptr && HasSealed(*out)) return round_trip();
  // What the domain refuses (damage) takes the round trip, for its error.
  // (Unknown fields inside a body, which nothing the server writes has, are
  // passed on here where the round trip drops them.)
  if (!FromProto(*out, "", domain::Date(), domain::Principal{}, "").ok()) return round_trip();
  if (erased) out->set_personal_data_erased(true);
  return absl::OkStatus();
}

absl::StatusOr<domain::Event> FromRecorded(const v1::PlacementEvent& proto, std::string id,
                                           int64_t recorded_at_micros) {
  const int role = proto.recorded_by().role();
  if (role < 1 || role > 5) {
    return absl::DataLossError(
        absl::StrCat("event ", id, " names an unknown recorded_by.role (", role, ")"));
  }
  domain::Principal by{proto.recorded_by().id(), static_cast<domain::Role>(role - 1), ""};
  if (proto.personal_data_erased()) {  // output only: the server says so
    v1::PlacementEvent plain = proto;
    plain.clear_personal_data_erased();
    ASSIGN_OR_RETURN(domain::Event event,
                     FromProto(plain, std::move(id), RecordedDay(recorded_at_micros), by, ""));
    event.personal_data_erased = true;
    return event;
  }
  return FromProto(proto, std::move(id), RecordedDay(recorded_at_micros), by, "");
}

bool DecidesAccess(std::string_view type) {
  return type == "CaseOpened" || type == "TeamMemberAdded" || type == "TeamMemberRemoved";
}

std::string BodyFieldName(const domain::Event& event) {
  v1::PlacementEvent proto;
  ToProto(event, &proto);
  const google::protobuf::FieldDescriptor* body = proto.GetReflection()->GetOneofFieldDescriptor(
      proto, proto.GetDescriptor()->FindOneofByName("body"));
  return body != nullptr ? body->name() : "body";
}

[[nodiscard]] absl::Status FromRequestRoot(absl::Status status, const domain::Event& event,
                                           absl::string_view prefix) {
  std::optional<FieldViolation> v = GetFieldViolation(status);
  if (!v) return status;
  std::string field;
  if (v->field == "event_id") {
    field = v->field;  // a field of the request itself
  } else if (v->field == "body") {
    field = absl::StrCat(prefix, BodyFieldName(event));
  } else if (v->field.rfind("body.", 0) == 0) {
    field = absl::StrCat(prefix, BodyFieldName(event), v->field.substr(4));
  } else {
    field = absl::StrCat(prefix, v->field);
  }
  return MakeInvalidArgument({std::move(field), v->description});
}

int Redact(google::protobuf::Message* message, v1::Visibility allowed) {
  int cleared = 0;
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    const bool is_message = field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE;
    v1::Visibility visibility = field->options().GetExtension(v1::visibility);
    // A value without a visibility option is shown to nobody below
    // RESTRICTED; a message without one is judged field by field.
    if (visibility == v1::VISIBILITY_UNSPECIFIED && !is_message) {
      visibility = v1::VISIBILITY_RESTRICTED;
    }
    if (visibility != v1::VISIBILITY_UNSPECIFIED && visibility > allowed) {
      if (field->is_repeated() ? reflection->FieldSize(*message, field) > 0
                               : reflection->HasField(*message, field)) {
        reflection->ClearField(message, field);
        ++cleared;
      }
      continue;
    }
    if (!is_message) continue;
    if (field->is_repeated()) {
      for (int k = 0; k < reflection->FieldSize(*message, field); ++k) {
        cleared += Redact(reflection->MutableRepeatedMessage(message, field, k), allowed);
      }
    } else if (reflection->HasField(*message, field)) {
      cleared += Redact(reflection->MutableMessage(message, field), allowed);
    }
  }
  return cleared;
}

[[nodiscard]] absl::StatusOr<std::optional<std::string>> EmployerData(
    const eventstore::RecordedEvent& record) {
  ASSIGN_OR_RETURN(domain::Event event, Decode(record));
  if (!domain::EmployerMaySee(event.body)) return std::nullopt;
  v1::PlacementEvent proto;
  ToProto(event, &proto);
  Redact(&proto, v1::VISIBILITY_EMPLOYER);
  return proto.SerializeAsString();
}

}  // namespace duurzaam::codec
