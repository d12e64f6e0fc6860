#include "services/guard.h"

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"

namespace duurzaam::services {
namespace {

constexpr char kDevLocal[] = "dev:local";

}  // namespace

bool Guard::IsDevLocal(const domain::Principal& who) { return who.id == kDevLocal; }

absl::StatusOr<domain::Principal> Guard::Admit(const grpc::ServerContextBase& context,
                                               access::Operation op) {
  const bool raw = op == access::Operation::kAppendRaw || op == access::Operation::kReadLog;
  if (auth_->dev() && raw && context.client_metadata().count(kPrincipalHeader) == 0) {
    return domain::Principal{kDevLocal, domain::Role::kAuditor, ""};
  }
  ASSIGN_OR_RETURN(domain::Principal who, auth_->Authenticate(context));
  RETURN_IF_ERROR(access::CheckOperation(who, op));
  return who;
}

absl::StatusOr<access::View> Guard::ReadCase(const domain::Principal& who,
                                             const std::string& case_id, std::string_view view,
                                             std::string_view method) {
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  ASSIGN_OR_RETURN(access::CaseFacts facts, cases_->Facts(case_id));
  return ReadCase(who, case_id, facts, view, method);
}

absl::StatusOr<access::View> Guard::ReadCase(const domain::Principal& who,
                                             const std::string& case_id,
                                             const access::CaseFacts& facts, std::string_view view,
                                             std::string_view method) {
  ASSIGN_OR_RETURN(access::View seen, access::CheckCaseRead(who, case_id, facts));
  if (access_log_ != nullptr) {
    RETURN_IF_ERROR(access_log_->Record(who, {case_id}, view, method));
  }
  return seen;
}

absl::StatusOr<access::View> Guard::LogReader::ViewOf(const eventstore::RecordedEvent& record) {
  if (IsDevLocal(who_)) return access::View::kStored;
  access::StreamRef ref = access::ClassifyStream(record.stream);
  switch (ref.kind) {
    case access::StreamKind::kOther:
      return who_.role == domain::Role::kAuditor ? access::View::kStored : access::View::kNone;
    case access::StreamKind::kEmployer:
      return access::EmployerStreamView(who_, ref.id);
    case access::StreamKind::kCase:
      break;
  }
  if (who_.role == domain::Role::kAuditor) {
    // Auditors read every record as stored; the record proves the case exists.
    if (!recorded_.count(ref.id)) unrecorded_.insert(ref.id);
    return access::View::kStored;
  }
  auto it = facts_.find(ref.id);
  if (it == facts_.end()) {
    // The projection must include this record before its facts are known
    // (the record may be the one that opens the case or adds the caller).
    RETURN_IF_ERROR(guard_->cases_->CatchUpTo(record.position + 1));
    absl::StatusOr<access::CaseFacts> facts = guard_->cases_->Facts(ref.id);
    if (!facts.ok()) {
      // Not a well-formed case id: tooling data, auditors only.
      facts = access::CaseFacts{};
    }
    it = facts_.emplace(ref.id, *std::move(facts)).first;
  }
  access::View view = access::CaseView(who_, it->second);
  if (view != access::View::kNone && !recorded_.count(ref.id)) unrecorded_.insert(ref.id);
  return view;
}

absl::StatusOr<bool> Guard::LogReader::Shape(const eventstore::RecordedEvent& record,
                                             v1::RecordedEvent* out) {
  ASSIGN_OR_RETURN(access::View view, ViewOf(record));
  switch (view) {
    case access::View::kNone:
      return false;
    case access::View::kStored:
    case access::View::kExpert:
      codec::ToProto(record, out);
      return true;
    case access::View::kEmployer: {
      ASSIGN_OR_RETURN(std::optional<std::string> data, codec::EmployerData(record));
      if (!data) return false;
      codec::ToProto(record, out);
      out->set_data(*std::move(data));
      out->clear_metadata();
      out->clear_hash();  // the hash is over the stored record, not this view
      return true;
    }
  }
  return false;
}

absl::StatusOr<bool> Guard::LogReader::Shape(
    const eventstore::EventView& record,
    google::protobuf::RepeatedPtrField<v1::RecordedEvent>* out) {
  if (IsDevLocal(who_)) {  // local tooling in dev mode: as stored, in place
    codec::ToProto(record, out->Add());
    return true;
  }
  v1::RecordedEvent shaped;
  ASSIGN_OR_RETURN(bool visible, Shape(record.ToOwned(), &shaped));
  if (visible) *out->Add() = std::move(shaped);
  return visible;
}

bool Guard::LogReader::Filters() const {
  return !IsDevLocal(who_) && who_.role != domain::Role::kAuditor;
}

absl::Status Guard::LogReader::CheckStream(const std::string& stream, std::string_view field) {
  if (IsDevLocal(who_) || who_.role == domain::Role::kAuditor) return absl::OkStatus();
  access::StreamRef ref = access::ClassifyStream(stream);
  access::View view = access::View::kNone;
  if (ref.kind == access::StreamKind::kEmployer) {
    view = access::EmployerStreamView(who_, ref.id);
  } else if (ref.kind == access::StreamKind::kCase && CheckId(ref.id, "case_id").ok()) {
    RETURN_IF_ERROR(guard_->cases_->CatchUp());
    ASSIGN_OR_RETURN(access::CaseFacts facts, guard_->cases_->Facts(ref.id));
    view = access::CaseView(who_, facts);
  }
  if (view == access::View::kNone) {
    return absl::PermissionDeniedError(absl::StrCat(who_.id, " (", access::RoleName(who_.role),
                                                    ") may not read ", std::string(field), " '",
                                                    stream, "' (or it does not exist)"));
  }
  return absl::OkStatus();
}

absl::Status Guard::LogReader::Flush() {
  facts_.clear();
  if (unrecorded_.empty() || guard_->access_log_ == nullptr) return absl::OkStatus();
  std::vector<std::string> cases(unrecorded_.begin(), unrecorded_.end());
  RETURN_IF_ERROR(guard_->access_log_->Record(who_, cases, "log", method_));
  recorded_.insert(unrecorded_.begin(), unrecorded_.end());
  unrecorded_.clear();
  return absl::OkStatus();
}

}  // namespace duurzaam::services
