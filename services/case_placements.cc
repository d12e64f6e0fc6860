// Cases.ListPlacements: an employer's placements, each with its status as
// the employer may read it and what needs the employer's attention (see
// cases.proto for the contract). What the employer portal lists.
#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codec/case_codec.h"
#include "common/field_violation.h"
#include "domain/attention.h"
#include "domain/visibility.h"
#include "services/case_service.h"
#include "services/grpc_status.h"

namespace duurzaam::services {
namespace {

constexpr int kDefaultPageSize = 25;
constexpr int kMaxPageSize = 100;

// What a page token is bound to: a token of one query never pages another.
std::string QueryKey(const v1::ListPlacementsRequest& request, domain::Date as_of,
                     const std::string& employer) {
  std::string key = absl::StrCat(employer, "|", domain::FormatDate(as_of), "|", request.order(),
                                 "|", request.descending() ? 1 : 0, "|");
  std::vector<int> levels(request.levels().begin(), request.levels().end());
  std::sort(levels.begin(), levels.end());
  for (int l : levels) absl::StrAppend(&key, l, ",");
  std::vector<std::string> ids(request.case_ids().begin(), request.case_ids().end());
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) absl::StrAppend(&key, "|", id);
  return key;
}

// A page token: the offset of the page's first placement and a digest of
// the query, base64url. Opaque to callers.
std::string PageToken(size_t offset, const std::string& query) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("p1:", offset, ":", std::hash<std::string>{}(query)));
}

absl::StatusOr<size_t> OffsetOf(const std::string& token, const std::string& query) {
  if (token.empty()) return 0;
  std::string raw;
  std::vector<std::string> parts;
  size_t offset = 0;
  if (absl::WebSafeBase64Unescape(token, &raw)) parts = absl::StrSplit(raw, ':');
  if (parts.size() != 3 || parts[0] != "p1" || !absl::SimpleAtoi(parts[1], &offset) ||
      parts[2] != std::to_string(std::hash<std::string>{}(query))) {
    return MakeInvalidArgument(
        {"page_token",
         "not a page token of this query: ask again from the first page (no page_token), with "
         "the same as_of, levels and order on every page"});
  }
  return offset;
}

v1::PlacementAttention::Kind KindOf(domain::AttentionKind kind) {
  switch (kind) {
    case domain::AttentionKind::kContractEnd:
      return v1::PlacementAttention::CONTRACT_END;
    case domain::AttentionKind::kSubsidyEnd:
      return v1::PlacementAttention::SUBSIDY_END;
    case domain::AttentionKind::kCoverEnd:
      return v1::PlacementAttention::NO_RISK_COVER_END;
  }
  return v1::PlacementAttention::KIND_UNSPECIFIED;
}

struct Placement {
  std::string case_id;
  domain::CaseState state;
  domain::CaseStatus status;  // as the employer may read it
  std::vector<domain::Attention> attention;
  int64_t employer_revision = -1;
};

// The order asked for (URGENCY by default); ties by case id.
bool Before(const Placement& a, const Placement& b, v1::ListPlacementsRequest::Order order) {
  auto soonest = [](const Placement& p) {
    return p.attention.empty() ? domain::Date(9999, 12, 31) : p.attention.front().on;
  };
  switch (order) {
    case v1::ListPlacementsRequest::CASE_ID:
      break;
    case v1::ListPlacementsRequest::ATTENTION_DATE:
      if (soonest(a) != soonest(b)) return soonest(a) < soonest(b);
      break;
    default:  // URGENCY
      if (a.status.level != b.status.level) {
        return domain::MoreUrgent(a.status, b.status) ||
               (!domain::MoreUrgent(b.status, a.status) && a.status.level < b.status.level);
      }
      if (soonest(a) != soonest(b)) return soonest(a) < soonest(b);
      break;
  }
  return a.case_id < b.case_id;
}

v1::StatusLevel LevelOf(const domain::CaseStatus& status) {
  return static_cast<v1::StatusLevel>(static_cast<int>(status.level) + 1);
}

}  // namespace

grpc::Status CaseService::ListPlacements(grpc::ServerContext* context,
                                         const v1::ListPlacementsRequest* request,
                                         v1::PlacementList* response) {
  auto who = guard_->Admit(*context, access::Operation::kListPlacements);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<codec::Language> language = codec::ParseLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  absl::StatusOr<domain::Date> day =
      AsOfDay(request->has_as_of() ? &request->as_of() : nullptr, now_micros_);
  if (!day.ok()) return ToGrpcStatus(day.status());
  const domain::Date as_of = *day;
  if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
    return ToGrpcStatus(
        MakeInvalidArgument({"page_size", absl::StrCat("page_size must be 1 to ", kMaxPageSize,
                                                       " (0: ", kDefaultPageSize, ")")}));
  }
  for (int i = 0; i < request->levels_size(); ++i) {
    if (request->levels(i) == v1::STATUS_LEVEL_UNSPECIFIED ||
        !v1::StatusLevel_IsValid(request->levels(i))) {
      return ToGrpcStatus(
          MakeInvalidArgument({absl::StrCat("levels[", i, "]"),
                               "a status level: SUSTAINABLE, VULNERABLE, AT_RISK or "
                               "ENDED"}));
    }
  }
  const std::string employer = who->organisation;
  const std::string query = QueryKey(*request, as_of, employer);
  absl::StatusOr<size_t> offset = OffsetOf(request->page_token(), query);
  if (!offset.ok()) return ToGrpcStatus(offset.status());
  const size_t page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();

  CaseReader* cases = guard_->cases();
  if (absl::Status s = cases->CatchUp(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<std::vector<std::string>> ids = projection_->CasesOfEmployer(employer);
  if (!ids.ok()) return ToGrpcStatus(ids.status());
  std::vector<Placement> placements;
  if (request->case_ids_size() > 0) {
    std::erase_if(*ids, [&](const std::string& id) {
      return std::find(request->case_ids().begin(), request->case_ids().end(), id) ==
             request->case_ids().end();
    });
  }
  for (const std::string& case_id : *ids) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    absl::StatusOr<CaseView> view = cases->Load(case_id);
    if (!view.ok()) return ToGrpcStatus(view.status());
    absl::StatusOr<access::CaseFacts> facts = FactsOf(*view->own);
    if (absl::IsDataLoss(facts.status())) {
      // Listed, never silently left out; nothing of its records (not even
      // their types) reaches the employer.
      auto* q = response->add_quarantined();
      q->set_stream(domain::CaseStream(case_id));
      q->set_reason("the records of this placement cannot be read; its experts have been alerted");
      continue;
    }
    if (!facts.ok()) return ToGrpcStatus(facts.status());
    if (access::CaseView(*who, *facts) != access::View::kEmployer) continue;
    Placement& p = placements.emplace_back();
    p.case_id = case_id;
    p.state = domain::FoldAsOf(
        domain::WithEmployerEventRefs(view->own->events, view->employer->events), as_of);
    p.status = domain::ForAudience(domain::Evaluate(p.state, as_of, domain::RulesetInForce(as_of)),
                                   domain::Audience::kEmployer);
    p.attention = domain::EmployerAttention(p.state, as_of);
    p.employer_revision = domain::EmployerRevision(view->own->events, view->own->events.size());
  }
  // Filter, order, page.
  if (request->levels_size() > 0) {
    std::erase_if(placements, [&](const Placement& p) {
      return std::find(request->levels().begin(), request->levels().end(), LevelOf(p.status)) ==
             request->levels().end();
    });
  }
  const auto order = request->order();
  std::sort(placements.begin(), placements.end(), [&](const Placement& a, const Placement& b) {
    return request->descending() ? Before(b, a, order) : Before(a, b, order);
  });
  const size_t begin = std::min(*offset, placements.size());
  const size_t end = std::min(begin + page_size, placements.size());
  std::vector<std::string> on_page;
  for (size_t i = begin; i < end; ++i) on_page.push_back(placements[i].case_id);
  // On record before any of it is answered.
  if (guard_->access_log() != nullptr && !on_page.empty()) {
    absl::Status logged = guard_->access_log()->Record(
        *who, on_page, "placements",
        absl::StrCat(v1::Cases::service_full_name(), "/ListPlacements"));
    if (!logged.ok()) return ToGrpcStatus(logged);
  }
  response->set_employer_id(employer);
  codec::ToProto(as_of, response->mutable_as_of());
  response->set_total(static_cast<int32_t>(placements.size()));
  if (end < placements.size()) response->set_next_page_token(PageToken(end, query));
  for (size_t i = begin; i < end; ++i) {
    const Placement& p = placements[i];
    v1::PlacementSummary* out = response->add_placements();
    out->set_case_id(p.case_id);
    out->set_level(LevelOf(p.status));
    for (const domain::Reason& r : p.status.reasons) {
      codec::ToProto(r, *language, out->add_reasons());
    }
    for (const domain::Attention& a : p.attention) {
      v1::PlacementAttention* item = out->add_attention();
      item->set_kind(KindOf(a.kind));
      codec::ToProto(a.on, item->mutable_on());
      item->set_days(a.days);
      item->set_event_id(a.event_id);
      item->set_text(codec::In(a.text, *language));
    }
    if (p.state.hired_on) {
      out->set_contract(p.state.contract == domain::ContractType::kPermanent
                            ? v1::CONTRACT_TYPE_PERMANENT
                            : v1::CONTRACT_TYPE_FIXED_TERM);
      codec::ToProto(*p.state.hired_on, out->mutable_hired_on());
      if (p.state.contract == domain::ContractType::kFixedTerm && p.state.contract_end) {
        codec::ToProto(*p.state.contract_end, out->mutable_contract_end());
      }
    }
    out->set_closed(p.state.closed);
    out->set_employer_revision(p.employer_revision);
  }
  return grpc::Status::OK;
}

}  // namespace duurzaam::services
