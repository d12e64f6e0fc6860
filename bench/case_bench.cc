// Case API benchmarks: status query latency from the maintained projection,
// projection rebuild rate, and a mixed load of commands and queries.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/benches.h"
#include "bench/harness.h"
#include "clients/expert/app.h"
#include "codec/placement_codec.h"
#include "codec/sealing.h"
#include "demo/demo_data.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "projections/case_projection.h"
#include "server/stack.h"
#include "services/server.h"

namespace duurzaam::bench {
namespace {

using Clock = std::chrono::steady_clock;
const domain::Date kToday(2026, 11, 23);

// Appends events stream by stream in large unsynced batches (fixtures).
// Appends `events` as the server stores them (sealed by `sealer`; null:
// personal data in plain text).
void BulkAppend(eventstore::Store* store, const std::vector<demo::DemoEvent>& events,
                const codec::Sealer* sealer = nullptr) {
  std::map<std::string, std::vector<const domain::Event*>> streams;
  std::vector<std::string> order;
  for (const auto& d : events) {
    if (!streams.count(d.stream)) order.push_back(d.stream);
    streams[d.stream].push_back(&d.event);
  }
  for (const std::string& stream : order) {
    const auto& list = streams[stream];
    for (size_t i = 0; i < list.size(); i += 1000) {
      eventstore::StreamAppend append{stream, eventstore::Expectation::Any(), {}};
      for (size_t k = i; k < std::min(list.size(), i + 1000); ++k) {
        append.events.push_back(
            *codec::Encode(*list[k], *eventstore::EventId::Parse(list[k]->id), stream, sealer));
      }
      if (!store->Append(append).ok()) std::exit(1);
    }
  }
}

// A case with `n` events: opened, hired, then contacts and check-ins.
std::vector<demo::DemoEvent> LongCase(const std::string& id, int n,
                                      const std::string& expert = "expert:bench") {
  std::vector<demo::DemoEvent> out;
  auto add = [&](int days_ago, domain::EventBody body) {
    domain::Event e;
    e.id = eventstore::EventId::Random().ToString();
    e.occurred_on = kToday - days_ago;
    e.recorded_on = kToday;
    e.recorded_by = {expert, domain::Role::kExpert, {}};
    e.body = std::move(body);
    out.push_back({"case-" + id, std::move(e)});
  };
  add(3000, domain::CaseOpened{"worker-" + id, "acme", "Twente", "Wajong"});
  add(3000, domain::TeamMemberAdded{expert});
  add(2990, domain::Hired{domain::ContractType::kPermanent, std::nullopt, 24, "", ""});
  for (int i = 3; i < n; ++i) {
    int day = 2980 - (i * 2900 / n);
    if (i % 10 == 0) {
      add(day, domain::MonitoringCheckIn{
                   i % 20 == 0 ? domain::Respondent::kEmployer : domain::Respondent::kWorker,
                   {{domain::Item::kFit, 4}, {domain::Item::kIntentionToContinue, 4}},
                   ""});
    } else {
      add(day, domain::ContactMoment{domain::ContactKind::kVisit, "bezoek"});
    }
  }
  return out;
}

// The production stack in dev mode, personal data sealed: fill `store`
// first, then Serve (which waits for the projections).
struct CaseServer : BenchServer {
  explicit CaseServer(const ScratchDir& dir)
      : BenchServer(dir, /*mtls=*/false, /*encrypt=*/true, /*serve=*/false),
        sealer(stack->keys()) {}
  void Serve() {
    BenchServer::Serve();
    channel = ChannelAs("");
  }
  std::shared_ptr<grpc::Channel> channel;
  codec::DataKeySealer sealer;  // as the server seals
};

// The benchmark's expert; the demo cases' expert is jdevries.
void As(grpc::ClientContext* c, const char* who = "expert:bench") {
  c->AddMetadata("x-duurzaam-principal", who);
  c->AddMetadata("x-duurzaam-role", "EXPERT");
}

// One durable raw append of a ~300-byte event (the baselines' unit).
void RawAppend(v1::EventStore::Stub* events, const std::string& stream, int i) {
  v1::AppendRequest append;
  append.set_stream(stream);
  auto* e = append.add_events();
  e->set_event_id(eventstore::EventId::Random().ToString());
  e->set_event_type("BenchTick");
  e->set_data(Payload(i));
  v1::AppendResponse appended;
  grpc::ClientContext context;
  if (!events->Append(&context, append, &appended).ok()) std::exit(1);
}

}  // namespace

void CaseStatusLatency(const Settings& settings) {
  const int events = settings.smoke ? 100 : 1000;
  const int queries = settings.smoke ? 50 : 2000;
  ScratchDir dir(settings, "status");
  CaseServer s(dir);
  BulkAppend(s.store, LongCase("long", events), &s.sealer);
  s.Serve();
  auto cases = v1::Cases::NewStub(s.channel);
  auto events_api = v1::EventStore::NewStub(s.channel);
  std::vector<double> p50s, p99s, append_p50s;
  for (int run = 0; run < settings.runs; ++run) {
    // Baseline: the durable floor a status query stands on (its access-log
    // record is one durable write): sequential raw appends, same server.
    std::vector<double> appends;
    for (int i = 0; i < queries / 4; ++i) {
      auto start = Clock::now();
      RawAppend(events_api.get(), "ext-bench-status", i);
      appends.push_back(Seconds(Clock::now() - start) * 1e3);
    }
    append_p50s.push_back(Median(appends));
    std::vector<double> latencies;
    for (int i = 0; i < queries; ++i) {
      v1::GetStatusRequest request;
      request.set_case_id("long");
      v1::CaseStatus status;
      grpc::ClientContext context;
      As(&context);
      auto start = Clock::now();
      if (!cases->GetStatus(&context, request, &status).ok()) std::exit(1);
      latencies.push_back(Seconds(Clock::now() - start) * 1e3);
    }
    p50s.push_back(Median(latencies));
    p99s.push_back(Percentile(latencies, 99));
  }
  double p50 = Median(p50s);
  Report({absl::StrCat("status query, case of ", events, " events, p50"), p50, "ms",
          "sequential durable raw append p50, same server", Median(append_p50s),
          "<= 1.5 ms (with its access-log record)", settings.smoke || p50 <= 1.5});
  Report({absl::StrCat("status query, case of ", events, " events, p99"), Median(p99s), "ms", "", 0,
          "(reported)", true});
}

void ProjectionRebuild(const Settings& settings) {
  ScratchDir dir(settings, "rebuild");
  auto store = OpenBenchStore(dir.Sub("events"), /*sync=*/false);
  // ~171 events per demo unit: just over 1,000,000 events at 5,850 units.
  const int scale = settings.smoke ? 20 : 5850;
  BulkAppend(store.get(), demo::DemoEvents(kToday, scale));
  const uint64_t events = store->CommittedEnd();
  auto projection = std::move(*projections::CaseProjection::Open(dir.Sub("projections")));
  double rebuild = MedianOf(settings.runs, [&] {
    const double cpu_before = CpuSeconds();
    auto start = Clock::now();
    if (!projection->Rebuild(store.get()).ok() || projection->Checkpoint() != events) {
      std::exit(1);
    }
    const double seconds = Seconds(Clock::now() - start);
    // Rebuilding is CPU-bound on both cores: CPU per event is the steadier
    // figure when the machine's speed varies between runs.
    std::fprintf(stderr, "  rebuild: %.0f events/s, %.2f us CPU per event (all threads)\n",
                 events / seconds, (CpuSeconds() - cpu_before) * 1e6 / events);
    return events / seconds;
  });
  double scan = MedianOf(settings.runs, [&] {
    uint64_t n = 0;
    auto start = Clock::now();
    if (!store
             ->ScanAll(0, {}, events + 1,
                       [&](const eventstore::EventView&) {
                         ++n;
                         return true;
                       })
             .ok()) {
      std::exit(1);
    }
    return n / Seconds(Clock::now() - start);
  });
  Report({absl::StrCat("projection rebuild, ", events, " events"), rebuild, "/s",
          "engine scan of the same log", scan, ">= 500000 /s",
          settings.smoke || rebuild >= 500000});
}

void MixedLoad(const Settings& settings) {
  const int writers = settings.smoke ? 2 : 32, readers = settings.smoke ? 2 : 32;
  const double duration = settings.smoke ? 0.3 : 5.0;
  ScratchDir dir(settings, "mixed");
  CaseServer s(dir);
  if (!demo::Seed(s.store, kToday, nullptr, 2).ok()) std::exit(1);
  s.Serve();
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::vector<double> write_lat, read_lat;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto cases = v1::Cases::NewStub(s.channel);
      std::string id = absl::StrCat("mixed-", w);
      int64_t revision = -1;
      std::vector<double> local;
      for (int i = 0; i < 100000 && !stop.load(); ++i) {
        v1::RecordCaseEventRequest request;
        request.set_case_id(id);
        request.set_event_id(eventstore::EventId::Random().ToString());
        request.set_expected_revision(revision);
        auto* day = request.mutable_event()->mutable_occurred_on();
        day->set_year(2026);
        day->set_month(11);
        day->set_day(1);
        if (revision == -1) {
          auto* o = request.mutable_event()->mutable_case_opened();
          o->set_worker_ref("w");
          o->set_employer_id("acme");
          o->set_region("Twente");
          o->set_target_group("Wajong");
        } else {
          request.mutable_event()->mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
        }
        v1::RecordCaseEventResponse response;
        grpc::ClientContext context;
        As(&context);
        auto start = Clock::now();
        if (!cases->RecordCaseEvent(&context, request, &response).ok()) std::exit(1);
        local.push_back(Seconds(Clock::now() - start) * 1e3);
        revision = response.revision();
      }
      absl::MutexLock lock(&mu);
      write_lat.insert(write_lat.end(), local.begin(), local.end());
    });
  }
  const char* names[] = {"anna", "bram", "chris", "dewi", "emre", "fleur"};
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      auto cases = v1::Cases::NewStub(s.channel);
      std::vector<double> local;
      for (int i = 0; i < 100000 && !stop.load(); ++i) {
        grpc::ClientContext context;
        As(&context, "expert:jdevries");
        auto start = Clock::now();
        bool ok;
        if (i % 2 == 0) {
          v1::GetStatusRequest request;
          request.set_case_id(names[(r + i) % 6]);
          v1::CaseStatus status;
          ok = cases->GetStatus(&context, request, &status).ok();
        } else {
          v1::GetTimelineRequest request;
          request.set_case_id(names[(r + i) % 6]);
          v1::Timeline timeline;
          ok = cases->GetTimeline(&context, request, &timeline).ok();
        }
        if (!ok) std::exit(1);
        local.push_back(Seconds(Clock::now() - start) * 1e3);
      }
      absl::MutexLock lock(&mu);
      read_lat.insert(read_lat.end(), local.begin(), local.end());
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(duration * 1000)));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = Seconds(Clock::now() - start);
  Report({absl::StrCat("mixed: commands, ", writers, " clients"), write_lat.size() / elapsed, "/s",
          "", 0, "(reported)", true});
  Report({"mixed: command p99", Percentile(write_lat, 99), "ms", "", 0, "(reported)", true});
  Report({absl::StrCat("mixed: status+timeline queries, ", readers, " clients"),
          read_lat.size() / elapsed, "/s", "", 0, "(reported)", true});
  Report({"mixed: query p99", Percentile(read_lat, 99), "ms", "", 0, "(reported)", true});
}

}  // namespace duurzaam::bench

namespace duurzaam::bench {

// The expert app's first sync of a whole portfolio, and a push of 1,000
// offline intents, beside the server's own catch-up read of the same log
// (EventStore.Subscribe, as stored) and the same number of sequential
// durable raw appends, on the same server in the same run.
void ExpertSync(const Settings& settings) {
  const int cases = settings.smoke ? 5 : 200;
  const int per_case = settings.smoke ? 50 : 500;
  const int intents = settings.smoke ? 20 : 1000;
  std::vector<double> first_rates, catchup_rates, pull_rates, push_seconds, append_seconds;
  for (int run = 0; run < settings.runs; ++run) {
    ScratchDir dir(settings, "expert-sync");
    CaseServer s(dir);
    for (int c = 0; c < cases; ++c)
      BulkAppend(s.store, LongCase(absl::StrCat("c", c), per_case), &s.sealer);
    s.Serve();
    const uint64_t total = s.store->CommittedEnd();
    // Baseline: the server's catch-up of the whole log.
    {
      auto events = v1::EventStore::NewStub(s.channel);
      v1::SubscribeRequest request;
      request.mutable_all()->set_from_position(0);
      grpc::ClientContext context;
      const auto start = Clock::now();
      auto reader = events->Subscribe(&context, request);
      v1::SubscribeResponse message;
      uint64_t seen = 0;
      while (reader->Read(&message)) {
        seen += message.events().events_size();
        if (message.has_caught_up()) break;
      }
      const double seconds = Seconds(Clock::now() - start);
      context.TryCancel();
      reader->Finish().IgnoreError();
      if (seen != total) std::exit(1);
      catchup_rates.push_back(static_cast<double>(seen) / seconds);
    }
    // The app's first sync: every event of the expert's cases into the
    // encrypted journal, durably, then applied.
    // As the CLI connects: messages up to 64 MiB (a join's backlog rides in
    // one response).
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    auto stub = v1::Cases::NewStub(grpc::CreateCustomChannel(
        s.server->address(), grpc::InsecureChannelCredentials(), args));
    expert::v1::Identity identity;
    identity.set_server("127.0.0.1");
    identity.set_expert_id("expert:bench");
    auto app = expert::ExpertApp::Create(dir.Sub("replica.vault"), "bench passphrase", identity);
    if (!app.ok()) std::exit(1);
    auto as_expert = [](grpc::ClientContext* c) { As(c); };
    auto start = Clock::now();
    absl::StatusOr<expert::SyncReport> report;
    {
      PerfSection profiled("first-sync");
      report = (*app)->Sync(stub.get(), as_expert);
    }
    const double first = Seconds(Clock::now() - start);
    if (!report.ok() || report->events_received != cases * per_case) {
      std::fprintf(stderr, "first sync: %s\n",
                   report.ok() ? "wrong count" : std::string(report.status().message()).c_str());
      std::exit(1);
    }
    first_rates.push_back(report->events_received / first);
    // The server's side alone: the same pull, read and dropped (after the
    // app's, so that one finds nothing warmed for it).
    {
      grpc::ClientContext context;
      As(&context);
      const auto pull_start = Clock::now();
      auto reader = stub->Pull(&context, v1::PullRequest());
      v1::PullResponse message;
      uint64_t seen = 0;
      while (reader->Read(&message)) {
        seen += message.changes_size();
        if (message.caught_up()) break;
      }
      const double seconds = Seconds(Clock::now() - pull_start);
      context.TryCancel();
      reader->Finish().IgnoreError();
      if (seen != static_cast<uint64_t>(cases * per_case)) std::exit(1);
      pull_rates.push_back(static_cast<double>(seen) / seconds);
    }
    // Offline intents on every case, then one sync (push, then pull).
    for (int i = 0; i < intents; ++i) {
      v1::PlacementEvent e;
      codec::ToProto(kToday, e.mutable_occurred_on());
      e.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
      e.mutable_contact_moment()->set_summary("gebeld");
      if (!(*app)
               ->Record(absl::StrCat("c", i % cases), e, kToday, absl::ToUnixMicros(absl::Now()))
               .ok()) {
        std::exit(1);
      }
    }
    start = Clock::now();
    report = (*app)->Sync(stub.get(), as_expert);
    push_seconds.push_back(Seconds(Clock::now() - start));
    if (!report.ok() || report->appended + report->rebased != intents) std::exit(1);
    // Baseline: as many sequential durable raw appends.
    auto events = v1::EventStore::NewStub(s.channel);
    start = Clock::now();
    for (int i = 0; i < intents; ++i) RawAppend(events.get(), "ext-bench-expert", i);
    append_seconds.push_back(Seconds(Clock::now() - start));
  }
  const double first = Median(first_rates), catchup = Median(catchup_rates);
  Report({absl::StrCat("expert app first sync, ", cases, " cases x ", per_case, " events"), first,
          "events/s", "server catch-up (Subscribe all, as stored), same log", catchup,
          ">= 0.5x baseline", settings.smoke || first >= 0.5 * catchup});
  Report({"server side of that first sync (Cases.Pull read and dropped)", Median(pull_rates),
          "events/s", "server catch-up (Subscribe all, as stored), same log", catchup, "", true});
  const double push = Median(push_seconds);
  Report({absl::StrCat("expert app sync of ", intents, " pending intents (push + pull)"), push, "s",
          absl::StrCat(intents, " sequential durable raw appends, same server"),
          Median(append_seconds), "<= 2 s", settings.smoke || push <= 2.0});
}

}  // namespace duurzaam::bench
