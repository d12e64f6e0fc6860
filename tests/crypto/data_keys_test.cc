#include "crypto/data_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_util.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::crypto {
namespace {

using ::duurzaam::crypto::testing::AllBytesUnder;
using ::duurzaam::crypto::testing::ReadAll;
using ::duurzaam::crypto::testing::WriteAll;
using ::duurzaam::testing::TempDir;

constexpr std::string_view kScope = "case-2024-000123";
// 2024-03-15 10:12:00 UTC
const int64_t kErasedAt = absl::ToUnixMicros(
    absl::FromCivil(absl::CivilSecond(2024, 3, 15, 10, 12, 0), absl::UTCTimeZone()));

// The value of the "wrapped " line of a key file.
std::string WrappedField(const std::string& file_text) {
  const size_t start = file_text.find("\nwrapped ");
  if (start == std::string::npos) return "";
  const size_t begin = start + 9;
  return file_text.substr(begin, file_text.find('\n', begin) - begin);
}

class DataKeyStoreTest : public ::testing::Test {
 protected:
  std::string KeysPath() const { return tmp_.Sub("master.keys"); }
  std::string KeyDir() const { return tmp_.Sub("keys"); }
  std::string KeyFilePath(std::string_view scope) const {
    return KeyDir() + "/" + *DataKeyStore::FileNameForScope(scope);
  }

  std::unique_ptr<DataKeyStore> OpenStore() {
    absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(KeysPath());
    EXPECT_TRUE(keyring.ok()) << keyring.status();
    absl::StatusOr<std::unique_ptr<DataKeyStore>> store =
        DataKeyStore::Open(KeyDir(), *std::move(keyring));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void SetUp() override { ASSERT_TRUE(MasterKeyring::Create(KeysPath()).ok()); }

  TempDir tmp_;
};

TEST_F(DataKeyStoreTest, OpenCreatesOwnerOnlyDirectory) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(KeyDir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(DataKeyStoreTest, GetOrCreatePersistsAcrossReopen) {
  DataKey first;
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    absl::StatusOr<DataKey> key = store->GetOrCreate(kScope);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->key.size(), 32u);
    EXPECT_EQ(key->id.size(), 16u);
    first = *key;
    absl::StatusOr<DataKey> again = store->GetOrCreate(kScope);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->id, first.id);
    EXPECT_EQ(again->key, first.key);
  }
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<DataKey> reopened = store->GetOrCreate(kScope);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->id, first.id);
  EXPECT_EQ(reopened->key, first.key);
  absl::StatusOr<DataKey> by_id = store->Get(kScope, first.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->key, first.key);

  struct stat st;
  ASSERT_EQ(::stat(KeyFilePath(kScope).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DataKeyStoreTest, ScopesGetDifferentKeysAndFileNamesHideTheScope) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<DataKey> a = store->GetOrCreate("case-a");
  absl::StatusOr<DataKey> b = store->GetOrCreate("case-b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key, b->key);
  EXPECT_NE(a->id, b->id);
  // SHA-256("abc")
  EXPECT_EQ(*DataKeyStore::FileNameForScope("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const auto& entry : std::filesystem::directory_iterator(KeyDir())) {
    EXPECT_EQ(entry.path().filename().string().find("case-"), std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::exists(KeyFilePath("case-a")));
}

TEST_F(DataKeyStoreTest, GetReportsMissingScopesAndKeyIds) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("never", "0011223344556677").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store->GetOrCreate(kScope).ok());
  absl::StatusOr<DataKey> wrong = store->Get(kScope, "0011223344556677");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(wrong.status().message().find("0011223344556677"), std::string::npos);
  EXPECT_FALSE(IsErased(wrong.status()));
}

TEST_F(DataKeyStoreTest, RejectsInvalidScopes) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetOrCreate("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetOrCreate(std::string_view("a\0b", 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetOrCreate(std::string(1025, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DataKeyStoreTest, EightThreadsRacingOnANewScopeGetOneKey) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const std::string scope = "race-" + std::to_string(round);
    std::vector<absl::StatusOr<DataKey>> results(kThreads, absl::UnknownError("not run"));
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        results[i] = store->GetOrCreate(scope);
      });
    }
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].status();
      EXPECT_EQ(results[i]->id, results[0]->id);
      EXPECT_EQ(results[i]->key, results[0]->key);
    }
  }
  // One file per scope (plus the lock file), no temp files.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(KeyDir())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, 5 + 1);
}

TEST_F(DataKeyStoreTest, EraseIsReportedDistinctlyAlsoAfterReopen) {
  std::string key_id;
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    absl::StatusOr<DataKey> key = store->GetOrCreate(kScope);
    ASSERT_TRUE(key.ok());
    key_id = key->id;
    EXPECT_EQ(*store->ErasedAt(kScope), std::nullopt);
    ASSERT_TRUE(store->Erase(kScope, kErasedAt).ok());
    EXPECT_TRUE(store->ErasedAt(kScope)->has_value());

    absl::StatusOr<DataKey> get = store->Get(kScope, key_id);
    EXPECT_EQ(get.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(IsErased(get.status())) << get.status();
    EXPECT_NE(get.status().message().find("erased on 2024-03-15"), std::string::npos)
        << get.status();
    EXPECT_EQ(ErasedAtMicros(get.status()), kErasedAt);
    // No new key for an erased scope.
    EXPECT_TRUE(IsErased(store->GetOrCreate(kScope).status()));
    // Idempotent, and the first date stays.
    EXPECT_TRUE(store->Erase(kScope, kErasedAt + 1000).ok());
  }
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<DataKey> get = store->Get(kScope, key_id);
  EXPECT_TRUE(IsErased(get.status())) << get.status();
  EXPECT_EQ(ErasedAtMicros(get.status()), kErasedAt);
  EXPECT_TRUE(IsErased(store->GetOrCreate(kScope).status()));
  EXPECT_TRUE(store->ErasedAt(kScope)->has_value());
  EXPECT_EQ(*store->ErasedAt(kScope), kErasedAt);
  EXPECT_EQ(*store->ErasedAt("case-never-seen"), std::nullopt);
  EXPECT_TRUE(store->Erase(kScope, kErasedAt + 2000).ok());
  EXPECT_EQ(ErasedAtMicros(store->Get(kScope, key_id).status()), kErasedAt);
}

TEST_F(DataKeyStoreTest, AnUnreadableKeyFileIsAnErrorNeverNotErased) {
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Erase(kScope, kErasedAt).ok());
  }
  // The tombstone is damaged (a torn write, a disk error, a bad restore).
  std::ofstream(KeyFilePath(kScope), std::ios::trunc) << "garbage";
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::optional<int64_t>> erased = store->ErasedAt(kScope);
  EXPECT_FALSE(erased.ok()) << "a damaged tombstone read as "
                            << (erased.ok() && *erased ? "erased" : "not erased");
  EXPECT_EQ(*store->ErasedAt("case-never-seen"), std::nullopt);  // no file: not erased
}

TEST_F(DataKeyStoreTest, EraseOfUnknownScopePreventsLaterCreation) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Erase("never-used", kErasedAt).ok());
  EXPECT_TRUE(IsErased(store->GetOrCreate("never-used").status()));
  EXPECT_FALSE(IsErased(absl::FailedPreconditionError("other")));
  EXPECT_FALSE(IsErased(absl::OkStatus()));
}

TEST_F(DataKeyStoreTest, DirectoryNeverHoldsRawKeyAndAfterErasureNoWrappedKey) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<DataKey> key = store->GetOrCreate(kScope);
  absl::StatusOr<DataKey> other = store->GetOrCreate("case-other");
  ASSERT_TRUE(key.ok() && other.ok());

  std::string bytes = AllBytesUnder(KeyDir());
  EXPECT_EQ(bytes.find(key->key), std::string::npos);
  EXPECT_EQ(bytes.find(absl::BytesToHexString(key->key)), std::string::npos);
  const std::string wrapped = WrappedField(ReadAll(KeyFilePath(kScope)));
  ASSERT_EQ(wrapped.size(), 2u * (12 + 32 + 16));
  ASSERT_NE(bytes.find(wrapped), std::string::npos);  // the check below can fail

  // Hold the old inode open to see that its bytes were overwritten in place.
  const int old_fd = ::open(KeyFilePath(kScope).c_str(), O_RDONLY);
  ASSERT_GE(old_fd, 0);
  ASSERT_TRUE(store->Erase(kScope, kErasedAt).ok());

  bytes = AllBytesUnder(KeyDir());
  EXPECT_EQ(bytes.find(wrapped), std::string::npos);
  EXPECT_EQ(bytes.find(key->key), std::string::npos);
  EXPECT_EQ(bytes.find(key->id), std::string::npos);
  EXPECT_NE(bytes.find(WrappedField(ReadAll(KeyFilePath("case-other")))), std::string::npos);

  std::string old_contents(256, 'x');
  const ssize_t n = ::pread(old_fd, old_contents.data(), old_contents.size(), 0);
  ::close(old_fd);
  ASSERT_GT(n, 0);
  old_contents.resize(static_cast<size_t>(n));
  EXPECT_EQ(old_contents, std::string(old_contents.size(), '\0'));
}

TEST_F(DataKeyStoreTest, SecondOpenOfSameDirectoryIsRefused) {
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(KeysPath());
  ASSERT_TRUE(keyring.ok());
  absl::StatusOr<std::unique_ptr<DataKeyStore>> second =
      DataKeyStore::Open(KeyDir(), *std::move(keyring));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  store.reset();
  EXPECT_NE(OpenStore(), nullptr);
}

TEST_F(DataKeyStoreTest, DamagedOrSwappedKeyFilesAreDataLoss) {
  std::string id_a;
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    absl::StatusOr<DataKey> a = store->GetOrCreate("case-a");
    ASSERT_TRUE(a.ok() && store->GetOrCreate("case-b").ok());
    id_a = a->id;
  }
  // Flip one hex digit of the wrapped key of case-a.
  std::string text = ReadAll(KeyFilePath("case-a"));
  const size_t pos = text.find("\nwrapped ") + 20;
  text[pos] = text[pos] == '0' ? '1' : '0';
  WriteAll(KeyFilePath("case-a"), text);
  // Copy case-b's file over the name of case-c.
  std::filesystem::copy_file(KeyFilePath("case-b"), KeyFilePath("case-c"));

  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("case-a", id_a).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->GetOrCreate("case-c").status().code(), absl::StatusCode::kDataLoss);
  // A damaged key can still be erased.
  EXPECT_TRUE(store->Erase("case-a", kErasedAt).ok());
  EXPECT_TRUE(IsErased(store->Get("case-a", id_a).status()));
}

TEST_F(DataKeyStoreTest, OpenShredsLeftoverTempFiles) {
  ASSERT_NE(OpenStore(), nullptr);
  const std::string leftover = KeyFilePath("case-a") + ".tmp-0123456789abcdef";
  WriteAll(leftover, "duurzaam.datakey v1\nwrapped secret\n");
  ASSERT_NE(OpenStore(), nullptr);
  EXPECT_FALSE(std::filesystem::exists(leftover));
}

TEST_F(DataKeyStoreTest, RotationRewrapsUnderNewMasterAndOldKeyCanBeRetired) {
  const std::string old_id = MasterKeyring::Load(KeysPath())->current_id();
  DataKey a, b;
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    a = *store->GetOrCreate("case-a");
    b = *store->GetOrCreate("case-b");
    ASSERT_TRUE(store->GetOrCreate("case-erased").ok());
    ASSERT_TRUE(store->Erase("case-erased", kErasedAt).ok());

    absl::StatusOr<std::string> new_id = MasterKeyring::AddKey(KeysPath());
    ASSERT_TRUE(new_id.ok()) << new_id.status();
    absl::StatusOr<MasterKeyring> new_keyring = MasterKeyring::Load(KeysPath());
    ASSERT_TRUE(new_keyring.ok());
    absl::StatusOr<int> rewrapped = store->RotateMaster(*std::move(new_keyring));
    ASSERT_TRUE(rewrapped.ok()) << rewrapped.status();
    EXPECT_EQ(*rewrapped, 2);
    // Rerunning finds nothing left to do.
    absl::StatusOr<int> again = store->RotateMaster(*MasterKeyring::Load(KeysPath()));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, 0);
    // New keys are wrapped under the new master key too.
    ASSERT_TRUE(store->GetOrCreate("case-new").ok());
    ASSERT_TRUE(MasterKeyring::Retire(KeysPath(), old_id).ok());
  }
  absl::StatusOr<MasterKeyring> only_new = MasterKeyring::Load(KeysPath());
  ASSERT_TRUE(only_new.ok());
  ASSERT_EQ(only_new->ids().size(), 1u);
  const std::string new_id = only_new->current_id();
  EXPECT_NE(new_id, old_id);

  for (std::string_view scope : {"case-a", "case-b", "case-new"}) {
    const std::string text = ReadAll(KeyFilePath(scope));
    EXPECT_NE(text.find("master-key-id " + new_id + "\n"), std::string::npos) << text;
    EXPECT_EQ(text.find(old_id), std::string::npos) << text;
  }
  std::unique_ptr<DataKeyStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<DataKey> a2 = store->Get("case-a", a.id);
  absl::StatusOr<DataKey> b2 = store->Get("case-b", b.id);
  ASSERT_TRUE(a2.ok()) << a2.status();
  ASSERT_TRUE(b2.ok()) << b2.status();
  EXPECT_EQ(a2->key, a.key);
  EXPECT_EQ(b2->key, b.key);
  EXPECT_TRUE(IsErased(store->GetOrCreate("case-erased").status()));
}

TEST_F(DataKeyStoreTest, KeyWrappedByMissingMasterKeyIsFailedPrecondition) {
  DataKey a;
  {
    std::unique_ptr<DataKeyStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    a = *store->GetOrCreate("case-a");
  }
  absl::StatusOr<MasterKeyring> stranger = MasterKeyring::FromKeys({{"mk-other", a.key}});
  ASSERT_TRUE(stranger.ok());
  absl::StatusOr<std::unique_ptr<DataKeyStore>> store =
      DataKeyStore::Open(KeyDir(), *std::move(stranger));
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<DataKey> get = (*store)->Get("case-a", a.id);
  EXPECT_EQ(get.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsErased(get.status()));
  // Rotation refuses to start, and changes nothing, when a key cannot be unwrapped.
  absl::StatusOr<int> rotated =
      (*store)->RotateMaster(*MasterKeyring::FromKeys({{"mk-x", std::string(32, 'x')}}));
  EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace duurzaam::crypto
