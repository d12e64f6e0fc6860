// duurzaamd: the duurzaam case server on its embedded event store.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "server/stack.h"
#include "services/server_config.h"

namespace {

volatile std::sig_atomic_t g_signal = 0;

void Say(const std::string& line) { duurzaam::LogLine(line); }
void Fail(const std::string& line) { duurzaam::Log(duurzaam::LogLevel::kError, line); }

}  // namespace

int main(int argc, char** argv) {
  using namespace duurzaam;
  // Abseil's mutex deadlock detection keeps a global lock graph that every
  // mutex created or destroyed (gRPC makes some per call) must update: a
  // debugging aid, too costly on the request path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Two malloc arenas, not glibc's 8 per core: the caches' records are
  // decoded on one thread and freed on another, and every arena keeps its
  // own free memory (the soak's RSS grew with the number of arenas).
  mallopt(M_ARENA_MAX, 2);
  std::vector<std::string> args(argv, argv + argc);
  bool help = false;
  auto config = services::ParseServerConfig(args, &help);
  if (help) {
    std::fputs(services::ServerConfigUsage().c_str(), stdout);
    return 0;
  }
  if (!config.ok()) {
    Fail(std::string(config.status().message()));
    return 2;
  }

  server::StackOptions options;
  options.config = *config;
  options.log = &Say;
  options.rebuild_progress = [](uint64_t done, uint64_t total) {
    Say(absl::StrCat("rebuilding projections: ", done, " / ", total));
  };
  auto stack = server::ServerStack::Start(std::move(options));
  if (!stack.ok()) {
    Fail(std::string(stack.status().message()));
    return 1;
  }
  if (config->dev) {
    duurzaam::Log(duurzaam::LogLevel::kWarning,
                  "DEV MODE: plaintext, NO authentication: callers name themselves in request "
                  "metadata. For a developer's own machine only; never for real data. Without "
                  "--dev the server requires mutual TLS.");
  }
  Say(absl::StrCat("listening on ", (*stack)->server()->address(),
                   config->dev ? " (plaintext, DEV MODE: no TLS, principals from request metadata)"
                               : " (mutual TLS: callers authenticate with client certificates)"));

  std::signal(SIGINT, [](int s) { g_signal = s; });
  std::signal(SIGTERM, [](int s) { g_signal = s; });
  // Memory freed by the caches' evictions goes back to the system every
  // 10 s (glibc keeps freed chunks inside its heaps otherwise).
  for (int tick = 1; g_signal == 0; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (tick % 100 == 0) malloc_trim(0);
  }
  Say(absl::StrCat("signal ", static_cast<int>(g_signal), ": shutting down"));
  (*stack)->Shutdown();
  (*stack)->Wait();
  stack->reset();
  Say("stopped");
  return 0;
}
