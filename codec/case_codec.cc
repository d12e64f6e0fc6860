#include "codec/case_codec.h"

#include "absl/strings/str_cat.h"
#include "codec/placement_codec.h"
#include "common/field_violation.h"

namespace duurzaam::codec {
namespace {

v1::Visibility Audience(domain::Audience audience) {
  switch (audience) {
    case domain::Audience::kEmployer:
      return v1::VISIBILITY_EMPLOYER;
    case domain::Audience::kExpert:
      return v1::VISIBILITY_EXPERT;
    case domain::Audience::kRestricted:
      return v1::VISIBILITY_RESTRICTED;
  }
  return v1::VISIBILITY_RESTRICTED;
}

}  // namespace

void ToProto(const domain::Reason& r, Language language, v1::StatusReason* out) {
  out->set_rule_id(r.rule_id);
  out->set_text(In(r.sentence, language));
  for (const auto& id : r.evidence) out->add_evidence_event_ids(id);
  out->set_audience(Audience(r.audience));
}

[[nodiscard]] absl::StatusOr<Language> ParseLanguage(const std::string& language) {
  if (language.empty() || language == "nl") return Language::kDutch;
  if (language == "en") return Language::kEnglish;
  return MakeInvalidArgument({"language", "use \"nl\" (default) or \"en\""});
}

const std::string& In(const domain::Text& text, Language language) {
  return language == Language::kEnglish ? text.en : text.nl;
}

void ToProto(domain::Date date, v1::CalendarDate* out) {
  out->set_year(static_cast<int32_t>(date.year()));
  out->set_month(date.month());
  out->set_day(date.day());
}

[[nodiscard]] absl::StatusOr<domain::Date> DateFromProto(const v1::CalendarDate& d,
                                                         const std::string& field) {
  domain::Date day(d.year(), d.month(), d.day());
  if (d.year() < 1990 || d.year() > 9999 || day.year() != d.year() || day.month() != d.month() ||
      day.day() != d.day()) {
    return MakeInvalidArgument(
        {field, absl::StrCat("not a calendar date: ", d.year(), "-", d.month(), "-", d.day())});
  }
  return day;
}

void ToProto(const std::vector<domain::GroupStatistics>& groups, v1::RegionalStatistics* out) {
  for (const auto& g : groups) {
    auto* group = out->add_groups();
    group->set_region(g.region);
    group->set_target_group(g.target_group);
    group->set_suppressed(g.suppressed);
    if (g.suppressed) continue;
    group->set_placements(g.placements);
    for (const auto& y : g.years) {
      auto* year = group->add_years();
      year->set_years_after_hire(y.years_after_hire);
      year->set_placements(y.placements);
      year->set_sustainable(y.sustainable);
      year->set_vulnerable(y.vulnerable);
      year->set_at_risk(y.at_risk);
      year->set_ended(y.ended);
    }
    for (const auto& d : g.disruptions) {
      auto* disruption = group->add_disruptions();
      disruption->set_source(static_cast<v1::DisruptionSource>(static_cast<int>(d.kind) + 1));
      disruption->set_occurred(d.occurred);
      disruption->set_followed_up_within_30_days(d.followed_up_within_30_days);
      for (const auto& [kind, count] : d.interventions_within_90_days) {
        auto* i = disruption->add_interventions();
        i->set_kind(static_cast<v1::InterventionKind>(static_cast<int>(kind) + 1));
        i->set_count(count);
      }
    }
  }
}

void ToProto(const domain::CaseStatus& s, Language language, v1::CaseStatus* out) {
  ToProto(s.as_of, out->mutable_as_of());
  out->set_level(static_cast<v1::StatusLevel>(static_cast<int>(s.level) + 1));
  for (const auto& r : s.reasons) ToProto(r, language, out->add_reasons());
  for (const auto& r : s.watch_items) ToProto(r, language, out->add_watch_items());
  for (const auto& a : s.actions) {
    auto* action = out->add_suggested_actions();
    action->set_rule_id(a.rule_id);
    action->set_text(In(a.text, language));
  }
  if (s.judgement) {
    auto* j = out->mutable_judgement();
    j->set_level(static_cast<v1::StatusLevel>(static_cast<int>(s.judgement->level) + 1));
    j->set_reason(s.judgement->reason);
    ToProto(s.judgement->expires_on, j->mutable_expires_on());
    out->set_judgement_event_id(s.judgement_event);
  }
  out->set_ruleset_version(s.ruleset_version);
}

}  // namespace duurzaam::codec
