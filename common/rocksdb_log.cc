#include "common/rocksdb_log.h"

#include <cstdarg>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"

namespace duurzaam {
namespace {

class ServerLogLogger final : public rocksdb::Logger {
 public:
  explicit ServerLogLogger(std::string name)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), name_(std::move(name)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Write(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    Write(level, format, ap);
  }

 private:
  void Write(rocksdb::InfoLogLevel level, const char* format, va_list ap) {
    char buffer[1024];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(buffer, sizeof buffer, format, copy);
    va_end(copy);
    if (n < 0) return;
    ::duurzaam::Log(
        level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? LogLevel::kError : LogLevel::kWarning,
        std::string_view(buffer, std::min<size_t>(n, sizeof buffer - 1)),
        {{"source", "rocksdb"}, {"db", name_}});
  }

  std::string name_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> RocksDbServerLog(const std::string& name) {
  return std::make_shared<ServerLogLogger>(name);
}

uint64_t RocksDbMemoryBytes(rocksdb::DB* db) {
  uint64_t memtables = 0, cache = 0;
  db->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &memtables);
  db->GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage, &cache);
  return memtables + cache;
}

}  // namespace duurzaam
