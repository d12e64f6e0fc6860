#include "clients/expert/replica.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/decide.h"

namespace duurzaam::expert {
namespace {

using ::duurzaam::v1::IntentOutcome;
using ::duurzaam::v1::SyncedEvent;

IntentState FromKind(IntentOutcome::Kind kind) {
  switch (kind) {
    case IntentOutcome::APPENDED:
      return IntentState::kAppended;
    case IntentOutcome::DUPLICATE:
      return IntentState::kDuplicate;
    case IntentOutcome::REBASED:
      return IntentState::kRebased;
    case IntentOutcome::CONFLICT:
      return IntentState::kConflict;
    default:
      return IntentState::kRejected;
  }
}

// Arena blocks: mapped in 2 MiB multiples and marked for transparent huge
// pages, so filling them faults once per 2 MiB instead of every 4 KiB.
constexpr size_t kHugePage = size_t{2} << 20;

void* MapBlock(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  if (size >= kHugePage) (void)::madvise(p, size, MADV_HUGEPAGE);
  return p;
}

void UnmapBlock(void* p, size_t size) { ::munmap(p, size); }

std::unique_ptr<google::protobuf::Arena> NewArena() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = kHugePage;
  options.max_block_size = 4 * kHugePage;
  options.block_alloc = &MapBlock;
  options.block_dealloc = &UnmapBlock;
  return std::make_unique<google::protobuf::Arena>(options);
}

// The event `change` holds, taken out of it into `arena`: by pointer when
// it already lives there, else copied in.
const SyncedEvent* TakeEvent(::duurzaam::v1::SyncChange* change, google::protobuf::Arena* arena) {
  if (change->GetArena() == arena) return change->unsafe_arena_release_event();
  SyncedEvent* e = google::protobuf::Arena::CreateMessage<SyncedEvent>(arena);
  e->CopyFrom(change->event());
  return e;
}

}  // namespace

Replica::Replica() : arena_(NewArena()) {}

// The maps point into the arena: they go first.
Replica::~Replica() {
  cases_.clear();
  employers_.clear();
}

void Replica::Repack() {
  std::unique_ptr<google::protobuf::Arena> fresh = NewArena();
  auto move = [&](HeldEvents& events) {
    for (auto& [revision, e] : events) {
      SyncedEvent* copy = google::protobuf::Arena::CreateMessage<SyncedEvent>(fresh.get());
      copy->CopyFrom(*e);
      e = copy;
    }
  };
  for (auto& [id, copy] : cases_) move(copy.events);
  for (auto& [id, events] : employers_) move(events);
  arena_ = std::move(fresh);
}

absl::StatusOr<domain::Event> FromSynced(const SyncedEvent& e) {
  return codec::FromRecorded(e.event(), e.event_id(), codec::FromTimestamp(e.recorded_at()));
}

absl::StatusOr<domain::Event> IntentEvent(const IntentRecord& r, const std::string& expert_id) {
  return codec::FromProto(r.intent.event(), r.intent.event_id(),
                          codec::RecordedDay(r.saved_at_micros),
                          domain::Principal{expert_id, domain::Role::kExpert, ""}, "event.");
}

const char* StateName(IntentState state) {
  switch (state) {
    case IntentState::kPending:
      return "pending";
    case IntentState::kAppended:
      return "appended";
    case IntentState::kDuplicate:
      return "duplicate";
    case IntentState::kRebased:
      return "rebased";
    case IntentState::kConflict:
      return "conflict";
    case IntentState::kRejected:
      return "rejected";
    case IntentState::kDiscarded:
      return "discarded";
    case IntentState::kReplaced:
      return "replaced";
  }
  return "?";
}

std::optional<IntentState> StateFromName(std::string_view name) {
  for (IntentState s : {IntentState::kPending, IntentState::kAppended, IntentState::kDuplicate,
                        IntentState::kRebased, IntentState::kConflict, IntentState::kRejected,
                        IntentState::kDiscarded, IntentState::kReplaced}) {
    if (name == StateName(s)) return s;
  }
  return std::nullopt;
}

bool NeedsExpert(IntentState state) {
  return state == IntentState::kConflict || state == IntentState::kRejected;
}

const IntentRecord* Replica::FindIntent(const std::string& event_id) const {
  auto it = intent_index_.find(event_id);
  return it == intent_index_.end() ? nullptr : &intents_[it->second];
}

absl::Status Replica::Apply(JournalEntry* entry_ptr) {
  JournalEntry& entry = *entry_ptr;
  switch (entry.entry_case()) {
    case JournalEntry::kIdentity:
      identity_ = entry.identity();
      return absl::OkStatus();
    case JournalEntry::kPulled: {
      for (auto& change : *entry.mutable_pulled()->mutable_changes()) {
        if (change.has_removed()) {
          Remove(change.removed().case_id(), change.removed().reason(), false);
          continue;
        }
        if (!change.has_event()) continue;
        const SyncedEvent& e = change.event();
        if (!e.case_id().empty()) {
          CaseCopy& copy = cases_[e.case_id()];
          if (e.event().has_case_opened()) copy.employer_id = e.event().case_opened().employer_id();
          copy.events[e.revision()] = TakeEvent(&change, arena_.get());
        } else if (!e.employer_id().empty()) {
          employers_[e.employer_id()][e.revision()] = TakeEvent(&change, arena_.get());
        }
      }
      cursor_ = std::max(cursor_, entry.pulled().cursor());
      return absl::OkStatus();
    }
    case JournalEntry::kIntent: {
      const auto& intent = entry.intent().intent();
      if (intent_index_.contains(intent.event_id())) {
        return absl::InvalidArgumentError(
            absl::StrCat("intent ", intent.event_id(), " is in the journal twice"));
      }
      intent_index_[intent.event_id()] = intents_.size();
      IntentRecord& record = intents_.emplace_back();
      record.intent = intent;
      record.saved_at_micros = entry.intent().saved_at_micros();
      return absl::OkStatus();
    }
    case JournalEntry::kOutcome: {
      auto it = intent_index_.find(entry.outcome().outcome().event_id());
      if (it == intent_index_.end()) return absl::OkStatus();  // purged since
      IntentRecord& record = intents_[it->second];
      record.outcome = entry.outcome().outcome();
      record.state = FromKind(record.outcome.kind());
      return absl::OkStatus();
    }
    case JournalEntry::kResolution: {
      auto it = intent_index_.find(entry.resolution().event_id());
      if (it == intent_index_.end()) return absl::OkStatus();
      IntentRecord& record = intents_[it->second];
      record.state = entry.resolution().choice() == v1::Resolution::DISCARD
                         ? IntentState::kDiscarded
                         : IntentState::kReplaced;
      record.replaced_by = entry.resolution().replaced_by();
      return absl::OkStatus();
    }
    case JournalEntry::kPurged:
      Remove(entry.purged().case_id(), entry.purged().reason(), entry.purged().device_refused());
      return absl::OkStatus();
    case JournalEntry::kPurgedIntent: {
      const v1::PurgedIntent& p = entry.purged_intent();
      std::optional<IntentState> state = StateFromName(p.state());
      if (!state) {
        return absl::InvalidArgumentError(
            absl::StrCat("a purged intent in an unknown state '", p.state(), "'"));
      }
      purged_intents_.push_back(
          {p.event_id(), p.saved_at_micros(), *state, p.reason(), p.device_refused()});
      return absl::OkStatus();
    }
    case JournalEntry::ENTRY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("a journal entry of an unknown kind (a newer app wrote it?)");
}

void Replica::Remove(const std::string& case_id, ::duurzaam::v1::CaseRemoved::Reason reason,
                     bool device_refused) {
  bool held = false;
  if (auto c = cases_.find(case_id); c != cases_.end()) {
    held = true;
    const std::string employer = c->second.employer_id;
    cases_.erase(c);
    // The employer's events go with its last case on the device.
    bool still_used = false;
    for (const auto& [id, copy] : cases_) still_used = still_used || copy.employer_id == employer;
    if (!still_used) employers_.erase(employer);
  }
  const size_t before = intents_.size();
  std::erase_if(intents_, [&](const IntentRecord& r) {
    if (r.intent.case_id() != case_id) return false;
    purged_intents_.push_back(
        {r.intent.event_id(), r.saved_at_micros, r.state, reason, device_refused});
    return true;
  });
  held = held || intents_.size() != before;
  intent_index_.clear();
  for (size_t i = 0; i < intents_.size(); ++i) intent_index_[intents_[i].intent.event_id()] = i;
  if (held) needs_compaction_ = true;
}

int64_t Replica::ServerRevision(const std::string& case_id) const {
  auto it = cases_.find(case_id);
  if (it == cases_.end() || it->second.events.empty()) return -1;
  return it->second.events.rbegin()->first;
}

int Replica::PendingOn(const std::string& case_id) const {
  return static_cast<int>(std::count_if(intents_.begin(), intents_.end(), [&](const auto& r) {
    return r.state == IntentState::kPending && r.intent.case_id() == case_id;
  }));
}

absl::StatusOr<std::vector<domain::Event>> Replica::Events(const std::string& case_id,
                                                           bool offline) const {
  std::vector<domain::Event> events;
  auto it = cases_.find(case_id);
  if (it != cases_.end()) {
    for (const auto& [revision, synced] : it->second.events) {
      ASSIGN_OR_RETURN(domain::Event event, FromSynced(*synced));
      events.push_back(std::move(event));
    }
  }
  if (offline) {
    for (const IntentRecord& r : intents_) {
      if (r.state != IntentState::kPending || r.intent.case_id() != case_id) continue;
      ASSIGN_OR_RETURN(domain::Event event, IntentEvent(r, identity_.expert_id()));
      events.push_back(std::move(event));
    }
  }
  if (events.empty()) {
    return absl::NotFoundError(absl::StrCat("this device holds no case '", case_id, "'"));
  }
  return events;
}

absl::StatusOr<std::vector<domain::Event>> Replica::EmployerEvents(
    const std::string& case_id) const {
  std::vector<domain::Event> events;
  auto c = cases_.find(case_id);
  if (c == cases_.end()) return events;
  auto it = employers_.find(c->second.employer_id);
  if (it == employers_.end()) return events;
  for (const auto& [revision, synced] : it->second) {
    ASSIGN_OR_RETURN(domain::Event event, FromSynced(*synced));
    events.push_back(std::move(event));
  }
  return events;
}

absl::StatusOr<JournalEntry> Replica::NewIntent(const std::string& case_id,
                                                const ::duurzaam::v1::PlacementEvent& event,
                                                const std::string& event_id, domain::Date today,
                                                int64_t now_micros) const {
  if (intent_index_.contains(event_id)) {
    return absl::AlreadyExistsError(absl::StrCat("intent ", event_id, " was saved before"));
  }
  const domain::Principal me{identity_.expert_id(), domain::Role::kExpert, ""};
  ASSIGN_OR_RETURN(domain::Event proposed, codec::FromProto(event, event_id, today, me, "event."));
  absl::StatusOr<std::vector<domain::Event>> events = Events(case_id, /*offline=*/true);
  if (!events.ok() && !absl::IsNotFound(events.status())) return events.status();
  std::vector<domain::Event> history =
      events.ok() ? *std::move(events) : std::vector<domain::Event>{};
  domain::CaseState state;
  for (const domain::Event& e : history) domain::ApplyTo(&state, e);
  const int64_t revision = static_cast<int64_t>(history.size()) - 1;
  domain::History h{domain::StreamKind::kCase, &history, &state, revision, 0};
  absl::StatusOr<domain::Decision> decided = domain::Decide(h, domain::Command{proposed, revision});
  // Field paths as the server names them (event.<body>.<field>).
  if (!decided.ok()) return codec::FromRequestRoot(decided.status(), proposed, "event.");
  JournalEntry entry;
  auto* saved = entry.mutable_intent();
  saved->set_saved_at_micros(now_micros);
  auto* intent = saved->mutable_intent();
  intent->set_case_id(case_id);
  intent->set_event_id(event_id);
  intent->set_seen_revision(ServerRevision(case_id));
  *intent->mutable_event() = event;
  for (const IntentRecord& r : intents_) {
    if (r.state == IntentState::kPending && r.intent.case_id() == case_id) {
      intent->add_own_earlier_event_ids(r.intent.event_id());
    }
  }
  return entry;
}

std::vector<JournalEntry> Replica::Snapshot() const {
  std::vector<JournalEntry> out;
  out.emplace_back().mutable_identity()->CopyFrom(identity_);
  for (const auto& [id, copy] : cases_) {
    auto* pulled = out.emplace_back().mutable_pulled();
    for (const auto& [revision, e] : copy.events) *pulled->add_changes()->mutable_event() = *e;
  }
  for (const auto& [id, events] : employers_) {
    auto* pulled = out.emplace_back().mutable_pulled();
    for (const auto& [revision, e] : events) *pulled->add_changes()->mutable_event() = *e;
  }
  out.emplace_back().mutable_pulled()->set_cursor(cursor_);
  for (const PurgedIntentRecord& r : purged_intents_) {
    auto* p = out.emplace_back().mutable_purged_intent();
    p->set_event_id(r.event_id);
    p->set_saved_at_micros(r.saved_at_micros);
    p->set_state(StateName(r.state));
    p->set_reason(r.reason);
    p->set_device_refused(r.device_refused);
  }
  for (const IntentRecord& r : intents_) {
    auto* saved = out.emplace_back().mutable_intent();
    *saved->mutable_intent() = r.intent;
    saved->set_saved_at_micros(r.saved_at_micros);
    if (r.state != IntentState::kPending) {
      if (r.outcome.kind() != IntentOutcome::KIND_UNSPECIFIED) {
        auto* outcome = out.emplace_back().mutable_outcome();
        *outcome->mutable_outcome() = r.outcome;
        outcome->set_case_id(r.intent.case_id());
      }
      if (r.state == IntentState::kDiscarded || r.state == IntentState::kReplaced) {
        auto* resolution = out.emplace_back().mutable_resolution();
        resolution->set_event_id(r.intent.event_id());
        resolution->set_choice(r.state == IntentState::kDiscarded ? v1::Resolution::DISCARD
                                                                  : v1::Resolution::REPLACED);
        resolution->set_replaced_by(r.replaced_by);
      }
    }
  }
  return out;
}

}  // namespace duurzaam::expert
