#include "domain/status.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace duurzaam::domain {
namespace {

int64_t Days(Date from, Date to) { return to - from; }

Text ItemName(Item item) {
  switch (item) {
    case Item::kFit:
      return {"passend werk", "fit of the work"};
    case Item::kMeaningfulWork:
      return {"betekenisvol werk", "meaningful work"};
    case Item::kGuidance:
      return {"begeleiding", "guidance"};
    case Item::kSupport:
      return {"ondersteuning", "support"};
    case Item::kMotivation:
      return {"motivatie", "motivation"};
    case Item::kSelfEfficacy:
      return {"zelfvertrouwen", "self-efficacy"};
    case Item::kCoping:
      return {"omgaan met de beperking", "coping"};
    case Item::kIntentionToContinue:
      return {"wil om door te gaan", "intention to continue"};
  }
  return {"?", "?"};
}

Text SourceName(CaseState::Source source) {
  switch (source) {
    case CaseState::Source::kOrganisation:
      return {"organisatieverandering", "organisational change"};
    case CaseState::Source::kSociety:
      return {"maatschappelijke verstoring", "societal disruption"};
    case CaseState::Source::kPrivateLife:
      return {"verandering in privé-omstandigheden", "change in private circumstances"};
  }
  return {"?", "?"};
}

// The same text with an upper-case first letter, to open a sentence.
Text Capitalized(Text t) {
  for (std::string* s : {&t.nl, &t.en}) {
    if (!s->empty() && (*s)[0] >= 'a' && (*s)[0] <= 'z') (*s)[0] = static_cast<char>((*s)[0] - 32);
  }
  return t;
}

Audience SourceAudience(CaseState::Source source) {
  switch (source) {
    case CaseState::Source::kOrganisation:
    case CaseState::Source::kSociety:
      return Audience::kEmployer;
    case CaseState::Source::kPrivateLife:
      return Audience::kRestricted;
  }
  return Audience::kRestricted;  // a source nobody decided on: the narrowest
}

// The latest check-in of one respondent on or before as_of.
const CaseState::CheckIn* Latest(const CaseState& s, Respondent respondent) {
  const CaseState::CheckIn* latest = nullptr;
  for (const auto& c : s.check_ins) {
    if (c.respondent == respondent && (latest == nullptr || c.on >= latest->on)) latest = &c;
  }
  return latest;
}

std::optional<int> Score(const CaseState::CheckIn* c, Item item) {
  if (c == nullptr) return std::nullopt;
  auto it = c->scores.find(item);
  if (it == c->scores.end()) return std::nullopt;
  return it->second;
}

bool FollowedUp(const CaseState& s, const CaseState::Disruption& d, std::optional<Date> until) {
  for (const auto& f : s.follow_ups) {
    if (f.on >= d.on && (!until || f.on <= *until)) return true;
  }
  return false;
}

class Evaluation {
 public:
  Evaluation(const CaseState& s, Date as_of, const Ruleset& r) : s_(s), d_(as_of), r_(r) {}

  CaseStatus Run() {
    status_.as_of = d_;
    status_.ruleset_version = r_.version;
    if (s_.judgement && s_.judgement->expires_on >= d_) {
      status_.judgement = s_.judgement;
      status_.judgement_event = s_.judgement_event;
    }
    if (s_.ended || s_.closed) return Ended();
    if (!s_.hired_on) {
      Fire(vulnerable_, "VULNERABLE.NOT_PLACED",
           {"Nog geen plaatsing vastgelegd.", "No hire recorded yet."}, {}, Audience::kEmployer,
           Text{"Leg de plaatsing vast zodra die rond is.", "Record the hire once it is agreed."});
      return Finish();
    }
    AtRiskRules();
    VulnerableRules();
    return Finish();
  }

 private:
  void Fire(std::vector<Reason>& into, std::string rule, Text sentence,
            std::vector<std::string> evidence, Audience audience,
            std::optional<Text> action = std::nullopt) {
    if (action) status_.actions.push_back({rule, *action});
    into.push_back({std::move(rule), std::move(sentence), std::move(evidence), audience});
  }

  CaseStatus Ended() {
    status_.level = StatusLevel::kEnded;
    if (s_.ended) {
      std::string date = FormatDate(s_.ended_on);
      status_.reasons.push_back({"ENDED.EMPLOYMENT_ENDED",
                                 {absl::StrCat("Dienstverband beëindigd op ", date, "."),
                                  absl::StrCat("Employment ended on ", date, ".")},
                                 {s_.ended_event},
                                 Audience::kEmployer});
    } else {
      status_.reasons.push_back({"ENDED.CASE_CLOSED",
                                 {"De casus is gesloten.", "The case is closed."},
                                 {},
                                 Audience::kEmployer});
    }
    return status_;
  }

  void AtRiskRules() {
    if (s_.notice_effective_on) {
      std::string date = FormatDate(*s_.notice_effective_on);
      Fire(at_risk_, "AT_RISK.NOTICE_GIVEN",
           {absl::StrCat("Opzegging gedaan, per ", date, "."),
            absl::StrCat("Notice given, effective ", date, ".")},
           {s_.notice_event}, Audience::kEmployer,
           Text{"Bespreek met werkgever en werknemer of behoud mogelijk is.",
                "Discuss with employer and worker whether the job can be kept."});
    }
    if (s_.contract == ContractType::kFixedTerm && s_.contract_end &&
        Days(d_, *s_.contract_end) <= r_.fixed_term_end_warning_days) {
      std::string date = FormatDate(*s_.contract_end);
      Fire(at_risk_, "AT_RISK.FIXED_TERM_ENDING",
           {absl::StrCat("Tijdelijk contract eindigt op ", date, " zonder verlenging."),
            absl::StrCat("Fixed-term contract ends on ", date, " without an extension.")},
           {s_.contract_event}, Audience::kEmployer,
           Text{"Bespreek verlenging of een vast contract met de werkgever.",
                "Discuss an extension or a permanent contract with the employer."});
    }
    if (s_.contract != ContractType::kPermanent) {
      for (const auto& sub : s_.subsidies) {
        if (sub.ends_on && Days(d_, *sub.ends_on) >= 0 &&
            Days(d_, *sub.ends_on) <= r_.subsidy_end_warning_days_non_permanent) {
          std::string date = FormatDate(*sub.ends_on);
          Fire(at_risk_, "AT_RISK.SUBSIDY_ENDING",
               {absl::StrCat("Subsidie eindigt op ", date, " en het contract is niet vast."),
                absl::StrCat("Subsidy ends on ", date, " and the contract is not permanent.")},
               {sub.event_id}, Audience::kEmployer,
               Text{"Adviseer de werkgever over voortzetting van de subsidie.",
                    "Advise the employer on continuing the subsidy."});
        }
      }
      if (s_.cover_active && s_.cover_ends_on && Days(d_, *s_.cover_ends_on) >= 0 &&
          Days(d_, *s_.cover_ends_on) <= r_.subsidy_end_warning_days_non_permanent) {
        std::string date = FormatDate(*s_.cover_ends_on);
        Fire(at_risk_, "AT_RISK.NO_RISK_COVER_ENDING",
             {absl::StrCat("No-riskpolis eindigt op ", date, " en het contract is niet vast."),
              absl::StrCat("No-risk cover ends on ", date, " and the contract is not permanent.")},
             {s_.cover_event}, Audience::kEmployer,
             Text{"Bespreek met de werkgever wat het einde van de no-riskpolis betekent.",
                  "Discuss with the employer what the end of the no-risk cover means."});
      }
    }
    int recent = 0;
    std::vector<std::string> recent_ids;
    Audience recent_audience = Audience::kEmployer;
    for (const auto& dis : s_.disruptions) {
      if (Days(dis.on, d_) > r_.disruption_follow_up_days && !FollowedUp(s_, dis, std::nullopt)) {
        Text what = Capitalized(SourceName(dis.source));
        std::string date = FormatDate(dis.on);
        Fire(at_risk_, "AT_RISK.DISRUPTION_UNADDRESSED",
             {absl::StrCat(what.nl, " op ", date, " zonder opvolging binnen ",
                           r_.disruption_follow_up_days, " dagen."),
              absl::StrCat(what.en, " on ", date, " with no follow-up within ",
                           r_.disruption_follow_up_days, " days.")},
             {dis.event_id}, SourceAudience(dis.source),
             Text{absl::StrCat(what.nl, " op ", date,
                               " zonder opvolging: beoordeel of het werk nog passend is."),
                  absl::StrCat(what.en, " on ", date, " with no follow-up: assess fit.")});
      }
      if (Days(dis.on, d_) < r_.disruptions_window_days) {
        ++recent;
        recent_ids.push_back(dis.event_id);
        if (SourceAudience(dis.source) == Audience::kRestricted) {
          recent_audience = Audience::kRestricted;
        }
      }
    }
    if (recent >= r_.disruptions_at_risk_count) {
      Fire(at_risk_, "AT_RISK.REPEATED_DISRUPTIONS",
           {absl::StrCat(recent, " verstoringen in de laatste 12 maanden."),
            absl::StrCat(recent, " disruptions in the last 12 months.")},
           recent_ids, recent_audience,
           Text{"Plan een driegesprek met werkgever en werknemer.",
                "Plan a three-way conversation with employer and worker."});
    }
    const CaseState::CheckIn* employer = Latest(s_, Respondent::kEmployer);
    const CaseState::CheckIn* worker = Latest(s_, Respondent::kWorker);
    for (const CaseState::CheckIn* c : {employer, worker}) {
      std::optional<int> intention = Score(c, Item::kIntentionToContinue);
      if (intention && *intention <= r_.low_score) {
        bool by_employer = c == employer;
        Fire(at_risk_, "AT_RISK.LOW_INTENTION",
             {absl::StrCat(by_employer ? "Werkgever" : "Werknemer",
                           " scoort de wil om door te gaan met ", *intention, "."),
              absl::StrCat(by_employer ? "Employer" : "Worker",
                           " scores the intention to continue at ", *intention, ".")},
             {c->event_id}, Audience::kExpert,
             Text{"Bespreek de samenwerking en beoordeel of het werk passend is.",
                  "Discuss the placement and assess whether the work still fits."});
      }
    }
    std::optional<int> fit_e = Score(employer, Item::kFit), fit_w = Score(worker, Item::kFit);
    if (fit_e && fit_w && *fit_e <= r_.low_score && *fit_w <= r_.low_score) {
      Fire(at_risk_, "AT_RISK.LOW_FIT",
           {"Werkgever en werknemer scoren passend werk beide laag.",
            "Employer and worker both score the fit of the work low."},
           {employer->event_id, worker->event_id}, Audience::kExpert,
           Text{"Beoordeel de belastbaarheid en overweeg een jobcoach.",
                "Assess what the worker can carry and consider a job coach."});
    }
    if (s_.absent_since && Days(*s_.absent_since, d_) > r_.long_absence_days) {
      Fire(at_risk_, "AT_RISK.LONG_ABSENCE",
           {absl::StrCat("Afwezig sinds ", FormatDate(*s_.absent_since), ", langer dan 26 weken."),
            absl::StrCat("Absent since ", FormatDate(*s_.absent_since), ", longer than 26 weeks.")},
           {s_.absence_event}, Audience::kEmployer,
           Text{"Beoordeel belastbaarheid en re-integratiemogelijkheden.",
                "Assess capacity and reintegration options."});
    }
    Date last_touch = *s_.hired_on;
    for (const auto& c : s_.check_ins) last_touch = std::max(last_touch, c.on);
    for (const auto& f : s_.follow_ups) {
      if (f.contact) last_touch = std::max(last_touch, f.on);
    }
    if (Days(last_touch, d_) > r_.no_contact_days) {
      Fire(at_risk_, "AT_RISK.NO_CONTACT",
           {absl::StrCat("Geen check-in of contact sinds ", FormatDate(last_touch), "."),
            absl::StrCat("No check-in or contact since ", FormatDate(last_touch), ".")},
           {}, Audience::kExpert,
           Text{"Plan een monitoringcontact.", "Schedule a monitoring contact."});
    }
  }

  void VulnerableRules() {
    const int64_t in_post = Days(*s_.hired_on, d_);
    if (s_.contract != ContractType::kPermanent) {
      Fire(vulnerable_, "VULNERABLE.NOT_PERMANENT",
           {"Het contract is (nog) niet vast.", "The contract is not permanent (yet)."},
           {s_.contract_event}, Audience::kEmployer);
    }
    if (in_post < r_.sustainable_after_days) {
      Fire(vulnerable_, "VULNERABLE.EARLY_PLACEMENT",
           {"De plaatsing is jonger dan 12 maanden.", "The placement is younger than 12 months."},
           {s_.hire_event}, Audience::kEmployer);
    }
    if (in_post < r_.early_placement_days) {
      int64_t contacts = 0;
      for (const auto& f : s_.follow_ups) {
        if (f.contact && f.on >= *s_.hired_on) ++contacts;
      }
      int64_t required = in_post / r_.early_contact_interval_days;
      if (contacts < required) {
        Fire(vulnerable_, "VULNERABLE.TOO_FEW_EARLY_CONTACTS",
             {absl::StrCat(contacts, " contactmomenten in de eerste ", in_post,
                           " dagen; minstens één per 4 weken is nodig."),
              absl::StrCat(contacts, " contacts in the first ", in_post,
                           " days; at least one per 4 weeks is needed.")},
             {s_.hire_event}, Audience::kExpert,
             Text{"Houd in de eerste zes maanden minstens elke 4 weken contact.",
                  "Keep in contact at least every 4 weeks in the first six months."});
      }
      bool three_way = false;
      for (const auto& f : s_.follow_ups) {
        if (f.three_way && Days(*s_.hired_on, f.on) <= r_.three_way_conversation_days) {
          three_way = true;
        }
      }
      if (!three_way && in_post > r_.three_way_conversation_days) {
        Fire(vulnerable_, "VULNERABLE.NO_THREE_WAY_CONVERSATION",
             {"Geen driegesprek in de eerste 4 weken.",
              "No three-way conversation in the first 4 weeks."},
             {s_.hire_event}, Audience::kExpert,
             Text{"Plan alsnog een driegesprek.", "Hold a three-way conversation."});
      }
    }
    for (Respondent who : {Respondent::kEmployer, Respondent::kWorker}) {
      const CaseState::CheckIn* last = Latest(s_, who);
      Date since = last ? last->on : *s_.hired_on;
      if (Days(since, d_) > r_.monitoring_year_days + r_.monitoring_grace_days) {
        bool employer = who == Respondent::kEmployer;
        Fire(vulnerable_, "VULNERABLE.QUESTIONNAIRE_MISSING",
             {absl::StrCat("Jaarlijkse vragenlijst van de ", employer ? "werkgever" : "werknemer",
                           " ontbreekt."),
              absl::StrCat("The ", employer ? "employer's" : "worker's",
                           " yearly questionnaire is missing.")},
             last ? std::vector<std::string>{last->event_id} : std::vector<std::string>{},
             Audience::kExpert,
             Text{absl::StrCat("Stuur de vragenlijst naar de ",
                               employer ? "werkgever" : "werknemer", "."),
                  absl::StrCat("Send the questionnaire to the ", employer ? "employer" : "worker",
                               ".")});
      }
    }
    for (const auto& dis : s_.disruptions) {
      if (Days(dis.on, d_) < r_.recent_disruption_days && FollowedUp(s_, dis, std::nullopt)) {
        Text what = Capitalized(SourceName(dis.source));
        Fire(vulnerable_, "VULNERABLE.RECENT_DISRUPTION",
             {absl::StrCat(what.nl, " op ", FormatDate(dis.on), ", opgevolgd."),
              absl::StrCat(what.en, " on ", FormatDate(dis.on), ", followed up.")},
             {dis.event_id}, SourceAudience(dis.source));
      }
    }
    const CaseState::CheckIn* employer = Latest(s_, Respondent::kEmployer);
    const CaseState::CheckIn* worker = Latest(s_, Respondent::kWorker);
    if (employer && worker) {
      for (const auto& [item, score] : employer->scores) {
        std::optional<int> other = Score(worker, item);
        if (other && std::abs(*other - score) >= r_.score_gap) {
          Text name = ItemName(item);
          Fire(vulnerable_, "VULNERABLE.PERSPECTIVES_DIFFER",
               {absl::StrCat("Werkgever (", score, ") en werknemer (", *other,
                             ") verschillen over ", name.nl, "."),
                absl::StrCat("Employer (", score, ") and worker (", *other, ") differ on ", name.en,
                             ".")},
               {employer->event_id, worker->event_id}, Audience::kExpert,
               Text{absl::StrCat("Bespreek ", name.nl, " in een driegesprek."),
                    absl::StrCat("Discuss ", name.en, " in a three-way conversation.")});
        }
      }
    }
    for (const CaseState::CheckIn* c : {employer, worker, Latest(s_, Respondent::kExpert)}) {
      for (Item item : {Item::kGuidance, Item::kSelfEfficacy, Item::kCoping}) {
        std::optional<int> score = Score(c, item);
        if (score && *score <= r_.low_score) {
          Text name = ItemName(item);
          Fire(vulnerable_, "VULNERABLE.LOW_SUCCESS_FACTOR",
               {absl::StrCat(name.nl, " gescoord met ", *score, "."),
                absl::StrCat(name.en, " scored ", *score, ".")},
               {c->event_id}, Audience::kExpert,
               Text{"Overweeg (externe) jobcoaching of coaching.",
                    "Consider an (external) job coach or coaching."});
        }
      }
    }
    for (const auto& sub : s_.subsidies) {
      if (sub.ends_on && Days(d_, *sub.ends_on) >= 0 &&
          Days(d_, *sub.ends_on) <= r_.subsidy_end_notice_days) {
        std::string date = FormatDate(*sub.ends_on);
        Fire(vulnerable_, "VULNERABLE.SUBSIDY_ENDING",
             {absl::StrCat("Subsidie eindigt op ", date, "."),
              absl::StrCat("Subsidy ends on ", date, ".")},
             {sub.event_id}, Audience::kEmployer,
             Text{"Adviseer de werkgever tijdig over de periode na de subsidie.",
                  "Advise the employer in time about the period after the subsidy."});
      }
    }
    if (s_.absent_since && Days(*s_.absent_since, d_) > r_.absence_days) {
      Fire(vulnerable_, "VULNERABLE.ABSENCE",
           {absl::StrCat("Afwezig sinds ", FormatDate(*s_.absent_since), ", langer dan 6 weken."),
            absl::StrCat("Absent since ", FormatDate(*s_.absent_since), ", longer than 6 weeks.")},
           {s_.absence_event}, Audience::kEmployer,
           Text{"Neem contact op met werknemer en werkgever.",
                "Contact the worker and the employer."});
    }
  }

  CaseStatus Finish() {
    if (!at_risk_.empty()) {
      status_.level = StatusLevel::kAtRisk;
      status_.reasons = std::move(at_risk_);
      // Vulnerability reasons remain useful context for the expert.
      for (auto& r : vulnerable_) status_.watch_items.push_back(std::move(r));
    } else if (!vulnerable_.empty()) {
      status_.level = StatusLevel::kVulnerable;
      status_.reasons = std::move(vulnerable_);
    } else {
      status_.level = StatusLevel::kSustainable;
      status_.reasons.push_back(
          {"SUSTAINABLE",
           {"Vast contract, langer dan 12 maanden in dienst, monitoring actueel.",
            "Permanent contract, over 12 months in post, monitoring current."},
           {s_.contract_event},
           Audience::kEmployer});
      WatchItems();
    }
    return status_;
  }

  // Sustainable but vulnerable: what to keep an eye on.
  void WatchItems() {
    for (const auto& sub : s_.subsidies) {
      if (sub.ends_on && *sub.ends_on >= d_) {
        std::string date = FormatDate(*sub.ends_on);
        status_.watch_items.push_back({"WATCH.SUBSIDY_END",
                                       {absl::StrCat("Subsidie loopt tot ", date, "."),
                                        absl::StrCat("Subsidy runs until ", date, ".")},
                                       {sub.event_id},
                                       Audience::kEmployer});
      }
    }
    const CaseState::Disruption* last = nullptr;
    for (const auto& dis : s_.disruptions) {
      if (last == nullptr || dis.on >= last->on) last = &dis;
    }
    if (last != nullptr) {
      Text what = SourceName(last->source);
      status_.watch_items.push_back(
          {"WATCH.LAST_DISRUPTION",
           {absl::StrCat("Laatste verstoring: ", what.nl, " op ", FormatDate(last->on), "."),
            absl::StrCat("Last disruption: ", what.en, " on ", FormatDate(last->on), ".")},
           {last->event_id},
           SourceAudience(last->source)});
    }
  }

  const CaseState& s_;
  const Date d_;
  const Ruleset& r_;
  CaseStatus status_;
  std::vector<Reason> at_risk_, vulnerable_;
};

}  // namespace

std::string FormatDate(Date d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

CaseStatus Evaluate(const CaseState& state, Date as_of, const Ruleset& rules) {
  return Evaluation(state, as_of, rules).Run();
}

RulesetHistory::RulesetHistory(std::vector<Ruleset> versions) : versions_(std::move(versions)) {
  if (versions_.empty()) versions_.emplace_back();
}

const Ruleset& RulesetHistory::InForce(Date day) const {
  const Ruleset* in_force = &versions_.front();
  for (const Ruleset& r : versions_) {
    if (r.in_force_from <= day) in_force = &r;
  }
  return *in_force;
}

const Ruleset* RulesetHistory::Find(const std::string& version) const {
  for (const Ruleset& r : versions_) {
    if (r.version == version) return &r;
  }
  return nullptr;
}

const RulesetHistory& PublishedRulesets() {
  static const RulesetHistory* published = [] {
    Ruleset first;  // the defaults in ruleset.h
    first.change_nl = "eerste versie";
    first.change_en = "first version";
    return new RulesetHistory({first});
  }();
  return *published;
}

const Ruleset& RulesetInForce(Date day) { return PublishedRulesets().InForce(day); }

const Ruleset& CurrentRuleset() { return PublishedRulesets().Current(); }

const Ruleset* FindRuleset(const std::string& version) { return PublishedRulesets().Find(version); }

namespace {

int Urgency(StatusLevel level) {
  switch (level) {
    case StatusLevel::kAtRisk:
      return 0;
    case StatusLevel::kVulnerable:
      return 1;
    case StatusLevel::kSustainable:
      return 2;
    case StatusLevel::kEnded:
      return 3;
  }
  return 4;
}

}  // namespace

bool MoreUrgent(const CaseStatus& a, const CaseStatus& b) {
  const int ua = Urgency(a.level), ub = Urgency(b.level);
  if (ua != ub) return ua < ub;
  return a.reasons.size() > b.reasons.size();
}

}  // namespace duurzaam::domain
