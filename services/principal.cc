#include "services/principal.h"

#include "absl/strings/str_cat.h"

namespace duurzaam::services {
namespace {

std::optional<std::string> Header(const grpc::ServerContextBase& context, const char* name) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(name);
  if (it == metadata.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<domain::Principal> PrincipalOf(const grpc::ServerContextBase& context) {
  std::optional<std::string> id = Header(context, kPrincipalHeader);
  if (!id || id->empty() || id->size() > 128) {
    return absl::UnauthenticatedError(absl::StrCat("no principal: in dev mode send the '",
                                                   kPrincipalHeader, "' and '", kRoleHeader,
                                                   "' metadata (e.g. expert:jdevries / EXPERT)"));
  }
  std::string role = Header(context, kRoleHeader).value_or("");
  domain::Principal principal{*id, domain::Role::kExpert};
  if (role == "EXPERT") {
    principal.role = domain::Role::kExpert;
  } else if (role == "EMPLOYER") {
    principal.role = domain::Role::kEmployer;
  } else if (role == "WORKER") {
    principal.role = domain::Role::kWorker;
  } else if (role == "AUDITOR") {
    principal.role = domain::Role::kAuditor;
  } else if (role == "ADMIN") {
    principal.role = domain::Role::kAdmin;
  } else {
    return absl::UnauthenticatedError(
        absl::StrCat("unknown role '", role, "': use EXPERT, EMPLOYER, WORKER, AUDITOR or ADMIN"));
  }
  return principal;
}

}  // namespace duurzaam::services
