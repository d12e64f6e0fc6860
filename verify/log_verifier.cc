#include "verify/log_verifier.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eventstore/chain.h"
#include "verify/leaf.h"

namespace duurzaam::verify {
namespace {

constexpr char kStateTag[] = "duurzaam.logverify.v1";

template <typename H>
std::string Hex(const H& h) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

template <typename H>
bool FromHex(absl::string_view text, H* out) {
  if (text.size() != 2 * out->size()) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  const std::string raw = absl::HexStringToBytes(text);
  std::copy(raw.begin(), raw.end(), out->begin());
  return true;
}

}  // namespace

std::string LogVerifier::State::Serialize() const {
  std::string out = absl::StrCat(kStateTag, "\n", size, "\n", Hex(chain_head), "\n");
  for (const transparency::Hash& h : frontier) absl::StrAppend(&out, Hex(h), "\n");
  return out;
}

absl::StatusOr<LogVerifier::State> LogVerifier::State::Parse(std::string_view text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipEmpty());
  State state;
  if (lines.size() < 3 || lines[0] != kStateTag || !absl::SimpleAtoi(lines[1], &state.size) ||
      !FromHex(lines[2], &state.chain_head)) {
    return absl::InvalidArgumentError("not a saved log verification (duurzaam.logverify.v1)");
  }
  for (size_t i = 3; i < lines.size(); ++i) {
    transparency::Hash h;
    if (!FromHex(lines[i], &h)) return absl::InvalidArgumentError("a damaged saved verification");
    state.frontier.push_back(h);
  }
  if (state.frontier.size() != static_cast<size_t>(__builtin_popcountll(state.size))) {
    return absl::InvalidArgumentError("a saved verification whose tree does not fit its size");
  }
  return state;
}

absl::Status LogVerifier::Add(const eventstore::EventView& record) {
  if (record.position != state_.size) {
    return absl::DataLossError(absl::StrCat("expected the record at position ", state_.size,
                                            ", got position ", record.position,
                                            ": the log has a gap or was reordered"));
  }
  const std::optional<eventstore::Hash> expected =
      eventstore::RecordHash(record, state_.chain_head);
  if (!expected.has_value()) return absl::InternalError("SHA-256 is not available");
  if (record.hash.size() != expected->size() ||
      std::memcmp(record.hash.data(), expected->data(), expected->size()) != 0) {
    return absl::DataLossError(
        absl::StrCat("the record at position ", record.position, " (",
                     absl::string_view(record.stream.data(), record.stream.size()), " revision ",
                     record.revision,
                     ") does not match its chain hash: it, or the record before it, was changed"));
  }
  // Merkle: push the leaf, merge equal-sized subtrees (one per trailing 1
  // bit of the old size).
  transparency::Hash node = transparency::LeafHash(LeafData(record));
  for (uint64_t n = state_.size; n & 1; n >>= 1) {
    node = transparency::NodeHash(state_.frontier.back(), node);
    state_.frontier.pop_back();
  }
  state_.frontier.push_back(node);
  state_.chain_head = *expected;
  ++state_.size;
  return absl::OkStatus();
}

transparency::Hash LogVerifier::Root() const {
  if (state_.frontier.empty()) return transparency::EmptyRoot();
  transparency::Hash root = state_.frontier.back();
  for (size_t i = state_.frontier.size() - 1; i-- > 0;) {
    root = transparency::NodeHash(state_.frontier[i], root);
  }
  return root;
}

}  // namespace duurzaam::verify
