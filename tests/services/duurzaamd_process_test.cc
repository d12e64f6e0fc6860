// The real duurzaamd binary as a separate process: start-up log lines,
// durability across SIGKILL at the server level, clean SIGTERM shutdown.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

// A duurzaamd child process whose stderr the test reads.
class Daemon {
 public:
  explicit Daemon(const std::string& data_dir) {
    int err[2];
    EXPECT_EQ(pipe(err), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], STDERR_FILENO);
      close(err[0]);
      close(err[1]);
      std::string data = "--data_dir=" + data_dir;
      execl(DUURZAAMD_PATH, DUURZAAMD_PATH, "--dev", "--listen=127.0.0.1:0", data.c_str(), nullptr);
      _exit(127);
    }
    close(err[1]);
    err_ = err[0];
    // Wait (bounded) for the "listening on" line.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    char buf[4096];
    while (address_.empty() && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = read(err_, buf, sizeof(buf));
      if (n <= 0) break;
      log_.append(buf, n);
      size_t at = log_.find("listening on ");
      if (at != std::string::npos && log_.find(' ', at + 13) != std::string::npos) {
        address_ = log_.substr(at + 13, log_.find(' ', at + 13) - at - 13);
      }
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) close(err_);
  }

  // Sends `signal` and returns the exit status.
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    char buf[4096];
    ssize_t n;
    while ((n = read(err_, buf, sizeof(buf))) > 0) log_.append(buf, n);
    return status;
  }

  const std::string& address() const { return address_; }
  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  std::string address_;
  std::string log_;
};

TEST(DuurzaamdProcessTest, LogsWhereItListensAndKeepsItsData) {
  TempDir dir;
  Daemon daemon(dir.path());
  ASSERT_FALSE(daemon.address().empty()) << daemon.log();
  EXPECT_NE(daemon.log().find("data in " + dir.path()), std::string::npos) << daemon.log();
  EXPECT_NE(daemon.log().find("DEV MODE"), std::string::npos) << daemon.log();
  auto stub = v1::EventStore::NewStub(
      grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  v1::AppendRequest request;
  request.set_stream("ext-case-1");
  auto* e = request.add_events();
  e->set_event_id(eventstore::EventId::Random().ToString());
  e->set_event_type("PlacementHired");
  v1::AppendResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub->Append(&context, request, &response).ok());
  int status = daemon.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << daemon.log();
  EXPECT_NE(daemon.log().find("stopped"), std::string::npos);
}

TEST(DuurzaamdProcessTest, RefusesToStartWithoutTlsOrDev) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    execl(DUURZAAMD_PATH, DUURZAAMD_PATH, "--listen=127.0.0.1:0", nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(DuurzaamdProcessTest, AcknowledgedAppendsSurviveSigkillOfTheServer) {
  TempDir dir;
  std::mutex mu;
  std::map<std::string, std::pair<std::string, uint64_t>> acked;  // id -> (stream, revision)
  for (int round = 0; round < 3; ++round) {
    Daemon daemon(dir.path());
    ASSERT_FALSE(daemon.address().empty()) << daemon.log();
    auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        auto stub = v1::EventStore::NewStub(channel);
        for (int i = 0; i < 100000 && !stop.load(); ++i) {
          v1::AppendRequest request;
          request.set_stream("ext-case-" + std::to_string(c));
          auto* e = request.add_events();
          e->set_event_id(eventstore::EventId::Random().ToString());
          e->set_event_type("CheckIn");
          e->set_data(std::string(300, 'a' + c));
          v1::AppendResponse response;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          if (!stub->Append(&context, request, &response).ok()) return;  // server died
          std::lock_guard<std::mutex> lock(mu);
          acked[e->event_id()] = {request.stream(), response.result().first_revision()};
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 200 * round));
    daemon.Stop(SIGKILL);  // no warning, mid-load
    stop = true;
    for (auto& t : clients) t.join();
  }
  ASSERT_GT(acked.size(), 100u);
  Daemon daemon(dir.path());
  ASSERT_FALSE(daemon.address().empty()) << daemon.log();
  auto stub = v1::EventStore::NewStub(
      grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  std::map<std::string, std::pair<std::string, uint64_t>> stored;
  v1::ReadAllRequest read;
  read.set_max_count(1000);
  for (int page = 0; page < 100000; ++page) {
    v1::ReadAllResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->ReadAll(&context, read, &response).ok());
    for (const auto& e : response.events()) stored[e.event_id()] = {e.stream(), e.revision()};
    read.set_from_position(response.next_position());
    if (response.end_of_log()) break;
  }
  for (const auto& [id, where] : acked) {
    auto it = stored.find(id);
    ASSERT_NE(it, stored.end()) << "acknowledged event " << id << " lost";
    EXPECT_EQ(it->second, where) << id;
  }
}

}  // namespace
}  // namespace duurzaam::testing
