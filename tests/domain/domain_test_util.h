// Builders for domain tests: a case history written as dated events.
#pragma once

#include <string>
#include <vector>

#include "domain/case_state.h"
#include "domain/status.h"

namespace duurzaam::domain::testing {

inline Date D(int y, int m, int d) { return Date(y, m, d); }

class History {
 public:
  // Adds an event that occurred and was recorded on `on`.
  History& Add(Date on, EventBody body, Role role = Role::kExpert) {
    return AddRecorded(on, on, std::move(body), role);
  }
  History& AddRecorded(Date on, Date recorded, EventBody body, Role role = Role::kExpert) {
    events_.push_back({"e" + std::to_string(events_.size() + 1),
                       on,
                       recorded,
                       {"expert:a", role},
                       std::move(body)});
    return *this;
  }
  const std::string& LastId() const { return events_.back().id; }
  const std::vector<Event>& events() const { return events_; }

  CaseStatus StatusOn(Date as_of) const {
    return Evaluate(FoldAsOf(events_, as_of), as_of, CurrentRuleset());
  }

 private:
  std::vector<Event> events_;
};

inline MonitoringCheckIn CheckIn(Respondent who, std::map<Item, int> scores) {
  return MonitoringCheckIn{who, std::move(scores), ""};
}

inline std::map<Item, int> AllFours() {
  return {{Item::kFit, 4},     {Item::kMeaningfulWork, 4},     {Item::kGuidance, 4},
          {Item::kSupport, 4}, {Item::kMotivation, 4},         {Item::kSelfEfficacy, 4},
          {Item::kCoping, 4},  {Item::kIntentionToContinue, 4}};
}

// A well-followed placement: hired 2023-01-02 fixed-term, three-way
// conversation in week 2, contact every 3 weeks for six months, permanent
// from 2023-06-01, yearly questionnaires in January 2024. Sustainable on
// 2024-03-01 with no further events.
inline History SustainablePlacement() {
  History h;
  h.Add(D(2022, 12, 15), CaseOpened{"worker-17", "employer:acme", "Groot Amsterdam", "Wajong"});
  h.Add(D(2023, 1, 2), Hired{ContractType::kFixedTerm, D(2023, 12, 31), 24, "magazijn", ""});
  h.Add(D(2023, 1, 10), ContactMoment{ContactKind::kThreeWayConversation, "start"});
  for (Date d = D(2023, 1, 31); d < D(2023, 7, 2); d += 21) {
    h.Add(d, ContactMoment{ContactKind::kVisit, "visit"});
  }
  h.Add(D(2023, 6, 1), ContractChanged{ContractType::kPermanent, std::nullopt, 24});
  h.Add(D(2024, 1, 15), CheckIn(Respondent::kEmployer, AllFours()));
  h.Add(D(2024, 1, 16), CheckIn(Respondent::kWorker, AllFours()));
  return h;
}

inline bool Has(const CaseStatus& s, const std::string& rule) {
  for (const auto& r : s.reasons) {
    if (r.rule_id == rule) return true;
  }
  return false;
}

inline const Reason* Find(const CaseStatus& s, const std::string& rule) {
  for (const auto& r : s.reasons) {
    if (r.rule_id == rule) return &r;
  }
  return nullptr;
}

}  // namespace duurzaam::domain::testing
