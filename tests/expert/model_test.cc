// A model-based test of the expert sync, in the spirit of Jepsen's and
// PowerSync's: three experts' devices (the real duurzaam-expert program) on
// shared cases of a real duurzaamd record offline in random windows and
// sync through a proxy that cuts connections, while the test kills devices
// in the middle of a sync (kill -9 of duurzaam-expert), kills the server
// (kill -9 of duurzaamd, then a restart on the same data) and takes experts
// off teams and back on. When the faults stop, every device syncs and its
// expert resolves what needs them; then:
//   - no intent the app acknowledged as saved is lost,
//   - none is applied twice (each event id once in the log, with the
//     content the device saved),
//   - every intent is terminal,
//   - the server's chain verifies (duurzaamctl verify, offline),
//   - every device's replica equals the server's view of its cases.
// DUURZAAM_MODEL_STEPS and DUURZAAM_MODEL_SEED set a longer campaign
// (tests/expert/model_campaign.sh); each run prints a one-line verdict.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/expert/app.h"
#include "codec/case_codec.h"
#include "codec/placement_codec.h"
#include "common/mutex.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

using expert::ExpertApp;
using expert::IntentState;

constexpr char kPass[] = "model-test wachtwoordzin";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The end of a log, for a failure message.
std::string Tail(const std::string& path) {
  const std::string text = Slurp(path);
  return text.size() <= 3000 ? text : "..." + text.substr(text.size() - 3000);
}

// Starts `argv` with stdout and stderr appended to `log`.
// (Everything the child needs is made before the fork: the parent has
// threads, so the child only makes async-signal-safe calls.)
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, STDOUT_FILENO);  // dup2 clears close-on-exec on the copies
    dup2(fd, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  if (fd >= 0) close(fd);
  if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  return pid;
}

// The exit code of `pid`, waiting at most `timeout` (then killed: -1).
int Wait(pid_t pid, absl::Duration timeout = absl::Seconds(120)) {
  if (pid <= 0) return -1;
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// duurzaamd in dev mode on the loopback, with the demo data.
class Server {
 public:
  Server(std::string data, std::string log) : data_(std::move(data)), log_(std::move(log)) {}
  ~Server() {
    if (pid_ > 0) Kill();
  }

  // Starts it and waits (bounded) for the line that says where it listens.
  [[nodiscard]] bool Start() {
    const size_t from = Slurp(log_).size();
    pid_ = Spawn({DUURZAAMD_PATH, "--dev", "--demo", "--listen=127.0.0.1:0", "--data_dir=" + data_},
                 log_);
    for (int i = 0; i < 600; ++i) {
      const std::string text = Slurp(log_).substr(from);
      const size_t at = text.find("listening on ");
      const size_t end = at == std::string::npos ? at : text.find(' ', at + 13);
      if (end != std::string::npos) {
        address_ = text.substr(at + 13, end - at - 13);
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const int code = Wait(pid_);
    pid_ = -1;
    return code;
  }
  const std::string& address() const { return address_; }

 private:
  const std::string data_, log_;
  pid_t pid_ = -1;
  std::string address_;
};

// A TCP proxy on the loopback between the devices and the server (whose
// address changes at each restart). While cutting, each connection is cut
// after a random number of bytes.
class Proxy {
 public:
  explicit Proxy(uint32_t seed) : rng_(seed) {
    // Close-on-exec: a spawned program must not keep a connection open
    // (a cut is only a cut once the last descriptor of it is closed).
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listener_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~Proxy() {
    stop_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    acceptor_.join();
    MutexLock lock(&mu_);
    for (std::thread& t : pumps_) t.join();
  }

  int port() const { return port_; }
  void SetUpstream(int port) { upstream_ = port; }
  void SetCutting(bool on) { cutting_ = on; }
  int cuts() const { return cuts_; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      size_t limit = SIZE_MAX;
      MutexLock lock(&mu_);
      if (cutting_) {
        const size_t most = rng_() % 2 == 0 ? 2 << 10 : 32 << 10;
        limit = std::uniform_int_distribution<size_t>(0, most)(rng_);
      }
      pumps_.emplace_back([this, client, limit] { Pump(client, limit); });
    }
  }
  void Pump(int client, size_t limit) {
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_.load()));
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      size_t moved = 0;
      char buf[16384];
      while (!stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        if (poll(p, 2, 100) < 0) break;
        bool done = false;
        for (int i = 0; i < 2 && !done; ++i) {
          if (p[i].revents == 0) continue;
          const ssize_t n = read(p[i].fd, buf, sizeof(buf));
          if (n <= 0) {
            done = true;
            break;
          }
          const size_t allowed = std::min<size_t>(n, limit - moved);
          if (allowed > 0 && write(p[1 - i].fd, buf, allowed) != static_cast<ssize_t>(allowed)) {
            done = true;
          }
          moved += allowed;
          if (moved >= limit) {
            ++cuts_;
            done = true;
          }
        }
        if (done) break;
      }
    }
    // A reset, as a dropped network gives.
    linger hard{1, 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    close(server);
    close(client);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> upstream_{0};
  std::atomic<bool> cutting_{false}, stop_{false};
  std::atomic<int> cuts_{0};
  std::thread acceptor_;
  Mutex mu_;
  std::mt19937 rng_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
};

void As(grpc::ClientContext* c, const std::string& who, const std::string& role) {
  c->AddMetadata("x-duurzaam-principal", who);
  c->AddMetadata("x-duurzaam-role", role);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
}

v1::PlacementEvent Event(domain::Date day) {
  v1::PlacementEvent e;
  codec::ToProto(day, e.mutable_occurred_on());
  return e;
}

struct Device {
  std::string name;  // jdevries
  std::string dir;
  std::set<std::string> acked;  // intents the app reported as saved
};

struct Figures {
  int steps = 0, recorded = 0, refused_locally = 0, syncs = 0, app_kills = 0, server_kills = 0;
  int team_changes = 0, resolved = 0, failed_syncs = 0;
  std::map<std::string, int> outcomes;
};

class ExpertModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("DUURZAAM_EXPERT_PASSPHRASE", kPass, 1);
    seed_ = static_cast<uint32_t>(EnvInt("DUURZAAM_MODEL_SEED", static_cast<int>(time(nullptr))));
    rng_.seed(seed_);
    server_ = std::make_unique<Server>(dir_.Sub("data"), dir_.Sub("server.log"));
    ASSERT_TRUE(server_->Start()) << Slurp(dir_.Sub("server.log"));
    proxy_ = std::make_unique<Proxy>(seed_);
    Reconnect();
  }

  void Reconnect() {
    proxy_->SetUpstream(std::stoi(server_->address().substr(server_->address().rfind(':') + 1)));
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    cases_ = v1::Cases::NewStub(channel);
    events_ = v1::EventStore::NewStub(channel);
  }
  void RestartServer() {
    ASSERT_TRUE(server_->Start()) << Slurp(dir_.Sub("server.log"));
    Reconnect();
  }

  // The program's run on `d`, logged to the device's log.
  pid_t Run(const Device& d, std::vector<std::string> args) {
    std::vector<std::string> argv = {DUURZAAM_EXPERT_PATH, "--dir=" + d.dir};
    argv.insert(argv.end(), args.begin(), args.end());
    return Spawn(argv, d.dir + ".log");
  }

  // A team change by jdevries, straight to the server; retried on a
  // transient failure (same event id).
  bool TeamChange(const std::string& case_id, const std::string& expert, bool add) {
    v1::RecordCaseEventRequest request;
    request.set_case_id(case_id);
    request.set_event_id(eventstore::EventId::Random().ToString());
    *request.mutable_event() = Event(codec::RecordedDay(absl::ToUnixMicros(absl::Now())));
    if (add) {
      request.mutable_event()->mutable_team_member_added()->set_expert_id(expert);
    } else {
      request.mutable_event()->mutable_team_member_removed()->set_expert_id(expert);
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
      v1::ReadStreamRequest read;
      read.set_stream("case-" + case_id);
      read.set_direction(v1::READ_DIRECTION_BACKWARDS);
      read.set_from_end(true);
      read.set_max_count(1);
      v1::ReadStreamResponse head;
      grpc::ClientContext rc;
      As(&rc, "auditor:model", "AUDITOR");
      if (!events_->ReadStream(&rc, read, &head).ok()) continue;
      request.set_expected_revision(head.current_revision());
      v1::RecordCaseEventResponse response;
      grpc::ClientContext c;
      As(&c, "expert:jdevries", "EXPERT");
      grpc::Status s = cases_->RecordCaseEvent(&c, request, &response);
      if (s.ok()) {
        team_change_ids_.insert(request.event_id());
        return true;
      }
      if (s.error_code() != grpc::StatusCode::ABORTED &&
          s.error_code() != grpc::StatusCode::UNAVAILABLE &&
          s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
        ADD_FAILURE() << "team change: " << s.error_message();
        return false;
      }
    }
    return false;
  }

  // One offline entry on `d`: a contact (commutes) or a contract change
  // (conflicts with a contract change since), on a case it holds.
  void Record(Device& d) {
    auto app = ExpertApp::Open(d.dir + "/replica.vault", kPass);
    ASSERT_TRUE(app.ok()) << d.name << ": " << app.status();
    std::vector<std::string> held;
    for (const auto& [id, copy] : (*app)->replica().cases()) {
      if (shared_.contains(id)) held.push_back(id);
    }
    if (held.empty()) return;
    const std::string case_id = held[rng_() % held.size()];
    const int64_t now = absl::ToUnixMicros(absl::Now());
    const domain::Date today = codec::RecordedDay(now);
    v1::PlacementEvent e = Event(today);
    if (rng_() % 10 < 7) {
      e.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
      e.mutable_contact_moment()->set_summary(absl::StrCat(d.name, " belde, stap ", step_));
    } else {
      auto* change = e.mutable_contract_changed();
      change->set_hours_per_week(static_cast<double>(16 + rng_() % 24));
      if (rng_() % 2 == 0) {
        change->set_contract(v1::CONTRACT_TYPE_PERMANENT);
      } else {
        change->set_contract(v1::CONTRACT_TYPE_FIXED_TERM);
        codec::ToProto(today + 180 + static_cast<int>(rng_() % 180),
                       change->mutable_contract_end());
      }
    }
    absl::StatusOr<std::string> id = (*app)->Record(case_id, e, today, now);
    if (id.ok()) {
      d.acked.insert(*id);
      saved_[*id] = e;
      ++figures_.recorded;
    } else {
      ++figures_.refused_locally;
    }
  }

  // The expert decides on what needs them: keep mine (the same entry on
  // top) or discard, at random; a rejected entry is discarded.
  void Resolve(Device& d) {
    auto app = ExpertApp::Open(d.dir + "/replica.vault", kPass);
    ASSERT_TRUE(app.ok()) << d.name << ": " << app.status();
    std::vector<expert::IntentRecord> open;
    for (const expert::IntentRecord& r : (*app)->replica().intents()) {
      if (expert::NeedsExpert(r.state)) open.push_back(r);
    }
    for (const expert::IntentRecord& r : open) {
      const std::string& id = r.intent.event_id();
      ++figures_.resolved;
      if (r.state == IntentState::kConflict && rng_() % 2 == 0) {
        const int64_t now = absl::ToUnixMicros(absl::Now());
        v1::PlacementEvent mine = r.intent.event();
        absl::StatusOr<std::string> kept = (*app)->Replace(id, mine, codec::RecordedDay(now), now);
        if (kept.ok()) {
          d.acked.insert(*kept);
          saved_[*kept] = mine;
          continue;
        }
      }
      ASSERT_TRUE((*app)->Discard(id).ok()) << id;
    }
  }

  // Syncs of some devices at once; some of them killed after a random
  // moment, or the server killed in the middle and restarted.
  void SyncSome(bool may_kill) {
    std::vector<size_t> who;
    for (size_t i = 0; i < devices_.size(); ++i) {
      if (online_[i] && rng_() % 2 == 0) who.push_back(i);
    }
    if (who.empty()) return;
    std::vector<pid_t> pids;
    // A quarter of the syncs go over a network that cuts connections.
    proxy_->SetCutting(may_kill && rng_() % 4 == 0);
    for (size_t i : who) pids.push_back(Run(devices_[i], {"sync"}));
    figures_.syncs += static_cast<int>(who.size());
    const int fault = may_kill ? static_cast<int>(rng_() % 10) : 9;
    if (fault < 3) {  // kill -9 of a device in the middle of its sync
      absl::SleepFor(absl::Milliseconds(rng_() % 150));
      const size_t victim = rng_() % pids.size();
      if (pids[victim] > 0) kill(pids[victim], SIGKILL);
      ++figures_.app_kills;
    } else if (fault < 4) {  // kill -9 of the server
      absl::SleepFor(absl::Milliseconds(rng_() % 150));
      server_->Kill();
      ++figures_.server_kills;
      for (pid_t p : pids) figures_.failed_syncs += Wait(p) == 4;
      RestartServer();
      return;
    }
    std::vector<int> codes;
    for (pid_t p : pids) codes.push_back(Wait(p));  // every child reaped first
    for (size_t i = 0; i < codes.size(); ++i) {
      const int code = codes[i];
      if (code != 0 && code != 1) ++figures_.failed_syncs;
      ASSERT_NE(code, -1) << "a sync did not end in 120 s";
      ASSERT_TRUE(code == 0 || code == 1 || code == 4 || code == 128 + SIGKILL)
          << "sync exit " << code << ": " << Tail(devices_[who[i]].dir + ".log");
    }
  }

  // Every record of the log, by stream, as stored (read as an auditor).
  std::map<std::string, std::vector<v1::RecordedEvent>> ServerLog() {
    std::map<std::string, std::vector<v1::RecordedEvent>> log;
    uint64_t from = 0;
    for (int page = 0; page < 100000; ++page) {
      v1::ReadAllRequest request;
      request.set_from_position(from);
      request.set_max_count(1000);
      v1::ReadAllResponse response;
      grpc::ClientContext c;
      As(&c, "auditor:model", "AUDITOR");
      grpc::Status s = events_->ReadAll(&c, request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::RecordedEvent& e : response.events()) log[e.stream()].push_back(e);
      from = response.next_position();
      if (response.end_of_log()) break;
    }
    return log;
  }

  std::set<std::string> Portfolio(const std::string& expert) {
    v1::ListPortfolioRequest request;
    v1::Portfolio portfolio;
    grpc::ClientContext c;
    As(&c, "expert:" + expert, "EXPERT");
    grpc::Status s = cases_->ListPortfolio(&c, request, &portfolio);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(portfolio.quarantined_size(), 0);
    std::set<std::string> ids;
    for (const v1::PortfolioItem& item : portfolio.items()) ids.insert(item.case_id());
    return ids;
  }

  TempDir dir_;
  uint32_t seed_ = 0;
  std::mt19937 rng_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<v1::Cases::Stub> cases_;
  std::unique_ptr<v1::EventStore::Stub> events_;
  std::vector<Device> devices_;
  std::vector<bool> online_;
  const std::set<std::string> shared_ = {"anna", "bram", "chris"};
  std::map<std::string, v1::PlacementEvent> saved_;  // every acknowledged intent's event
  std::set<std::string> team_change_ids_;            // what the test itself recorded
  Figures figures_;
  int step_ = 0;
};

TEST_F(ExpertModelTest, NoIntentLostOrTwiceAndEveryReplicaEqualsTheServer) {
  const int steps = EnvInt("DUURZAAM_MODEL_STEPS", 300);
  std::printf("model: seed %u (DUURZAAM_MODEL_SEED=%u repeats this run)\n", seed_, seed_);
  for (const char* name : {"pvisser", "kbakker"}) {
    for (const std::string& c : shared_)
      ASSERT_TRUE(TeamChange(c, "expert:" + std::string(name), true));
  }
  for (const char* name : {"jdevries", "pvisser", "kbakker"}) {
    Device d{name, dir_.Sub(std::string("device-") + name), {}};
    pid_t init = Run(d, {"init", "--dev", absl::StrCat("--server=127.0.0.1:", proxy_->port()),
                         absl::StrCat("--as=", name), "--kdf-cost=10"});
    ASSERT_EQ(Wait(init), 0) << Tail(d.dir + ".log");
    devices_.push_back(std::move(d));
    online_.push_back(true);
  }
  // What the log holds before the devices start (the demo data, the setup).
  std::set<std::string> before;
  for (const auto& [stream, records] : ServerLog()) {
    for (const v1::RecordedEvent& r : records) before.insert(r.event_id());
  }
  // Who is on which shared case's team now (the model's own account).
  std::map<std::string, std::set<std::string>> team;
  for (const std::string& c : shared_) team[c] = {"pvisser", "kbakker"};

  for (step_ = 0; step_ < steps; ++step_) {
    const int action = static_cast<int>(rng_() % 100);
    if (action < 40) {
      Record(devices_[rng_() % devices_.size()]);
    } else if (action < 75) {
      SyncSome(true);
    } else if (action < 85) {
      const size_t d = rng_() % devices_.size();
      online_[d] = !online_[d];  // an offline window opens or closes
    } else if (action < 97) {
      Resolve(devices_[rng_() % devices_.size()]);
    } else {
      // jdevries takes a colleague off a shared case, or back on.
      const std::string c = *std::next(shared_.begin(), rng_() % shared_.size());
      const std::string who = rng_() % 2 == 0 ? "pvisser" : "kbakker";
      const bool add = !team[c].contains(who);
      if (TeamChange(c, "expert:" + who, add)) {
        if (add) {
          team[c].insert(who);
        } else {
          team[c].erase(who);
        }
        ++figures_.team_changes;
      }
    }
    if (HasFatalFailure()) return;
  }
  figures_.steps = steps;

  // The faults stop: every device syncs and its expert resolves, until
  // nothing is pending or open anywhere.
  proxy_->SetCutting(false);
  for (int round = 0; round < 10; ++round) {
    bool open = false;
    for (Device& d : devices_) {
      const int code = Wait(Run(d, {"sync"}));
      ASSERT_TRUE(code == 0 || code == 1) << "sync exit " << code << ": " << Tail(d.dir + ".log");
      Resolve(d);
      auto app = ExpertApp::Open(d.dir + "/replica.vault", kPass);
      ASSERT_TRUE(app.ok());
      for (const expert::IntentRecord& r : (*app)->replica().intents()) {
        open = open || r.state == IntentState::kPending || expert::NeedsExpert(r.state);
      }
    }
    if (!open) break;
  }
  for (Device& d : devices_) ASSERT_EQ(Wait(Run(d, {"sync"})), 0) << Tail(d.dir + ".log");

  // The oracle.
  const auto log = ServerLog();
  std::set<std::string> all_intents;  // every intent any device holds, or held
  std::map<std::string, std::pair<std::string, uint64_t>> where;  // event id → stream, revision
  for (const auto& [stream, records] : log) {
    for (const v1::RecordedEvent& r : records) {
      EXPECT_TRUE(where.emplace(r.event_id(), std::make_pair(stream, r.revision())).second)
          << "event id " << r.event_id() << " twice in the log";
    }
  }
  for (const Device& d : devices_) {
    auto app = ExpertApp::Open(d.dir + "/replica.vault", kPass);
    ASSERT_TRUE(app.ok()) << app.status();
    const expert::Replica& replica = (*app)->replica();
    std::set<std::string> held;
    for (const expert::IntentRecord& r : replica.intents()) {
      const std::string& id = r.intent.event_id();
      held.insert(id);
      ++figures_.outcomes[expert::StateName(r.state)];
      const bool recorded = r.state == IntentState::kAppended || r.state == IntentState::kRebased ||
                            r.state == IntentState::kDuplicate;
      EXPECT_TRUE(recorded || r.state == IntentState::kDiscarded ||
                  r.state == IntentState::kReplaced)
          << d.name << ": intent " << id << " is " << expert::StateName(r.state);
      auto at = where.find(id);
      if (recorded) {
        ASSERT_NE(at, where.end()) << d.name << ": " << id << " is " << expert::StateName(r.state)
                                   << " but not in the log";
        EXPECT_EQ(at->second.first, "case-" + r.intent.case_id());
        // The content the device saved, as the device now holds it.
        auto copy = replica.cases().find(r.intent.case_id());
        if (copy != replica.cases().end()) {
          v1::SyncedEvent event;
          ASSERT_TRUE(copy->second.events.Parse(static_cast<int64_t>(at->second.second), &event));
          v1::PlacementEvent stored = event.event();
          stored.clear_recorded_by();
          stored.clear_schema_version();
          EXPECT_TRUE(
              google::protobuf::util::MessageDifferencer::Equivalent(stored, r.intent.event()))
              << id << ": stored " << stored.ShortDebugString() << " saved "
              << r.intent.event().ShortDebugString();
        }
      } else {
        EXPECT_EQ(at, where.end())
            << d.name << ": " << id << " is " << expert::StateName(r.state) << " but in the log";
      }
    }
    // An intent purged with its case (its expert left the team) keeps its
    // id and how far it got: recorded ones are in the log once, the others
    // are not (a pending one can only go with a refused device).
    for (const expert::PurgedIntentRecord& p : replica.purged_intents()) {
      EXPECT_TRUE(held.insert(p.event_id).second) << p.event_id << " twice on " << d.name;
      ++figures_.outcomes[absl::StrCat("purged-", expert::StateName(p.state))];
      const bool recorded = p.state == IntentState::kAppended || p.state == IntentState::kRebased ||
                            p.state == IntentState::kDuplicate;
      EXPECT_EQ(where.contains(p.event_id), recorded)
          << d.name << ": purged " << expert::StateName(p.state) << " intent " << p.event_id;
      EXPECT_NE(p.state, IntentState::kPending) << d.name << ": " << p.event_id;
    }
    all_intents.insert(held.begin(), held.end());
    for (const std::string& id : d.acked) {
      EXPECT_TRUE(held.contains(id)) << d.name << ": acknowledged intent " << id << " lost";
    }
    // The replica equals the server's view of the device's cases.
    const std::set<std::string> portfolio = Portfolio(d.name);
    std::set<std::string> replica_cases;
    for (const auto& [id, copy] : replica.cases()) replica_cases.insert(id);
    EXPECT_EQ(replica_cases, portfolio) << d.name;
    if (d.name != "jdevries") {
      for (const auto& [c, members] : team) {
        EXPECT_EQ(portfolio.contains(c), members.contains(d.name)) << d.name << " on " << c;
      }
    }
    for (const auto& [id, copy] : replica.cases()) {
      const auto& records = log.at("case-" + id);
      ASSERT_EQ(copy.events.size(), records.size()) << d.name << " " << id;
      for (const v1::RecordedEvent& r : records) {
        v1::SyncedEvent e;
        ASSERT_TRUE(copy.events.Parse(static_cast<int64_t>(r.revision()), &e))
            << d.name << " " << id << "/" << r.revision();
        EXPECT_EQ(e.event_id(), r.event_id());
        EXPECT_EQ(e.position(), r.position());
      }
    }
  }
  EXPECT_GT(figures_.recorded, 0);
  // Nothing in the log that no device made: every case event since the
  // start is the test's own team change or some device's intent (so none
  // was recorded twice under another id).
  for (const auto& [stream, records] : log) {
    if (stream.rfind("case-", 0) != 0) continue;
    for (const v1::RecordedEvent& r : records) {
      if (before.contains(r.event_id()) || team_change_ids_.contains(r.event_id())) continue;
      EXPECT_TRUE(all_intents.contains(r.event_id()))
          << stream << "/" << r.revision() << " (" << r.event_type() << ") is no device's intent";
    }
  }
  // The server's chain, offline.
  ASSERT_EQ(server_->Stop(), 0);
  const std::string verify_log = dir_.Sub("verify.log");
  EXPECT_EQ(Wait(Spawn({DUURZAAMCTL_PATH, "verify", dir_.Sub("data") + "/events"}, verify_log)), 0)
      << Slurp(verify_log);

  std::string outcomes;
  for (const auto& [state, n] : figures_.outcomes) absl::StrAppend(&outcomes, " ", state, "=", n);
  std::printf(
      "model: %s seed %u, %d steps, %d intents saved (%d refused locally), %d syncs (%d failed), "
      "%d app kills, %d server kills, %d cut connections, %d team changes, %d resolved;%s\n",
      HasFailure() ? "FAIL" : "PASS", seed_, figures_.steps, figures_.recorded,
      figures_.refused_locally, figures_.syncs, figures_.failed_syncs, figures_.app_kills,
      figures_.server_kills, proxy_->cuts(), figures_.team_changes, figures_.resolved,
      outcomes.c_str());
}

}  // namespace
}  // namespace duurzaam::testing
