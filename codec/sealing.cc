#include "codec/sealing.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "crypto/envelope.h"

namespace duurzaam::codec {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool IsSealed(const FieldDescriptor* field) { return field->options().GetExtension(v1::sealed); }

// Keeps only the sealed fields of `message` (recursively), dropping
// sub-messages left empty. The result, merged into a copy of the message with
// its sealed fields cleared, restores the original.
void KeepOnlySealed(Message* message) {
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (IsSealed(field)) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
        reflection->HasField(*message, field)) {
      Message* child = reflection->MutableMessage(message, field);
      KeepOnlySealed(child);
      if (child->ByteSizeLong() == 0) reflection->ClearField(message, field);
      continue;
    }
    reflection->ClearField(message, field);
  }
}

// The sealed fields of `event` alone (empty when it has none).
storage::v1::StoredPlacementEvent SealedPart(const storage::v1::StoredPlacementEvent& event) {
  storage::v1::StoredPlacementEvent part = event;
  part.clear_sealed_fields();
  KeepOnlySealed(&part);
  return part;
}

}  // namespace

[[nodiscard]] absl::Status DataKeySealer::Seal(std::string_view stream,
                                               const eventstore::EventId& id,
                                               storage::v1::StoredPlacementEvent* event) const {
  ASSIGN_OR_RETURN(std::optional<int64_t> erased_at, keys_->ErasedAt(stream));
  if (erased_at) {
    // The key store's status carries the day and the IsErased payload.
    const absl::Status erased = keys_->GetOrCreate(stream).status();
    absl::Status out = MakeRuleViolation(
        "CASE_ERASED",
        absl::StrCat(std::string(stream), " takes no new events: ", erased.message()));
    erased.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
    return out;
  }
  const storage::v1::StoredPlacementEvent secret = SealedPart(*event);
  if (secret.ByteSizeLong() == 0) return absl::OkStatus();
  const std::string plaintext = secret.SerializeAsString();
  const std::string record_id = id.ToString();
  ASSIGN_OR_RETURN(
      std::string envelope,
      crypto::SealPayload(*keys_, crypto::EnvelopeContext{stream, record_id}, plaintext));
  ClearSealed(event);
  event->set_sealed_fields(std::move(envelope));
  return absl::OkStatus();
}

[[nodiscard]] absl::Status DataKeySealer::Open(std::string_view stream,
                                               const eventstore::EventId& id,
                                               storage::v1::StoredPlacementEvent* event,
                                               bool* erased) const {
  *erased = false;
  if (event->sealed_fields().empty()) {
    // Nothing sealed (most events): no key-store lookup. Sealed fields in
    // plain text (written before sealing existed, or by a tool): an erased
    // stream still never shows them.
    if (SealedPart(*event).ByteSizeLong() > 0) {
      ASSIGN_OR_RETURN(std::optional<int64_t> erased_at, keys_->ErasedAt(stream));
      if (erased_at) {
        ClearSealed(event);
        *erased = true;
      }
    }
    return absl::OkStatus();
  }
  const std::string envelope = std::move(*event->mutable_sealed_fields());
  event->clear_sealed_fields();
  ASSIGN_OR_RETURN(std::optional<std::string> plaintext, OpenEnvelope(stream, id, envelope));
  if (!plaintext) {
    ClearSealed(event);
    *erased = true;
    return absl::OkStatus();
  }
  const std::string record_id = id.ToString();
  storage::v1::StoredPlacementEvent secret;
  if (!secret.ParseFromString(*plaintext) ||
      (secret.body_case() != storage::v1::StoredPlacementEvent::BODY_NOT_SET &&
       secret.body_case() != event->body_case())) {
    return absl::DataLossError(absl::StrCat("the sealed fields of event ", record_id, " in ",
                                            std::string(stream), " do not fit the event"));
  }
  event->MergeFrom(secret);
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<std::optional<std::string>> DataKeySealer::OpenEnvelope(
    std::string_view stream, const eventstore::EventId& id, std::string_view envelope) const {
  const std::string record_id = id.ToString();
  absl::StatusOr<std::string> plaintext =
      crypto::OpenPayload(*keys_, crypto::EnvelopeContext{stream, record_id}, envelope,
                          opener_.get());
  if (crypto::IsErased(plaintext.status())) return std::nullopt;
  if (!plaintext.ok()) {
    return absl::Status(
        plaintext.status().code(),
        absl::StrCat("the sealed fields of event ", record_id, " in ", std::string(stream),
                     " cannot be opened: ", plaintext.status().message()));
  }
  return *std::move(plaintext);
}

std::unique_ptr<Sealer> DataKeySealer::ForOneReader() const {
  auto sealer = std::make_unique<DataKeySealer>(keys_);
  sealer->opener_ = std::make_unique<crypto::AeadOpener>();
  return sealer;
}

}  // namespace duurzaam::codec
