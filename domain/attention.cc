#include "domain/attention.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace duurzaam::domain {
namespace {

Text When(int days) {
  if (days > 1) return {absl::StrCat("over ", days, " dagen"), absl::StrCat("in ", days, " days")};
  if (days == 1) return {"morgen", "tomorrow"};
  if (days == 0) return {"vandaag", "today"};
  if (days == -1) return {"gisteren", "yesterday"};
  return {absl::StrCat(-days, " dagen geleden"), absl::StrCat(-days, " days ago")};
}

Text Sentence(AttentionKind kind, SubsidyKind subsidy, Date on, int days) {
  const std::string date = FormatDate(on);
  const Text when = When(days);
  const bool past = days < 0;
  switch (kind) {
    case AttentionKind::kContractEnd:
      return {absl::StrCat("Het tijdelijke contract ", past ? "eindigde" : "eindigt", " op ", date,
                           " (", when.nl, ")"),
              absl::StrCat("The fixed-term contract ", past ? "ended" : "ends", " on ", date, " (",
                           when.en, ")")};
    case AttentionKind::kSubsidyEnd: {
      Text what{"De subsidie", "The subsidy"};
      if (subsidy == SubsidyKind::kWageCostSubsidy)
        what = {"De loonkostensubsidie", "The wage-cost subsidy"};
      if (subsidy == SubsidyKind::kWageDispensation)
        what = {"De loondispensatie", "The wage dispensation"};
      return {
          absl::StrCat(what.nl, past ? " eindigde" : " eindigt", " op ", date, " (", when.nl, ")"),
          absl::StrCat(what.en, past ? " ended" : " ends", " on ", date, " (", when.en, ")")};
    }
    case AttentionKind::kCoverEnd:
      return {absl::StrCat("De no-riskpolis ", past ? "eindigde" : "eindigt", " op ", date, " (",
                           when.nl, ")"),
              absl::StrCat("The no-risk cover ", past ? "ended" : "ends", " on ", date, " (",
                           when.en, ")")};
  }
  return {};
}

}  // namespace

const char* AttentionKindName(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::kContractEnd:
      return "CONTRACT_END";
    case AttentionKind::kSubsidyEnd:
      return "SUBSIDY_END";
    case AttentionKind::kCoverEnd:
      return "COVER_END";
  }
  return "?";
}

std::vector<Attention> EmployerAttention(const CaseState& state, Date as_of) {
  std::vector<Attention> out;
  if (!state.opened || state.closed || state.ended) return out;
  auto add = [&](AttentionKind kind, SubsidyKind subsidy, Date on, const std::string& event) {
    const int days = static_cast<int>(on - as_of);
    if (days > kAttentionDays) return;
    out.push_back({kind, on, days, event, Sentence(kind, subsidy, on, days)});
  };
  if (state.hired_on && state.contract == ContractType::kFixedTerm && state.contract_end) {
    add(AttentionKind::kContractEnd, SubsidyKind::kOther, *state.contract_end,
        state.contract_event);
  }
  for (const CaseState::Subsidy& s : state.subsidies) {
    if (s.ends_on) add(AttentionKind::kSubsidyEnd, s.kind, *s.ends_on, s.event_id);
  }
  if (state.cover_active && state.cover_ends_on) {
    add(AttentionKind::kCoverEnd, SubsidyKind::kOther, *state.cover_ends_on, state.cover_event);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attention& a, const Attention& b) { return a.on < b.on; });
  return out;
}

}  // namespace duurzaam::domain
