// RocksDB's info log, routed to the server log. Every RocksDB database of
// the server uses it instead of the LOG file RocksDB would write beside its
// data: on a full disk that file's writer fails, and RocksDB asserts (an
// abort in Debian's build) on the next line written to a failed file.
// Only warnings and worse are kept; each becomes one escaped line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace rocksdb {
class DB;
class Logger;
}  // namespace rocksdb

namespace duurzaam {

// A logger for the database `name` ("events", "projections", ...).
std::shared_ptr<rocksdb::Logger> RocksDbServerLog(const std::string& name);

// The memory RocksDB holds for `db`: its memtables (every column family) and
// its block cache (metrics).
uint64_t RocksDbMemoryBytes(rocksdb::DB* db);

}  // namespace duurzaam
