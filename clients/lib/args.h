// The command line of the project's client programs: positional words and
// --name[=value] flags, in any order.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace duurzaam::client {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  std::string Flag(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

inline Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      if (eq == std::string::npos) {
        args.flags[a.substr(2)] = "";
      } else {
        args.flags[a.substr(2, eq - 2)] = a.substr(eq + 1);
      }
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

}  // namespace duurzaam::client
