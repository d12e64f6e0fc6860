// The real duurzaamd, its data folder on a small filesystem that fills up
// (a tmpfs in a private mount namespace: needs root, else the test skips).
// An operator sees the disk filling before writes are refused (a warning in
// the log, the free space in the metrics); then appends are refused
// RESOURCE_EXHAUSTED with a message naming the folder and its free space,
// the writing services report NOT_SERVING (and why, in the log), reads of
// case content go on (each with its access-log record), nothing
// acknowledged is lost, and once space is freed appends resume by
// themselves.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <regex>
#include <set>
#include <thread>

#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "tests/support/small_fs.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Daemon {
 public:
  Daemon(const std::string& data_dir, const std::string& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, STDERR_FILENO);
      execl(DUURZAAMD_PATH, DUURZAAMD_PATH, "--dev", "--demo", "--listen=127.0.0.1:0",
            ("--data_dir=" + data_dir).c_str(), "--min_free_disk_mib=16",
            "--metrics_listen=127.0.0.1:0", nullptr);
      _exit(127);
    }
    for (int i = 0; i < 600 && (address_.empty() || metrics_port_ == 0); ++i) {
      const std::string text = Slurp(log_);
      std::smatch m;
      if (std::regex_search(text, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+) "))) {
        address_ = m[1];
      }
      if (std::regex_search(text, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/"))) {
        metrics_port_ = std::stoi(m[1]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& address() const { return address_; }
  int metrics_port() const { return metrics_port_; }
  std::string log() const { return Slurp(log_); }
  bool Alive() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
  std::string log_;
  std::string address_;
  int metrics_port_ = 0;
};

// The value of one metric line (`name{labels} value`), -1 when absent.
double Metric(int port, const std::string& series) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

grpc::Status Append(v1::EventStore::Stub& stub, size_t bytes, std::string* id) {
  v1::AppendRequest request;
  request.set_stream("ext-filler");
  auto* e = request.add_events();
  *id = eventstore::EventId::Random().ToString();
  e->set_event_id(*id);
  e->set_event_type("Filler");
  e->set_data(std::string(bytes, 'f'));
  v1::AppendResponse response;
  grpc::ClientContext context;
  context.AddMetadata("x-duurzaam-principal", "admin:ops");
  context.AddMetadata("x-duurzaam-role", "ADMIN");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub.Append(&context, request, &response);
}

// grpc.health.v1.Health/Check for `service`: 1 SERVING, 2 NOT_SERVING, -1
// no answer. The request is encoded by hand (field 1, a string).
int Health(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  const std::string request_bytes =
      std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) { done.set_value(s); });
  if (!done.get_future().get().ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes.size() == 2 && bytes[0] == '\x08' ? bytes[1] : -1;
}

grpc::Status ReadTimeline(v1::Cases::Stub& stub) {
  v1::GetTimelineRequest request;
  request.set_case_id("anna");
  v1::Timeline timeline;
  grpc::ClientContext context;
  context.AddMetadata("x-duurzaam-principal", "expert:jdevries");
  context.AddMetadata("x-duurzaam-role", "EXPERT");
  return stub.GetTimeline(&context, request, &timeline);
}

template <typename F>
bool Eventually(F condition, int seconds = 15) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

TEST(DiskFullServerTest, OperatorsSeeTheDiskFillAppendsAreRefusedReadsGoOnAndWritesResume) {
  SmallFilesystem fs;
  if (!fs.Mount(192 << 20)) GTEST_SKIP() << fs.error();
  TempDir logs;
  const std::string data = fs.Sub("data");
  Daemon daemon(data, logs.Sub("duurzaamd.log"));
  ASSERT_FALSE(daemon.address().empty()) << daemon.log();
  ASSERT_NE(daemon.metrics_port(), 0) << daemon.log();
  auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  auto store = v1::EventStore::NewStub(channel);
  auto cases = v1::Cases::NewStub(channel);
  const int port = daemon.metrics_port();
  const std::string events_free = "duurzaam_store_free_disk_bytes{store=\"events\"}";
  const std::string refused = "duurzaam_store_writes_refused{store=\"events\"}";
  const std::string serving = "duurzaam_health_serving{service=\"duurzaam.v1.EventStore\"}";
  const std::string event_store = "duurzaam.v1.EventStore";
  ASSERT_EQ(Health(channel, event_store), 1);
  ASSERT_EQ(Metric(port, refused), 0) << daemon.log();
  ASSERT_GT(Metric(port, events_free), 100 << 20);

  // The disk fills to below twice the threshold (16 MiB): a warning and the
  // metrics show it while appends are still accepted.
  const std::string ballast = fs.Fill(26 << 20);
  std::string id;
  ASSERT_TRUE(Append(*store, 1000, &id).ok());
  std::set<std::string> acknowledged = {id};
  EXPECT_TRUE(Eventually([&] {
    return daemon.log().find("a disk is filling up") != std::string::npos;
  })) << daemon.log();
  EXPECT_TRUE(Eventually([&] {
    const double free = Metric(port, events_free);
    return free > 0 && free < (32 << 20);
  }));
  EXPECT_EQ(Metric(port, refused), 0);

  // Appends until the threshold refuses them.
  grpc::Status last;
  for (int i = 0; i < 2000; ++i) {
    last = Append(*store, 64 << 10, &id);
    if (!last.ok()) break;
    acknowledged.insert(id);
  }
  ASSERT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << last.error_message();
  EXPECT_NE(last.error_message().find(data + "/events"), std::string::npos) << last.error_message();
  EXPECT_NE(last.error_message().find("free"), std::string::npos) << last.error_message();
  EXPECT_TRUE(daemon.Alive());
  // Operators see it: metrics, health, the log.
  EXPECT_TRUE(Eventually([&] { return Metric(port, refused) == 1; })) << daemon.log();
  EXPECT_TRUE(Eventually([&] { return Health(channel, event_store) == 2; }));
  EXPECT_TRUE(Eventually([&] { return Metric(port, serving) == 0; }));
  EXPECT_GT(Metric(port, "duurzaam_store_appends_total{outcome=\"no_space\",store=\"events\"}"), 0);
  EXPECT_NE(daemon.log().find("health: NOT_SERVING"), std::string::npos) << daemon.log();
  // Reads go on, each with its access-log record (written into the reserve).
  grpc::Status read = ReadTimeline(*cases);
  EXPECT_TRUE(read.ok()) << read.error_message();

  // Space freed: appends resume by themselves, health follows.
  std::filesystem::remove(ballast);
  EXPECT_TRUE(Eventually([&] { return Append(*store, 1000, &id).ok(); })) << daemon.log();
  acknowledged.insert(id);
  EXPECT_TRUE(Eventually([&] { return Health(channel, event_store) == 1; })) << daemon.log();
  EXPECT_TRUE(Eventually([&] { return Metric(port, refused) == 0; }));

  // Nothing acknowledged was lost.
  std::set<std::string> stored;
  v1::ReadStreamRequest read_stream;
  read_stream.set_stream("ext-filler");
  read_stream.set_max_count(1000);
  for (int page = 0; page < 1000; ++page) {
    v1::ReadStreamResponse response;
    grpc::ClientContext context;
    context.AddMetadata("x-duurzaam-principal", "auditor:kim");
    context.AddMetadata("x-duurzaam-role", "AUDITOR");
    grpc::Status read_back = store->ReadStream(&context, read_stream, &response);
    ASSERT_TRUE(read_back.ok()) << read_back.error_message();
    for (const auto& e : response.events()) stored.insert(e.event_id());
    if (response.end_of_stream() || response.events().empty()) break;
    read_stream.set_from_revision(response.events().rbegin()->revision() + 1);
  }
  for (const std::string& a : acknowledged) EXPECT_TRUE(stored.count(a)) << a << " lost";
  if (std::getenv("DUURZAAM_SHOW_LOG") != nullptr) std::cerr << daemon.log();
}

// A first start on a full disk: a clear error that says so and names what
// to do, and an exit (code 1), never an abort. With the free-space threshold
// the event store refuses to open; without it (min_free_disk_mib = 0) the
// first file that does not fit (the master keyring, a store, the signing
// key) says the disk is full.
TEST(DiskFullServerTest, AFirstStartOnAFullDiskSaysSoAndExits) {
  for (const char* threshold : {"--min_free_disk_mib=256", "--min_free_disk_mib=0"}) {
    SmallFilesystem fs;
    if (!fs.Mount(16 << 20)) GTEST_SKIP() << fs.error();
    fs.Fill(0);
    TempDir work;
    const std::string log = work.Sub("duurzaamd.log");
    const pid_t pid = fork();
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, STDERR_FILENO);
      execl(DUURZAAMD_PATH, DUURZAAMD_PATH, "--dev", "--demo", "--listen=127.0.0.1:0",
            ("--data_dir=" + fs.Sub("data")).c_str(), threshold, nullptr);
      _exit(127);
    }
    int status = 0;
    for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (kill(pid, 0) == 0 && waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      FAIL() << threshold << ": duurzaamd started on a full disk; its log:\n" << Slurp(log);
    }
    ASSERT_TRUE(WIFEXITED(status))
        << threshold << ": killed by signal " << WTERMSIG(status) << "; its log:\n"
        << Slurp(log);
    EXPECT_EQ(WEXITSTATUS(status), 1) << Slurp(log);
    const std::string text = Slurp(log);
    EXPECT_TRUE(std::regex_search(text, std::regex("level=error msg=\"[^\n]*(free space on that "
                                                   "disk|the disk is full)")))
        << threshold << ": " << text;
  }
}

}  // namespace
}  // namespace duurzaam::testing
