#include "clients/expert/app.h"

#include <string.h>  // explicit_bzero

#include <deque>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "eventstore/types.h"

namespace duurzaam::expert {
namespace {

using ::duurzaam::v1::IntentOutcome;

constexpr int kMaxIntentsPerPush = 1000;

absl::Status FromGrpc(const grpc::Status& s, const char* what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

// The server refused this device's certificate for good (revoked, expired).
bool DeviceRefused(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
         (absl::StrContains(s.error_message(), "revoked") ||
          absl::StrContains(s.error_message(), "expired"));
}

// Saves pulled groups in order on a thread of its own, while the reader
// reads the next ones: parsing and encrypting, writing and fdatasync run
// side by side. At most kAhead groups wait.
class GroupSaver {
 public:
  using SaveFn = std::function<absl::Status(std::vector<PulledBatch>)>;
  static constexpr size_t kAhead = 2;

  GroupSaver(SaveFn save, const Progress& progress)
      : save_(std::move(save)), progress_(progress), thread_([this] { Run(); }) {}
  ~GroupSaver() { (void)Finish(); }

  // Hands a group over (waiting while kAhead are unsaved); false once a
  // save failed (Finish says why).
  bool Add(std::vector<PulledBatch> group, uint64_t cursor, uint64_t log_end) {
    MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &GroupSaver::HasRoom));
    if (!error_.ok()) return false;
    queue_.push_back({std::move(group), cursor, log_end});
    return true;
  }

  // Waits until every group handed over is saved; the first failure.
  absl::Status Finish() {
    {
      MutexLock lock(&mu_);
      closed_ = true;
    }
    if (thread_.joinable()) thread_.join();
    MutexLock lock(&mu_);
    return error_;
  }

 private:
  struct Group {
    std::vector<PulledBatch> entries;
    uint64_t cursor, log_end;
  };
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() < kAhead || !error_.ok();
  }
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || closed_; }

  void Run() {
    while (true) {
      Group group;
      {
        MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &GroupSaver::HasWork));
        if (queue_.empty()) return;  // closed, all saved
        group = std::move(queue_.front());
      }
      const absl::Status s = save_(std::move(group.entries));
      if (s.ok() && progress_) progress_(group.cursor, group.log_end);
      MutexLock lock(&mu_);
      queue_.pop_front();
      if (!s.ok()) {
        error_ = s;
        queue_.clear();  // nothing after a failed save is saved
      }
    }
  }

  SaveFn save_;
  const Progress& progress_;
  Mutex mu_;
  std::deque<Group> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the rest is set
};

// Arena blocks that are zeroed before they are freed: the arenas the app
// parses responses and journal records on hold plaintext.
void* NewBlock(size_t size) { return ::operator new(size); }
void WipeBlock(void* block, size_t size) {
  explicit_bzero(block, size);
  ::operator delete(block);
}

// An arena whose blocks are zeroed when freed, on `initial` (zeroed by its
// owner) when given.
google::protobuf::ArenaOptions WipedArena(char* initial = nullptr, size_t size = 0) {
  google::protobuf::ArenaOptions options;
  options.block_alloc = &NewBlock;
  options.block_dealloc = &WipeBlock;
  options.initial_block = initial;
  options.initial_block_size = size;
  return options;
}

// A block zeroed when it goes.
struct WipedBytes {
  explicit WipedBytes(size_t n) : size(n), bytes(new char[n]) {}  // NOLINT: written before read
  ~WipedBytes() { explicit_bzero(bytes.get(), size); }
  size_t size;
  std::unique_ptr<char[]> bytes;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ExpertApp>> ExpertApp::Create(
    const std::string& journal_path, std::string_view passphrase,
    const ::duurzaam::expert::v1::Identity& identity, const VaultOptions& kdf) {
  std::unique_ptr<ExpertApp> app(new ExpertApp());
  ASSIGN_OR_RETURN(app->vault_, Vault::Create(journal_path, passphrase, kdf));
  JournalEntry entry;
  *entry.mutable_identity() = identity;
  RETURN_IF_ERROR(app->Save({entry}));
  return app;
}

absl::StatusOr<std::unique_ptr<ExpertApp>> ExpertApp::Open(const std::string& journal_path,
                                                           std::string_view passphrase) {
  std::unique_ptr<ExpertApp> app(new ExpertApp());
  Replica* replica = &app->replica_;
  // Each record parsed on one arena, reset for the next (what the replica
  // keeps, it copies out).
  google::protobuf::Arena arena(WipedArena());
  auto replay = [replica, &arena](std::string_view record) {
    arena.Reset();
    auto* entry = google::protobuf::Arena::CreateMessage<JournalEntry>(&arena);
    if (!entry->ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      return absl::DataLossError("a journal record is not a JournalEntry");
    }
    return replica->Apply(*entry);
  };
  ASSIGN_OR_RETURN(app->vault_, Vault::Open(journal_path, passphrase, replay));
  // A purge the app had not finished (a crash between the removal and
  // the rewrite): finish it now.
  if (app->replica_.NeedsCompaction()) RETURN_IF_ERROR(app->Compact());
  return app;
}

absl::Status ExpertApp::Save(std::vector<JournalEntry> entries) {
  // Serialized straight into the sealed frame.
  RETURN_IF_ERROR(vault_->Append(std::vector<Vault::Record>(entries.begin(), entries.end())));
  for (const JournalEntry& e : entries) RETURN_IF_ERROR(replica_.Apply(e));
  return absl::OkStatus();
}

absl::Status ExpertApp::SavePulled(std::vector<PulledBatch> group) {
  std::vector<std::string> encoded;
  encoded.reserve(group.size());
  for (const PulledBatch& batch : group) encoded.push_back(EncodeEntry(batch));
  const absl::Status appended =
      vault_->Append(std::vector<Vault::Record>(encoded.begin(), encoded.end()));
  for (std::string& e : encoded) explicit_bzero(e.data(), e.size());  // plaintext
  RETURN_IF_ERROR(appended);
  for (PulledBatch& batch : group) replica_.ApplyPulled(std::move(batch));
  return absl::OkStatus();
}

absl::Status ExpertApp::Compact() {
  const std::vector<JournalEntry> snapshot = replica_.Snapshot();
  std::vector<Vault::Record> records(snapshot.begin(), snapshot.end());
  RETURN_IF_ERROR(vault_->Rewrite(records));
  replica_.MarkCompacted();
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExpertApp::Record(const std::string& case_id,
                                              const ::duurzaam::v1::PlacementEvent& event,
                                              domain::Date today, int64_t now_micros,
                                              std::string event_id) {
  if (event_id.empty()) event_id = eventstore::EventId::Random().ToString();
  ASSIGN_OR_RETURN(JournalEntry entry,
                   replica_.NewIntent(case_id, event, event_id, today, now_micros));
  RETURN_IF_ERROR(Save({std::move(entry)}));
  return event_id;
}

absl::Status ExpertApp::Discard(const std::string& event_id) {
  const IntentRecord* r = replica_.FindIntent(event_id);
  if (r == nullptr) return absl::NotFoundError(absl::StrCat("no intent ", event_id));
  if (!NeedsExpert(r->state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("intent ", event_id, " is ", StateName(r->state), ": nothing to resolve"));
  }
  JournalEntry entry;
  entry.mutable_resolution()->set_event_id(event_id);
  entry.mutable_resolution()->set_choice(v1::Resolution::DISCARD);
  return Save({std::move(entry)});
}

absl::StatusOr<std::string> ExpertApp::Replace(const std::string& event_id,
                                               const ::duurzaam::v1::PlacementEvent& replacement,
                                               domain::Date today, int64_t now_micros) {
  const IntentRecord* r = replica_.FindIntent(event_id);
  if (r == nullptr) return absl::NotFoundError(absl::StrCat("no intent ", event_id));
  if (!NeedsExpert(r->state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("intent ", event_id, " is ", StateName(r->state), ": nothing to resolve"));
  }
  const std::string new_id = eventstore::EventId::Random().ToString();
  ASSIGN_OR_RETURN(JournalEntry intent,
                   replica_.NewIntent(r->intent.case_id(), replacement, new_id, today, now_micros));
  JournalEntry resolution;
  resolution.mutable_resolution()->set_event_id(event_id);
  resolution.mutable_resolution()->set_choice(v1::Resolution::REPLACED);
  resolution.mutable_resolution()->set_replaced_by(new_id);
  // One append: the replacement and the resolution are saved together.
  RETURN_IF_ERROR(Save({std::move(intent), std::move(resolution)}));
  return new_id;
}

absl::Status ExpertApp::PurgeAll(SyncReport* report) {
  std::vector<JournalEntry> purges;
  std::set<std::string> ids;
  for (const auto& [id, copy] : replica_.cases()) ids.insert(id);
  for (const IntentRecord& r : replica_.intents()) ids.insert(r.intent.case_id());
  for (const std::string& id : ids) {
    auto* p = purges.emplace_back().mutable_purged();
    p->set_case_id(id);
    p->set_device_refused(true);
  }
  report->cases_removed += static_cast<int>(purges.size());
  report->device_refused = true;
  RETURN_IF_ERROR(Save(std::move(purges)));
  return Compact();
}

absl::StatusOr<SyncReport> ExpertApp::Sync(
    ::duurzaam::v1::Cases::StubInterface* stub,
    const std::function<void(grpc::ClientContext*)>& make_context, const Progress& progress) {
  SyncReport report;
  const size_t purged_before = replica_.purged_intents().size();
  auto done = [&] {
    report.intents_purged = static_cast<int>(replica_.purged_intents().size() - purged_before);
    return report;
  };
  // Push: the outbox in the order the intents were made, in batches; each
  // batch's outcomes are saved before the next is sent.
  std::vector<::duurzaam::v1::Intent> pending;
  for (const IntentRecord& r : replica_.intents()) {
    if (r.state == IntentState::kPending) pending.push_back(r.intent);
  }
  for (size_t start = 0; start < pending.size(); start += kMaxIntentsPerPush) {
    ::duurzaam::v1::PushIntentsRequest request;
    const size_t end = std::min(pending.size(), start + kMaxIntentsPerPush);
    for (size_t i = start; i < end; ++i) *request.add_intents() = pending[i];
    ::duurzaam::v1::PushIntentsResponse response;
    grpc::ClientContext context;
    if (make_context) make_context(&context);
    grpc::Status s = stub->PushIntents(&context, request, &response);
    if (DeviceRefused(s)) {
      RETURN_IF_ERROR(PurgeAll(&report));
      return done();
    }
    if (!s.ok()) return FromGrpc(s, "push");
    if (response.outcomes_size() != request.intents_size()) {
      return absl::DataLossError("the server answered a push with the wrong number of outcomes");
    }
    std::vector<JournalEntry> outcomes;
    for (int i = 0; i < response.outcomes_size(); ++i) {
      auto* o = outcomes.emplace_back().mutable_outcome();
      *o->mutable_outcome() = response.outcomes(i);
      o->set_case_id(request.intents(i).case_id());
      switch (response.outcomes(i).kind()) {
        case IntentOutcome::APPENDED:
          ++report.appended;
          break;
        case IntentOutcome::DUPLICATE:
          ++report.duplicate;
          break;
        case IntentOutcome::REBASED:
          ++report.rebased;
          break;
        case IntentOutcome::CONFLICT:
          ++report.conflict;
          break;
        default:
          ++report.rejected;
      }
    }
    report.pushed += response.outcomes_size();
    RETURN_IF_ERROR(Save(std::move(outcomes)));
  }

  // Pull from the kept cursor until caught up; each response is saved
  // with its cursor before the next is read.
  ::duurzaam::v1::PullRequest request;
  request.set_cursor(replica_.cursor());
  grpc::ClientContext context;
  if (make_context) make_context(&context);
  auto reader = stub->Pull(&context, request);
  // Each response is parsed on one arena, on a block kept from one
  // response to the next (a response is at most about 2 MiB on the wire),
  // and taken into a batch of encoded changes before the next is read.
  // Every block is zeroed when it goes (they hold plaintext).
  const WipedBytes block(size_t{8} << 20);
  google::protobuf::Arena arena(WipedArena(block.bytes.get(), block.size));
  auto* response = google::protobuf::Arena::CreateMessage<::duurzaam::v1::PullResponse>(&arena);
  // Responses are saved in groups (one durable append each, of about
  // kSaveBytes, and always at the caught-up marker): each group holds its
  // responses' changes and the last cursor, so a crash resumes after the
  // last group saved. A group is saved on a thread of its own while the
  // next is read.
  constexpr size_t kSaveBytes = 8 << 20;
  GroupSaver saver([this](std::vector<PulledBatch> group) { return SavePulled(std::move(group)); },
                   progress);
  std::vector<PulledBatch> group;
  size_t group_bytes = 0;
  uint64_t cursor = 0, log_end = 0;
  while (reader->Read(response)) {
    PulledBatch& batch = group.emplace_back(ToBatch(response->changes(), response->cursor()));
    group_bytes += batch.bytes;
    for (const PulledChange& c : batch.changes) {
      if (c.removed) {
        ++report.cases_removed;
      } else {
        ++report.events_received;
      }
    }
    cursor = response->cursor();
    log_end = response->log_end();
    if (response->caught_up()) report.caught_up = true;
    arena.Reset();
    response = google::protobuf::Arena::CreateMessage<::duurzaam::v1::PullResponse>(&arena);
    if (group_bytes >= kSaveBytes || report.caught_up) {
      const bool ok = saver.Add(std::move(group), cursor, log_end);
      group.clear();
      group_bytes = 0;
      if (!ok) break;
    }
    if (report.caught_up) break;
  }
  // What came before a cut connection is kept too.
  if (!group.empty()) saver.Add(std::move(group), cursor, log_end);
  const absl::Status saved = saver.Finish();
  // Cancel only a stream this side leaves (caught up, or a failed save): a
  // stream the server ended keeps the server's status.
  if (report.caught_up || !saved.ok()) context.TryCancel();
  grpc::Status finished = reader->Finish();
  if (!saved.ok()) return saved;
  // A purge saved before a failure is finished now, not at the next
  // complete sync.
  if (replica_.NeedsCompaction()) RETURN_IF_ERROR(Compact());
  if (!report.caught_up) {
    if (DeviceRefused(finished)) {
      RETURN_IF_ERROR(PurgeAll(&report));
      return done();
    }
    if (finished.ok()) {
      return absl::UnavailableError("the server ended the pull before it caught up; sync again");
    }
    return FromGrpc(finished, "pull");
  }
  return done();
}

}  // namespace duurzaam::expert
