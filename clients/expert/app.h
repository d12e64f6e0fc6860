// The expert app's core, shared by the CLI (duurzaam-expert) and a later
// GUI: the replica in its encrypted journal, offline recording with the
// server's rules, and sync (push the outbox, then pull) over a Cases stub.
// Every change is in the journal, durably, before a call returns OK.
// Not thread-safe: one app per journal (the vault's lock enforces one
// process).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "clients/expert/replica.h"
#include "clients/expert/vault.h"
#include "duurzaam/v1/cases.grpc.pb.h"

namespace duurzaam::expert {

// What one sync did.
struct SyncReport {
  int pushed = 0;
  int appended = 0, duplicate = 0, rebased = 0, conflict = 0, rejected = 0;
  int events_received = 0;
  int cases_removed = 0;
  // Intents that went with those cases (kept in the history by id only).
  int intents_purged = 0;
  bool caught_up = false;
  // The server no longer admits this device (revoked or expired
  // certificate): every case was purged from it.
  bool device_refused = false;
};

// Progress of a long pull: the log cursor reached and the log's end.
using Progress = std::function<void(uint64_t cursor, uint64_t log_end)>;

class ExpertApp {
 public:
  // A new replica in `journal_path` for `identity` (the expert, the server
  // and how to reach it).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ExpertApp>> Create(
      const std::string& journal_path, std::string_view passphrase,
      const ::duurzaam::expert::v1::Identity& identity, const VaultOptions& kdf = {});
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ExpertApp>> Open(
      const std::string& journal_path, std::string_view passphrase);

  const Replica& replica() const { return replica_; }
  // True when Open found an unfinished last record (a crash mid-save) and
  // dropped it: it was never reported as saved.
  bool recovered_unfinished_save() const { return vault_->dropped_unfinished_record(); }

  // Records an event offline: checked with the server's rules against the
  // case as the device sees it, then saved (durable) as a pending intent.
  // Returns the intent's event id (new, or `event_id` when given).
  [[nodiscard]] absl::StatusOr<std::string> Record(const std::string& case_id,
                                                   const ::duurzaam::v1::PlacementEvent& event,
                                                   domain::Date today, int64_t now_micros,
                                                   std::string event_id = "");

  // Resolves a conflicted or rejected intent: discard it (kept in the
  // history), or replace it by `replacement` (keep mine: the same event on
  // top of the case as it is now; or an edited one), checked as Record
  // checks. FAILED_PRECONDITION when the intent needs no resolution.
  [[nodiscard]] absl::Status Discard(const std::string& event_id);
  [[nodiscard]] absl::StatusOr<std::string> Replace(
      const std::string& event_id, const ::duurzaam::v1::PlacementEvent& replacement,
      domain::Date today, int64_t now_micros);

  // Push every pending intent, then pull until caught up. Resumable: a
  // failure at any point leaves the journal consistent and the next sync
  // goes on (pushed intents come back DUPLICATE). `make_context` prepares
  // each call (deadline, credentials metadata in dev mode).
  [[nodiscard]] absl::StatusOr<SyncReport> Sync(
      ::duurzaam::v1::Cases::StubInterface* stub,
      const std::function<void(grpc::ClientContext*)>& make_context,
      const Progress& progress = nullptr);

 private:
  ExpertApp() = default;
  [[nodiscard]] absl::Status Save(std::vector<JournalEntry> entries);
  // Pulled batches: one durable append, then applied.
  [[nodiscard]] absl::Status SavePulled(std::vector<PulledBatch> group);
  [[nodiscard]] absl::Status Compact();
  [[nodiscard]] absl::Status PurgeAll(SyncReport* report);

  std::unique_ptr<Vault> vault_;
  Replica replica_;
};

}  // namespace duurzaam::expert
