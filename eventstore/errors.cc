#include "eventstore/errors.h"

#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace duurzaam::eventstore {
namespace {

constexpr char kConflictUrl[] = "type.duurzaam.dev/eventstore.RevisionConflict";
// Payload fields are joined by NUL: stream names, field paths and sentences
// never contain it.
constexpr char kSep = '\0';

}  // namespace

[[nodiscard]] absl::Status MakeRevisionConflictError(const RevisionConflict& c) {
  std::string actual =
      c.actual == kNoStream ? std::string("no stream") : absl::StrCat("revision ", c.actual);
  absl::Status status = absl::FailedPreconditionError(absl::StrCat(
      "stream '", c.stream, "' was expected at ", c.expected.ToString(), " but is at ", actual,
      " (current revision: ", c.actual, "); read the stream and retry against that revision"));
  std::string payload =
      absl::StrCat(c.stream, std::string(1, kSep), static_cast<int>(c.expected.kind),
                   std::string(1, kSep), c.expected.revision, std::string(1, kSep), c.actual);
  status.SetPayload(kConflictUrl, absl::Cord(payload));
  return status;
}

std::optional<RevisionConflict> GetRevisionConflict(const absl::Status& status) {
  auto payload = status.GetPayload(kConflictUrl);
  if (!payload) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(std::string(*payload), kSep);
  if (parts.size() != 4) return std::nullopt;
  RevisionConflict c;
  c.stream = parts[0];
  int kind = 0;
  if (!absl::SimpleAtoi(parts[1], &kind) || !absl::SimpleAtoi(parts[2], &c.expected.revision) ||
      !absl::SimpleAtoi(parts[3], &c.actual)) {
    return std::nullopt;
  }
  c.expected.kind = static_cast<Expectation::Kind>(kind);
  return c;
}

}  // namespace duurzaam::eventstore
