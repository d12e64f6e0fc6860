// Tampering with a stopped server's store, as an intruder with disk access
// would: for the tests that must see it caught.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "eventstore/record_codec.h"
#include "rocksdb/db.h"
#include "rocksdb/slice_transform.h"

namespace duurzaam::testing {

// Flips one letter inside the stored data of the record at `position`
// (the server stopped), as an intruder with disk access would.
inline void ChangeStoredRecord(const std::string& events_dir, uint64_t position) {
  rocksdb::Options options;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, events_dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions cf_options;
    if (name == "ids") cf_options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(16));
    cfs.emplace_back(name, cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, events_dir, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* log = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "log") log = handles[i];
  }
  ASSERT_NE(log, nullptr);
  const std::string key = eventstore::internal::PositionKey(position);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, key, &value).ok());
  eventstore::EventView view;
  ASSERT_TRUE(eventstore::internal::DecodeRecord(value, position, &view));
  const size_t data_offset = view.data.data() - value.data();
  size_t flip = std::string::npos;
  for (size_t i = 0; i + 4 <= view.data.size() && flip == std::string::npos; ++i) {
    bool letters = true;
    for (size_t j = i; j < i + 4; ++j) letters = letters && std::isalpha(view.data[j]);
    if (letters) flip = data_offset + i + 1;
  }
  ASSERT_NE(flip, std::string::npos);
  value[flip] ^= 0x20;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, log, key, value).ok());
  for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace duurzaam::testing
