// A typed reader of the server's error details: the reverse of
// services/grpc_status (which puts them on every error). Clients act on
// these fields (a rule id, the fields to show beside a form, the revision to
// rebase on) instead of parsing prose.
#pragma once

#include <grpcpp/support/status.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace duurzaam::client {

struct FieldViolation {
  std::string field;  // path from the request root, e.g. "event.contract_changed.contract_end"
  std::string description;
};

struct ErrorDetails {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;  // for a person
  // google.rpc.ErrorInfo: a stable reason (a rule id such as
  // "REOPEN_BEFORE_CLOSE", "WRONG_EXPECTED_REVISION", "INVALID_FIELD") and
  // its metadata (stream, expected_revision, actual_revision, field, ...).
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
  // google.rpc.BadRequest.
  std::vector<FieldViolation> field_violations;
  // google.rpc.PreconditionFailure (type, subject, description).
  struct Precondition {
    std::string type, subject, description;
  };
  std::vector<Precondition> preconditions;

  // The current revision a WRONG_EXPECTED_REVISION conflict reports.
  std::optional<int64_t> actual_revision() const;
};

// Reads `status` (its google.rpc.Status details, when present). Never
// fails: details it cannot read are left empty.
ErrorDetails ReadErrorDetails(const grpc::Status& status);

// The status code's name ("FAILED_PRECONDITION").
std::string CodeName(grpc::StatusCode code);

}  // namespace duurzaam::client
