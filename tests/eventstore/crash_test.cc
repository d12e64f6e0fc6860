// Kills a real writer process with SIGKILL at random moments and proves that
// every acknowledged event survives, in order, with a valid hash chain.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "eventstore/store.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::eventstore {
namespace {

struct Ack {
  std::string stream;
  Revision revision;
  std::string id;
};

// Runs the writer until its first acknowledgement (the store is open and
// writing, however loaded the machine) and then for `run_for`, SIGKILLs it,
// and collects its acks.
void RunAndKill(const std::string& dir, const std::string& log_path,
                std::chrono::milliseconds run_for, std::map<uint64_t, Ack>* acks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    // The writer's own complaints, for the failure messages below.
    int err = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(CRASH_WRITER_PATH, CRASH_WRITER_PATH, dir.c_str(), "8", nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[1 << 16];
  ssize_t n = 0;
  pollfd ready{fds[0], POLLIN, 0};
  const bool acked =
      poll(&ready, 1, /*timeout_ms=*/60'000) == 1 && (n = read(fds[0], buf, sizeof(buf))) > 0;
  if (acked) out.append(buf, static_cast<size_t>(n));
  std::this_thread::sleep_for(run_for);  // the random moment of the crash
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  auto writer_log = [&] {
    std::ifstream in(log_path);
    std::stringstream text;
    text << in.rdbuf();
    return "; the writer's stderr: " + text.str();
  };
  ASSERT_TRUE(WIFSIGNALED(status))
      << "writer exited by itself with " << WEXITSTATUS(status) << writer_log();
  ASSERT_EQ(WTERMSIG(status), SIGKILL) << writer_log();
  ASSERT_TRUE(acked) << "the writer acknowledged nothing in 60 s" << writer_log();
  // Everything the writer acknowledged before dying is still in the pipe.
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fds[0]);
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    uint64_t position;
    Ack ack;
    ASSERT_TRUE(fields >> position >> ack.stream >> ack.revision >> ack.id) << line;
    ASSERT_TRUE(acks->emplace(position, ack).second) << "position acknowledged twice: " << line;
  }
}

TEST(CrashTest, AcknowledgedEventsSurviveSigkill) {
  duurzaam::testing::TempDir dir, logs;
  const std::string log_path = logs.path() + "/writer-stderr.log";
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(150, 900);
  std::map<uint64_t, Ack> acks;
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    size_t before = acks.size();
    RunAndKill(dir.path(), log_path, std::chrono::milliseconds(delay_ms(rng)), &acks);
    ASSERT_FALSE(HasFailure());
    ASSERT_GT(acks.size(), before) << "round " << round << " acknowledged nothing";

    Options options;
    options.path = dir.path();
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status();
    // The log holds at least every acknowledged event, in order and gap-free.
    ASSERT_GT((*store)->CommittedEnd(), acks.rbegin()->first);
    for (const auto& [position, ack] : acks) {
      auto e = (*store)->ReadAt(position);
      ASSERT_TRUE(e.ok()) << "acknowledged position " << position << " lost: " << e.status();
      EXPECT_EQ(e->id.ToString(), ack.id) << "at position " << position;
      EXPECT_EQ(e->stream, ack.stream);
      EXPECT_EQ(e->revision, ack.revision);
    }
    auto verify = (*store)->VerifyChain(0, UINT64_MAX);
    ASSERT_TRUE(verify.ok()) << verify.status();
    EXPECT_TRUE(verify->ok()) << "round " << round << ": " << verify->detail;
    EXPECT_EQ(verify->verified, (*store)->CommittedEnd());
    // Per stream revisions are gap-free.
    for (int s = 0; s < 4; ++s) {
      std::string stream = "crash-" + std::to_string(s);
      auto events = (*store)->ReadStream(stream, 0, Direction::kForwards, 10'000'000);
      ASSERT_TRUE(events.ok());
      for (size_t i = 0; i < events->size(); ++i) {
        ASSERT_EQ((*events)[i].revision, static_cast<Revision>(i)) << stream;
      }
    }
  }
  std::printf("crash test: %zu acknowledged events over %d SIGKILLs, none lost\n", acks.size(),
              kRounds);
}

}  // namespace
}  // namespace duurzaam::eventstore
