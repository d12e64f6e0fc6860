#include "services/guard.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"

namespace duurzaam::services {
namespace {

constexpr char kDevLocal[] = "dev:local";

}  // namespace

bool Guard::IsDevLocal(const domain::Principal& who) { return who.id == kDevLocal; }

[[nodiscard]] absl::StatusOr<domain::Principal> Guard::Admit(const grpc::ServerContextBase& context,
                                                             access::Operation op) {
  const bool raw = op == access::Operation::kAppendRaw || op == access::Operation::kReadLog;
  if (auth_->dev() && raw && context.client_metadata().count(kPrincipalHeader) == 0) {
    return domain::Principal{kDevLocal, domain::Role::kAuditor, ""};
  }
  ASSIGN_OR_RETURN(domain::Principal who, auth_->Authenticate(context));
  if (!who.via.empty()) {
    // The organisation comes from the acting service's sign-in: it must be
    // one this server knows (fail closed on anything else).
    if (employers_ == nullptr) {
      return absl::PermissionDeniedError(
          absl::StrCat(who.via, " may not act for users on this server"));
    }
    absl::Status known = employers_->CheckRegistered(who.organisation);
    if (absl::IsFailedPrecondition(known)) {
      return absl::PermissionDeniedError(absl::StrCat(who.via, " acts for an organisation ('",
                                                      who.organisation,
                                                      "') that is not a registered employer"));
    }
    if (!known.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot check the employer registry, so the call is refused: ", known.message()));
    }
  }
  RETURN_IF_ERROR(access::CheckOperation(who, op));
  return who;
}

[[nodiscard]] absl::Status Guard::StillAdmitted(const grpc::ServerContextBase& context,
                                                const domain::Principal& who) {
  if (IsDevLocal(who) || auth_->dev()) return absl::OkStatus();
  ASSIGN_OR_RETURN(domain::Principal now, auth_->Authenticate(context));
  if (now.id != who.id || now.role != who.role || now.organisation != who.organisation ||
      now.via != who.via) {
    return absl::UnauthenticatedError("the caller's identity changed during the call");
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<access::View> Guard::ReadCase(const domain::Principal& who,
                                                           const std::string& case_id,
                                                           std::string_view view,
                                                           std::string_view method) {
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  ASSIGN_OR_RETURN(access::CaseFacts facts, cases_->Facts(case_id));
  return ReadCase(who, case_id, facts, view, method);
}

[[nodiscard]] absl::StatusOr<access::View> Guard::ReadCase(const domain::Principal& who,
                                                           const std::string& case_id,
                                                           const access::CaseFacts& facts,
                                                           std::string_view view,
                                                           std::string_view method) {
  ASSIGN_OR_RETURN(access::View seen, access::CheckCaseRead(who, case_id, facts));
  if (access_log_ != nullptr) {
    RETURN_IF_ERROR(access_log_->Record(who, {case_id}, view, method));
  }
  return seen;
}

[[nodiscard]] absl::StatusOr<access::View> Guard::LogReader::ViewOf(std::string_view stream,
                                                                    uint64_t position,
                                                                    std::string_view type) {
  // Records of one stream often come in runs: the view of the last one
  // holds until a team change or the next Flush.
  if (last_valid_ && stream == last_stream_) {
    if (codec::DecidesAccess(type)) {
      facts_.erase(access::ClassifyStream(stream).id);
      last_valid_ = false;
    }
    return last_view_;
  }
  const access::StreamRef ref = access::ClassifyStream(stream);
  // Dev tooling reads every record as stored, and its reads of case
  // content are access-logged like anyone's.
  ASSIGN_OR_RETURN(
      access::View view,
      IsDevLocal(who_)
          ? absl::StatusOr<access::View>(access::View::kStored)
          : access::StreamView(who_, ref, [&]() -> absl::StatusOr<access::CaseFacts> {
              auto it = facts_.find(ref.id);
              if (it != facts_.end()) return it->second;
              // The projection must include this record before its
              // facts are known (it may be the one that opens the
              // case or adds the caller to its team).
              // Not a well-formed case id: no case's facts (auditors
              // only). Any other failure fails the read: a record is
              // never skipped because its facts could not be read.
              if (!CheckId(ref.id, "case_id").ok()) {
                return facts_.emplace(ref.id, access::CaseFacts{}).first->second;
              }
              RETURN_IF_ERROR(guard_->cases_->CatchUpTo(position + 1));
              absl::StatusOr<access::CaseFacts> facts = guard_->cases_->Facts(ref.id);
              if (absl::IsDataLoss(facts.status()) && who_.role != domain::Role::kAuditor) {
                // Fails the read, but names no one else's case
                // (the server log has the details).
                return absl::DataLossError(
                    "a record on the log cannot be judged for access (it cannot be "
                    "read); an administrator must repair it, see the server log");
              }
              if (!facts.ok()) return facts.status();
              return facts_.emplace(ref.id, *std::move(facts)).first->second;
            }));
  if (ref.kind == access::StreamKind::kCase && view != access::View::kNone &&
      !recorded_.count(ref.id)) {
    unrecorded_.insert(ref.id);
  }
  // A team change takes effect for the records after it, within this batch.
  const bool decides = codec::DecidesAccess(type);
  if (decides) facts_.erase(ref.id);
  last_stream_.assign(stream.data(), stream.size());
  last_view_ = view;
  last_valid_ = !decides;
  return view;
}

[[nodiscard]] absl::StatusOr<bool> Guard::LogReader::ShapeForEmployer(
    const eventstore::RecordedEvent& record, v1::RecordedEvent* out) {
  ASSIGN_OR_RETURN(std::optional<std::string> data, codec::EmployerData(record));
  if (!data) return false;
  codec::ToProto(record, out);
  out->set_data(*std::move(data));
  out->clear_metadata();
  out->clear_hash();  // the hash is over the stored record, not this view
  // On a case stream a revision would tell how many events are hidden
  // between two visible ones (employers use the Cases API's employer
  // revision); an employer stream hides nothing.
  if (access::ClassifyStream(record.stream).kind == access::StreamKind::kCase) {
    out->set_revision(0);
  }
  return true;
}

[[nodiscard]] absl::StatusOr<bool> Guard::LogReader::Shape(const eventstore::RecordedEvent& record,
                                                           v1::RecordedEvent* out) {
  ASSIGN_OR_RETURN(access::View view, ViewOf(record.stream, record.position, record.type));
  switch (view) {
    case access::View::kNone:
      return false;
    case access::View::kStored:
    case access::View::kExpert:
      codec::ToProto(record, out);
      return true;
    case access::View::kEmployer:
      return ShapeForEmployer(record, out);
  }
  return false;
}

[[nodiscard]] absl::StatusOr<bool> Guard::LogReader::ShapeInPlace(
    const eventstore::EventView& record,
    const std::function<void(const eventstore::EventView&)>& as_stored,
    const std::function<void(const v1::RecordedEvent&)>& shaped) {
  ASSIGN_OR_RETURN(access::View view, ViewOf(record.stream, record.position, record.type));
  switch (view) {
    case access::View::kNone:
      return false;
    case access::View::kStored:
    case access::View::kExpert:
      as_stored(record);
      return true;
    case access::View::kEmployer: {
      v1::RecordedEvent employer_view;
      ASSIGN_OR_RETURN(bool visible, ShapeForEmployer(record.ToOwned(), &employer_view));
      if (visible) shaped(employer_view);
      return visible;
    }
  }
  return false;
}

[[nodiscard]] absl::StatusOr<bool> Guard::LogReader::Shape(
    const eventstore::EventView& record,
    google::protobuf::RepeatedPtrField<v1::RecordedEvent>* out) {
  return ShapeInPlace(
      record, [&](const eventstore::EventView& e) { codec::ToProto(e, out->Add()); },
      [&](const v1::RecordedEvent& e) { *out->Add() = e; });
}

[[nodiscard]] absl::StatusOr<bool> Guard::LogReader::ShapeWire(const eventstore::EventView& record,
                                                               int number, std::string* wire) {
  return ShapeInPlace(
      record, [&](const eventstore::EventView& e) { codec::AppendWireField(number, e, wire); },
      [&](const v1::RecordedEvent& e) {
        codec::AppendLengthDelimited(number, e.SerializeAsString(), wire);
      });
}

bool Guard::LogReader::Filters() const {
  return !IsDevLocal(who_) && who_.role != domain::Role::kAuditor;
}

[[nodiscard]] absl::Status Guard::LogReader::CheckStream(const std::string& stream,
                                                         std::string_view field) {
  if (IsDevLocal(who_)) return absl::OkStatus();
  const access::StreamRef ref = access::ClassifyStream(stream);
  ASSIGN_OR_RETURN(access::View view,
                   access::StreamView(who_, ref, [&]() -> absl::StatusOr<access::CaseFacts> {
                     if (!CheckId(ref.id, "case_id").ok()) return access::CaseFacts{};
                     RETURN_IF_ERROR(guard_->cases_->CatchUp());
                     return guard_->cases_->Facts(ref.id);
                   }));
  if (view == access::View::kNone) {
    return absl::PermissionDeniedError(absl::StrCat(who_.id, " (", access::RoleName(who_.role),
                                                    ") may not read ", std::string(field), " '",
                                                    stream, "' (or it does not exist)"));
  }
  if (view == access::View::kEmployer && ref.kind == access::StreamKind::kCase) {
    // Stream revisions (from_revision, caught-up markers, end_of_stream)
    // would count the events hidden from an employer.
    return absl::PermissionDeniedError(absl::StrCat(
        "an employer reads a placement through duurzaam.v1.Cases (GetTimeline, SubscribeCase), "
        "whose revisions count only what employers may see; not ",
        std::string(field), " '", stream, "'"));
  }
  return absl::OkStatus();
}

[[nodiscard]] absl::Status Guard::LogReader::Flush() {
  facts_.clear();
  last_valid_ = false;
  if (unrecorded_.empty() || guard_->access_log_ == nullptr) return absl::OkStatus();
  std::vector<std::string> cases(unrecorded_.begin(), unrecorded_.end());
  std::sort(cases.begin(), cases.end());
  RETURN_IF_ERROR(guard_->access_log_->Record(who_, cases, "log", method_));
  recorded_.insert(unrecorded_.begin(), unrecorded_.end());
  unrecorded_.clear();
  return absl::OkStatus();
}

}  // namespace duurzaam::services
