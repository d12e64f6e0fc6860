// Edits a stored record behind the engine's back, as an attacker (or a bad
// disk) would: for tests of what the engine does with records it did not
// write.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eventstore/record_codec.h"
#include "rocksdb/db.h"

namespace duurzaam::testing {

// Rewrites the raw record at `position` of the (closed) store at `path`
// with `edit` applied.
inline void Tamper(const std::string& path, uint64_t position,
                   const std::function<void(std::string*)>& edit) {
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(db_options, path, &names).ok());
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(db_options, path, cfs, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* log = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "log") log = handles[i];
  }
  ASSERT_NE(log, nullptr);
  std::string key = eventstore::internal::PositionKey(position);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, key, &value).ok());
  edit(&value);
  rocksdb::WriteOptions w;
  w.sync = true;
  ASSERT_TRUE(db->Put(w, log, key, value).ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

}  // namespace duurzaam::testing
