#include "crypto/master_keyring.h"

#include <sys/stat.h>

#include <cstdio>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "crypto/aead.h"
#include "crypto/bytes.h"
#include "crypto/file_io.h"

namespace duurzaam::crypto {
namespace {

using internal::Av;
using internal::Sv;

constexpr mode_t kKeyFileMode = 0600;
constexpr size_t kMaxIdLength = 64;
constexpr std::string_view kFormatHint = "expected '<key-id> <64 hex chars>'";

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// One key line of the file.
struct KeyLine {
  int line_number;
  size_t begin;  // byte offsets of the line (including its '\n') in the text
  size_t end;
  std::string id;
  std::string key;  // 32 raw bytes
};

// Wipes the parsed keys when the parse result goes out of scope.
struct ParsedFile {
  std::vector<KeyLine> lines;
  ParsedFile() = default;
  ParsedFile(ParsedFile&&) = default;
  ParsedFile& operator=(ParsedFile&&) = default;
  ~ParsedFile() {
    for (KeyLine& line : lines) internal::Cleanse(line.key);
  }
};

[[nodiscard]] absl::Status LineError(const std::string& path, int line_number,
                                     std::string_view problem) {
  return absl::FailedPreconditionError(
      absl::StrCat("master key file ", path, " line ", line_number, ": ", Av(problem),
                   ". Fix the line or restore the file from its backup."));
}

[[nodiscard]] absl::StatusOr<ParsedFile> Parse(const std::string& path, std::string_view text) {
  ParsedFile parsed;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t newline = text.find('\n', pos);
    const size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    std::string_view line =
        text.substr(pos, (newline == std::string_view::npos ? end : newline) - pos);
    const size_t begin = pos;
    pos = end;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view trimmed = Sv(absl::StripAsciiWhitespace(Av(line)));
    if (trimmed.empty() || trimmed.front() == '#') continue;

    std::vector<absl::string_view> fields =
        absl::StrSplit(Av(trimmed), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) {
      return LineError(path, line_number,
                       absl::StrCat(Av(kFormatHint), ", found ", fields.size(), " field(s)"));
    }
    if (!IsValidId(Sv(fields[0]))) {
      // Do not echo the field: a malformed line may hold key material.
      return LineError(path, line_number,
                       "the key id (first field) must be 1-64 characters from [A-Za-z0-9._-]");
    }
    if (fields[1].size() != 2 * kAeadKeySize) {
      return LineError(path, line_number,
                       absl::StrCat(Av(kFormatHint), ": the key has ", fields[1].size(),
                                    " characters instead of ", 2 * kAeadKeySize));
    }
    KeyLine key_line{line_number, begin, end, std::string(fields[0]), std::string()};
    if (!internal::HexDecode(Sv(fields[1]), &key_line.key)) {
      return LineError(path, line_number, "the key contains a character that is not hex");
    }
    for (const KeyLine& earlier : parsed.lines) {
      if (earlier.id == key_line.id) {
        internal::Cleanse(key_line.key);
        return LineError(path, line_number,
                         absl::StrCat("key id '", key_line.id, "' is already used on line ",
                                      earlier.line_number));
      }
    }
    parsed.lines.push_back(std::move(key_line));
  }
  if (parsed.lines.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("master key file ", path,
                     " contains no keys; create one with MasterKeyring::Create (on a new path)"));
  }
  return parsed;
}

// Reads, permission-checks and parses the file. `text` receives the raw text.
[[nodiscard]] absl::StatusOr<ParsedFile> ReadAndParse(const std::string& path, std::string* text) {
  mode_t mode = 0;
  ASSIGN_OR_RETURN(*text, internal::ReadFile(path, &mode));
  if ((mode & 077) != 0) {
    internal::Cleanse(*text);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode & 07777));
    return absl::FailedPreconditionError(absl::StrCat(
        "master key file ", path, " has mode ", octal,
        ": it must be accessible by its owner only. Fix with: chmod 600 ", path,
        " (and consider the keys exposed if others could read it: add a new key, rotate, retire "
        "the old one)"));
  }
  absl::StatusOr<ParsedFile> parsed = Parse(path, *text);
  if (!parsed.ok()) internal::Cleanse(*text);
  return parsed;
}

[[nodiscard]] absl::StatusOr<std::string> NewKeyLine(const ParsedFile* existing, std::string* id) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    ASSIGN_OR_RETURN(std::string suffix, internal::RandomBytes(6));
    *id = absl::StrCat("mk-", internal::HexEncode(suffix));
    bool taken = false;
    if (existing != nullptr) {
      for (const KeyLine& line : existing->lines) taken = taken || line.id == *id;
    }
    if (taken) continue;
    ASSIGN_OR_RETURN(std::string key, internal::RandomBytes(kAeadKeySize));
    std::string hex = internal::HexEncode(key);
    internal::Cleanse(key);
    std::string line = absl::StrCat(*id, " ", hex, "\n");
    internal::Cleanse(hex);
    return line;
  }
  return absl::InternalError("could not generate an unused master key id");
}

}  // namespace

MasterKeyring::MasterKeyring(std::vector<std::pair<std::string, std::string>> keys)
    : keys_(std::move(keys)) {}

MasterKeyring::MasterKeyring(MasterKeyring&& other) noexcept : keys_(std::move(other.keys_)) {
  other.keys_.clear();
}

MasterKeyring& MasterKeyring::operator=(MasterKeyring&& other) noexcept {
  if (this != &other) {
    Wipe();
    keys_ = std::move(other.keys_);
    other.keys_.clear();
  }
  return *this;
}

MasterKeyring::~MasterKeyring() { Wipe(); }

void MasterKeyring::Wipe() {
  for (auto& [id, key] : keys_) internal::Cleanse(key);
  keys_.clear();
}

[[nodiscard]] absl::StatusOr<MasterKeyring> MasterKeyring::Load(const std::string& path) {
  std::string text;
  ASSIGN_OR_RETURN(ParsedFile parsed, ReadAndParse(path, &text));
  internal::Cleanse(text);
  std::vector<std::pair<std::string, std::string>> keys;
  keys.reserve(parsed.lines.size());
  for (KeyLine& line : parsed.lines) keys.emplace_back(line.id, std::move(line.key));
  return MasterKeyring(std::move(keys));
}

[[nodiscard]] absl::StatusOr<MasterKeyring> MasterKeyring::FromKeys(
    std::vector<std::pair<std::string, std::string>> keys) {
  absl::Status status;
  if (keys.empty()) status = absl::InvalidArgumentError("a master keyring needs at least one key");
  for (size_t i = 0; i < keys.size() && status.ok(); ++i) {
    if (!IsValidId(keys[i].first)) {
      status = absl::InvalidArgumentError(absl::StrCat("invalid master key id '", keys[i].first,
                                                       "': use 1-64 characters of [A-Za-z0-9._-]"));
    } else if (keys[i].second.size() != kAeadKeySize) {
      status = absl::InvalidArgumentError(
          absl::StrCat("master key '", keys[i].first, "' must be ", kAeadKeySize, " bytes"));
    }
    for (size_t j = 0; j < i && status.ok(); ++j) {
      if (keys[j].first == keys[i].first) {
        status = absl::InvalidArgumentError(
            absl::StrCat("duplicate master key id '", keys[i].first, "'"));
      }
    }
  }
  if (!status.ok()) {
    for (auto& [id, key] : keys) internal::Cleanse(key);
    return status;
  }
  return MasterKeyring(std::move(keys));
}

[[nodiscard]] absl::Status MasterKeyring::Create(const std::string& path) {
  std::string id;
  ASSIGN_OR_RETURN(std::string line, NewKeyLine(nullptr, &id));
  absl::Status status = internal::WriteFileAtomically(path, line, kKeyFileMode, /*exclusive=*/true);
  internal::Cleanse(line);
  return status;
}

[[nodiscard]] absl::StatusOr<std::string> MasterKeyring::AddKey(const std::string& path) {
  std::string text;
  ASSIGN_OR_RETURN(ParsedFile parsed, ReadAndParse(path, &text));
  std::string id;
  absl::StatusOr<std::string> line = NewKeyLine(&parsed, &id);
  if (!line.ok()) {
    internal::Cleanse(text);
    return line.status();
  }
  text.reserve(text.size() + line->size() + 1);  // no stray copy of the keys on reallocation
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  text.append(*line);
  internal::Cleanse(*line);
  absl::Status status = internal::WriteFileAtomically(path, text, kKeyFileMode);
  internal::Cleanse(text);
  RETURN_IF_ERROR(status);
  return id;
}

[[nodiscard]] absl::Status MasterKeyring::Retire(const std::string& path, std::string_view key_id) {
  std::string text;
  ASSIGN_OR_RETURN(ParsedFile parsed, ReadAndParse(path, &text));
  const KeyLine* found = nullptr;
  for (const KeyLine& line : parsed.lines) {
    if (line.id == key_id) found = &line;
  }
  absl::Status status;
  if (found == nullptr) {
    status = absl::NotFoundError(
        absl::StrCat("master key '", Av(key_id), "' is not in ", path, "; nothing to retire"));
  } else if (found == &parsed.lines.back()) {
    status = absl::FailedPreconditionError(
        absl::StrCat("master key '", Av(key_id), "' is the current key of ", path,
                     " and cannot be retired: add a new key (AddKey), rotate the data keys "
                     "(RotateMaster), then retire it"));
  } else {
    std::string remaining;
    remaining.reserve(text.size());
    remaining.append(text, 0, found->begin);
    remaining.append(text, found->end);
    status = internal::WriteFileAtomically(path, remaining, kKeyFileMode);
    internal::Cleanse(remaining);
  }
  internal::Cleanse(text);
  return status;
}

const std::string& MasterKeyring::current_id() const {
  static const std::string* const kNone = new std::string();
  return keys_.empty() ? *kNone : keys_.back().first;  // empty only when moved from
}

[[nodiscard]] absl::StatusOr<std::string_view> MasterKeyring::Key(std::string_view id) const {
  for (const auto& [key_id, key] : keys_) {
    if (key_id == id) return std::string_view(key);
  }
  return absl::NotFoundError(absl::StrCat("master key '", Av(id),
                                          "' is not in the keyring (retired, or the wrong key "
                                          "file was configured)"));
}

std::vector<std::string> MasterKeyring::ids() const {
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const auto& [id, key] : keys_) ids.push_back(id);
  return ids;
}

}  // namespace duurzaam::crypto
