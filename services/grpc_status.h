// The one place where engine/domain errors (absl::Status) become gRPC
// statuses with google.rpc details.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace duurzaam::services {

// The error domain in google.rpc.ErrorInfo.
inline constexpr char kErrorDomain[] = "duurzaam.v1";

// Maps the code one to one and attaches a serialised google.rpc.Status with
// ErrorInfo and, where the absl::Status carries them, PreconditionFailure
// (revision conflicts) or BadRequest (field violations).
grpc::Status ToGrpcStatus(const absl::Status& status);

// CANCELLED or DEADLINE_EXCEEDED once a call should stop working; OK before.
grpc::Status CallAlive(const grpc::ServerContextBase& context);

}  // namespace duurzaam::services
