#include "common/field_violation.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace duurzaam {
namespace {

constexpr char kViolationUrl[] = "type.duurzaam.dev/FieldViolation";
constexpr char kRuleUrl[] = "type.duurzaam.dev/RuleViolation";

}  // namespace

[[nodiscard]] absl::Status MakeInvalidArgument(const FieldViolation& v) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(v.field, ": ", v.description));
  // Field paths and sentences never contain NUL: it separates them.
  status.SetPayload(kViolationUrl,
                    absl::Cord(absl::StrCat(v.field, std::string(1, '\0'), v.description)));
  return status;
}

std::optional<FieldViolation> GetFieldViolation(const absl::Status& status) {
  auto payload = status.GetPayload(kViolationUrl);
  if (!payload) return std::nullopt;
  std::string s(*payload);
  size_t sep = s.find('\0');
  if (sep == std::string::npos) return std::nullopt;
  return FieldViolation{s.substr(0, sep), s.substr(sep + 1)};
}

[[nodiscard]] absl::Status MakeRuleViolation(absl::string_view rule_id, absl::string_view message) {
  absl::Status status = absl::FailedPreconditionError(message);
  status.SetPayload(kRuleUrl, absl::Cord(rule_id));
  return status;
}

std::optional<std::string> GetRuleId(const absl::Status& status) {
  auto payload = status.GetPayload(kRuleUrl);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

}  // namespace duurzaam
