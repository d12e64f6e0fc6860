// The expert app's replica of its cases, rebuilt from the journal (every
// state change is a JournalEntry, applied here and nowhere else): what the
// server sent (case events, employer-wide events, the pull cursor) and the
// device's outbox (intents, their outcomes, the expert's resolutions).
// Plain C++ over the domain and the mapping; no I/O. Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/events.h"
#include "domain/status.h"
#include "duurzaam/expert/v1/journal.pb.h"
#include "duurzaam/v1/cases.pb.h"

namespace duurzaam::expert {

using JournalEntry = ::duurzaam::expert::v1::JournalEntry;

enum class IntentState {
  kPending,    // saved on the device, not yet answered by the server
  kAppended,   // recorded as the device saw the case
  kDuplicate,  // recorded earlier (a retried push)
  kRebased,    // recorded on top of changes it did not see
  kConflict,   // something recorded since conflicts: the expert decides
  kRejected,   // the rules or access say no: the expert decides
  kDiscarded,  // the expert let it go (kept in the history)
  kReplaced,   // the expert replaced it by a new intent
};
const char* StateName(IntentState state);  // "pending", "appended", ...
// True for the states that need the expert (conflict, rejected).
bool NeedsExpert(IntentState state);

// The name's state (for a state written by StateName); nullopt otherwise.
std::optional<IntentState> StateFromName(std::string_view name);

struct IntentRecord {
  ::duurzaam::v1::Intent intent;
  int64_t saved_at_micros = 0;
  IntentState state = IntentState::kPending;
  ::duurzaam::v1::IntentOutcome outcome;  // set once answered
  std::string replaced_by;
};

// An event as the server sent it, in domain terms.
[[nodiscard]] absl::StatusOr<domain::Event> FromSynced(const ::duurzaam::v1::SyncedEvent& synced);
// An intent's event as the device records it (by `expert_id`, on the day it
// was saved).
[[nodiscard]] absl::StatusOr<domain::Event> IntentEvent(const IntentRecord& intent,
                                                        const std::string& expert_id);

// An intent purged with its case (the expert left its team, it was erased,
// or the device was refused): only its id, how far it got and why it went.
struct PurgedIntentRecord {
  std::string event_id;
  int64_t saved_at_micros = 0;
  IntentState state = IntentState::kPending;  // when purged
  ::duurzaam::v1::CaseRemoved::Reason reason = ::duurzaam::v1::CaseRemoved::REASON_UNSPECIFIED;
  bool device_refused = false;
};

// The events of a case (or of an employer) as the server sent them, each
// kept as its encoding (a v1::SyncedEvent) in one buffer, by revision:
// about a fifth of the memory of the parsed messages, so a first sync of
// 100,000 events touches little fresh memory. The bytes are overwritten
// with zeros when they move and when they go (a purged case's plaintext
// leaves the app's memory, not only its file).
class HeldEvents {
 public:
  HeldEvents() = default;
  HeldEvents(HeldEvents&& other) noexcept;
  HeldEvents& operator=(HeldEvents&& other) noexcept;
  ~HeldEvents();

  // Keeps `encoded` as the event at `revision` (replacing one held there).
  void Put(int64_t revision, std::string_view encoded);
  // The encoding at `revision`; nullopt when none is held.
  std::optional<std::string_view> Find(int64_t revision) const;
  // The event at `revision`, parsed; false when none is held (or it does
  // not parse).
  bool Parse(int64_t revision, ::duurzaam::v1::SyncedEvent* out) const;

  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  // In revision order: the i-th revision and its encoding.
  int64_t revision(size_t i) const { return index_[i].revision; }
  std::string_view encoded(size_t i) const {
    return std::string_view(bytes_.get() + index_[i].offset, index_[i].size);
  }
  // Every byte of the buffer in use, replaced encodings included (zeroed).
  std::string_view buffer() const { return std::string_view(bytes_.get(), used_); }

 private:
  struct Entry {
    int64_t revision;
    size_t offset, size;
  };
  void Reserve(size_t more);
  void Wipe();
  std::vector<Entry> index_;  // by revision
  std::unique_ptr<char[]> bytes_;
  size_t used_ = 0, capacity_ = 0;
};

// A pulled response as the app keeps it: each change encoded once, for the
// journal and the replica alike, with what the replica files it under.
struct PulledChange {
  PulledChange() = default;
  PulledChange(PulledChange&&) = default;
  PulledChange& operator=(PulledChange&&) = default;
  ~PulledChange();  // zeroes `encoded` (plaintext)

  std::string encoded;  // the SyncedEvent, or the CaseRemoved
  bool removed = false;
  std::string case_id;      // an event of a case, or the case removed
  std::string employer_id;  // an employer-wide event
  int64_t revision = 0;
  std::string opened_employer;  // a CaseOpened's employer
  ::duurzaam::v1::CaseRemoved::Reason reason = ::duurzaam::v1::CaseRemoved::REASON_UNSPECIFIED;
};
struct PulledBatch {
  std::vector<PulledChange> changes;
  uint64_t cursor = 0;
  size_t bytes = 0;  // of the encodings
};
PulledBatch ToBatch(const google::protobuf::RepeatedPtrField<::duurzaam::v1::SyncChange>& changes,
                    uint64_t cursor);
// The JournalEntry (`pulled`) the batch was made from, encoded from the
// changes' encodings: it parses to that entry.
std::string EncodeEntry(const PulledBatch& batch);

struct CaseCopy {
  HeldEvents events;
  std::string employer_id;  // from CaseOpened
};

class Replica {
 public:
  Replica();
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Applies one journal entry (in journal order). INVALID_ARGUMENT for an
  // entry that does not fit (an outcome for an unknown intent, ...).
  [[nodiscard]] absl::Status Apply(const JournalEntry& entry);
  // A pulled entry as a batch (what Apply makes of one).
  void ApplyPulled(PulledBatch batch);

  const ::duurzaam::expert::v1::Identity& identity() const { return identity_; }
  uint64_t cursor() const { return cursor_; }
  const std::map<std::string, CaseCopy>& cases() const { return cases_; }
  const std::vector<IntentRecord>& intents() const { return intents_; }
  const IntentRecord* FindIntent(const std::string& event_id) const;
  // Intents purged with their cases, oldest first.
  const std::vector<PurgedIntentRecord>& purged_intents() const { return purged_intents_; }
  // A case was purged since the last snapshot (the journal still holds its
  // ciphertext until the app rewrites it).
  bool NeedsCompaction() const { return needs_compaction_; }
  void MarkCompacted() { needs_compaction_ = false; }

  // The case's revision as the server last sent it (-1: none held).
  int64_t ServerRevision(const std::string& case_id) const;
  // The case as the device sees it: the server's events in revision order
  // and, with `offline`, the pending intents on it after them (recorded
  // "today" by the expert). NOT_FOUND when the device holds no such case.
  [[nodiscard]] absl::StatusOr<std::vector<domain::Event>> Events(const std::string& case_id,
                                                                  bool offline) const;
  // Employer-wide events of the case's employer.
  [[nodiscard]] absl::StatusOr<std::vector<domain::Event>> EmployerEvents(
      const std::string& case_id) const;
  // Pending intents on the case (they make its view "offline").
  int PendingOn(const std::string& case_id) const;

  // A new intent, checked locally with the server's rules (domain::Decide
  // on the offline view): the journal entry to save, or the refusal (the
  // same rule ids and field paths the server gives, under "event.").
  [[nodiscard]] absl::StatusOr<JournalEntry> NewIntent(const std::string& case_id,
                                                       const ::duurzaam::v1::PlacementEvent& event,
                                                       const std::string& event_id,
                                                       domain::Date today,
                                                       int64_t now_micros) const;

  // The replica as the fewest entries that rebuild it (no purged case in
  // any byte): what the app rewrites its journal with.
  std::vector<JournalEntry> Snapshot() const;

 private:
  void Remove(const std::string& case_id, ::duurzaam::v1::CaseRemoved::Reason reason,
              bool device_refused);
  // The held events in domain terms, appended to `out`.
  [[nodiscard]] static absl::Status Decode(const HeldEvents& held, std::vector<domain::Event>* out);

  ::duurzaam::expert::v1::Identity identity_;
  uint64_t cursor_ = 0;
  std::map<std::string, CaseCopy> cases_;
  std::map<std::string, HeldEvents> employers_;  // by employer id
  std::vector<IntentRecord> intents_;
  std::vector<PurgedIntentRecord> purged_intents_;
  std::map<std::string, size_t> intent_index_;  // event id → intents_
  bool needs_compaction_ = false;
};

}  // namespace duurzaam::expert
