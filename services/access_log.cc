#include "services/access_log.h"

#include "absl/strings/str_cat.h"
#include "access/policy.h"
#include "codec/eventstore_codec.h"
#include "common/status_macros.h"
#include "domain/stream_names.h"

namespace duurzaam::services {
namespace {
constexpr char kType[] = "duurzaam.v1.AccessRecord";
}  // namespace

[[nodiscard]] absl::Status AccessLog::Record(const domain::Principal& who,
                                             const std::vector<std::string>& case_ids,
                                             std::string_view view, std::string_view method) {
  if (case_ids.empty()) return absl::OkStatus();
  const int64_t now = now_micros_();
  std::vector<eventstore::StreamAppend> appends;
  appends.reserve(case_ids.size());
  for (const std::string& case_id : case_ids) {
    v1::AccessRecord record;
    record.set_principal(who.id);
    record.set_role(access::RoleName(who.role));
    record.set_case_id(case_id);
    record.set_view(std::string(view));
    record.set_method(std::string(method));
    record.set_via(who.via);
    codec::ToTimestamp(now, record.mutable_read_at());
    eventstore::ProposedEvent event;
    event.id = eventstore::EventId::Random();
    event.type = kType;
    event.data = record.SerializeAsString();
    appends.push_back({domain::CaseStream(case_id), eventstore::Expectation::Any(), {event}});
  }
  absl::StatusOr<std::vector<eventstore::AppendResult>> done =
      store_->AppendMulti(std::move(appends));
  if (!done.ok()) {
    // Fail closed: content is not served when its reading cannot be recorded.
    return absl::UnavailableError(absl::StrCat(
        "the access log cannot record this read, so it is refused: ", done.status().message()));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<std::vector<v1::AccessRecord>> AccessLog::List(
    const std::string& case_id) const {
  std::vector<v1::AccessRecord> out;
  const std::string stream = domain::CaseStream(case_id);
  constexpr size_t kPage = 1000;
  for (eventstore::Revision from = 0;;) {
    ASSIGN_OR_RETURN(auto page,
                     store_->ReadStream(stream, from, eventstore::Direction::kForwards, kPage));
    for (const auto& e : page) {
      v1::AccessRecord record;
      if (!record.ParseFromString(e.data)) {
        return absl::DataLossError(
            absl::StrCat("access record at position ", e.position, " cannot be parsed"));
      }
      out.push_back(std::move(record));
    }
    if (page.size() < kPage) break;
    from = page.back().revision + 1;
  }
  return out;
}

}  // namespace duurzaam::services
