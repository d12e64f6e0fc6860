// duurzaamd's configuration: a config file and command-line flags as an
// operator could write them. Parsed or refused with a message, never a
// crash.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "services/server_config.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  duurzaam::fuzz::Input in(data, size);
  static const std::string path = [] {
    char tmpl[] = "/tmp/duurzaam-fuzz-config-XXXXXX";
    return std::string(mkdtemp(tmpl)) + "/duurzaamd.conf";
  }();
  std::vector<std::string> args = {"duurzaamd"};
  const uint8_t flags = in.Byte() % 4;
  for (uint8_t i = 0; i < flags; ++i) args.emplace_back(in.Piece(64));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << in.Rest();
  }
  args.push_back("--config=" + path);
  bool help = false;
  (void)duurzaam::services::ParseServerConfig(args, &help);
  return 0;
}
