#include "services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "codec/employer_registry.h"
#include "codec/eventstore_codec.h"
#include "common/field_violation.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "domain/decide.h"
#include "services/grpc_status.h"

namespace duurzaam::services {
namespace {

constexpr size_t kMaxReasonBytes = 500;

}  // namespace

AdminService::AdminService(eventstore::Store* store, crypto::DataKeyStore* keys,
                           std::string master_key_file, Guard* guard,
                           std::function<int64_t()> now_micros)
    : store_(store),
      keys_(keys),
      master_key_file_(std::move(master_key_file)),
      guard_(guard),
      now_micros_(std::move(now_micros)) {}

[[nodiscard]] absl::StatusOr<bool> AdminService::Erase(const domain::Principal& who,
                                                       const std::string& case_id,
                                                       const std::string& reason,
                                                       int64_t* erased_at) {
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  if (reason.empty() || reason.size() > kMaxReasonBytes) {
    return MakeInvalidArgument(
        {"reason", absl::StrCat("why the case is erased, 1 to ", kMaxReasonBytes, " bytes")});
  }
  const std::string stream = domain::CaseStream(case_id);
  ASSIGN_OR_RETURN(std::optional<int64_t> earlier, keys_->ErasedAt(stream));
  if (!earlier) {
    RETURN_IF_ERROR(guard_->cases()->CatchUp());
    ASSIGN_OR_RETURN(auto decoded, guard_->cases()->Stream(stream));
    if (decoded->events.empty()) {
      return absl::NotFoundError(absl::StrCat("case '", case_id, "' has no events"));
    }
    RETURN_IF_ERROR(domain::CheckErasable(decoded->state));
    // The key goes first: once this returns, nothing can decrypt the case.
    RETURN_IF_ERROR(keys_->Erase(stream, now_micros_()));
  }
  guard_->cases()->Invalidate(stream);
  ASSIGN_OR_RETURN(std::optional<int64_t> at, keys_->ErasedAt(stream));
  if (!at) return absl::InternalError(absl::StrCat("the erasure of ", stream, " did not stick"));
  *erased_at = *at;

  // Then the record of it, idempotently (also completing an erasure whose
  // record was not yet written when the server stopped).
  v1::CaseErasure record;
  record.set_case_id(case_id);
  record.set_erased_by(who.id);
  record.set_reason(reason);
  codec::ToTimestamp(*at, record.mutable_erased_at());
  // The id derives from the case: erasing again (or finishing an interrupted
  // erasure) never records a second one.
  eventstore::ProposedEvent event{
      eventstore::EventId::FromName(absl::StrCat("duurzaam-erasure/", case_id)), "CaseErased",
      record.SerializeAsString(), ""};
  absl::StatusOr<eventstore::AppendResult> appended = store_->Append(
      {std::string(kErasuresStream), eventstore::Expectation::Any(), {std::move(event)}});
  // ALREADY_EXISTS: recorded before, by another request's wording.
  if (!appended.ok() && !absl::IsAlreadyExists(appended.status())) return appended.status();
  return !earlier.has_value();
}

grpc::Status AdminService::EraseCase(grpc::ServerContext* context,
                                     const v1::EraseCaseRequest* request,
                                     v1::EraseCaseResponse* response) {
  auto who = guard_->Admit(*context, access::Operation::kEraseCase);
  if (!who.ok()) return ToGrpcStatus(who.status());
  int64_t erased_at = 0;
  absl::StatusOr<bool> erased = Erase(*who, request->case_id(), request->reason(), &erased_at);
  if (!erased.ok()) return ToGrpcStatus(erased.status());
  response->set_erased(*erased);
  codec::ToTimestamp(erased_at, response->mutable_erased_at());
  if (*erased) {
    LogLine(absl::StrCat(who->id, " erased the personal data of case ", request->case_id()));
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::RotateMasterKey(grpc::ServerContext* context,
                                           const v1::RotateMasterKeyRequest*,
                                           v1::RotateMasterKeyResponse* response) {
  auto who = guard_->Admit(*context, access::Operation::kRotateMasterKey);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<crypto::MasterKeyring> keyring = crypto::MasterKeyring::Load(master_key_file_);
  if (!keyring.ok()) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        absl::StrCat("cannot read the master keyring file: ", keyring.status().message())));
  }
  const std::string current = keyring->current_id();
  const std::vector<std::string> ids = keyring->ids();
  absl::StatusOr<int> rewrapped = keys_->RotateMaster(*std::move(keyring));
  if (!rewrapped.ok()) return ToGrpcStatus(rewrapped.status());
  response->set_current_key_id(current);
  response->set_rewrapped(*rewrapped);
  for (const std::string& id : ids) response->add_key_ids(id);
  LogLine(absl::StrCat(who->id, " rotated the master key to ", current, " (", *rewrapped,
                       " data keys re-wrapped)"));
  return grpc::Status::OK;
}

grpc::Status AdminService::RegisterEmployer(grpc::ServerContext* context,
                                            const v1::RegisterEmployerRequest* request,
                                            v1::RegisterEmployerResponse* response) {
  auto who = guard_->Admit(*context, access::Operation::kRegisterEmployer);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::StatusOr<bool> registered = codec::RegisterEmployer(
      store_, request->employer_id(), request->name(), who->id, now_micros_());
  if (!registered.ok()) return ToGrpcStatus(registered.status());
  response->set_registered(*registered);
  if (*registered) LogLine(absl::StrCat(who->id, " registered employer ", request->employer_id()));
  return grpc::Status::OK;
}

}  // namespace duurzaam::services
