#include "clients/expert/replica.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/decide.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

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

using google::protobuf::internal::WireFormatLite;

// A length-delimited field of `size` bytes, with its tag and length.
size_t BytesFieldSize(int field, size_t size) {
  return WireFormatLite::TagSize(field, WireFormatLite::TYPE_BYTES) +
         WireFormatLite::LengthDelimitedSize(size);
}

// The tag and length of a length-delimited field of `size` bytes.
uint8_t* WriteHeader(int field, size_t size, uint8_t* target) {
  target =
      WireFormatLite::WriteTagToArray(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, target);
  return google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                                       target);
}

}  // namespace

HeldEvents::HeldEvents(HeldEvents&& other) noexcept { *this = std::move(other); }

HeldEvents& HeldEvents::operator=(HeldEvents&& other) noexcept {
  if (this != &other) {
    Wipe();
    index_ = std::move(other.index_);
    bytes_ = std::move(other.bytes_);
    used_ = std::exchange(other.used_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    other.index_.clear();
  }
  return *this;
}

HeldEvents::~HeldEvents() { Wipe(); }

void HeldEvents::Wipe() {
  if (bytes_ != nullptr) explicit_bzero(bytes_.get(), capacity_);
  bytes_.reset();
  used_ = capacity_ = 0;
  index_.clear();
}

void HeldEvents::Reserve(size_t more) {
  if (used_ + more <= capacity_) return;
  const size_t capacity = std::max({used_ + more, capacity_ * 2, size_t{4096}});
  std::unique_ptr<char[]> bytes(new char[capacity]);  // NOLINT: written before read
  if (used_ > 0) std::memcpy(bytes.get(), bytes_.get(), used_);
  if (bytes_ != nullptr) explicit_bzero(bytes_.get(), capacity_);
  bytes_ = std::move(bytes);
  capacity_ = capacity;
}

void HeldEvents::Put(int64_t revision, std::string_view encoded) {
  Reserve(encoded.size());
  if (!encoded.empty()) std::memcpy(bytes_.get() + used_, encoded.data(), encoded.size());
  const Entry entry{revision, used_, encoded.size()};
  used_ += encoded.size();
  // Events come in revision order: appended; otherwise put in place.
  if (index_.empty() || index_.back().revision < revision) {
    index_.push_back(entry);
    return;
  }
  auto it = std::lower_bound(index_.begin(), index_.end(), revision,
                             [](const Entry& e, int64_t r) { return e.revision < r; });
  if (it != index_.end() && it->revision == revision) {
    explicit_bzero(bytes_.get() + it->offset, it->size);  // replaced
    *it = entry;
  } else {
    index_.insert(it, entry);
  }
}

std::optional<std::string_view> HeldEvents::Find(int64_t revision) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), revision,
                             [](const Entry& e, int64_t r) { return e.revision < r; });
  if (it == index_.end() || it->revision != revision) return std::nullopt;
  return std::string_view(bytes_.get() + it->offset, it->size);
}

bool HeldEvents::Parse(int64_t revision, SyncedEvent* out) const {
  std::optional<std::string_view> encoded = Find(revision);
  return encoded && out->ParseFromArray(encoded->data(), static_cast<int>(encoded->size()));
}

PulledChange::~PulledChange() { explicit_bzero(encoded.data(), encoded.size()); }

PulledBatch ToBatch(const google::protobuf::RepeatedPtrField<::duurzaam::v1::SyncChange>& changes,
                    uint64_t cursor) {
  PulledBatch batch;
  batch.cursor = cursor;
  batch.changes.reserve(changes.size());
  for (const ::duurzaam::v1::SyncChange& change : changes) {
    if (change.has_removed()) {
      PulledChange& c = batch.changes.emplace_back();
      c.removed = true;
      c.case_id = change.removed().case_id();
      c.reason = change.removed().reason();
      change.removed().SerializeToString(&c.encoded);
      batch.bytes += c.encoded.size();
      continue;
    }
    if (!change.has_event()) continue;
    const SyncedEvent& e = change.event();
    PulledChange& c = batch.changes.emplace_back();
    c.case_id = e.case_id();
    c.employer_id = e.employer_id();
    c.revision = e.revision();
    if (e.event().has_case_opened()) c.opened_employer = e.event().case_opened().employer_id();
    e.SerializeToString(&c.encoded);
    batch.bytes += c.encoded.size();
  }
  return batch;
}

std::string EncodeEntry(const PulledBatch& batch) {
  // JournalEntry.pulled: the changes (each a SyncChange holding its event
  // or its removal), then the cursor; sizes first, then one write.
  auto body_field = [](const PulledChange& c) {
    return c.removed ? ::duurzaam::v1::SyncChange::kRemovedFieldNumber
                     : ::duurzaam::v1::SyncChange::kEventFieldNumber;
  };
  auto change_size = [&](const PulledChange& c) {
    return BytesFieldSize(body_field(c), c.encoded.size());
  };
  size_t pulled = 0;
  for (const PulledChange& c : batch.changes) {
    pulled += BytesFieldSize(v1::Pulled::kChangesFieldNumber, change_size(c));
  }
  if (batch.cursor != 0) {
    pulled += WireFormatLite::TagSize(v1::Pulled::kCursorFieldNumber, WireFormatLite::TYPE_UINT64) +
              WireFormatLite::UInt64Size(batch.cursor);
  }
  std::string out(BytesFieldSize(JournalEntry::kPulledFieldNumber, pulled), '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  p = WriteHeader(JournalEntry::kPulledFieldNumber, pulled, p);
  for (const PulledChange& c : batch.changes) {
    p = WriteHeader(v1::Pulled::kChangesFieldNumber, change_size(c), p);
    p = WireFormatLite::WriteBytesToArray(body_field(c), c.encoded, p);
  }
  if (batch.cursor != 0) {
    p = WireFormatLite::WriteUInt64ToArray(v1::Pulled::kCursorFieldNumber, batch.cursor, p);
  }
  return out;
}

Replica::Replica() = default;
Replica::~Replica() = default;

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

void Replica::ApplyPulled(PulledBatch batch) {
  for (PulledChange& c : batch.changes) {
    if (c.removed) {
      Remove(c.case_id, c.reason, false);
      continue;
    }
    if (!c.case_id.empty()) {
      CaseCopy& copy = cases_[c.case_id];
      if (!c.opened_employer.empty()) copy.employer_id = c.opened_employer;
      copy.events.Put(c.revision, c.encoded);
    } else if (!c.employer_id.empty()) {
      employers_[c.employer_id].Put(c.revision, c.encoded);
    }
  }
  cursor_ = std::max(cursor_, batch.cursor);
}

absl::Status Replica::Apply(const JournalEntry& entry) {
  switch (entry.entry_case()) {
    case JournalEntry::kIdentity:
      identity_ = entry.identity();
      return absl::OkStatus();
    case JournalEntry::kPulled:
      ApplyPulled(ToBatch(entry.pulled().changes(), entry.pulled().cursor()));
      return absl::OkStatus();
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
  return it->second.events.revision(it->second.events.size() - 1);
}

int Replica::PendingOn(const std::string& case_id) const {
  return static_cast<int>(std::count_if(intents_.begin(), intents_.end(), [&](const auto& r) {
    return r.state == IntentState::kPending && r.intent.case_id() == case_id;
  }));
}

absl::Status Replica::Decode(const HeldEvents& held, std::vector<domain::Event>* out) {
  SyncedEvent synced;  // reused: its fields keep their memory
  for (size_t i = 0; i < held.size(); ++i) {
    const std::string_view encoded = held.encoded(i);
    if (!synced.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) {
      return absl::DataLossError(
          absl::StrCat("the replica's event at revision ", held.revision(i), " does not read"));
    }
    ASSIGN_OR_RETURN(domain::Event event, FromSynced(synced));
    out->push_back(std::move(event));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<domain::Event>> Replica::Events(const std::string& case_id,
                                                           bool offline) const {
  std::vector<domain::Event> events;
  auto it = cases_.find(case_id);
  if (it != cases_.end()) RETURN_IF_ERROR(Decode(it->second.events, &events));
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
  RETURN_IF_ERROR(Decode(it->second, &events));
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
  auto add = [&](const HeldEvents& held) {
    auto* pulled = out.emplace_back().mutable_pulled();
    for (size_t i = 0; i < held.size(); ++i) {
      const std::string_view encoded = held.encoded(i);
      // Held only once they parsed.
      (void)pulled->add_changes()->mutable_event()->ParseFromArray(
          encoded.data(), static_cast<int>(encoded.size()));
    }
  };
  for (const auto& [id, copy] : cases_) add(copy.events);
  for (const auto& [id, events] : employers_) add(events);
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
