#include "services/audit_service.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"
#include "domain/stream_names.h"
#include "duurzaam/v1/audit.pb.h"
#include "services/case_reader.h"
#include "services/grpc_status.h"
#include "transparency/note.h"

namespace duurzaam::services {
namespace {

constexpr char kMethodPrefix[] = "duurzaam.v1.Audit/";

std::string Bytes(const transparency::Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

AuditService::AuditService(eventstore::Store* store, projections::MerkleProjection* merkle,
                           projections::LogFollower* follower, const transparency::SigningKey* key,
                           Guard* guard, std::function<int64_t()> now_micros, std::string origin)
    : store_(store),
      merkle_(merkle),
      follower_(follower),
      key_(key),
      guard_(guard),
      origin_(std::move(origin)),
      now_micros_(std::move(now_micros)) {}

[[nodiscard]] absl::StatusOr<uint64_t> AuditService::CurrentSize() {
  const uint64_t end = store_->CommittedEnd();
  RETURN_IF_ERROR(follower_->WaitFor(merkle_, end, absl::Seconds(5)));
  return end;
}

[[nodiscard]] absl::Status AuditService::Sign(uint64_t tree_size, v1::SignedCheckpoint* out) {
  transparency::Checkpoint checkpoint;
  checkpoint.origin = origin_;
  checkpoint.tree_size = tree_size;
  ASSIGN_OR_RETURN(checkpoint.root, merkle_->Root(tree_size));
  checkpoint.timestamp_micros = now_micros_();
  out->set_origin(checkpoint.origin);
  out->set_tree_size(checkpoint.tree_size);
  out->set_root_hash(Bytes(checkpoint.root));
  codec::ToTimestamp(checkpoint.timestamp_micros, out->mutable_signed_at());
  out->set_signed_body(checkpoint.SignedBody());
  out->set_signature(transparency::SignCheckpoint(checkpoint, *key_));
  out->set_public_key(key_->PublicKeyRaw());
  out->set_key_id(key_->KeyId());
  out->set_note(transparency::SignNote(
                    transparency::CheckpointNoteBody(checkpoint.origin, tree_size, checkpoint.root),
                    checkpoint.origin, *key_)
                    .Format());
  return absl::OkStatus();
}

[[nodiscard]] absl::Status AuditService::Prove(const eventstore::RecordedEvent& record,
                                               uint64_t tree_size, v1::InclusionProof* out) {
  ASSIGN_OR_RETURN(std::vector<transparency::Hash> path,
                   merkle_->InclusionProof(record.position, tree_size));
  ASSIGN_OR_RETURN(transparency::Hash leaf, merkle_->LeafHashAt(record.position));
  out->set_position(record.position);
  out->set_tree_size(tree_size);
  out->set_leaf_hash(Bytes(leaf));
  for (const transparency::Hash& h : path) out->add_path(Bytes(h));
  codec::ToProto(record, out->mutable_record());
  return absl::OkStatus();
}

grpc::Status AuditService::GetCheckpoint(grpc::ServerContext* context,
                                         const v1::GetCheckpointRequest*,
                                         v1::SignedCheckpoint* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadProofs);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<uint64_t> size = CurrentSize();
  if (!size.ok()) return ToGrpcStatus(size.status());
  return ToGrpcStatus(Sign(*size, response));
}

grpc::Status AuditService::GetSigningKey(grpc::ServerContext* context,
                                         const v1::GetSigningKeyRequest*,
                                         v1::SigningKeyInfo* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadProofs);
  if (!who.ok()) return ToGrpcStatus(who.status());
  response->set_algorithm("Ed25519");
  response->set_public_key(key_->PublicKeyRaw());
  response->set_public_key_pem(key_->PublicKeyPem());
  response->set_key_id(key_->KeyId());
  response->set_fingerprint_sha256(key_->Fingerprint());
  response->set_note_verifier_key(
      transparency::MakeVerifierKey(origin_, transparency::kNoteEd25519, key_->PublicKeyRaw())
          .Format());
  return grpc::Status::OK;
}

grpc::Status AuditService::GetInclusionProof(grpc::ServerContext* context,
                                             const v1::GetInclusionProofRequest* request,
                                             v1::InclusionProof* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadProofs);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<uint64_t> current =
      request->tree_size() == 0 ? CurrentSize() : absl::StatusOr<uint64_t>(request->tree_size());
  if (!current.ok()) return ToGrpcStatus(current.status());
  const uint64_t size = *current;
  if (size > merkle_->Size()) {
    return ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
        "tree_size ", size, " is larger than the tree (", merkle_->Size(), " leaves)")));
  }
  if (request->position() >= size) {
    return ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
        "position ", request->position(), " is not in the tree of ", size, " leaves")));
  }
  // The record is stored content: a record of a case stream is a read of
  // that case, recorded in the access log like every other.
  absl::StatusOr<eventstore::RecordedEvent> record = store_->ReadAt(request->position());
  if (!record.ok()) return ToGrpcStatus(record.status());
  access::StreamRef ref = access::ClassifyStream(record->stream);
  if (ref.kind == access::StreamKind::kCase) {
    auto seen =
        guard_->ReadCase(*who, ref.id, "proofs", absl::StrCat(kMethodPrefix, "GetInclusionProof"));
    if (!seen.ok()) return ToGrpcStatus(seen.status());
  }
  return ToGrpcStatus(Prove(*record, size, response));
}

grpc::Status AuditService::GetConsistencyProof(grpc::ServerContext* context,
                                               const v1::GetConsistencyProofRequest* request,
                                               v1::ConsistencyProof* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadProofs);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<uint64_t> current = request->second_size() == 0
                                         ? CurrentSize()
                                         : absl::StatusOr<uint64_t>(request->second_size());
  if (!current.ok()) return ToGrpcStatus(current.status());
  const uint64_t second = *current;
  if (second > merkle_->Size()) {
    return ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
        "second_size ", second, " is larger than the tree (", merkle_->Size(), " leaves)")));
  }
  if (request->first_size() > second) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "first_size ", request->first_size(), " is larger than second_size ", second)));
  }
  auto path = merkle_->ConsistencyProof(request->first_size(), second);
  if (!path.ok()) return ToGrpcStatus(path.status());
  response->set_first_size(request->first_size());
  response->set_second_size(second);
  for (const transparency::Hash& h : *path) response->add_path(Bytes(h));
  return grpc::Status::OK;
}

grpc::Status AuditService::GetCaseProofs(grpc::ServerContext* context,
                                         const v1::GetCaseProofsRequest* request,
                                         v1::CaseProofs* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadProofs);
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto seen = guard_->ReadCase(*who, request->case_id(), "proofs",
                               absl::StrCat(kMethodPrefix, "GetCaseProofs"));
  if (!seen.ok()) return ToGrpcStatus(seen.status());
  if (*seen != access::View::kStored) {
    return ToGrpcStatus(absl::PermissionDeniedError("proofs are for auditors"));
  }
  absl::StatusOr<uint64_t> current = CurrentSize();
  if (!current.ok()) return ToGrpcStatus(current.status());
  const uint64_t size = *current;
  if (absl::Status s = Sign(size, response->mutable_checkpoint()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  // The case's records; the employer it was opened at, from its CaseOpened.
  std::string employer_id;
  absl::Status read =
      ReadStreamWithin(*context, domain::CaseStream(request->case_id()), size,
                       [&](const eventstore::RecordedEvent& record) -> absl::Status {
                         if (record.revision == 0) {
                           absl::StatusOr<domain::Event> opened = codec::Decode(record);
                           if (opened.ok()) {
                             if (const auto* o = std::get_if<domain::CaseOpened>(&opened->body)) {
                               employer_id = o->employer_id;
                             }
                           }
                         }
                         return Prove(record, size, response->add_entries());
                       });
  if (!read.ok()) return ToGrpcStatus(read);
  // What concerns it from elsewhere, merged into log order.
  std::vector<eventstore::RecordedEvent> related;
  if (!employer_id.empty()) {
    read = ReadStreamWithin(*context, domain::EmployerStream(employer_id), size,
                            [&](const eventstore::RecordedEvent& record) {
                              related.push_back(record);
                              return absl::OkStatus();
                            });
    if (!read.ok()) return ToGrpcStatus(read);
  }
  read = ReadStreamWithin(
      *context, std::string(domain::kErasuresStream), size,
      [&](const eventstore::RecordedEvent& record) {
        v1::CaseErasure erasure;
        if (erasure.ParseFromString(record.data) && erasure.case_id() == request->case_id()) {
          related.push_back(record);
        }
        return absl::OkStatus();
      });
  if (!read.ok()) return ToGrpcStatus(read);
  std::sort(related.begin(), related.end(),
            [](const auto& a, const auto& b) { return a.position < b.position; });
  for (const eventstore::RecordedEvent& record : related) {
    if (absl::Status s = Prove(record, size, response->add_related()); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return grpc::Status::OK;
}

absl::Status AuditService::ReadStreamWithin(
    grpc::ServerContext& context, const std::string& stream, uint64_t tree_size,
    const std::function<absl::Status(const eventstore::RecordedEvent&)>& each) {
  eventstore::Revision from = 0;
  constexpr size_t kPage = 1000;
  while (true) {
    if (context.IsCancelled()) return absl::CancelledError("the call was cancelled");
    auto page = store_->ReadStream(stream, from, eventstore::Direction::kForwards, kPage);
    if (absl::IsNotFound(page.status())) return absl::OkStatus();
    if (!page.ok()) return page.status();
    for (const eventstore::RecordedEvent& record : *page) {
      if (record.position >= tree_size) return absl::OkStatus();  // after the checkpoint
      RETURN_IF_ERROR(each(record));
    }
    if (page->size() < kPage) return absl::OkStatus();
    from = page->back().revision + 1;
  }
}

grpc::Status AuditService::ListAccessRecords(grpc::ServerContext* context,
                                             const v1::ListAccessRecordsRequest* request,
                                             v1::ListAccessRecordsResponse* response) {
  auto who = guard_->Admit(*context, access::Operation::kReadAccessLog);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (absl::Status s = CheckId(request->case_id(), "case_id"); !s.ok()) return ToGrpcStatus(s);
  if (guard_->access_log() == nullptr) {
    return ToGrpcStatus(absl::FailedPreconditionError("this server keeps no access log"));
  }
  auto records = guard_->access_log()->List(request->case_id());
  if (!records.ok()) return ToGrpcStatus(records.status());
  for (v1::AccessRecord& record : *records) *response->add_records() = std::move(record);
  return grpc::Status::OK;
}

}  // namespace duurzaam::services
