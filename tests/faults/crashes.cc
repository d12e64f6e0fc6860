// duurzaam-crashes: crash campaigns against a whole duurzaamd stack under
// concurrent load, each crash followed by a restart and a check that nothing
// acknowledged is lost.
//
//   duurzaam-crashes powerloss [--rounds=1000] [--minutes=60] [--writers=8]
//                              [--dir=/tmp] [--seed=N]
//   duurzaam-crashes kill9 DUURZAAMD [same options]
//   duurzaam-crashes ioerror [same options]
//   duurzaam-crashes powerloss --control   (must FAIL: see below)
//
// kill9: the real duurzaamd (dev mode, demo data, 127.0.0.1), killed with
// SIGKILL at a random moment of the load; everything it wrote stays.
//
// powerloss: simulated power losses of the event log, the access log, the
// case projection and the Merkle tree. Each round starts the server half of
// this program (`--serve`, a real
// ServerStack on 127.0.0.1 in dev mode) whose every RocksDB store writes
// through PowerLossFs: writes reach the files at once, and a table shared
// with the driver (a memory-mapped file) records, per file, how much of it
// has been synced and whether its directory entry is durable (the directory
// synced, or a later rename in it: directory changes are taken as ordered,
// as ext4 orders them). The driver kills it with SIGKILL at a random moment
// of the load, and then plays the power loss: every file keeps its synced bytes and, at random,
// none, a random prefix or all of the rest; a file whose directory entry was never made durable is
// removed.
//
// ioerror: one failed write, flush or sync (EIO or ENOSPC, at random) into
// one store at random (event log, access log, case projection, Merkle tree)
// at a random moment of the load, through the same file system. The server
// must stay up (no abort: Debian's RocksDB asserts), refuse what it cannot
// do with a clear status, resume appends by itself after an ENOSPC on the
// event log, and lose nothing acknowledged after a kill and restart.
//
// The load, in all three: `writers` raw appenders on streams of their own and two
// experts recording contact moments on a case each, every write with an
// exact expected revision. After each crash the driver restarts the
// server, retries what was in flight (same ids, same expectation: written
// once, or answered from the log) and checks the oracle:
//   - every acknowledged event is there, with the same id and content at
//     the same revision (and, for raw appends, the same position), and no
//     id is written twice;
//   - the hash chain and the Merkle tree: the log read from where the last
//     check ended (from position 0 every 100 rounds and at the end) gives the
//     root of the server's newest signed checkpoint, which is consistent
//     (RFC 9162 proof) with every earlier one;
//   - the case projection agrees with the log (each case's timeline
//     revision is its stream's revision).
// Files outside RocksDB (the data keys, the signing key) are written and
// synced by the project's own code and are kept whole. --control drops
// half of the event log's *synced* write-ahead log as well (a disk that
// lies about fsync): the oracle must fail it, which shows it can.
//
// Prints a line every 50 rounds and one verdict line:
//   <mode>: PASS: N crashes, ...   or   <mode>: FAIL: ...
// Exit codes: 0 pass, 1 a check failed, 2 usage, 3 the server did not start.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/audit/log_check.h"
#include "common/log.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/types.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "server/stack.h"
#include "tests/faults/load.h"
#include "transparency/merkle.h"
#include "verify/log_verifier.h"

namespace {

using Clock = std::chrono::steady_clock;
using duurzaam::eventstore::EventId;
namespace v1 = duurzaam::v1;

// ---------------------------------------------------------------------------
// The table the server half writes and the driver reads after the kill.

struct Slot {
  uint32_t used;        // written last when a slot is taken
  uint32_t dir_synced;  // the file's directory entry is durable
  uint64_t synced;      // bytes of the file known to be on disk
  char path[240];
};
constexpr size_t kSlots = 4096;
// The store folders (under the data folder) a fault can be injected into.
constexpr const char* kStores[] = {"events", "access", "projections", "merkle"};
struct Fault {
  int32_t store;      // index into kStores; -1: none
  int32_t countdown;  // the n-th write, flush or sync into that store fails
  int32_t no_space;   // ENOSPC, else EIO
  int32_t fired;
};
struct Table {
  Fault fault;
  Slot slots[kSlots];
};

Table* MapTable(const std::string& path, bool create) {
  const int fd = open(path.c_str(), O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
  if (fd < 0) return nullptr;
  if (create && ftruncate(fd, sizeof(Table)) != 0) return nullptr;
  void* p = mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  return p == MAP_FAILED ? nullptr : static_cast<Table*>(p);
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Normal(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Writes reach the real files; the table keeps what a power loss may take.
class PowerLossFs : public rocksdb::FileSystemWrapper {
 public:
  PowerLossFs(std::shared_ptr<rocksdb::FileSystem> base, Table* table)
      : rocksdb::FileSystemWrapper(std::move(base)), table_(table) {}
  const char* Name() const override { return "PowerLossFs"; }

  // The injected fault (ioerror campaign), for a file of `store_dir`.
  rocksdb::IOStatus MaybeFail(const std::string& path) {
    Fault& f = table_->fault;
    if (f.store < 0 || __atomic_load_n(&f.countdown, __ATOMIC_ACQUIRE) <= 0) {
      return rocksdb::IOStatus::OK();
    }
    const std::string dir = std::string("/") + kStores[f.store] + "/";
    if (path.find(dir) == std::string::npos) return rocksdb::IOStatus::OK();
    if (__atomic_sub_fetch(&f.countdown, 1, __ATOMIC_ACQ_REL) != 0) return rocksdb::IOStatus::OK();
    __atomic_store_n(&f.fired, 1, __ATOMIC_RELEASE);
    return f.no_space ? rocksdb::IOStatus::NoSpace("injected: no space left on device")
                      : rocksdb::IOStatus::IOError("injected: input/output error");
  }

  // A new (or recreated) file: nothing synced, its entry not yet durable.
  int Track(const std::string& path, uint64_t synced, bool dir_synced) {
    std::lock_guard<std::mutex> lock(mu_);
    int free_slot = -1;
    for (size_t i = 0; i < kSlots; ++i) {
      Slot& s = table_->slots[i];
      if (s.used && path == s.path) {
        s.synced = synced;
        s.dir_synced = dir_synced;
        return static_cast<int>(i);
      }
      if (!s.used && free_slot < 0) free_slot = static_cast<int>(i);
    }
    if (free_slot < 0 || path.size() >= sizeof(Slot::path)) return -1;  // untracked: kept
    Slot& s = table_->slots[free_slot];
    std::snprintf(s.path, sizeof(s.path), "%s", path.c_str());
    s.synced = synced;
    s.dir_synced = dir_synced;
    __atomic_store_n(&s.used, 1, __ATOMIC_RELEASE);
    return free_slot;
  }
  void Synced(int slot, uint64_t size) {
    if (slot < 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    table_->slots[slot].synced = size;
  }
  void DirSynced(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : table_->slots) {
      if (s.used && DirOf(s.path) == dir) s.dir_synced = 1;
    }
  }
  void Forget(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : table_->slots) {
      if (s.used && path == s.path) s.used = 0;
    }
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string&, const std::string&,
                                      const rocksdb::FileOptions&,
                                      std::unique_ptr<rocksdb::FSWritableFile>*,
                                      rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("PowerLossFs: no recycled files");
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string&, const rocksdb::FileOptions&,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>*,
                                    rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("PowerLossFs: no random-write files");
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->DeleteFile(name, options, dbg);
    if (s.ok()) Forget(name);
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->RenameFile(src, dst, options, dbg);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& slot : table_->slots) {
      if (slot.used && dst == slot.path) slot.used = 0;
    }
    for (Slot& slot : table_->slots) {
      if (slot.used && src == slot.path) {
        std::snprintf(slot.path, sizeof(slot.path), "%s", dst.c_str());
      }
    }
    // Taken as durable, and with it every earlier change in the directory.
    for (Slot& slot : table_->slots) {
      if (slot.used && DirOf(slot.path) == DirOf(dst)) slot.dir_synced = 1;
    }
    return s;
  }

 private:
  Table* table_;
  std::mutex mu_;
};

class TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, PowerLossFs* fs, int slot,
              uint64_t size, std::string path)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(file)),
        fs_(fs),
        slot_(slot),
        size_(size),
        path_(std::move(path)) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) size_ += data.size();
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->Append(data, options, info, dbg);
    if (s.ok()) size_ += data.size();
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) size_ = std::max<uint64_t>(size_, offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, info, dbg);
    if (s.ok()) size_ = std::max<uint64_t>(size_, offset + data.size());
    return s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) size_ = size;
    return s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) fs_->Synced(slot_, size_);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (auto f = fs_->MaybeFail(path_); !f.ok()) return f;
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    if (s.ok()) fs_->Synced(slot_, size_);
    return s;
  }
  // sync_file_range makes nothing durable: RangeSync passes through unrecorded.

 private:
  PowerLossFs* fs_;
  int slot_;
  uint64_t size_;
  const std::string path_;
};

class TrackedDir : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDir(std::unique_ptr<rocksdb::FSDirectory> dir, PowerLossFs* fs, std::string name)
      : rocksdb::FSDirectoryWrapper(std::move(dir)), fs_(fs), name_(Normal(std::move(name))) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    rocksdb::IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }

 private:
  PowerLossFs* fs_;
  std::string name_;
};

rocksdb::IOStatus PowerLossFs::NewWritableFile(const std::string& name,
                                               const rocksdb::FileOptions& options,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               rocksdb::IODebugContext* dbg) {
  if (auto f = MaybeFail(name); !f.ok()) return f;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, &file, dbg);
  if (!s.ok()) return s;
  const int slot = Track(name, 0, false);
  *result = std::make_unique<TrackedFile>(std::move(file), this, slot, 0, name);
  return s;
}

rocksdb::IOStatus PowerLossFs::ReopenWritableFile(const std::string& name,
                                                  const rocksdb::FileOptions& options,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                  rocksdb::IODebugContext* dbg) {
  struct stat st {};
  const bool existed = ::stat(name.c_str(), &st) == 0;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, &file, dbg);
  if (!s.ok()) return s;
  const uint64_t size = existed ? static_cast<uint64_t>(st.st_size) : 0;
  const int slot = Track(name, size, existed);
  *result = std::make_unique<TrackedFile>(std::move(file), this, slot, size, name);
  return s;
}

rocksdb::IOStatus PowerLossFs::NewDirectory(const std::string& name,
                                            const rocksdb::IOOptions& io_opts,
                                            std::unique_ptr<rocksdb::FSDirectory>* result,
                                            rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  rocksdb::IOStatus s = target()->NewDirectory(name, io_opts, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedDir>(std::move(dir), this, name);
  return s;
}

// The server half: a whole stack on PowerLossFs, until it is killed.
int Serve(const std::string& data_dir, const std::string& table_path) {
  Table* table = MapTable(table_path, false);
  if (table == nullptr) {
    std::fprintf(stderr, "cannot map %s\n", table_path.c_str());
    return 3;
  }
  auto fs = std::make_shared<PowerLossFs>(rocksdb::FileSystem::Default(), table);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  duurzaam::server::StackOptions options;
  options.config.dev = true;
  options.config.listen = "127.0.0.1:0";
  options.config.data_dir = data_dir;
  options.config.demo = true;
  options.env = env.get();
  auto stack = duurzaam::server::ServerStack::Start(std::move(options));
  if (!stack.ok()) {
    std::fprintf(stderr, "powerloss server: %s\n", std::string(stack.status().message()).c_str());
    return 3;
  }
  std::printf("listening on %s\n", (*stack)->server()->address().c_str());
  std::fflush(stdout);
  (*stack)->Wait();  // until SIGKILL
  return 0;
}

// ---------------------------------------------------------------------------
// The driver.

struct Acked {
  std::string stream;
  uint64_t revision = 0;
  int64_t position = -1;
  std::string data;  // raw appends only
};

struct Pending {  // sent, no answer yet
  std::string id;
  std::string stream;
  int64_t expected = -1;  // raw: exact revision; case: expected_revision
  std::string data;
  bool is_case = false;
};

void As(grpc::ClientContext* context, const char* who, const char* role, int seconds = 10) {
  context->AddMetadata("x-duurzaam-principal", who);
  context->AddMetadata("x-duurzaam-role", role);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

struct Server {
  pid_t pid = -1;
  std::string address;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Driver {
 public:
  // `duurzaamd` empty: this program's own server half, with power losses
  // (`power_loss`) or injected faults.
  Driver(std::string self, std::string duurzaamd, std::string dir, int writers, uint64_t seed,
         bool power_loss)
      : power_loss_(power_loss),
        self_(std::move(self)),
        duurzaamd_(std::move(duurzaamd)),
        dir_(std::move(dir)),
        rng_(seed),
        writers_(writers),
        pending_(writers + 2),
        next_revision_(writers + 2, 0) {
    table_path_ = dir_ + "/table";
    if (duurzaamd_.empty()) table_ = MapTable(table_path_, true);
  }

  bool Start() {
    if (table_ != nullptr) std::memset(static_cast<void*>(table_), 0, sizeof(Table));
    const std::string out = dir_ + "/server.log";  // this start's
    ::unlink(out.c_str());                         // not the last start's address
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      const std::string data = dir_ + "/data";
      if (duurzaamd_.empty()) {
        execl(self_.c_str(), self_.c_str(), "--serve", data.c_str(), table_path_.c_str(), nullptr);
      } else {
        execl(duurzaamd_.c_str(), duurzaamd_.c_str(), "--dev", "--demo", "--listen=127.0.0.1:0",
              ("--data_dir=" + data).c_str(), nullptr);
      }
      _exit(127);
    }
    server_.pid = pid;
    server_.address.clear();
    for (int i = 0; i < 1200 && server_.address.empty(); ++i) {
      std::smatch m;
      const std::string text = Slurp(out);
      if (std::regex_search(text, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"))) {
        server_.address = m[1];
        break;
      }
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (server_.address.empty()) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return false;
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // a case's whole timeline, thousands of events
    channel_ = grpc::CreateCustomChannel(server_.address, grpc::InsecureChannelCredentials(), args);
    return true;
  }

  // SIGKILL, then the power loss on every tracked file.
  void Crash() {
    kill(server_.pid, SIGKILL);
    waitpid(server_.pid, nullptr, 0);
    server_.pid = -1;
    if (table_ == nullptr || !power_loss_) return;  // kill -9 only: every write stays
    std::uniform_int_distribution<int> mode(0, 2);
    for (const Slot& s : table_->slots) {
      if (!s.used) continue;
      struct stat st {};
      if (::stat(s.path, &st) != 0) continue;
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      if (!s.dir_synced) {
        ::unlink(s.path);
        ++removed_files_;
        dropped_bytes_ += size;
        continue;
      }
      if (control_ && DirOf(s.path).size() >= 7 &&
          DirOf(s.path).compare(DirOf(s.path).size() - 7, 7, "/events") == 0 &&
          std::string(s.path).size() > 4 &&
          std::string(s.path).compare(std::string(s.path).size() - 4, 4, ".log") == 0) {
        // The control: the event log's write-ahead log loses synced bytes
        // too, as a disk that lies about fsync would. The oracle must see it.
        const uint64_t keep = s.synced / 2;
        if (keep < size && ::truncate(s.path, static_cast<off_t>(keep)) == 0) {
          dropped_bytes_ += size - keep;
          ++truncated_files_;
        }
        continue;
      }
      if (size <= s.synced) continue;
      uint64_t keep = s.synced;
      switch (mode(rng_)) {
        case 0:
          break;  // all unsynced bytes lost
        case 1:
          keep += std::uniform_int_distribution<uint64_t>(0, size - s.synced)(rng_);
          break;
        default:
          keep = size;  // all reached the disk
      }
      if (keep < size) {
        if (::truncate(s.path, static_cast<off_t>(keep)) != 0) Fail("truncate failed");
        dropped_bytes_ += size - keep;
        ++truncated_files_;
      }
    }
  }

  // ioerror: arms one fault; returns its description.
  std::string Arm() {
    Fault& f = table_->fault;
    f.store = std::uniform_int_distribution<int>(0, 3)(rng_);
    f.no_space = std::uniform_int_distribution<int>(0, 1)(rng_);
    f.fired = 0;
    __atomic_store_n(&f.countdown, std::uniform_int_distribution<int>(1, 300)(rng_),
                     __ATOMIC_RELEASE);
    return absl::StrCat(f.no_space ? "ENOSPC" : "EIO", " in ", kStores[f.store]);
  }
  bool Fired() const { return __atomic_load_n(&table_->fault.fired, __ATOMIC_ACQUIRE) != 0; }
  int fault_store() const { return table_->fault.store; }
  bool fault_no_space() const { return table_->fault.no_space != 0; }
  // The server is still running (not aborted, not exited).
  bool Alive(std::string* how) {
    int status = 0;
    if (waitpid(server_.pid, &status, WNOHANG) != server_.pid) return true;
    server_.pid = -1;
    *how = WIFSIGNALED(status) ? absl::StrCat("died of signal ", WTERMSIG(status))
                               : absl::StrCat("exited with code ", WEXITSTATUS(status));
    return false;
  }

  void Stop() {
    if (server_.pid > 0) {
      kill(server_.pid, SIGKILL);
      waitpid(server_.pid, nullptr, 0);
      server_.pid = -1;
    }
  }

  // Load until `until`: four raw writers and two case writers.
  void Load(Clock::time_point until) {
    std::vector<std::thread> threads;
    for (int w = 0; w < writers_; ++w) {
      threads.emplace_back([this, w, until] { RawWriter(w, until); });
    }
    for (int c = 0; c < 2; ++c) {
      threads.emplace_back([this, c, until] { CaseWriter(c, until); });
    }
    threads.emplace_back([this, until] { Reader(until); });
    for (auto& t : threads) t.join();
  }

  // After a restart: what was in flight, again, with the same ids.
  void Retry(int attempts = 50) {
    for (int w = 0; w < writers_ + 2; ++w) {
      Pending p;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (pending_[w].id.empty()) continue;
        p = pending_[w];
      }
      for (int attempt = 0; attempt < attempts; ++attempt) {
        const int outcome = p.is_case ? SendCase(w, p) : SendRaw(w, p);
        if (outcome == kOk) break;
        if (outcome == kFailed) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_[w].id.empty()) {
        return Fail(absl::StrCat("a retried append never succeeded: ", p.id, ": ", last_refusal_));
      }
    }
  }

  // The oracle. `full`: the chain and tree from position 0, every acked event.
  void Check(bool full) {
    std::map<std::string, std::vector<v1::RecordedEvent>> streams;
    std::set<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, a] : acked_) {
        if (full || a.revision + 1 >= checked_revision_[a.stream]) names.insert(a.stream);
      }
    }
    for (const std::string& stream : names) {
      uint64_t from = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!full) from = checked_revision_[stream];
      }
      if (!ReadStream(stream, from, &streams[stream])) return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, a] : acked_) {
      auto it = streams.find(a.stream);
      if (it == streams.end()) continue;
      const uint64_t from = it->second.empty() ? 0 : it->second.front().revision();
      if (a.revision < from) continue;
      if (a.revision - from >= it->second.size()) {
        return Fail(absl::StrCat("LOST: acknowledged event ", id, " at ", a.stream, " revision ",
                                 a.revision, " (the stream ends at ", from + it->second.size(),
                                 ")"));
      }
      const v1::RecordedEvent& e = it->second[a.revision - from];
      if (e.event_id() != id || (a.position >= 0 && e.position() != uint64_t(a.position)) ||
          (!a.data.empty() && e.data() != a.data)) {
        return Fail(absl::StrCat("CHANGED: ", a.stream, " revision ", a.revision, " holds ",
                                 e.event_id(), " at ", e.position(), ", acknowledged ", id));
      }
    }
    for (const auto& [stream, events] : streams) {
      std::set<std::string> ids;
      for (const auto& e : events) {
        if (!ids.insert(e.event_id()).second) {
          return Fail(absl::StrCat("DUPLICATE: ", e.event_id(), " twice in ", stream));
        }
      }
      if (!events.empty()) checked_revision_[stream] = events.back().revision();
    }
    checked_events_ += acked_.size();
  }

  // The chain, the tree, and the case projection.
  void CheckHistory(bool full) {
    auto audit = v1::Audit::NewStub(channel_);
    // The tree follows the log: wait until it holds every acknowledged write
    // (and the checkpoint before the crash).
    v1::SignedCheckpoint checkpoint;
    for (int i = 0; i < 600; ++i) {
      grpc::ClientContext context;
      As(&context, "auditor:powerloss", "AUDITOR");
      v1::GetCheckpointRequest request;
      grpc::Status s = audit->GetCheckpoint(&context, request, &checkpoint);
      if (!s.ok()) return Fail("GetCheckpoint: " + s.error_message());
      if (checkpoint.tree_size() >= std::max(last_size_, log_end_seen_)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (checkpoint.tree_size() < last_size_) {
      return Fail(absl::StrCat("the tree shrank: ", checkpoint.tree_size(), " < ", last_size_));
    }
    if (last_size_ > 0 && checkpoint.tree_size() > last_size_) {
      grpc::ClientContext context;
      As(&context, "auditor:powerloss", "AUDITOR");
      v1::GetConsistencyProofRequest request;
      request.set_first_size(last_size_);
      request.set_second_size(checkpoint.tree_size());
      v1::ConsistencyProof proof;
      grpc::Status s = audit->GetConsistencyProof(&context, request, &proof);
      if (!s.ok()) return Fail("GetConsistencyProof: " + s.error_message());
      std::vector<duurzaam::transparency::Hash> path;
      for (const std::string& h : proof.path()) {
        if (h.size() != 32) return Fail("a proof hash of the wrong size");
        duurzaam::transparency::Hash x;
        std::memcpy(x.data(), h.data(), 32);
        path.push_back(x);
      }
      duurzaam::transparency::Hash new_root;
      std::memcpy(new_root.data(), checkpoint.root_hash().data(), 32);
      absl::Status v = duurzaam::transparency::VerifyConsistency(last_size_, checkpoint.tree_size(),
                                                                 last_root_, new_root, path);
      if (!v.ok())
        return Fail("FORK: the tree is not consistent with the one before: " +
                    std::string(v.message()));
    }
    if (full) verifier_ = duurzaam::verify::LogVerifier();
    {
      grpc::ClientContext context;
      As(&context, "auditor:powerloss", "AUDITOR", 300);
      absl::Status s =
          duurzaam::audit::VerifyLogUpTo(channel_, &context, checkpoint.tree_size(), &verifier_);
      if (!s.ok()) return Fail("CHAIN: " + std::string(s.message()));
    }
    const duurzaam::transparency::Hash root = verifier_.Root();
    if (checkpoint.root_hash() != std::string(root.begin(), root.end())) {
      return Fail(absl::StrCat("ROOT: the log's Merkle root at ", checkpoint.tree_size(),
                               " is not the checkpoint's"));
    }
    last_size_ = checkpoint.tree_size();
    last_root_ = root;

    // The case projection: each case's timeline at its stream's revision.
    auto cases = v1::Cases::NewStub(channel_);
    for (int c = 0; c < 2; ++c) {
      const std::string case_id = CaseId(c);
      std::vector<v1::RecordedEvent> tail;
      if (!ReadStream("case-" + case_id, 0, &tail, /*last_only=*/true)) return;
      if (tail.empty()) continue;
      v1::Timeline timeline;
      grpc::ClientContext context;
      As(&context, "expert:jdevries", "EXPERT");
      v1::GetTimelineRequest request;
      request.set_case_id(case_id);
      grpc::Status s = cases->GetTimeline(&context, request, &timeline);
      if (!s.ok()) return Fail("GetTimeline: " + s.error_message());
      if (timeline.revision() != static_cast<int64_t>(tail.back().revision())) {
        return Fail(absl::StrCat("PROJECTION: case ", case_id, " timeline at revision ",
                                 timeline.revision(), ", its stream at ", tail.back().revision()));
      }
    }
  }

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  uint64_t acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  uint64_t truncated_files() const { return truncated_files_; }
  uint64_t removed_files() const { return removed_files_; }
  uint64_t retried() const { return retried_; }
  uint64_t log_size() const { return last_size_; }

 private:
  enum Outcome { kOk, kRetry, kFailed };

  // The server is gone or refuses for now (a full disk, a failed store).
  static bool Retryable(grpc::StatusCode code) {
    return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
           code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::RESOURCE_EXHAUSTED;
  }

  // A write that got no OK: kRetry when the server is gone or refuses for
  // now (kept as the last refusal), else the campaign fails.
  int Refused(const grpc::Status& s, const std::string& what) {
    if (Retryable(s.error_code())) {
      std::lock_guard<std::mutex> lock(mu_);
      last_refusal_ = s.error_message();
      return kRetry;
    }
    Fail(absl::StrCat(what, ": ", s.error_message()));
    return kFailed;
  }

  // Case writer c's current case: a new one every kCaseEvents events (cases
  // are hundreds of events long; a timeline is one message).
  static constexpr uint64_t kCaseEvents = 1000;
  std::string CaseId(int c) {
    std::lock_guard<std::mutex> lock(mu_);
    return "crash-" + std::to_string(c) + "-" + std::to_string(case_generation_[c]);
  }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(fail_mu_);
    if (failure_.empty()) failure_ = what;
  }

  void RawWriter(int w, Clock::time_point until) {
    std::uniform_int_distribution<int> len(10, 600);
    std::mt19937_64 rng(rng_() + w);
    while (Clock::now() < until && !failed()) {
      Pending p;
      p.id = EventId::Random().ToString();
      p.stream = "ext-powerloss-" + std::to_string(w);
      p.expected = static_cast<int64_t>(next_revision_[w]);
      p.data = std::string(len(rng), static_cast<char>('a' + rng() % 26)) + p.id;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_[w] = p;
      }
      if (SendRaw(w, p) != kOk) return;  // the server is gone: the retry comes after it
    }
  }

  int SendRaw(int w, const Pending& p) {
    auto stub = v1::EventStore::NewStub(channel_);
    v1::AppendRequest request;
    request.set_stream(p.stream);
    if (p.expected == 0) {
      request.mutable_expected_revision()->mutable_no_stream();
    } else {
      request.mutable_expected_revision()->set_exact(static_cast<uint64_t>(p.expected - 1));
    }
    auto* e = request.add_events();
    e->set_event_id(p.id);
    e->set_event_type("PowerLossNote");
    e->set_data(p.data);
    v1::AppendResponse response;
    grpc::ClientContext context;
    As(&context, "admin:powerloss", "ADMIN", 5);
    grpc::Status s = stub->Append(&context, request, &response);
    if (!s.ok()) return Refused(s, absl::StrCat("append of ", p.id));
    if (response.result().first_revision() != static_cast<uint64_t>(p.expected)) {
      Fail(absl::StrCat("append of ", p.id, " at revision ", response.result().first_revision(),
                        ", expected ", p.expected));
      return kFailed;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (response.result().replayed()) ++retried_;
    acked_[p.id] = Acked{p.stream, static_cast<uint64_t>(p.expected),
                         static_cast<int64_t>(response.result().first_position()), p.data};
    log_end_seen_ = std::max(log_end_seen_, response.result().last_position() + 1);
    next_revision_[w] = static_cast<uint64_t>(p.expected) + 1;
    pending_[w] = Pending();
    return kOk;
  }

  // Timeline reads (each writes an access-log record before it is served);
  // refusals are expected while a store fails, and are not checked here.
  void Reader(Clock::time_point until) {
    auto stub = v1::Cases::NewStub(channel_);
    for (int i = 0; Clock::now() < until && !failed() && i < 100000; ++i) {
      v1::GetTimelineRequest request;
      request.set_case_id(CaseId(i % 2));
      v1::Timeline timeline;
      grpc::ClientContext context;
      As(&context, "expert:jdevries", "EXPERT", 2);
      grpc::Status s = stub->GetTimeline(&context, request, &timeline);
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
          s.error_message().find("connect") != std::string::npos) {
        return;  // the server is gone
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void CaseWriter(int c, Clock::time_point until) {
    const int w = writers_ + c;
    while (Clock::now() < until && !failed()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (next_revision_[w] >= kCaseEvents) {
          ++case_generation_[c];
          next_revision_[w] = 0;
        }
      }
      Pending p;
      p.id = EventId::Random().ToString();
      p.stream = "case-" + CaseId(c);
      p.expected = next_revision_[w] == 0 ? -1 : static_cast<int64_t>(next_revision_[w] - 1);
      p.is_case = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_[w] = p;
      }
      if (SendCase(w, p) != kOk) return;
    }
  }

  int SendCase(int w, const Pending& p) {
    auto stub = v1::Cases::NewStub(channel_);
    const v1::RecordCaseEventRequest request = duurzaam::faults::CaseCommand(
        p.stream.substr(5), p.id, p.expected, next_revision_[w], "a call after a crash");
    v1::RecordCaseEventResponse response;
    grpc::ClientContext context;
    As(&context, "expert:jdevries", "EXPERT", 5);
    grpc::Status s = stub->RecordCaseEvent(&context, request, &response);
    if (!s.ok()) return Refused(s, absl::StrCat("command ", p.id));
    // The case's revision after the event: the event sits at it.
    const uint64_t revision = static_cast<uint64_t>(response.revision());
    if (revision != static_cast<uint64_t>(p.expected + 1)) {
      Fail(
          absl::StrCat("command ", p.id, " at revision ", revision, ", expected ", p.expected + 1));
      return kFailed;
    }
    std::lock_guard<std::mutex> lock(mu_);
    acked_[p.id] = Acked{p.stream, revision, static_cast<int64_t>(response.position()), ""};
    log_end_seen_ = std::max(log_end_seen_, response.position() + 1);
    next_revision_[w] = revision + 1;
    pending_[w] = Pending();
    return kOk;
  }

  bool ReadStream(const std::string& stream, uint64_t from, std::vector<v1::RecordedEvent>* out,
                  bool last_only = false) {
    auto stub = v1::EventStore::NewStub(channel_);
    for (int page = 0; page < 100000; ++page) {
      v1::ReadStreamRequest request;
      request.set_stream(stream);
      request.set_from_revision(from);
      request.set_max_count(last_only ? 1 : 1000);
      if (last_only) {
        request.set_direction(v1::READ_DIRECTION_BACKWARDS);
        request.set_from_end(true);
      }
      v1::ReadStreamResponse response;
      grpc::ClientContext context;
      As(&context, "auditor:powerloss", "AUDITOR", 30);
      grpc::Status s = stub->ReadStream(&context, request, &response);
      if (!s.ok()) {
        Fail("ReadStream " + stream + ": " + s.error_message());
        return false;
      }
      for (const auto& e : response.events()) out->push_back(e);
      if (last_only || response.end_of_stream() || response.events_size() == 0) return true;
      from = response.events(response.events_size() - 1).revision() + 1;
    }
    return true;
  }

  const bool power_loss_;

 public:
  bool control_ = false;  // --control: drop synced bytes of the log too

 private:
  std::string self_, duurzaamd_, dir_, table_path_;
  std::mt19937_64 rng_;
  int writers_;
  Table* table_ = nullptr;
  Server server_;
  std::shared_ptr<grpc::Channel> channel_;

  std::mutex mu_;
  std::map<std::string, Acked> acked_;
  std::map<std::string, uint64_t> checked_revision_;
  std::vector<Pending> pending_;         // per writer; cases last
  std::vector<uint64_t> next_revision_;  // per writer
  uint64_t case_generation_[2] = {0, 0};
  uint64_t log_end_seen_ = 0;
  std::string last_refusal_;
  uint64_t checked_events_ = 0;
  uint64_t retried_ = 0;

  duurzaam::verify::LogVerifier verifier_;
  uint64_t last_size_ = 0;
  duurzaam::transparency::Hash last_root_{};

  uint64_t dropped_bytes_ = 0, truncated_files_ = 0, removed_files_ = 0;
  std::mutex fail_mu_;
  std::string failure_;
};

}  // namespace

int Usage() {
  std::fprintf(stderr,
               "usage: duurzaam-crashes powerloss [--rounds=1000] [--minutes=60] [--writers=8] "
               "[--dir=/tmp] [--seed=N] [--control]\n"
               "       duurzaam-crashes kill9 DUURZAAMD [the same options]\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--serve") return Serve(argv[2], argv[3]);
  if (argc < 2) return Usage();
  const std::string mode = argv[1];
  std::string duurzaamd;
  int first = 2;
  if (mode == "kill9") {
    if (argc < 3) return Usage();
    duurzaamd = argv[2];
    first = 3;
  } else if (mode != "powerloss" && mode != "ioerror") {
    return Usage();
  }
  int rounds = 1000, minutes = 60, writers = 8;
  bool control = false;
  std::string base = "/tmp";
  uint64_t seed = std::random_device()();
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--rounds=", 0) == 0) {
      rounds = std::max(1, std::min(1000000, std::atoi(a.c_str() + 9)));
    } else if (a.rfind("--minutes=", 0) == 0) {
      minutes = std::max(1, std::min(24 * 60, std::atoi(a.c_str() + 10)));
    } else if (a.rfind("--writers=", 0) == 0) {
      writers = std::max(1, std::min(64, std::atoi(a.c_str() + 10)));
    } else if (a.rfind("--dir=", 0) == 0) {
      base = a.substr(6);
    } else if (a == "--control" && mode == "powerloss") {
      control = true;
    } else if (a.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    } else {
      return Usage();
    }
  }
  const char* m = mode.c_str();
  std::string tmpl = base + "/duurzaam-" + mode + "-XXXXXX";
  const std::string dir = mkdtemp(tmpl.data());
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 2;
  self[n] = 0;
  std::printf(
      "%s: %d rounds (at most %d min), %d writers + 2 case writers, seed %llu, data in %s\n", m,
      rounds, minutes, writers, static_cast<unsigned long long>(seed), dir.c_str());
  std::fflush(stdout);

  const bool io_errors = mode == "ioerror";
  Driver driver(self, duurzaamd, dir, writers, seed, mode == "powerloss");
  driver.control_ = control;
  std::map<std::string, int> fired;  // ioerror: faults that fired, by kind and store
  int resumed = 0;
  std::mt19937_64 rng(seed ^ 0x5eed);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::minutes(minutes);
  int done = 0;
  if (!driver.Start()) {
    std::printf("%s: FAIL: the server did not start; its log:\n%s\n", m,
                Slurp(dir + "/server.log").c_str());
    return 3;
  }
  for (; done < rounds && Clock::now() < deadline && !driver.failed(); ++done) {
    // Load for 50..800 ms, killed in the middle of it.
    const auto load_for =
        std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 800)(rng));
    std::string fault;
    if (io_errors) fault = driver.Arm();
    // The writers stop at their first refusal; under kill -9 and power loss
    // they are cut off by the crash.
    const auto load_end = Clock::now() + (io_errors ? load_for : std::chrono::seconds(5));
    std::thread load([&] { driver.Load(load_end); });
    std::this_thread::sleep_for(load_for);
    if (io_errors) {
      load.join();  // the writers stop at their first refusal
      std::string how;
      if (!driver.Alive(&how)) {
        std::printf("%s: FAIL: round %d: %s: the server %s; its log:\n%s\n", m, done + 1,
                    fault.c_str(), how.c_str(), Slurp(dir + "/server.log").c_str());
        return 1;
      }
      if (driver.Fired()) {
        ++fired[fault];
        // A full log disk that has room again: appends resume, no restart.
        if (driver.fault_store() == 0 && driver.fault_no_space()) {
          driver.Retry(/*attempts=*/300);
          if (driver.failed()) break;
          ++resumed;
        }
      }
    }
    driver.Crash();
    if (load.joinable()) load.join();
    if (driver.failed()) break;
    if (!driver.Start()) {
      std::printf("%s: FAIL: round %d: the server did not restart; its log:\n%s\n", m, done + 1,
                  Slurp(dir + "/server.log").c_str());
      return 1;
    }
    driver.Retry();
    const bool full = (done + 1) % 100 == 0;
    if (!driver.failed()) driver.Check(full);
    if (!driver.failed()) driver.CheckHistory(full);
    if ((done + 1) % 50 == 0 && !driver.failed()) {
      std::printf(
          "%s: %d crashes, %llu acknowledged events checked, log %llu records, "
          "%.1f MiB unsynced dropped, %.0f s\n",
          m, done + 1, static_cast<unsigned long long>(driver.acked()),
          static_cast<unsigned long long>(driver.log_size()), driver.dropped_bytes() / 1048576.0,
          std::chrono::duration<double>(Clock::now() - start).count());
      std::fflush(stdout);
    }
  }
  if (!driver.failed()) {
    driver.Check(/*full=*/true);
    if (!driver.failed()) driver.CheckHistory(/*full=*/true);
  }
  driver.Stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (driver.failed()) {
    std::printf("%s: FAIL: after %d crashes: %s (data kept in %s)\n", m, done,
                driver.failure().c_str(), dir.c_str());
    return 1;
  }
  std::printf(
      "%s: PASS: %d crashes in %.0f s, %llu acknowledged events all present, 0 lost, 0 "
      "duplicated; chain and Merkle root verified over %llu records, consistent across every "
      "crash; projections agree; %.1f MiB of unsynced writes dropped (%llu files cut, %llu "
      "never made durable removed); %llu in-flight retries answered from the log\n",
      m, done, seconds, static_cast<unsigned long long>(driver.acked()),
      static_cast<unsigned long long>(driver.log_size()), driver.dropped_bytes() / 1048576.0,
      static_cast<unsigned long long>(driver.truncated_files()),
      static_cast<unsigned long long>(driver.removed_files()),
      static_cast<unsigned long long>(driver.retried()));
  if (io_errors) {
    std::string list;
    int total = 0;
    for (const auto& [what, count] : fired) {
      absl::StrAppend(&list, list.empty() ? "" : ", ", what, " ×", count);
      total += count;
    }
    std::printf(
        "%s: %d faults fired without an abort (%s); appends resumed by themselves after "
        "%d ENOSPC in the event log\n",
        m, total, list.c_str(), resumed);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
