// THE seam for "who is calling": every service asks here. Until the trust
// layer (mutual TLS) exists this reads dev-mode request metadata:
//   x-duurzaam-principal: expert:jdevries
//   x-duurzaam-role:      EXPERT | EMPLOYER | WORKER | AUDITOR | ADMIN
// The security work replaces this file's implementation only.
#pragma once

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "domain/events.h"

namespace duurzaam::services {

inline constexpr char kPrincipalHeader[] = "x-duurzaam-principal";
inline constexpr char kRoleHeader[] = "x-duurzaam-role";

// UNAUTHENTICATED when the call names no principal or an unknown role.
absl::StatusOr<domain::Principal> PrincipalOf(const grpc::ServerContextBase& context);

}  // namespace duurzaam::services
