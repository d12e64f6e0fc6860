#include "services/grpc_status.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "eventstore/errors.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace duurzaam::services {
namespace {

std::string ExpectationName(const eventstore::Expectation& e) {
  switch (e.kind) {
    case eventstore::Expectation::Kind::kAny:
      return "any";
    case eventstore::Expectation::Kind::kNoStream:
      return "no_stream";
    case eventstore::Expectation::Kind::kStreamExists:
      return "stream_exists";
    case eventstore::Expectation::Kind::kExact:
      return absl::StrCat(e.revision);
  }
  return "unknown";
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));

  google::rpc::ErrorInfo info;
  info.set_domain(kErrorDomain);
  if (auto conflict = eventstore::GetRevisionConflict(status)) {
    info.set_reason("WRONG_EXPECTED_REVISION");
    (*info.mutable_metadata())["stream"] = conflict->stream;
    (*info.mutable_metadata())["expected_revision"] = ExpectationName(conflict->expected);
    (*info.mutable_metadata())["actual_revision"] = absl::StrCat(conflict->actual);
    google::rpc::PreconditionFailure failure;
    auto* v = failure.add_violations();
    v->set_type("REVISION");
    v->set_subject(conflict->stream);
    v->set_description(std::string(status.message()));
    rich.add_details()->PackFrom(info);
    rich.add_details()->PackFrom(failure);
  } else if (auto violation = eventstore::GetFieldViolation(status)) {
    info.set_reason("INVALID_FIELD");
    (*info.mutable_metadata())["field"] = violation->field;
    google::rpc::BadRequest bad;
    auto* v = bad.add_field_violations();
    v->set_field(violation->field);
    v->set_description(violation->description);
    rich.add_details()->PackFrom(info);
    rich.add_details()->PackFrom(bad);
  } else if (auto rule = GetRuleId(status)) {
    info.set_reason(*rule);
    google::rpc::PreconditionFailure failure;
    auto* v = failure.add_violations();
    v->set_type(*rule);
    v->set_description(std::string(status.message()));
    rich.add_details()->PackFrom(info);
    rich.add_details()->PackFrom(failure);
  } else {
    info.set_reason(absl::AsciiStrToUpper(absl::StatusCodeToString(status.code())));
    rich.add_details()->PackFrom(info);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rich.SerializeAsString());
}

grpc::Status CallAlive(const grpc::ServerContextBase& context) {
  if (context.IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed");
  }
  return grpc::Status::OK;
}

}  // namespace duurzaam::services
