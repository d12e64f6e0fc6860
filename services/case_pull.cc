// Cases.Pull: the expert app's sync channel from the server (see cases.proto
// for the contract). One call follows the global log from the device's
// cursor and sends, per record, what the caller may see of it.
#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "codec/case_codec.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/stream_names.h"
#include "duurzaam/v1/audit.pb.h"
#include "services/case_service.h"
#include "services/grpc_status.h"

namespace duurzaam::services {
namespace {

// Records looked at per scan of the log, and changes per response.
constexpr size_t kScanRecords = 20000;
constexpr int kChangesPerResponse = 4096;
constexpr size_t kBytesPerResponse = 2 << 20;

// The index of `revision` in a decoded stream's records (nullopt when that
// record is quarantined, or not projected yet).
std::optional<size_t> IndexOf(const DecodedStream& stream, eventstore::Revision revision) {
  auto it = std::lower_bound(stream.records.begin(), stream.records.end(), revision,
                             [](const eventstore::RecordedEvent& r, eventstore::Revision rev) {
                               return r.revision < rev;
                             });
  if (it == stream.records.end() || it->revision != revision) return std::nullopt;
  return static_cast<size_t>(it - stream.records.begin());
}

// Whether `expert` is on the team after each event of the stream.
std::vector<bool> MembershipAfter(const DecodedStream& stream, const std::string& expert) {
  std::vector<bool> after;
  after.reserve(stream.events.size());
  bool member = false;
  for (const domain::Event& event : stream.events) {
    for (const domain::TeamChange& change : domain::TeamChanges(event)) {
      if (change.expert_id == expert) member = change.joins;
    }
    after.push_back(member);
  }
  return after;
}

// One Pull call's view of the caller's cases, refreshed before each scan.
class PullState {
 public:
  PullState(domain::Principal who, CaseReader* cases, projections::CaseProjection* projection,
            eventstore::Store* store)
      : who_(std::move(who)), cases_(cases), projection_(projection), store_(store) {}

  // Re-reads the caller's cases (readable now), their employers and the
  // erasures, as projected up to `end`.
  [[nodiscard]] absl::Status Refresh() {
    ASSIGN_OR_RETURN(std::vector<std::string> ids, projection_->CasesOfExpert(who_.id));
    absl::flat_hash_map<std::string, Followed> followed;
    employers_.clear();
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(auto stream, cases_->Stream(domain::CaseStream(id)));
      absl::StatusOr<access::CaseFacts> facts = FactsOf(*stream);
      if (!facts.ok()) {
        return absl::Status(
            facts.status().code(),
            absl::StrCat("case '", id, "' cannot be synced: ", facts.status().message()));
      }
      if (access::CaseView(who_, *facts) != access::View::kExpert) continue;
      Followed& f = followed[id];
      auto old = followed_.find(id);
      if (old != followed_.end() && old->second.stream == stream) {
        f = std::move(old->second);
      } else {
        f.member_after = MembershipAfter(*stream, who_.id);
        f.stream = std::move(stream);
        f.logged = old != followed_.end() && old->second.logged;
      }
      f.employer = facts->employer_id;
      employers_.insert(facts->employer_id);
    }
    followed_ = std::move(followed);
    ASSIGN_OR_RETURN(auto erasures,
                     store_->ReadStream(std::string(domain::kErasuresStream), erasures_read_,
                                        eventstore::Direction::kForwards, 100000));
    for (const eventstore::RecordedEvent& record : erasures) {
      v1::CaseErasure erasure;
      if (!erasure.ParseFromString(record.data)) {
        return absl::DataLossError(
            absl::StrCat("the erasure record at position ", record.position, " does not read"));
      }
      erased_.insert(erasure.case_id());
      erasures_read_ = record.revision + 1;
    }
    return absl::OkStatus();
  }

  // Adds what the caller may see of the log record to `out`.
  [[nodiscard]] absl::Status Add(const eventstore::EventView& record, v1::PullResponse* out) {
    const std::string_view stream = record.stream;
    const uint64_t position = record.position;
    const eventstore::Revision revision = record.revision;
    if (domain::IsCaseStream(stream)) {
      return AddCaseRecord(std::string(stream.substr(domain::kCaseStreamPrefix.size())), position,
                           revision, record.type, out);
    }
    if (domain::IsEmployerStream(stream)) {
      const std::string employer(stream.substr(domain::kEmployerStreamPrefix.size()));
      if (!employers_.contains(employer)) return absl::OkStatus();
      ASSIGN_OR_RETURN(auto events, cases_->Stream(std::string(stream)));
      std::optional<size_t> i = IndexOf(*events, revision);
      if (i) AddEvent("", employer, *events, *i, false, out);
      return absl::OkStatus();
    }
    if (stream == domain::kErasuresStream) {
      v1::CaseErasure erasure;
      if (!erasure.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
        return absl::DataLossError(
            absl::StrCat("the erasure record at position ", position, " does not read"));
      }
      // To anyone who was ever on the case's team: a device may still hold
      // it from before a removal it has not pulled yet.
      ASSIGN_OR_RETURN(auto stream, cases_->Stream(domain::CaseStream(erasure.case_id())));
      const std::vector<bool> member = MembershipAfter(*stream, who_.id);
      if (std::find(member.begin(), member.end(), true) != member.end()) {
        Remove(erasure.case_id(), v1::CaseRemoved::ERASED, position, out);
      }
    }
    return absl::OkStatus();
  }

  // Bytes of events added to the response being built (it is sent once it
  // holds about kBytesPerResponse).
  size_t BytesAdded() const { return bytes_added_; }
  void ResetBytesAdded() { bytes_added_ = 0; }

  // Case ids whose events were added since the last call, for the access log.
  std::vector<std::string> TakeNewlyServed() {
    std::vector<std::string> ids;
    for (auto& [id, f] : followed_) {
      if (f.served && !f.logged) {
        f.logged = true;
        ids.push_back(id);
      }
    }
    return ids;
  }

 private:
  struct Followed {
    std::shared_ptr<const DecodedStream> stream;
    std::vector<bool> member_after;
    std::string employer;
    bool served = false;  // events of it added to a response in this call
    bool logged = false;  // recorded in the access log in this call
  };

  absl::Status AddCaseRecord(const std::string& case_id, uint64_t position,
                             eventstore::Revision revision, std::string_view type,
                             v1::PullResponse* out) {
    auto it = followed_.find(case_id);
    if (it == followed_.end()) {
      // Not readable now: only the caller's own removal from its team, which
      // the device needs to purge what it holds. Other cases' records are
      // not decoded at all.
      if (type != "TeamMemberRemoved") return absl::OkStatus();
      ASSIGN_OR_RETURN(auto stream, cases_->Stream(domain::CaseStream(case_id)));
      std::optional<size_t> i = IndexOf(*stream, revision);
      if (!i) return absl::OkStatus();
      for (const domain::TeamChange& change : domain::TeamChanges(stream->events[*i])) {
        if (change.expert_id == who_.id && !change.joins) {
          Remove(case_id, v1::CaseRemoved::LEFT_TEAM, position, out);
        }
      }
      return absl::OkStatus();
    }
    if (erased_.contains(case_id)) return absl::OkStatus();  // only its erasure is sent
    Followed& f = it->second;
    std::optional<size_t> i = IndexOf(*f.stream, revision);
    if (!i) return absl::OkStatus();  // quarantined: reported by the timeline
    const bool before = *i > 0 && f.member_after[*i - 1];
    const bool after = f.member_after[*i];
    if (before && !after) {
      Remove(case_id, v1::CaseRemoved::LEFT_TEAM, position, out);
      return absl::OkStatus();
    }
    if (!after) return absl::OkStatus();
    if (!before) {
      // Joined here: the case so far, and its employer's events so far.
      for (size_t j = 0; j < *i; ++j) AddEvent(case_id, "", *f.stream, j, true, out);
      if (!f.employer.empty()) {
        ASSIGN_OR_RETURN(auto employer, cases_->Stream(domain::EmployerStream(f.employer)));
        for (size_t j = 0; j < employer->records.size(); ++j) {
          if (employer->records[j].position >= position) break;
          AddEvent("", f.employer, *employer, j, true, out);
        }
      }
    }
    AddEvent(case_id, "", *f.stream, *i, false, out);
    f.served = true;
    return absl::OkStatus();
  }

  void AddEvent(const std::string& case_id, const std::string& employer,
                const DecodedStream& stream, size_t i, bool backlog, v1::PullResponse* out) {
    const eventstore::RecordedEvent& record = stream.records[i];
    v1::SyncedEvent* event = out->add_changes()->mutable_event();
    event->set_case_id(case_id);
    event->set_employer_id(employer);
    event->set_revision(static_cast<int64_t>(record.revision));
    event->set_position(record.position);
    event->set_event_id(stream.events[i].id);
    codec::ToTimestamp(record.recorded_at_micros, event->mutable_recorded_at());
    codec::ToProto(stream.events[i], event->mutable_event());
    event->set_backlog(backlog);
    bytes_added_ += event->ByteSizeLong();
  }

  static void Remove(const std::string& case_id, v1::CaseRemoved::Reason reason, uint64_t position,
                     v1::PullResponse* out) {
    v1::CaseRemoved* removed = out->add_changes()->mutable_removed();
    removed->set_case_id(case_id);
    removed->set_reason(reason);
    removed->set_position(position);
  }

  const domain::Principal who_;
  CaseReader* cases_;
  projections::CaseProjection* projection_;
  eventstore::Store* store_;
  absl::flat_hash_map<std::string, Followed> followed_;
  std::set<std::string> employers_;
  std::set<std::string> erased_;
  eventstore::Revision erasures_read_ = 0;
  size_t bytes_added_ = 0;
};

}  // namespace

grpc::Status CaseService::Pull(grpc::ServerContext* context, const v1::PullRequest* request,
                               grpc::ServerWriter<v1::PullResponse>* writer) {
  absl::StatusOr<domain::Principal> who = guard_->Admit(*context, access::Operation::kPull);
  if (!who.ok()) return ToGrpcStatus(who.status());
  uint64_t cursor = request->cursor();
  const uint64_t start_end = store_->CommittedEnd();
  if (cursor > start_end) {
    return ToGrpcStatus(MakeInvalidArgument(
        {"cursor", absl::StrCat("the cursor ", cursor, " is past the end of the log (", start_end,
                                "); pull from a cursor this server gave")}));
  }
  CaseReader* cases = guard_->cases();
  PullState state(*who, cases, projection_, store_);
  eventstore::LogFilter filter;
  filter.stream_prefixes = {std::string(domain::kCaseStreamPrefix),
                            std::string(domain::kEmployerStreamPrefix),
                            std::string(domain::kErasuresStream)};
  bool caught_up = false;
  // Sends `response` after recording in the access log the cases it serves
  // for the first time in this call.
  auto send = [&](v1::PullResponse* response, uint64_t log_end) -> grpc::Status {
    if (absl::Status s = guard_->StillAdmitted(*context, *who); !s.ok()) return ToGrpcStatus(s);
    std::vector<std::string> served = state.TakeNewlyServed();
    if (!served.empty() && guard_->access_log() != nullptr) {
      absl::Status logged = guard_->access_log()->Record(
          *who, served, "sync", absl::StrCat(v1::Cases::service_full_name(), "/Pull"));
      if (!logged.ok()) return ToGrpcStatus(logged);
    }
    response->set_log_end(log_end);
    if (!caught_up && response->cursor() >= start_end) {
      caught_up = true;
      response->set_caught_up(true);
    }
    if (!writer->Write(*response)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    response->Clear();
    state.ResetBytesAdded();
    return grpc::Status::OK;
  };
  while (true) {
    if (grpc::Status alive = CallAlive(*context); !alive.ok()) return alive;
    if (absl::Status s = guard_->StillAdmitted(*context, *who); !s.ok()) return ToGrpcStatus(s);
    const uint64_t end = store_->CommittedEnd();
    if (cursor >= end && caught_up) {
      store_->WaitForCommit(end, absl::Milliseconds(200));
      continue;
    }
    if (absl::Status s = cases->CatchUpTo(end); !s.ok()) return ToGrpcStatus(s);
    if (absl::Status s = state.Refresh(); !s.ok()) return ToGrpcStatus(s);
    v1::PullResponse response;
    absl::Status added;
    grpc::Status sent;
    absl::StatusOr<uint64_t> next =
        store_->ScanAll(cursor, filter, kScanRecords, [&](const eventstore::EventView& record) {
          if (record.position >= end) return false;  // beyond what was projected
          added = state.Add(record, &response);
          if (!added.ok()) return false;
          if (response.changes_size() >= kChangesPerResponse ||
              state.BytesAdded() >= kBytesPerResponse) {
            response.set_cursor(record.position + 1);
            sent = send(&response, end);
            if (!sent.ok()) return false;
          }
          return true;
        });
    if (!next.ok()) return ToGrpcStatus(next.status());
    if (!added.ok()) return ToGrpcStatus(added);
    if (!sent.ok()) return sent;
    cursor = std::min(*next, end);
    response.set_cursor(cursor);
    if (grpc::Status s = send(&response, end); !s.ok()) return s;
  }
}

}  // namespace duurzaam::services
