// Options of an event store. Defaults are safe for production: every
// acknowledged append is synced to disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace duurzaam::eventstore {

struct Options {
  // Directory of the store. Created when missing and create_if_missing.
  std::string path;
  bool create_if_missing = true;

  // When false, appends are acknowledged before they are synced. Only for
  // bulk-loading benchmark fixtures; never in the server.
  bool sync = true;

  // Limits. A violation is INVALID_ARGUMENT and writes nothing.
  size_t max_event_bytes = 1 << 20;   // data + metadata of one event
  size_t max_append_events = 1000;    // events in one append call
  size_t max_append_bytes = 4 << 20;  // all events of one append call
  size_t max_stream_name_bytes = 200;
  size_t max_event_type_bytes = 100;

  // Group commit: one synced write takes at most this many bytes of queued
  // appends (at least one append always goes).
  size_t max_group_bytes = 8 << 20;

  // Nice value of the engine's writer and syncer threads, which every
  // appender waits on. Negative values need CAP_SYS_NICE or RLIMIT_NICE;
  // without them the threads keep the process's priority
  // (StoreInfo::pipeline_priority_raised is false). Zero or more leaves them
  // alone (duurzaamd's choice: its appends are asynchronous).
  int pipeline_nice = -10;

  // Free disk space the store keeps on the disk of `path`. An append that
  // would leave less is refused RESOURCE_EXHAUSTED before it reaches
  // RocksDB (which needs room for flushes, compactions and its manifest),
  // and appends resume by themselves once there is room again; opening
  // needs this much free too. 0: no threshold. Either way a write that
  // meets a full disk is refused RESOURCE_EXHAUSTED, never an abort, and
  // the store resumes once the disk has room (see Store::Append).
  uint64_t min_free_bytes = 0;

  // RocksDB memory budget.
  size_t block_cache_bytes = 32 << 20;
  size_t write_buffer_bytes = 32 << 20;

  // Wall clock for recorded-at, microseconds since the Unix epoch. The store
  // keeps recorded-at non-decreasing along the log. Defaults to the system
  // clock; tests inject their own.
  std::function<int64_t()> clock;

  // The environment RocksDB reads and writes files through; nullptr: the
  // operating system's. Fault-injection tests pass one that fails or drops
  // writes. Must outlive the store.
  rocksdb::Env* env = nullptr;
};

}  // namespace duurzaam::eventstore
