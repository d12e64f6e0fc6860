// Cases.Pull: the expert app's sync channel from the server (see cases.proto
// for the contract). One call follows the global log from the device's
// cursor and sends, per record, what the caller may see of it.
#include <algorithm>
#include <deque>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "codec/case_codec.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/field_violation.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/stream_names.h"
#include "duurzaam/v1/audit.pb.h"
#include "google/protobuf/arena.h"
#include "services/access_log.h"
#include "services/case_service.h"
#include "services/grpc_status.h"
#include "services/pull_arenas.h"

namespace duurzaam::services {
namespace {

// Records looked at per scan of the log, and changes per response.
constexpr size_t kScanRecords = 20000;
constexpr int kChangesPerResponse = 4096;
constexpr size_t kBytesPerResponse = 2 << 20;
constexpr size_t kResponsesPerRound = 3;

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
// codec::DecidesAccess; CaseProjection::AccessRecords): the rest of its
// records are opened only as they are sent (codec::ToApi), never decoded
// into the domain.
struct CaseAccess {
  eventstore::Revision next = 0;  // after the last access-deciding record read
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
    // A new sealer for each round: what it keeps (cipher contexts) lives for
    // one scan at most.
    if (cases_->sealer() != nullptr) round_sealer_ = cases_->sealer()->ForOneReader();
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
    // Only the access-deciding records are read (the projection keeps them
    // apart).
    ASSIGN_OR_RETURN(
        std::vector<eventstore::RecordedEvent> records,
        projection_->AccessRecords(domain::CaseStream(case_id), static_cast<uint64_t>(a.next)));
    if (!records.empty()) a.next = records.back().revision + 1;
    for (const eventstore::RecordedEvent& record : records) {
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
    const codec::Sealer* sealer = round_sealer_ ? round_sealer_.get() : cases_->sealer();
    absl::Status opened = codec::ToApi(stream, id, data, sealer, event->mutable_event());
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
  std::unique_ptr<codec::Sealer> round_sealer_;
  absl::flat_hash_map<std::string, CaseAccess> access_;
  absl::flat_hash_map<std::string, Followed> followed_;
  std::set<std::string> employers_;
  std::set<std::string> erased_;
  eventstore::Revision erasures_read_ = 0;
  size_t bytes_added_ = 0;
};

}  // namespace

namespace {

// One scan round's responses, built on an arena of their own, with the
// cases they serve for the first time in this call (access-logged, durably,
// before any of them is written).
struct Round {
  std::unique_ptr<PullArena> arena;
  std::vector<v1::PullResponse*> responses;
};

// Builds a Pull's rounds on a thread of its own, ahead of the handler that
// writes them (at most kRoundsAhead ahead): opening events and writing them
// to the wire then run side by side. Owns the call's PullState.
class PullProducer {
 public:
  static constexpr size_t kRoundsAhead = 1;

  PullProducer(const domain::Principal& who, uint64_t cursor, uint64_t start_end, CaseReader* cases,
               projections::CaseProjection* projection, eventstore::Store* store,
               AccessLog* access_log, PullArenas* arenas)
      : who_(who),
        cursor_(cursor),
        start_end_(start_end),
        cases_(cases),
        store_(store),
        access_log_(access_log),
        arenas_(arenas),
        state_(who, cases, projection, store) {
    filter_.stream_prefixes = {std::string(domain::kCaseStreamPrefix),
                               std::string(domain::kEmployerStreamPrefix),
                               std::string(domain::kErasuresStream)};
    thread_ = std::thread([this] { Run(); });
  }

  ~PullProducer() {
    {
      MutexLock lock(&mu_);
      stopped_ = true;
    }
    thread_.join();
  }

  // A round written: its arena is used again.
  void Done(Round round) { arenas_->Give(std::move(round.arena)); }

  // The next round, in order; nullopt when none came within `timeout`. An
  // error ends the call (after the rounds before it were written).
  std::optional<absl::StatusOr<Round>> Next(absl::Duration timeout) {
    MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &PullProducer::HasRound), timeout)) {
      return std::nullopt;
    }
    absl::StatusOr<Round> round = std::move(ready_.front());
    ready_.pop_front();
    return round;
  }

 private:
  bool HasRound() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ready_.empty(); }
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ready_.size() < kRoundsAhead || stopped_;
  }
  bool Stopped() {
    MutexLock lock(&mu_);
    return stopped_;
  }

  void Run() {
    while (!Stopped()) {
      const uint64_t end = store_->CommittedEnd();
      if (cursor_ >= end && caught_up_) {
        store_->WaitForCommit(end, absl::Milliseconds(200));
        continue;
      }
      absl::StatusOr<Round> round = Build(end);
      const bool failed = !round.ok();
      MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &PullProducer::HasRoom));
      if (stopped_) return;
      ready_.push_back(std::move(round));
      if (failed) return;
    }
  }

  // The responses of one scan of the log from the cursor (at least one, so
  // the device's cursor moves on even when nothing in the scan is for it),
  // recorded in the access log before they are handed out.
  absl::StatusOr<Round> Build(uint64_t end) {
    RETURN_IF_ERROR(cases_->CatchUpTo(end));
    RETURN_IF_ERROR(state_.Refresh());
    Round round;
    round.arena = arenas_->Take();
    google::protobuf::Arena* arena = round.arena->arena.get();
    v1::PullResponse* response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(arena);
    auto finish = [&](uint64_t cursor) {
      response->set_cursor(cursor);
      response->set_log_end(end);
      if (!caught_up_ && cursor >= start_end_) {
        caught_up_ = true;
        response->set_caught_up(true);
      }
      round.responses.push_back(response);
      response = google::protobuf::Arena::CreateMessage<v1::PullResponse>(arena);
      state_.ResetBytesAdded();
    };
    absl::Status added;
    ASSIGN_OR_RETURN(
        const uint64_t next,
        store_->ScanAll(cursor_, filter_, kScanRecords, [&](const eventstore::EventView& record) {
          if (record.position >= end) return false;  // beyond what was projected
          added = state_.Add(record, response);
          if (!added.ok()) return false;
          if (response->changes_size() >= kChangesPerResponse ||
              state_.BytesAdded() >= kBytesPerResponse) {
            finish(record.position + 1);
            // A round holds a few responses (its memory is bounded).
            if (round.responses.size() >= kResponsesPerRound) return false;
          }
          return true;
        }));
    RETURN_IF_ERROR(added);
    cursor_ = std::min(next, end);
    if (response->changes_size() > 0 || round.responses.empty() ||
        round.responses.back()->cursor() != cursor_) {
      finish(cursor_);
    }
    // One durable access-log append for the round: the read is on record
    // before any of it leaves (a call cut off after this over-records,
    // never under-records).
    const std::vector<std::string> served = state_.TakeNewlyServed();
    if (!served.empty() && access_log_ != nullptr) {
      RETURN_IF_ERROR(access_log_->Record(who_, served, "sync",
                                          absl::StrCat(v1::Cases::service_full_name(), "/Pull")));
    }
    return round;
  }

  const domain::Principal who_;
  uint64_t cursor_;
  const uint64_t start_end_;
  bool caught_up_ = false;
  CaseReader* cases_;
  eventstore::Store* store_;
  AccessLog* access_log_;
  eventstore::LogFilter filter_;
  PullArenas* arenas_;
  PullState state_;
  Mutex mu_;
  std::deque<absl::StatusOr<Round>> ready_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace

grpc::Status CaseService::Pull(grpc::ServerContext* context, const v1::PullRequest* request,
                               grpc::ServerWriter<v1::PullResponse>* writer) {
  absl::StatusOr<domain::Principal> who = guard_->Admit(*context, access::Operation::kPull);
  if (!who.ok()) return ToGrpcStatus(who.status());
  const uint64_t cursor = request->cursor();
  const uint64_t start_end = store_->CommittedEnd();
  if (cursor > start_end) {
    return ToGrpcStatus(MakeInvalidArgument(
        {"cursor", absl::StrCat("the cursor ", cursor, " is past the end of the log (", start_end,
                                "); pull from a cursor this server gave")}));
  }
  PullProducer producer(*who, cursor, start_end, guard_->cases(), projection_, store_,
                        guard_->access_log(), &pull_arenas_);
  while (true) {
    if (grpc::Status alive = CallAlive(*context); !alive.ok()) return alive;
    if (absl::Status s = guard_->StillAdmitted(*context, *who); !s.ok()) return ToGrpcStatus(s);
    std::optional<absl::StatusOr<Round>> round = producer.Next(absl::Milliseconds(200));
    if (!round) continue;  // live, nothing new: look at the call and the caller again
    if (!round->ok()) return ToGrpcStatus(round->status());
    for (const v1::PullResponse* response : (*round)->responses) {
      if (absl::Status s = guard_->StillAdmitted(*context, *who); !s.ok()) return ToGrpcStatus(s);
      if (!writer->Write(*response)) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
      }
    }
    producer.Done(**std::move(round));
  }
}

}  // namespace duurzaam::services
