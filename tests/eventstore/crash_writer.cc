// Child process of crash_test: appends under load from several threads and
// reports each acknowledged event on stdout, one line per event:
//   <position> <stream> <revision> <event-id>
// It runs until killed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/store.h"

using namespace duurzaam::eventstore;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer <store-dir> <threads>\n");
    return 2;
  }
  Options options;
  options.path = argv[1];
  auto store = Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  int threads = std::atoi(argv[2]);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::string stream = absl::StrCat("crash-", t % 4);
      for (uint64_t i = 0;; ++i) {
        StreamAppend append{stream, Expectation::Any(), {}};
        int n = 1 + static_cast<int>(i % 3);
        for (int k = 0; k < n; ++k) {
          append.events.push_back(
              {EventId::Random(), "Load", std::string(200 + (i % 200), 'a' + t % 26), "m"});
        }
        auto r = (*store)->Append(append);
        if (!r.ok()) {
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          std::_Exit(1);
        }
        std::string lines;
        for (int k = 0; k < n; ++k) {
          absl::StrAppend(&lines, r->first_position + k, " ", stream, " ", r->first_revision + k,
                          " ", append.events[k].id.ToString(), "\n");
        }
        // One write per append: lines stay whole on the pipe.
        if (write(STDOUT_FILENO, lines.data(), lines.size()) < 0) std::_Exit(1);
      }
    });
  }
  for (auto& w : workers) w.join();
}
