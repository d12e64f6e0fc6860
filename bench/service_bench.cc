// Service benchmarks over loopback, against a bare gRPC echo service
// measured by the same harness in the same run.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/benches.h"
#include "bench/harness.h"
#include "clients/lib/log_reader.h"
#include "codec/employer_registry.h"
#include "crypto/data_keys.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "echo.grpc.pb.h"
#include "projections/case_projection.h"
#include "rocksdb/db.h"
#include "server/stack.h"
#include "services/server.h"

namespace duurzaam::bench {
namespace {

using Clock = std::chrono::steady_clock;

class EchoService final : public duurzaam::bench::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoMessage* request,
                    EchoMessage* response) override {
    *response = *request;
    return grpc::Status::OK;
  }
  grpc::Status Stream(grpc::ServerContext*, const StreamRequest* request,
                      grpc::ServerWriter<EchoMessage>* writer) override {
    EchoMessage message;
    message.set_payload(std::string(request->bytes(), 'x'));
    for (uint32_t i = 0; i < request->messages(); ++i) {
      if (!writer->Write(message)) break;
    }
    return grpc::Status::OK;
  }
};

struct EchoServer {
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  EchoServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~EchoServer() { server->Shutdown(std::chrono::system_clock::now()); }
};

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

v1::AppendRequest AppendRequest(int t, uint64_t i) {
  v1::AppendRequest request;
  request.set_stream(absl::StrCat("ext-case-", t));
  auto* e = request.add_events();
  e->set_event_id(eventstore::EventId::Random().ToString());
  e->set_event_type("MonitoringCheckIn");
  e->set_data(Payload(i));
  return request;
}

// Keeps `in_flight` calls outstanding from this process with gRPC's
// callback API (no thread per call) until `duration` passes or `max_calls`
// complete; returns completed calls per second. `start(done)` starts one
// call and must invoke done(ok) from its completion.
double InFlight(int in_flight, double duration, uint64_t max_calls,
                const std::function<void(std::function<void(bool)>)>& start) {
  struct State {
    std::atomic<uint64_t> completed{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    absl::Mutex mu;
    int active ABSL_GUARDED_BY(mu) = 0;
  } state;
  std::function<void()> issue = [&] {
    if (state.stop.load()) {
      absl::MutexLock lock(&state.mu);
      --state.active;
      return;
    }
    start([&](bool ok) {
      if (!ok) state.failed = true;
      if (state.completed.fetch_add(1) + 1 >= max_calls || !ok) state.stop = true;
      issue();
    });
  };
  auto begin = Clock::now();
  {
    absl::MutexLock lock(&state.mu);
    state.active = in_flight;
  }
  for (int i = 0; i < in_flight; ++i) issue();
  while (!state.stop.load() && Seconds(Clock::now() - begin) < duration) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  state.stop = true;
  uint64_t completed = state.completed.load();
  double elapsed = Seconds(Clock::now() - begin);
  {
    absl::MutexLock lock(&state.mu);
    state.mu.Await(absl::Condition(
        +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->active == 0; }, &state));
  }
  if (state.failed.load()) {
    std::fprintf(stderr, "a benchmark call failed\n");
    std::exit(1);
  }
  return completed / elapsed;
}

// Durable appends of ~300-byte events to 64 streams named `prefix`N, with
// `in_flight` calls outstanding, as `user` ("" on a dev server).
double AppendRate(const BenchServer& s, const std::string& user, const std::string& prefix,
                  int in_flight, double duration, uint64_t max_calls) {
  auto stub = v1::EventStore::NewStub(s.ChannelAs(user));
  std::atomic<uint64_t> n{0};
  return InFlight(in_flight, duration, max_calls, [&](std::function<void(bool)> done) {
    struct Call {
      grpc::ClientContext context;
      v1::AppendRequest request;
      v1::AppendResponse response;
    };
    auto* call = new Call;
    uint64_t i = n++;
    call->request = AppendRequest(static_cast<int>(i % 64), i);
    call->request.set_stream(absl::StrCat(prefix, i % 64));
    stub->async()->Append(&call->context, &call->request, &call->response,
                          [call, done](grpc::Status status) {
                            if (!status.ok()) {
                              std::fprintf(stderr, "append: %s\n", status.error_message().c_str());
                            }
                            delete call;
                            done(status.ok());
                          });
  });
}

// Cases.RecordCaseEvent as `user` ("" on a dev server: a dev-mode expert)
// on `cases` cases it opens first, `in_flight` commands outstanding, each on
// a case with none in flight (its expected revision known): contact moments
// with a ~250-byte summary, which is personal data (sealed when encrypting).
double CaseCommandRate(const BenchServer& s, const std::string& user, int cases, int in_flight,
                       double duration, uint64_t max_calls) {
  // The cases open at this employer, which must be registered.
  if (!codec::RegisterEmployer(s.store, "bench-employer", "Bench BV", "admin:bench", 0).ok()) {
    std::exit(1);
  }
  auto stub = v1::Cases::NewStub(s.ChannelAs(user));
  auto today = [] {
    v1::PlacementEvent e;
    e.mutable_occurred_on()->set_year(2026);
    e.mutable_occurred_on()->set_month(11);
    e.mutable_occurred_on()->set_day(23);
    return e;
  };
  auto identify = [&](grpc::ClientContext* context) {
    if (!user.empty()) return;
    context->AddMetadata("x-duurzaam-principal", "expert:bench");
    context->AddMetadata("x-duurzaam-role", "EXPERT");
  };
  absl::Mutex mu;
  std::vector<std::pair<int, int64_t>> idle;  // (case, revision) with nothing in flight
  for (int c = 0; c < cases; ++c) {
    v1::RecordCaseEventRequest request;
    request.set_case_id(absl::StrCat("ext-bench-", c));
    request.set_event_id(eventstore::EventId::Random().ToString());
    request.set_expected_revision(-1);
    *request.mutable_event() = today();
    auto* opened = request.mutable_event()->mutable_case_opened();
    opened->set_worker_ref(absl::StrCat("werknemer-", c));
    opened->set_employer_id("bench-employer");
    opened->set_region("Groot Amsterdam");
    opened->set_target_group("Wajong");
    v1::RecordCaseEventResponse response;
    grpc::ClientContext context;
    identify(&context);
    grpc::Status status = stub->RecordCaseEvent(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "open case: %s\n", status.error_message().c_str());
      std::exit(1);
    }
    idle.emplace_back(c, response.revision());
  }
  std::atomic<uint64_t> n{0};
  return InFlight(in_flight, duration, max_calls, [&](std::function<void(bool)> done) {
    struct Call {
      grpc::ClientContext context;
      v1::RecordCaseEventRequest request;
      v1::RecordCaseEventResponse response;
      int case_index;
    };
    auto* call = new Call;
    {
      absl::MutexLock lock(&mu);
      call->case_index = idle.back().first;
      call->request.set_expected_revision(idle.back().second);
      idle.pop_back();
    }
    call->request.set_case_id(absl::StrCat("ext-bench-", call->case_index));
    call->request.set_event_id(eventstore::EventId::Random().ToString());
    *call->request.mutable_event() = today();
    auto* contact = call->request.mutable_event()->mutable_contact_moment();
    contact->set_kind(v1::CONTACT_KIND_PHONE);
    contact->set_summary(Payload(n++).substr(0, 250));
    identify(&call->context);
    stub->async()->RecordCaseEvent(
        &call->context, &call->request, &call->response,
        [call, done, &mu, &idle](grpc::Status status) {
          if (!status.ok()) std::fprintf(stderr, "record: %s\n", status.error_message().c_str());
          {
            absl::MutexLock lock(&mu);
            idle.emplace_back(call->case_index, status.ok() ? call->response.revision()
                                                            : call->request.expected_revision());
          }
          delete call;
          done(status.ok());
        });
  });
}

// Catch-up rate of one global-log subscriber as `user` over a log of `events`.
double SubscribeRate(const BenchServer& s, const std::string& user, uint64_t events) {
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  auto start = Clock::now();
  // The client library's reader: each batch parsed into one kept EventBatch.
  client::LogReader reader(s.ChannelAs(user), &context, request);
  uint64_t received = 0;
  while (reader.Next()) {
    if (reader.kind() == client::LogReader::Kind::kEvents) {
      received += reader.events().events_size();
    } else if (reader.kind() == client::LogReader::Kind::kCaughtUp) {
      break;
    }
  }
  double elapsed = Seconds(Clock::now() - start);
  if (received != events) {
    std::fprintf(stderr, "subscribe received %llu of %llu\n",
                 static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(events));
    std::exit(1);
  }
  return received / elapsed;
}

// The wire size of one event of the log `server` serves, from its first
// subscription batch.
double SubscribedEventBytes(const BenchServer& server) {
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  grpc::ClientContext context;
  client::LogReader reader(server.ChannelAs(""), &context, request);
  if (!reader.Next() || reader.kind() != client::LogReader::Kind::kEvents ||
      reader.events().events_size() == 0) {
    std::exit(1);
  }
  return static_cast<double>(reader.events().ByteSizeLong()) / reader.events().events_size();
}

}  // namespace

BenchServer::BenchServer(const ScratchDir& dir, bool mtls, bool encrypt, bool serve) {
  pki = dir.Sub("pki");
  if (mtls) {
    std::string cmd = absl::StrCat(DUURZAAM_PKI, " init ", pki, " >/dev/null");
    for (const char* user : {"ADMIN bench-admin", "AUDITOR bench-auditor", "EXPERT bench-expert"}) {
      absl::StrAppend(&cmd, " && ", DUURZAAM_PKI, " issue ", pki, " ", user, " >/dev/null");
    }
    if (std::system(cmd.c_str()) != 0) std::exit(1);
  }
  server::StackOptions options;
  services::ServerConfig& config = options.config;
  config.data_dir = dir.Sub("data");
  config.listen = "127.0.0.1:0";
  config.dev = !mtls;
  config.max_append_events = 10000;
  config.max_append_bytes = 64 << 20;
  if (mtls) {
    config.tls_cert = pki + "/server.pem";
    config.tls_key = pki + "/server.key";
    config.tls_client_ca = pki + "/ca.pem";
    config.revoked_serials = pki + "/revoked-serials";
  }
  options.seal_personal_data = encrypt;
  if (encrypt) {
    auto keyring = crypto::MasterKeyring::FromKeys({{"bench", std::string(32, '\x2a')}});
    if (!keyring.ok()) std::exit(1);
    options.keyring = *std::move(keyring);
  }
  auto opened = server::ServerStack::Open(std::move(options));
  if (!opened.ok()) {
    std::fprintf(stderr, "server: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  stack = std::move(*opened);
  store = stack->store();
  if (serve) Serve();
}

void BenchServer::Serve() {
  if (absl::Status caught_up = stack->CatchUp(absl::Minutes(10)); !caught_up.ok()) {
    std::fprintf(stderr, "server: %s\n", caught_up.ToString().c_str());
    std::exit(1);
  }
  // Measure a settled server: the flushes and compactions of the bulk fill
  // and the projections' catch-up are done.
  if (!WaitUntilIdle()) std::fprintf(stderr, "server: background work still running\n");
  if (absl::Status served = stack->Serve(); !served.ok()) {
    std::fprintf(stderr, "server: %s\n", served.ToString().c_str());
    std::exit(1);
  }
  server = stack->server();
}

std::shared_ptr<grpc::Channel> BenchServer::ChannelAs(const std::string& user) const {
  if (user.empty()) return Channel(server->address());
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(pki + "/ca.pem");
  ssl.pem_cert_chain = slurp(pki + "/clients/" + user + ".pem");
  ssl.pem_private_key = slurp(pki + "/clients/" + user + ".key");
  return grpc::CreateChannel(absl::StrCat("localhost:", server->port()), grpc::SslCredentials(ssl));
}

BenchServer::~BenchServer() { stack->Shutdown(absl::Milliseconds(200)); }

void ServiceAppendThroughput(const Settings& settings) {
  const int threads = settings.smoke ? 4 : 64;
  const double duration = settings.smoke ? 0.2 : 4.0;
  const uint64_t max_calls = settings.smoke ? 500 : 1'000'000;
  std::vector<double> service, echo;
  for (int run = 0; run < settings.runs; ++run) {
    {
      EchoServer server;
      auto stub = duurzaam::bench::Echo::NewStub(Channel(absl::StrCat("127.0.0.1:", server.port)));
      std::atomic<uint64_t> n{0};
      echo.push_back(InFlight(threads, duration, max_calls, [&](std::function<void(bool)> done) {
        struct Call {
          grpc::ClientContext context;
          EchoMessage request, response;
        };
        auto* call = new Call;
        call->request.set_payload(Payload(n++));
        stub->async()->Echo(&call->context, &call->request, &call->response,
                            [call, done](grpc::Status status) {
                              delete call;
                              done(status.ok());
                            });
      }));
    }
    {
      ScratchDir dir(settings, "service");
      BenchServer server(dir, /*mtls=*/false);
      service.push_back(AppendRate(server, "", "ext-case-", threads, duration, max_calls));
    }
  }
  double s = Median(service), b = Median(echo);
  Report({absl::StrCat("service durable appends, ", threads, " in flight"), s, "/s",
          "bare gRPC echo, same harness", b, ">= 15000 /s and >= 0.6x baseline",
          settings.smoke || (s >= 15000 && s >= 0.6 * b)});
}

void ServiceAppendLatency(const Settings& settings) {
  const int n = settings.smoke ? 100 : 3000;
  std::vector<double> p50s, p99s, echo_p50s;
  for (int run = 0; run < settings.runs; ++run) {
    std::vector<double> lat, echo_lat;
    {
      EchoServer server;
      auto stub = duurzaam::bench::Echo::NewStub(Channel(absl::StrCat("127.0.0.1:", server.port)));
      for (int i = 0; i < n; ++i) {
        EchoMessage request, response;
        request.set_payload(Payload(i));
        grpc::ClientContext context;
        auto start = Clock::now();
        if (!stub->Echo(&context, request, &response).ok()) std::exit(1);
        echo_lat.push_back(Seconds(Clock::now() - start) * 1e3);
      }
    }
    ScratchDir dir(settings, "latency");
    BenchServer server(dir, /*mtls=*/false);
    auto stub = v1::EventStore::NewStub(server.ChannelAs(""));
    for (int i = 0; i < n; ++i) {
      v1::AppendRequest request = AppendRequest(0, i);
      v1::AppendResponse response;
      grpc::ClientContext context;
      auto start = Clock::now();
      if (!stub->Append(&context, request, &response).ok()) std::exit(1);
      lat.push_back(Seconds(Clock::now() - start) * 1e3);
    }
    p50s.push_back(Median(lat));
    p99s.push_back(Percentile(lat, 99));
    echo_p50s.push_back(Median(echo_lat));
  }
  double p50 = Median(p50s);
  Report({"service durable append p50, 1 sequential client", p50, "ms", "bare gRPC echo p50",
          Median(echo_p50s), "<= 0.6 ms", settings.smoke || p50 <= 0.6});
  Report({"service durable append p99, 1 sequential client", Median(p99s), "ms", "", 0,
          "(reported)", true});
}

void SubscribeCatchUp(const Settings& settings) {
  const uint64_t events = settings.smoke ? 20'000 : 1'000'000;
  ScratchDir dir(settings, "subscribe");
  BenchServer server(dir, /*mtls=*/false, /*encrypt=*/false, /*serve=*/false);
  BulkFill(server.store, events, 100);
  server.Serve();
  // Baseline: the engine scanning the same log in process, no gRPC.
  auto engine_scan = [&] {
    uint64_t count = 0;
    auto start = Clock::now();
    auto next = server.store->ScanAll(0, {}, events + 1, [&](const eventstore::EventView&) {
      ++count;
      return true;
    });
    if (!next.ok() || count != events) std::exit(1);
    return count / Seconds(Clock::now() - start);
  };
  // One untimed scan first, so that both meet the same warm block cache;
  // then, in each run, one of each.
  engine_scan();
  std::vector<double> rates, scans;
  for (int run = 0; run < settings.runs; ++run) {
    rates.push_back(SubscribeRate(server, "", events));
    scans.push_back(engine_scan());
  }
  const double rate = Median(rates);
  const double scan = Median(scans);
  Report({absl::StrCat("subscribe catch-up, ", events, " events, 1 client"), rate, "/s",
          "engine scan of the same log", scan, ">= 1000000 /s and >= 0.5x baseline",
          settings.smoke || (rate >= 1000000 && rate >= 0.5 * scan)});
  // gRPC's own ceiling for one stream carrying the same bytes: batches of
  // 2000 events of the size this log's events have on the wire.
  EchoServer echo;
  auto echo_stub = duurzaam::bench::Echo::NewStub(Channel(absl::StrCat("127.0.0.1:", echo.port)));
  const uint32_t batch_bytes = static_cast<uint32_t>(2000 * SubscribedEventBytes(server));
  const uint32_t batches = static_cast<uint32_t>(events / 2000);
  double stream = MedianOf(settings.runs, [&] {
    StreamRequest request;
    request.set_messages(batches);
    request.set_bytes(batch_bytes);
    grpc::ClientContext context;
    auto start = Clock::now();
    auto reader = echo_stub->Stream(&context, request);
    EchoMessage message;
    uint32_t received = 0;
    while (reader->Read(&message)) ++received;
    if (!reader->Finish().ok() || received != batches) std::exit(1);
    return received * 2000.0 / Seconds(Clock::now() - start);
  });
  Report({"bare gRPC stream of the same bytes, events/s", stream, "/s", "subscribe catch-up above",
          rate, "(reported: gRPC's one-stream ceiling here)", true});
}

void OpenLargeStore(const Settings& settings) {
  const uint64_t events = settings.smoke ? 50'000 : 10'000'000;
  ScratchDir dir(settings, "large");
  auto fill_start = Clock::now();
  const std::string events_dir = dir.Sub("events");  // duurzaamd's layout
  BulkFill(OpenBenchStore(events_dir, /*sync=*/false).get(), events, 10000);
  std::fprintf(stderr, "filled %llu events in %.1f s\n", static_cast<unsigned long long>(events),
               Seconds(Clock::now() - fill_start));
  double open_s = MedianOf(settings.runs, [&] {
    eventstore::Options options;
    options.path = events_dir;
    auto start = Clock::now();
    auto store = eventstore::Store::Open(options);
    double s = Seconds(Clock::now() - start);
    if (!store.ok() || (*store)->CommittedEnd() != events) std::exit(1);
    return s;
  });
  // Baseline: RocksDB itself opening the same directory (all column families).
  double raw_open_s = MedianOf(settings.runs, [&] {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, events_dir, &names).ok()) std::exit(1);
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    auto start = Clock::now();
    if (!rocksdb::DB::Open(options, events_dir, cfs, &handles, &db).ok()) std::exit(1);
    double s = Seconds(Clock::now() - start);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db;
    return s;
  });
  Report({absl::StrCat("open store of ", events, " events"), open_s, "s",
          "raw RocksDB open of the same dir", raw_open_s, "<= 1 s",
          settings.smoke || open_s <= 1.0});

  // The real server process on that store: resident memory after work.
  int err[2];
  if (pipe(err) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err[1], STDERR_FILENO);
    close(err[0]);
    std::string data = "--data_dir=" + dir.path();
    execl(DUURZAAMD_PATH, DUURZAAMD_PATH, "--dev", "--listen=127.0.0.1:0", data.c_str(), nullptr);
    _exit(127);
  }
  close(err[1]);
  std::string log, address;
  char buf[4096];
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (address.empty() && Clock::now() < deadline) {
    ssize_t n = read(err[0], buf, sizeof(buf));
    if (n <= 0) break;
    log.append(buf, n);
    size_t at = log.find("listening on ");
    if (at != std::string::npos) {
      size_t end = log.find(' ', at + 13);
      if (end != std::string::npos) address = log.substr(at + 13, end - at - 13);
    }
  }
  if (address.empty()) {
    std::fprintf(stderr, "duurzaamd did not start: %s\n", log.c_str());
    kill(pid, SIGKILL);
    std::exit(1);
  }
  auto stub = v1::EventStore::NewStub(Channel(address));
  for (int i = 0; i < 200; ++i) {  // reads across the log and appends
    v1::ReadAllRequest read;
    read.set_from_position(static_cast<uint64_t>(i) * (events / 200));
    read.set_max_count(1000);
    v1::ReadAllResponse response;
    grpc::ClientContext context;
    if (!stub->ReadAll(&context, read, &response).ok()) std::exit(1);
    v1::AppendResponse append_response;
    grpc::ClientContext append_context;
    if (!stub->Append(&append_context, AppendRequest(i, i), &append_response).ok()) std::exit(1);
  }
  double rss = ResidentMiB(pid);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  close(err[0]);
  Report({absl::StrCat("duurzaamd resident memory, ", events, " events"), rss, "MiB", "", 0,
          "<= 256 MiB", settings.smoke || rss <= 256});
}

// The cost of the trust layer, each layer beside the one below it, in the
// same run: the durable-append and subscribe loads of the event-log issue
// against a plaintext dev server and against a mutual-TLS server with access
// checks and the access log on; and case commands (which carry personal
// data) on a plaintext server, over mTLS with access checks, and over mTLS
// with access checks and encryption of personal data.
void TrustLayerCost(const Settings& settings) {
  const int in_flight = settings.smoke ? 4 : 64;
  const double duration = settings.smoke ? 0.2 : 4.0;
  const uint64_t max_calls = settings.smoke ? 300 : 1'000'000;
  const uint64_t events = settings.smoke ? 5'000 : 200'000;
  std::vector<double> plain_append, mtls_append, plain_sub, mtls_sub;
  std::vector<double> plain_cases, mtls_cases, sealed_cases;
  for (int run = 0; run < settings.runs; ++run) {
    {
      ScratchDir dir(settings, "trust-plain");
      BenchServer s(dir, /*mtls=*/false);
      plain_append.push_back(AppendRate(s, "", "ext-bench-", in_flight, duration, max_calls));
    }
    {
      ScratchDir dir(settings, "trust-mtls");
      BenchServer s(dir, /*mtls=*/true, /*encrypt=*/true);
      mtls_append.push_back(
          AppendRate(s, "bench-admin", "ext-bench-", in_flight, duration, max_calls));
    }
    for (bool mtls : {false, true}) {
      ScratchDir dir(settings, mtls ? "trust-sub-mtls" : "trust-sub-plain");
      BenchServer s(dir, mtls, /*encrypt=*/mtls, /*serve=*/false);
      BulkFill(s.store, events, 100);
      s.Serve();
      (mtls ? mtls_sub : plain_sub)
          .push_back(SubscribeRate(s, mtls ? "bench-auditor" : "", events));
    }
    for (int layers = 0; layers < 3; ++layers) {
      ScratchDir dir(settings, absl::StrCat("trust-cases-", layers));
      BenchServer s(dir, /*mtls=*/layers > 0, /*encrypt=*/layers > 1);
      const double rate = CaseCommandRate(s, layers > 0 ? "bench-expert" : "", in_flight, in_flight,
                                          duration, max_calls);
      (layers == 0 ? plain_cases : layers == 1 ? mtls_cases : sealed_cases).push_back(rate);
    }
  }
  double pa = Median(plain_append), ma = Median(mtls_append);
  // Encryption is on in the mTLS servers; raw appends to tooling streams and
  // log subscriptions (which serve the stored ciphertext) do no crypto work.
  Report({absl::StrCat("durable appends over mTLS + access checks, ", in_flight, " in flight"), ma,
          "/s", "same load, plaintext dev server", pa, "(reported: cost of the trust layer)",
          true});
  double ps = Median(plain_sub), ms = Median(mtls_sub);
  Report(
      {absl::StrCat("subscribe catch-up over mTLS as auditor (access-logged), ", events, " events"),
       ms, "/s", "same log, plaintext dev server", ps, "(reported: cost of the trust layer)",
       true});
  double pc = Median(plain_cases), mc = Median(mtls_cases), sc = Median(sealed_cases);
  Report({absl::StrCat("case commands over mTLS + access checks, ", in_flight, " in flight"), mc,
          "/s", "same load, plaintext dev server", pc, "(reported: cost of mTLS + access checks)",
          true});
  Report({absl::StrCat("case commands over mTLS + access checks + encryption, ", in_flight,
                       " in flight"),
          sc, "/s", "same load, mTLS + access checks, no encryption", mc,
          "(reported: cost of encrypting personal data)", true});
  // Issue 11's target: validated, sealed, durable case commands beside raw
  // durable appends over the same (mTLS, sealing) stack in the same run.
  Report(
      {absl::StrCat("case commands (validated, sealed, durable), mTLS, ", in_flight, " in flight"),
       sc, "/s", "raw durable appends, same stack", ma, ">= 10000 /s and >= 0.6x baseline",
       settings.smoke || (sc >= 10000 && sc >= 0.6 * ma)});
}

// One expert recording sequentially over mutual TLS (validated, sealed,
// durable), beside sequential raw appends over the same server.
void CaseCommandLatency(const Settings& settings) {
  const int n = settings.smoke ? 50 : 2000;
  ScratchDir dir(settings, "case-latency");
  BenchServer s(dir, /*mtls=*/true, /*encrypt=*/true);
  if (!codec::RegisterEmployer(s.store, "bench-employer", "Bench BV", "admin:bench", 0).ok()) {
    std::exit(1);
  }
  auto cases = v1::Cases::NewStub(s.ChannelAs("bench-expert"));
  auto events = v1::EventStore::NewStub(s.ChannelAs("bench-admin"));
  auto day = [](v1::PlacementEvent* e) {
    e->mutable_occurred_on()->set_year(2026);
    e->mutable_occurred_on()->set_month(11);
    e->mutable_occurred_on()->set_day(23);
  };
  int64_t revision = -1;
  std::vector<double> commands, appends;
  for (int i = 0; i <= n; ++i) {
    v1::RecordCaseEventRequest request;
    request.set_case_id("ext-latency");
    request.set_event_id(eventstore::EventId::Random().ToString());
    request.set_expected_revision(revision);
    day(request.mutable_event());
    if (i == 0) {
      auto* opened = request.mutable_event()->mutable_case_opened();
      opened->set_worker_ref("werknemer");
      opened->set_employer_id("bench-employer");
      opened->set_region("Groot Amsterdam");
      opened->set_target_group("Wajong");
    } else {
      auto* contact = request.mutable_event()->mutable_contact_moment();
      contact->set_kind(v1::CONTACT_KIND_PHONE);
      contact->set_summary(Payload(i).substr(0, 250));
    }
    v1::RecordCaseEventResponse response;
    grpc::ClientContext context;
    const auto start = Clock::now();
    grpc::Status status = cases->RecordCaseEvent(&context, request, &response);
    const double ms = Seconds(Clock::now() - start) * 1e3;
    if (!status.ok()) {
      std::fprintf(stderr, "record: %s\n", status.error_message().c_str());
      std::exit(1);
    }
    revision = response.revision();
    if (i > 0) commands.push_back(ms);
  }
  for (int i = 0; i < n; ++i) {
    v1::AppendRequest request = AppendRequest(0, i);
    request.set_stream("ext-latency-raw");
    v1::AppendResponse response;
    grpc::ClientContext context;
    const auto start = Clock::now();
    if (!events->Append(&context, request, &response).ok()) std::exit(1);
    appends.push_back(Seconds(Clock::now() - start) * 1e3);
  }
  const double p50 = Median(commands), p99 = Percentile(commands, 99);
  Report({"case command p50, 1 expert sequential, mTLS", p50, "ms", "raw durable append p50, same",
          Median(appends), "<= 1 ms", settings.smoke || p50 <= 1.0});
  Report({"case command p99, 1 expert sequential, mTLS", p99, "ms", "raw durable append p99, same",
          Percentile(appends, 99), "<= 2 ms", settings.smoke || p99 <= 2.0});
}

}  // namespace duurzaam::bench
