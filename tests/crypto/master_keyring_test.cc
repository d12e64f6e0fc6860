#include "crypto/master_keyring.h"

#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/crypto/test_util.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::crypto {
namespace {

using ::duurzaam::crypto::testing::ReadAll;
using ::duurzaam::crypto::testing::WriteAll;
using ::duurzaam::testing::TempDir;

const std::string kHexKeyA(64, 'a');
const std::string kHexKeyB = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST(MasterKeyringTest, CreateWritesOneOwnerOnlyKeyThatLoads) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  ASSERT_TRUE(MasterKeyring::Create(path).ok());

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  ASSERT_EQ(keyring->ids().size(), 1u);
  EXPECT_FALSE(keyring->current_id().empty());
  absl::StatusOr<std::string_view> key = keyring->Key(keyring->current_id());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_NE(*key, std::string(32, '\0'));
}

TEST(MasterKeyringTest, CreateRefusesExistingFile) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  ASSERT_TRUE(MasterKeyring::Create(path).ok());
  const std::string before = ReadAll(path);
  EXPECT_EQ(MasterKeyring::Create(path).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(path), before);
}

TEST(MasterKeyringTest, LoadParsesIdsAndKeysLastIsCurrent) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  WriteAll(path, "# comment\nold-1 " + kHexKeyA + "\n\nnew.2 " + kHexKeyB + "\n");
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  EXPECT_EQ(keyring->current_id(), "new.2");
  EXPECT_EQ(keyring->ids(), (std::vector<std::string>{"old-1", "new.2"}));
  EXPECT_EQ(*keyring->Key("old-1"), std::string(32, '\xaa'));
  EXPECT_EQ(static_cast<unsigned char>((*keyring->Key("new.2"))[31]), 0xffu);
}

TEST(MasterKeyringTest, KeyNotFoundNamesTheId) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  WriteAll(path, "k1 " + kHexKeyA + "\n");
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  ASSERT_TRUE(keyring.ok());
  absl::StatusOr<std::string_view> key = keyring->Key("mk-missing");
  EXPECT_EQ(key.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(key.status().message(), "mk-missing")) << key.status();
}

TEST(MasterKeyringTest, AddKeyAppendsNewCurrentAndKeepsOld) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  ASSERT_TRUE(MasterKeyring::Create(path).ok());
  const std::string first_id = MasterKeyring::Load(path)->current_id();
  const std::string first_key(*MasterKeyring::Load(path)->Key(first_id));

  absl::StatusOr<std::string> new_id = MasterKeyring::AddKey(path);
  ASSERT_TRUE(new_id.ok()) << new_id.status();
  EXPECT_NE(*new_id, first_id);

  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  EXPECT_EQ(keyring->current_id(), *new_id);
  EXPECT_EQ(keyring->ids(), (std::vector<std::string>{first_id, *new_id}));
  EXPECT_EQ(*keyring->Key(first_id), first_key);
  EXPECT_NE(*keyring->Key(*new_id), first_key);

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temp files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(MasterKeyringTest, RetireRemovesOldKeyOnly) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  ASSERT_TRUE(MasterKeyring::Create(path).ok());
  const std::string old_id = MasterKeyring::Load(path)->current_id();
  absl::StatusOr<std::string> new_id = MasterKeyring::AddKey(path);
  ASSERT_TRUE(new_id.ok());

  absl::Status current = MasterKeyring::Retire(path, *new_id);
  EXPECT_EQ(current.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(current.message(), "current")) << current;

  absl::Status unknown = MasterKeyring::Retire(path, "mk-nope");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.message(), "mk-nope")) << unknown;

  ASSERT_TRUE(MasterKeyring::Retire(path, old_id).ok());
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  EXPECT_EQ(keyring->ids(), std::vector<std::string>{*new_id});
  EXPECT_EQ(keyring->Key(old_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Contains(ReadAll(path), old_id));
}

TEST(MasterKeyringTest, RefusesGroupOrOtherReadableFile) {
  TempDir tmp;
  const std::string path = tmp.Sub("master.keys");
  WriteAll(path, "k1 " + kHexKeyA + "\n", 0644);
  absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
  EXPECT_EQ(keyring.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(keyring.status().message(), "0644")) << keyring.status();
  EXPECT_TRUE(Contains(keyring.status().message(), "chmod 600")) << keyring.status();
  EXPECT_FALSE(Contains(keyring.status().message(), kHexKeyA));

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(MasterKeyring::Load(path).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(MasterKeyring::AddKey(path).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(MasterKeyring::Load(path).ok());
}

struct MalformedCase {
  std::string contents;
  std::string expected_fragment;
};

TEST(MasterKeyringTest, RefusesMalformedLinesNamingTheLine) {
  const std::vector<MalformedCase> cases = {
      {"k1 " + kHexKeyA + "\nk2 " + kHexKeyA.substr(2) + "\n", "line 2"},
      {"k1 " + kHexKeyA + "\nk2 " + kHexKeyA.substr(2) + "\n", "62 characters"},
      {"k1 " + kHexKeyA + "\n" + kHexKeyB + "\n", "line 2"},
      {"k1\n", "found 1 field"},
      {"k1 " + kHexKeyA + " extra\n", "found 3 field"},
      {"k1 " + std::string(63, 'a') + "g\n", "not hex"},
      {"bad/id " + kHexKeyA + "\n", "key id"},
      {"k1 " + kHexKeyA + "\n\n\nk1 " + kHexKeyB + "\n", "line 4"},
      {"k1 " + kHexKeyA + "\nk1 " + kHexKeyB + "\n", "already used on line 1"},
      {"# only a comment\n\n", "no keys"},
      {"", "no keys"},
  };
  for (const MalformedCase& c : cases) {
    TempDir tmp;
    const std::string path = tmp.Sub("master.keys");
    WriteAll(path, c.contents);
    absl::StatusOr<MasterKeyring> keyring = MasterKeyring::Load(path);
    EXPECT_EQ(keyring.status().code(), absl::StatusCode::kFailedPrecondition) << c.contents;
    EXPECT_TRUE(Contains(keyring.status().message(), c.expected_fragment))
        << keyring.status() << " for " << c.contents;
    // Error messages never echo key material.
    EXPECT_FALSE(Contains(keyring.status().message(), kHexKeyA.substr(0, 32)));
    EXPECT_FALSE(Contains(keyring.status().message(), kHexKeyB.substr(0, 32)));
  }
}

TEST(MasterKeyringTest, MissingFileIsNotFound) {
  TempDir tmp;
  EXPECT_EQ(MasterKeyring::Load(tmp.Sub("absent.keys")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MasterKeyringTest, FromKeysValidates) {
  EXPECT_EQ(MasterKeyring::FromKeys({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyring::FromKeys({{"k", std::string(31, 'x')}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyring::FromKeys({{"k", std::string(32, 'x')}, {"k", std::string(32, 'y')}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<MasterKeyring> ok =
      MasterKeyring::FromKeys({{"a", std::string(32, 'x')}, {"b", std::string(32, 'y')}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->current_id(), "b");
}

}  // namespace
}  // namespace duurzaam::crypto
