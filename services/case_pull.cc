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
#include "google/protobuf/arena.h"
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

// What Pull needs to know of a case to decide what the caller sees of it,
// from its access-deciding records alone (CaseOpened and team changes,
// codec::DecidesAccess): the rest of its records are opened only as they
// are sent (codec::ToApi), never decoded into the domain.
struct CaseAccess {
  eventstore::Revision next = 0;  // the case's records read so far
  std::string unreadable;         // why access cannot be decided (empty: it can)
  std::string employer;
  std::set<std::string> team;
  // The caller's membership: (revision, on the team after it) at each change.
  std::vector<std::pair<eventstore::Revision, bool>> membership;

  bool MemberAfter(eventstore::Revision revision) const {
    auto it = std::upper_bound(membership.begin(), membership.end(), revision,
                               [](eventstore::Revision r, const auto& c) { return r < c.first; });
    return it != membership.begin() && std::prev(it)->second;
  }
  bool EverMember() const {
    return std::any_of(membership.begin(), membership.end(),
                       [](const auto& c) { return c.second; });
  }
};

// One Pull call's view of the caller's cases, refreshed before each scan.
class PullState {
 public:
  PullState(domain::Principal who, CaseReader* cases, projections::CaseProjection* projection,
            eventstore::Store* store)
      : who_(std::move(who)), cases_(cases), projection_(projection), store_(store) {}

  // Re-reads which cases the caller follows (readable now), their
  // employers and the erasures, as projected up to `end`.
  [[nodiscard]] absl::Status Refresh() {
    ASSIGN_OR_RETURN(std::vector<std::string> ids, projection_->CasesOfExpert(who_.id));
    absl::flat_hash_map<std::string, Followed> followed;
    employers_.clear();
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(const CaseAccess* access, AccessOf(id));
      const access::CaseFacts facts{access->next > 0, access->employer, access->team};
      if (access::CaseView(who_, facts) != access::View::kExpert) continue;
      Followed& f = followed[id];
      if (auto old = followed_.find(id); old != followed_.end()) f = old->second;
      employers_.insert(access->employer);
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
    if (domain::IsCaseStream(stream)) {
      return AddCaseRecord(std::string(stream.substr(domain::kCaseStreamPrefix.size())), record,
                           out);
    }
    if (domain::IsEmployerStream(stream)) {
      const std::string employer(stream.substr(domain::kEmployerStreamPrefix.size()));
      if (!employers_.contains(employer)) return absl::OkStatus();
      ASSIGN_OR_RETURN(auto events, cases_->Stream(std::string(stream)));
      std::optional<size_t> i = IndexOf(*events, record.revision);
      if (i) AddEmployerEvent(employer, *events, *i, false, out);
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
      ASSIGN_OR_RETURN(const CaseAccess* access, AccessOf(erasure.case_id(), /*lenient=*/true));
      if (access->EverMember()) Remove(erasure.case_id(), v1::CaseRemoved::ERASED, position, out);
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
    bool served = false;  // events of it added to a response in this call
    bool logged = false;  // recorded in the access log in this call
  };

  // The case's access facts, read on from where the last call stopped
  // (projected streams only grow). Fails closed: with an access-deciding
  // record that does not read (decoded as every reader decodes it, sealed
  // fields opened), DATA_LOSS for the whole pull; `lenient` (deciding only
  // whom an erasure is sent to) skips it.
  absl::StatusOr<const CaseAccess*> AccessOf(const std::string& case_id, bool lenient = false) {
    CaseAccess& a = access_[case_id];
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> records,
                     projection_->StreamEvents(domain::CaseStream(case_id), a.next));
    for (const eventstore::RecordedEvent& record : records) {
      a.next = record.revision + 1;
      if (!codec::DecidesAccess(record.type)) continue;
      absl::StatusOr<domain::Event> event = codec::Decode(record, cases_->sealer());
      if (!event.ok()) {
        if (a.unreadable.empty()) {
          a.unreadable = absl::StrCat(
              "case '", case_id, "' cannot be synced: who may access it cannot be decided: its ",
              record.type, " record at position ", record.position, " cannot be read (",
              event.status().message(), "); an administrator must repair it");
        }
        continue;
      }
      if (const auto* opened = std::get_if<domain::CaseOpened>(&event->body)) {
        a.employer = opened->employer_id;
      }
      for (const domain::TeamChange& change : domain::TeamChanges(*event)) {
        if (change.joins) {
          a.team.insert(change.expert_id);
        } else {
          a.team.erase(change.expert_id);
        }
        if (change.expert_id == who_.id) a.membership.emplace_back(record.revision, change.joins);
      }
    }
    if (!a.unreadable.empty() && !lenient) return absl::DataLossError(a.unreadable);
    return &a;
  }

  absl::Status AddCaseRecord(const std::string& case_id, const eventstore::EventView& record,
                             v1::PullResponse* out) {
    const eventstore::Revision revision = record.revision;
    auto it = followed_.find(case_id);
    if (it == followed_.end()) {
      // Not readable now: only the caller's own removal from its team, which
      // the device needs to purge what it holds. Other cases' records are
      // not opened at all.
      if (record.type != "TeamMemberRemoved") return absl::OkStatus();
      absl::StatusOr<domain::Event> event = codec::Decode(record.ToOwned());
      if (!event.ok()) return absl::OkStatus();  // quarantined: reported by the timeline
      for (const domain::TeamChange& change : domain::TeamChanges(*event)) {
        if (change.expert_id == who_.id && !change.joins) {
          Remove(case_id, v1::CaseRemoved::LEFT_TEAM, record.position, out);
        }
      }
      return absl::OkStatus();
    }
    if (erased_.contains(case_id)) return absl::OkStatus();  // only its erasure is sent
    // Read up to the scan's end by Refresh.
    const CaseAccess* access = &access_.at(case_id);
    const bool before = revision > 0 && access->MemberAfter(revision - 1);
    const bool after = access->MemberAfter(revision);
    if (before && !after) {
      Remove(case_id, v1::CaseRemoved::LEFT_TEAM, record.position, out);
      return absl::OkStatus();
    }
    if (!after) return absl::OkStatus();
    if (!before) {
      // Joined here: the case so far, and its employer's events so far.
      std::vector<eventstore::RecordedEvent> earlier;
      if (revision > 0) {
        ASSIGN_OR_RETURN(earlier, store_->ReadStream(domain::CaseStream(case_id), 0,
                                                     eventstore::Direction::kForwards, revision));
      }
      for (const eventstore::RecordedEvent& e : earlier) {
        if (e.revision >= revision) break;
        ASSIGN_OR_RETURN(const bool added,
                         AddCaseEvent(case_id, e.stream, e.id, e.revision, e.position,
                                      e.recorded_at_micros, e.data, true, out));
        if (added) it->second.served = true;
      }
      if (!access->employer.empty()) {
        ASSIGN_OR_RETURN(auto employer, cases_->Stream(domain::EmployerStream(access->employer)));
        for (size_t j = 0; j < employer->records.size(); ++j) {
          if (employer->records[j].position >= record.position) break;
          AddEmployerEvent(access->employer, *employer, j, true, out);
        }
      }
    }
    ASSIGN_OR_RETURN(
        const bool added,
        AddCaseEvent(case_id, record.stream, eventstore::EventId::FromBytes(record.id_bytes),
                     revision, record.position, record.recorded_at_micros, record.data, false,
                     out));
    if (added) it->second.served = true;
    return absl::OkStatus();
  }

  // A case event as stored, opened for the caller (an expert on its team);
  // false when it does not read (quarantined, as for every reader).
  absl::StatusOr<bool> AddCaseEvent(const std::string& case_id, std::string_view stream,
                                    const eventstore::EventId& id, eventstore::Revision revision,
                                    uint64_t position, int64_t recorded_at_micros,
                                    std::string_view data, bool backlog, v1::PullResponse* out) {
    v1::SyncedEvent* event = out->add_changes()->mutable_event();
    absl::Status opened = codec::ToApi(stream, id, data, cases_->sealer(), event->mutable_event());
    if (!opened.ok()) {
      out->mutable_changes()->RemoveLast();
      if (absl::IsDataLoss(opened)) return false;  // reported by the timeline
      return opened;
    }
    event->set_case_id(case_id);
    event->set_revision(static_cast<int64_t>(revision));
    event->set_position(position);
    event->set_event_id(id.ToString());
    codec::ToTimestamp(recorded_at_micros, event->mutable_recorded_at());
    event->set_backlog(backlog);
    bytes_added_ += data.size() + 96;  // about its size on the wire
    return true;
  }

  void AddEmployerEvent(const std::string& employer, const DecodedStream& stream, size_t i,
                        bool backlog, v1::PullResponse* out) {
    const eventstore::RecordedEvent& record = stream.records[i];
    v1::SyncedEvent* event = out->add_changes()->mutable_event();
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
  absl::flat_hash_map<std::string, CaseAccess> access_;
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
  // Each response is built on an arena, dropped whole once sent (no
  // allocation or free per change).
  google::protobuf::Arena arena;
  v1::PullResponse* response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(&arena);
  // Sends `response` after recording in the access log the cases it serves
  // for the first time in this call, and starts the next one.
  auto send = [&](uint64_t log_end) -> grpc::Status {
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
    arena.Reset();
    response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(&arena);
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
    absl::Status added;
    grpc::Status sent;
    absl::StatusOr<uint64_t> next =
        store_->ScanAll(cursor, filter, kScanRecords, [&](const eventstore::EventView& record) {
          if (record.position >= end) return false;  // beyond what was projected
          added = state.Add(record, response);
          if (!added.ok()) return false;
          if (response->changes_size() >= kChangesPerResponse ||
              state.BytesAdded() >= kBytesPerResponse) {
            response->set_cursor(record.position + 1);
            sent = send(end);
            if (!sent.ok()) return false;
          }
          return true;
        });
    if (!next.ok()) return ToGrpcStatus(next.status());
    if (!added.ok()) return ToGrpcStatus(added);
    if (!sent.ok()) return sent;
    cursor = std::min(*next, end);
    response->set_cursor(cursor);
    if (grpc::Status s = send(end); !s.ok()) return s;
  }
}

}  // namespace duurzaam::services
