// The expert app's encrypted journal on a real file: what was appended comes
// back in order after a reopen, a wrong passphrase and a damaged record are
// refused loudly, an unfinished last record (a crash mid-append) is dropped
// and reported, the file holds no plaintext (with a positive control), and a
// rewrite forgets what it leaves out.
#include "clients/expert/vault.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "clients/expert/replica.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::expert {
namespace {

// Cheap enough for tests; the default is 2^17.
const VaultOptions kFast{.log2_n = 10, .r = 8, .p = 1};
constexpr char kPass[] = "correct horse battery";
// magic 8, cost 4, salt 16, file id 16, check value 28.
constexpr size_t kHeader = 72;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::vector<std::string>> ReadBack(const std::string& path,
                                                  std::string_view pass = kPass,
                                                  bool* dropped = nullptr) {
  std::vector<std::string> out;
  auto vault = Vault::Open(path, pass, [&](std::string_view r) {
    out.emplace_back(r);
    return absl::OkStatus();
  });
  if (!vault.ok()) return vault.status();
  if (dropped) *dropped = (*vault)->dropped_unfinished_record();
  return out;
}

class VaultTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.Sub("replica.vault"); }
  testing::TempDir dir_;
};

TEST_F(VaultTest, RecordsComeBackInOrderAfterReopenAndTheFileHoldsNoPlaintext) {
  {
    auto vault = Vault::Create(Path(), kPass, kFast);
    ASSERT_TRUE(vault.ok()) << vault.status();
    ASSERT_TRUE((*vault)->Append({"relatie verbroken na verhuizing", "tweede"}).ok());
    ASSERT_TRUE((*vault)->Append({"derde"}).ok());
    EXPECT_EQ((*vault)->size(), 3u);
  }
  auto back = ReadBack(Path());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back,
            (std::vector<std::string>{"relatie verbroken na verhuizing", "tweede", "derde"}));
  const std::string bytes = Slurp(Path());
  EXPECT_EQ(bytes.find("verhuizing"), std::string::npos);
  EXPECT_EQ(bytes.find("tweede"), std::string::npos);
  // Positive control: the same search finds a value that is in the file.
  EXPECT_NE(bytes.find("DZEXPV1"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Appending after a reopen goes on in the same file.
  {
    auto vault = Vault::Open(Path(), kPass, [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE(vault.ok());
    ASSERT_TRUE((*vault)->Append({"vierde"}).ok());
  }
  EXPECT_EQ(ReadBack(Path())->size(), 4u);
}

TEST_F(VaultTest, AWrongPassphraseAndASecondProcessAreRefused) {
  auto vault = Vault::Create(Path(), kPass, kFast);
  ASSERT_TRUE(vault.ok());
  ASSERT_TRUE((*vault)->Append({"x"}).ok());
  // Open in this process: the lock is per open file description.
  auto second = Vault::Open(Path(), kPass, [](std::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  vault->reset();
  EXPECT_EQ(ReadBack(Path(), "wrong passphrase!").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Vault::Create(Path(), kPass, kFast).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Vault::Create(dir_.Sub("short"), "kort", kFast).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadBack(dir_.Sub("none")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(VaultTest, AnUnfinishedLastRecordIsDroppedAndADamagedOneIsDataLoss) {
  {
    auto vault = Vault::Create(Path(), kPass, kFast);
    ASSERT_TRUE((*vault)->Append({"een"}).ok());
    ASSERT_TRUE((*vault)->Append({"twee"}).ok());
    ASSERT_TRUE((*vault)->Append({"drie"}).ok());
  }
  const std::string whole = Slurp(Path());
  // A crash in the middle of the last append: every cut of the last frame
  // (length + overhead + the record's length + "drie").
  const size_t last = 4 + 28 + 4 + 4;
  for (size_t cut = 1; cut < last; cut += 5) {
    std::ofstream(Path(), std::ios::binary | std::ios::trunc)
        << whole.substr(0, whole.size() - cut);
    bool dropped = false;
    auto back = ReadBack(Path(), kPass, &dropped);
    ASSERT_TRUE(back.ok()) << "cut " << cut << ": " << back.status();
    EXPECT_EQ(*back, (std::vector<std::string>{"een", "twee"}));
    EXPECT_TRUE(dropped);
    // The tail was truncated: appending goes on cleanly.
    {
      auto vault = Vault::Open(Path(), kPass, [](std::string_view) { return absl::OkStatus(); });
      ASSERT_TRUE(vault.ok());
      EXPECT_FALSE((*vault)->dropped_unfinished_record());
      ASSERT_TRUE((*vault)->Append({"drie"}).ok());
    }
    EXPECT_EQ(*ReadBack(Path()), (std::vector<std::string>{"een", "twee", "drie"}));
  }
  // One flipped byte in a record with records after it: refused, named.
  std::string damaged = Slurp(Path());
  damaged[kHeader + 4 + 14] ^= 0x01;  // inside the first record
  std::ofstream(Path(), std::ios::binary | std::ios::trunc) << damaged;
  absl::Status s = ReadBack(Path()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("frame 0"), std::string::npos) << s;
  // Records moved from their place do not open either (the AAD binds the index).
  std::string swapped = whole.substr(0, kHeader);
  const size_t one = 4 + 28 + 4 + 3;  // "een"
  const size_t two = 4 + 28 + 4 + 4;  // "twee"
  swapped += whole.substr(kHeader + one, two) + whole.substr(kHeader, one) +
             whole.substr(kHeader + one + two);
  std::ofstream(Path(), std::ios::binary | std::ios::trunc) << swapped;
  EXPECT_EQ(ReadBack(Path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(VaultTest, ARewriteKeepsOnlyWhatItIsGivenAndOldRecordsDoNotSpliceIn) {
  auto vault = Vault::Create(Path(), kPass, kFast);
  ASSERT_TRUE((*vault)->Append({"blijft"}).ok());
  ASSERT_TRUE((*vault)->Append({"geheim van een verwijderde zaak"}).ok());
  const std::string before = Slurp(Path());
  ASSERT_TRUE((*vault)->Rewrite({"blijft"}).ok());
  ASSERT_TRUE((*vault)->Append({"nieuw"}).ok());
  vault->reset();
  EXPECT_EQ(*ReadBack(Path()), (std::vector<std::string>{"blijft", "nieuw"}));
  EXPECT_EQ(::access((Path() + ".rewrite").c_str(), F_OK), -1);
  // The old file's second record appended to the new file does not open.
  std::string spliced = Slurp(Path());
  const std::string old_second = before.substr(kHeader + 4 + 28 + 4 + 6);
  std::ofstream(Path(), std::ios::binary | std::ios::trunc) << spliced + old_second;
  bool dropped = false;
  auto back = ReadBack(Path(), kPass, &dropped);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(dropped);  // the last record does not open: never acknowledged here
  EXPECT_EQ(back->size(), 2u);
}

TEST_F(VaultTest, OneAppendIsAllOrNoneAndADamagedLengthIsNotATail) {
  {
    auto vault = Vault::Create(Path(), kPass, kFast);
    ASSERT_TRUE((*vault)->Append({"eerst"}).ok());
    ASSERT_TRUE((*vault)->Append({"intent", "resolution"}).ok());
    EXPECT_EQ((*vault)->size(), 3u);
  }
  const std::string whole = Slurp(Path());
  EXPECT_EQ(*ReadBack(Path()), (std::vector<std::string>{"eerst", "intent", "resolution"}));
  // A crash after the first of the two records reached the disk: neither counts.
  const size_t pair = 4 + 28 + 4 + 6 + 4 + 10;
  std::ofstream(Path(), std::ios::binary | std::ios::trunc)
      << whole.substr(0, whole.size() - pair + 4 + 28 + 4 + 6);
  EXPECT_EQ(*ReadBack(Path()), (std::vector<std::string>{"eerst"}));
  // A length field beyond any frame, with frames after it: refused, not cut.
  std::string damaged = whole;
  damaged[kHeader] = '\x7f';
  std::ofstream(Path(), std::ios::binary | std::ios::trunc) << damaged;
  EXPECT_EQ(ReadBack(Path()).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Slurp(Path()).size(), damaged.size());  // nothing truncated
}

TEST_F(VaultTest, MessagesAreSealedStraightFromTheirSerializationBesideBytes) {
  JournalEntry big;
  big.mutable_identity()->set_expert_id("expert:" + std::string(3 << 20, 'g'));  // 3 MiB
  JournalEntry small;
  small.mutable_identity()->set_expert_id("expert:klein-geheim");
  {
    auto vault = Vault::Create(Path(), kPass, kFast);
    ASSERT_TRUE(vault.ok());
    ASSERT_TRUE((*vault)->Append({big, "los", small}).ok());
    // A smaller append after a larger one reuses the frame buffer: what it
    // left there is neither read back nor written out.
    ASSERT_TRUE((*vault)->Append({small}).ok());
    EXPECT_EQ((*vault)->size(), 4u);
  }
  auto back = ReadBack(Path());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back,
            (std::vector<std::string>{big.SerializeAsString(), "los", small.SerializeAsString(),
                                      small.SerializeAsString()}));
  const std::string file = Slurp(Path());
  EXPECT_EQ(file.find("klein-geheim"), std::string::npos);
  EXPECT_EQ(file.find(std::string(64, 'g')), std::string::npos);
  EXPECT_NE(small.SerializeAsString().find("klein-geheim"), std::string::npos);  // control
}

}  // namespace
}  // namespace duurzaam::expert
