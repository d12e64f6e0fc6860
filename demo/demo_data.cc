#include "demo/demo_data.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "codec/employer_registry.h"
#include "codec/placement_codec.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "domain/stream_names.h"
#include "domain/validation.h"

namespace duurzaam::demo {
namespace {

using namespace domain;

class Builder {
 public:
  Builder(Date today, std::vector<DemoEvent>* out) : today_(today), out_(out) {}

  // Adds an event `days_ago` before today to `stream`.
  void Add(const std::string& stream, int days_ago, EventBody body,
           Principal by = {"expert:jdevries", Role::kExpert}) {
    int n = counts_[stream]++;
    Event e;
    e.id = eventstore::EventId::FromName(absl::StrCat("duurzaam-demo/", stream, "/", n)).ToString();
    e.occurred_on = today_ - days_ago;
    e.recorded_on = today_;
    e.recorded_by = std::move(by);
    e.body = std::move(body);
    out_->push_back({stream, std::move(e)});
  }

  Date Day(int days_ago) const { return today_ - days_ago; }

 private:
  Date today_;
  std::vector<DemoEvent>* out_;
  std::map<std::string, int> counts_;
};

std::map<Item, int> Scores(int fit, int meaning, int guidance, int intention, int coping = 4,
                           int self_efficacy = 4) {
  return {{Item::kFit, fit},           {Item::kMeaningfulWork, meaning},
          {Item::kGuidance, guidance}, {Item::kSupport, 4},
          {Item::kMotivation, 4},      {Item::kSelfEfficacy, self_efficacy},
          {Item::kCoping, coping},     {Item::kIntentionToContinue, intention}};
}

void Placements(Builder& b, const std::string& suffix) {
  auto open = [&](const std::string& c, const std::string& employer, int days_ago,
                  const std::string& region, const std::string& group) {
    b.Add(c, days_ago, CaseOpened{"worker-" + c.substr(5), employer, region, group});
    // The opening expert (jdevries) is on the team from the start.
  };
  auto start = [&](const std::string& c, int days_ago, ContractType contract,
                   std::optional<int> end_in_days, double hours, const std::string& job) {
    std::optional<Date> end;
    if (end_in_days) end = b.Day(-*end_in_days);
    b.Add(c, days_ago, Hired{contract, end, hours, job, "vaste werkplek, korte instructies"});
    b.Add(c, days_ago - 7, ContactMoment{ContactKind::kThreeWayConversation, "driegesprek"});
    for (int d = days_ago - 28; d > std::max(days_ago - 180, 0); d -= 21) {
      b.Add(c, d, ContactMoment{ContactKind::kVisit, "werkplekbezoek"});
    }
  };
  auto yearly = [&](const std::string& c, int days_ago, std::map<Item, int> employer,
                    std::map<Item, int> worker) {
    b.Add(c, days_ago, MonitoringCheckIn{Respondent::kEmployer, std::move(employer), ""});
    b.Add(c, days_ago, MonitoringCheckIn{Respondent::kWorker, std::move(worker), ""});
  };
  const std::string s = suffix;

  // Anna at Acme: permanent, reorganisation followed up -> VULNERABLE.
  std::string anna = domain::CaseStream("anna" + s);
  open(anna, "acme", 910, "Groot Amsterdam", "Wajong");
  start(anna, 900, ContractType::kFixedTerm, 200, 32, "orderpicker");
  b.Add(anna, 700, ContractChanged{ContractType::kPermanent, std::nullopt, 32});
  yearly(anna, 560, Scores(4, 4, 4, 4), Scores(4, 5, 4, 5));
  yearly(anna, 200, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
  b.Add(anna, 40, ContactMoment{ContactKind::kVisit, "gevolgen reorganisatie besproken"});

  // Bram at Acme: reorganisation without follow-up -> AT_RISK.
  std::string bram = domain::CaseStream("bram" + s);
  open(bram, "acme", 610, "Groot Amsterdam", "Participatiewet");
  start(bram, 600, ContractType::kPermanent, std::nullopt, 24, "inpakker");
  yearly(bram, 240, Scores(4, 4, 3, 4), Scores(4, 4, 4, 4));
  b.Add(bram, 230, SubsidyGranted{SubsidyKind::kWageCostSubsidy, 60, b.Day(-500)});

  // Chris at Bakkerij de Korf: long, stable, subsidised -> SUSTAINABLE.
  std::string chris = domain::CaseStream("chris" + s);
  open(chris, "bakkerij-de-korf", 1210, "Twente", "Wajong");
  start(chris, 1200, ContractType::kFixedTerm, -1000, 28, "bakkersassistent");
  b.Add(chris, 1100, ContractChanged{ContractType::kPermanent, std::nullopt, 28});
  b.Add(chris, 1100, SubsidyGranted{SubsidyKind::kWageDispensation, 70, b.Day(-400)});
  b.Add(chris, 1100, NoRiskCoverGranted{b.Day(-600)});
  yearly(chris, 460, Scores(5, 4, 4, 5), Scores(4, 5, 4, 5));
  yearly(chris, 100, Scores(5, 5, 4, 5), Scores(5, 5, 4, 5));

  // Dewi at Gemeente Zorg: four months in, fixed-term -> VULNERABLE.
  std::string dewi = domain::CaseStream("dewi" + s);
  open(dewi, "gemeente-zorg", 130, "Midden-Utrecht", "banenafspraak");
  start(dewi, 120, ContractType::kFixedTerm, 200, 20, "facilitair medewerker");
  b.Add(dewi, 90,
        InterventionStarted{InterventionKind::kJobCoach, "externe jobcoach, 2 uur per week", ""});

  // Emre at Techniek BV: fixed-term ends in 40 days -> AT_RISK.
  std::string emre = domain::CaseStream("emre" + s);
  open(emre, "techniek-bv", 510, "Rijnmond", "Participatiewet");
  start(emre, 500, ContractType::kFixedTerm, 40, 36, "monteur");
  yearly(emre, 150, Scores(4, 4, 3, 4), Scores(3, 4, 3, 4));
  b.Add(emre, 150, NoRiskCoverGranted{b.Day(-900)});

  // Fleur at Bakkerij de Korf: private circumstances, no follow-up -> AT_RISK.
  std::string fleur = domain::CaseStream("fleur" + s);
  open(fleur, "bakkerij-de-korf", 810, "Twente", "Wajong");
  start(fleur, 800, ContractType::kPermanent, std::nullopt, 24, "verkoopmedewerker");
  yearly(fleur, 420, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
  yearly(fleur, 70, Scores(4, 4, 4, 4), Scores(3, 4, 3, 3));
  b.Add(fleur, 60, PrivateLifeChanged{"mantelzorg voor een ouder"});

  // Gijs at Techniek BV: absent for over 26 weeks -> AT_RISK.
  std::string gijs = domain::CaseStream("gijs" + s);
  open(gijs, "techniek-bv", 1010, "Rijnmond", "Wajong");
  start(gijs, 1000, ContractType::kPermanent, std::nullopt, 32, "magazijnmedewerker");
  yearly(gijs, 650, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
  yearly(gijs, 280, Scores(4, 4, 4, 4), Scores(4, 4, 3, 4));
  b.Add(gijs, 200, AbsenceReported{});
  b.Add(gijs, 150,
        InterventionStarted{InterventionKind::kCapacityAssessment, "belastbaarheid opnieuw bepaald",
                            ""});

  // Hanna at Gemeente Zorg: employment ended, case closed -> ENDED.
  std::string hanna = domain::CaseStream("hanna" + s);
  open(hanna, "gemeente-zorg", 1510, "Midden-Utrecht", "Participatiewet");
  start(hanna, 1500, ContractType::kFixedTerm, -290, 24, "schoonmaker");
  b.Add(hanna, 400, NoticeGiven{false, b.Day(300)});
  b.Add(hanna, 300, EmploymentEnded{EndReason::kResignation});
  b.Add(hanna, 280, CaseClosed{"dienstverband beëindigd, nazorg afgerond"});

  // Ivo at Acme: low intention to continue -> AT_RISK.
  std::string ivo = domain::CaseStream("ivo" + s);
  open(ivo, "acme", 810, "Groot Amsterdam", "Wajong");
  start(ivo, 800, ContractType::kPermanent, std::nullopt, 28, "chauffeur");
  yearly(ivo, 30, Scores(3, 3, 3, 3), Scores(3, 2, 3, 2));
  b.Add(ivo, 35, InterventionStarted{InterventionKind::kCoaching, "coaching leidinggevende", ""});

  // Jasmijn at Techniek BV: perspectives differ -> VULNERABLE.
  std::string jasmijn = domain::CaseStream("jasmijn" + s);
  open(jasmijn, "techniek-bv", 710, "Rijnmond", "banenafspraak");
  start(jasmijn, 700, ContractType::kPermanent, std::nullopt, 30, "administratief medewerker");
  yearly(jasmijn, 300, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
  yearly(jasmijn, 20, Scores(4, 5, 4, 4), Scores(4, 3, 4, 4));
  b.Add(jasmijn, 15,
        InterventionStarted{InterventionKind::kThreeWayConversation,
                            "driegesprek over betekenis van het werk", ""});

  // Koen at Bakkerij de Korf: just started -> VULNERABLE.
  std::string koen = domain::CaseStream("koen" + s);
  open(koen, "bakkerij-de-korf", 40, "Twente", "Participatiewet");
  start(koen, 30, ContractType::kFixedTerm, 335, 16, "hulp in de bakkerij");

  // Lotte at Gemeente Zorg: subsidy ending within half a year -> VULNERABLE.
  std::string lotte = domain::CaseStream("lotte" + s);
  open(lotte, "gemeente-zorg", 1610, "Midden-Utrecht", "Wajong");
  start(lotte, 1600, ContractType::kPermanent, std::nullopt, 24, "receptionist");
  b.Add(lotte, 1580, SubsidyGranted{SubsidyKind::kWageCostSubsidy, 50, b.Day(-100)});
  b.Add(lotte, 1300, SocietalDisruption{"coronamaatregelen: werk op afstand"});
  b.Add(lotte, 1290, ContactMoment{ContactKind::kVideo, "thuiswerken besproken"});
  yearly(lotte, 400, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
  yearly(lotte, 50, Scores(4, 4, 4, 4), Scores(4, 4, 4, 4));
}

}  // namespace

std::vector<DemoEvent> DemoEvents(Date today, int scale) {
  std::vector<DemoEvent> out;
  Builder b(today, &out);
  b.Add(domain::EmployerStream("acme"), 50,
        OrganisationChanged{OrganisationChangeKind::kReorganisation,
                            "afdelingen logistiek en expeditie samengevoegd"},
        {"employer:acme", Role::kEmployer});
  b.Add(
      domain::EmployerStream("acme"), 1000,
      OrganisationChanged{OrganisationChangeKind::kManagementChange, "nieuwe teamleider magazijn"},
      {"employer:acme", Role::kEmployer});
  for (int i = 0; i < scale; ++i) Placements(b, i == 0 ? "" : absl::StrCat("-", i));
  return out;
}

[[nodiscard]] absl::StatusOr<SeedResult> Seed(eventstore::Store* store, Date today,
                                              const codec::Sealer* sealer, int scale) {
  SeedResult result;
  std::map<std::string, domain::CaseState> states;
  std::map<std::string, eventstore::Revision> revisions;
  const std::vector<DemoEvent> events = DemoEvents(today, scale);
  // The employers exist before cases open there (the registry admins keep).
  std::set<std::string> employers;
  for (const DemoEvent& d : events) {
    if (const auto* opened = std::get_if<domain::CaseOpened>(&d.event.body)) {
      employers.insert(opened->employer_id);
    }
  }
  for (const std::string& employer : employers) {
    RETURN_IF_ERROR(
        codec::RegisterEmployer(store, employer, employer, "admin:demo", SystemMicros()).status());
  }
  for (const DemoEvent& d : events) {
    bool employer = domain::IsEmployerStream(d.stream);
    domain::CaseState& state = states[d.stream];
    absl::Status valid = employer ? domain::ValidateEmployerEvent(d.event)
                                  : domain::ValidateCaseEvent(state, d.event);
    if (!valid.ok()) {
      return absl::InternalError(absl::StrCat("demo event ", d.event.id, " on ", d.stream,
                                              " breaks a rule: ", valid.message()));
    }
    state = domain::Apply(std::move(state), d.event);
    ASSIGN_OR_RETURN(eventstore::EventId id, eventstore::EventId::Parse(d.event.id));
    auto revision = revisions.try_emplace(d.stream, eventstore::kNoStream).first;
    ASSIGN_OR_RETURN(eventstore::ProposedEvent encoded,
                     codec::Encode(d.event, id, d.stream, sealer));
    ASSIGN_OR_RETURN(eventstore::AppendResult r,
                     store->Append({d.stream,
                                    revision->second == eventstore::kNoStream
                                        ? eventstore::Expectation::NoStream()
                                        : eventstore::Expectation::Exact(revision->second),
                                    {std::move(encoded)}}));
    if (revision->second == eventstore::kNoStream) ++result.streams;
    revision->second = r.last_revision;
    if (!r.replayed) ++result.appended;
  }
  return result;
}

}  // namespace duurzaam::demo
