// The whole log, verified as it is read over the API: EventStore.Subscribe
// from where a verifier stands, each record through verify::LogVerifier
// (chain hash, Merkle leaf), until a checkpoint's size.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "verify/log_verifier.h"

namespace duurzaam::audit {

// Reads the global log from verifier->size() on `channel` (the caller sets
// the context's deadline and credentials) and verifies every record until
// `tree_size` are. DATA_LOSS naming the first bad record (the verifier
// stops before it); OUT_OF_RANGE when the log ends before tree_size; the
// call's error otherwise. `progress` is called now and then with the
// number verified. The caller compares verifier->Root() with the
// checkpoint's root.
[[nodiscard]] absl::Status VerifyLogUpTo(const std::shared_ptr<grpc::Channel>& channel,
                                         grpc::ClientContext* context, uint64_t tree_size,
                                         verify::LogVerifier* verifier,
                                         const std::function<void(uint64_t)>& progress = nullptr);

}  // namespace duurzaam::audit
