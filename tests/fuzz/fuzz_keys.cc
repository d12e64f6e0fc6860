// Key material read from disk and sealed personal data read from the log:
// the master keyring file (as an operator could mistype it) and record
// envelopes (any bytes a tampered store could hold) under a real data key
// store. Refused with a status, never a crash, never a key in an error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "crypto/data_keys.h"
#include "crypto/envelope.h"
#include "crypto/master_keyring.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace duurzaam::crypto;

std::string Dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/duurzaam-fuzz-keys-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

DataKeyStore& Keys() {
  static std::unique_ptr<DataKeyStore> keys = [] {
    auto ring = MasterKeyring::FromKeys({{"mk-fuzz", std::string(32, '\x11')}});
    if (!ring.ok()) std::abort();
    auto store = DataKeyStore::Open(Dir() + "/keys", *std::move(ring));
    if (!store.ok()) std::abort();
    // One scope with a key, so envelopes naming it reach the cipher.
    if (!SealPayload(**store, {"case-fuzz", "id"}, "seed").ok()) std::abort();
    return *std::move(store);
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  duurzaam::fuzz::Input in(data, size);
  if (in.Byte() % 2 == 0) {
    const std::string path = Dir() + "/master.keys";
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << in.Rest();
    }
    (void)MasterKeyring::Load(path);
  } else {
    const std::string_view record_id = in.Piece(16);
    (void)OpenPayload(Keys(), {"case-fuzz", record_id}, in.Rest());
  }
  return 0;
}
