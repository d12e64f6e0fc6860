// Case query results (status, timeline entries) to duurzaam.v1 messages, in
// the requested language.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "domain/statistics.h"
#include "domain/status.h"
#include "domain/timeline.h"
#include "duurzaam/v1/cases.pb.h"

namespace duurzaam::codec {

enum class Language { kDutch, kEnglish };

// "" and "nl" are Dutch, "en" English; anything else INVALID_ARGUMENT.
[[nodiscard]] absl::StatusOr<Language> ParseLanguage(const std::string& language);

const std::string& In(const domain::Text& text, Language language);

void ToProto(const domain::CaseStatus& status, Language language, v1::CaseStatus* out);
void ToProto(const domain::Reason& reason, Language language, v1::StatusReason* out);

void ToProto(const std::vector<domain::GroupStatistics>& groups, v1::RegionalStatistics* out);

void ToProto(domain::Date date, v1::CalendarDate* out);
[[nodiscard]] absl::StatusOr<domain::Date> DateFromProto(const v1::CalendarDate& date,
                                                         const std::string& field);

}  // namespace duurzaam::codec
