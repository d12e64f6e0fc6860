// The event log's stream names: the one place they are spelled. Every
// stream is one of these; stream names cannot contain NUL, so prefixes never
// collide in the store's keys.
#pragma once

#include <string>
#include <string_view>

namespace duurzaam::domain {

// case-<case id>: one placement's events (written through Cases).
inline constexpr std::string_view kCaseStreamPrefix = "case-";
// employer-<employer id>: employer-wide events (reorganisation, ...).
inline constexpr std::string_view kEmployerStreamPrefix = "employer-";
// ext-<name>: other tools' data, raw EventStore appends (access::CheckRawStream).
inline constexpr std::string_view kExternalStreamPrefix = "ext-";
// The erasure trail (Admin.EraseCase) and the employer registry.
inline constexpr std::string_view kErasuresStream = "erasures";
inline constexpr std::string_view kEmployersStream = "employers";

inline std::string CaseStream(std::string_view case_id) {
  return std::string(kCaseStreamPrefix).append(case_id);
}
inline std::string EmployerStream(std::string_view employer_id) {
  return std::string(kEmployerStreamPrefix).append(employer_id);
}
inline bool IsCaseStream(std::string_view stream) {
  return stream.substr(0, kCaseStreamPrefix.size()) == kCaseStreamPrefix;
}
inline bool IsEmployerStream(std::string_view stream) {
  return stream.substr(0, kEmployerStreamPrefix.size()) == kEmployerStreamPrefix;
}

}  // namespace duurzaam::domain
