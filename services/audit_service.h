// duurzaam.v1.Audit over gRPC: signed checkpoints of the global log's
// Merkle tree, inclusion and consistency proofs, a case's records with
// proofs, and the access log. Auditors only (access::policy); every call is
// admitted by the Guard, and a case's records with proofs are a read of case
// content, recorded in the access log (view "proofs"). Thread-safe; borrows
// everything, which must outlive it.
#pragma once

#include <functional>

#include "duurzaam/v1/audit.grpc.pb.h"
#include "eventstore/store.h"
#include "projections/log_follower.h"
#include "projections/merkle_projection.h"
#include "services/guard.h"
#include "transparency/checkpoint.h"

namespace duurzaam::services {

// The origin line of the checkpoints a server signs unless configured
// (--checkpoint_origin).
inline constexpr char kCheckpointOrigin[] = "duurzaam";

class AuditService final : public v1::Audit::Service {
 public:
  AuditService(eventstore::Store* store, projections::MerkleProjection* merkle,
               projections::LogFollower* follower, const transparency::SigningKey* key,
               Guard* guard, std::function<int64_t()> now_micros,
               std::string origin = kCheckpointOrigin);

  grpc::Status GetSigningKey(grpc::ServerContext* context, const v1::GetSigningKeyRequest* request,
                             v1::SigningKeyInfo* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                             v1::SignedCheckpoint* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::ConsistencyProof* response) override;
  grpc::Status GetCaseProofs(grpc::ServerContext* context, const v1::GetCaseProofsRequest* request,
                             v1::CaseProofs* response) override;
  grpc::Status ListAccessRecords(grpc::ServerContext* context,
                                 const v1::ListAccessRecordsRequest* request,
                                 v1::ListAccessRecordsResponse* response) override;

 private:
  // Waits (briefly) for the tree to include every record committed now, so
  // a checkpoint covers the caller's own earlier writes; returns that size.
  // UNAVAILABLE when the tree is failing or behind: nothing is signed over
  // a tree that has not caught up.
  [[nodiscard]] absl::StatusOr<uint64_t> CurrentSize();
  [[nodiscard]] absl::Status Sign(uint64_t tree_size, v1::SignedCheckpoint* out);
  // Calls `each` for the records of `stream` within the first `tree_size`
  // positions, in revision order (none when the stream does not exist).
  [[nodiscard]] absl::Status ReadStreamWithin(
      grpc::ServerContext& context, const std::string& stream, uint64_t tree_size,
      const std::function<absl::Status(const eventstore::RecordedEvent&)>& each);
  // Fills `out` with the proof that `record` is leaf record.position.
  [[nodiscard]] absl::Status Prove(const eventstore::RecordedEvent& record, uint64_t tree_size,
                                   v1::InclusionProof* out);

  eventstore::Store* store_;
  projections::MerkleProjection* merkle_;
  projections::LogFollower* follower_;
  const transparency::SigningKey* key_;
  Guard* guard_;
  std::string origin_;
  std::function<int64_t()> now_micros_;
};

}  // namespace duurzaam::services
