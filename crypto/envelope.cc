#include "crypto/envelope.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/aead.h"
#include "crypto/bytes.h"

namespace duurzaam::crypto {
namespace {

using internal::Av;

constexpr size_t kKeyIdBytes = 8;
constexpr size_t kHeaderSize = 1 + kKeyIdBytes;
constexpr std::string_view kAadPrefix{"duurzaam.envelope.v1\0", 21};
constexpr std::string_view kNul{"\0", 1};

std::string EnvelopeAad(const EnvelopeContext& context, std::string_view key_id_hex) {
  return absl::StrCat(Av(kAadPrefix), Av(context.scope), Av(kNul), Av(context.record_id), Av(kNul),
                      Av(key_id_hex));
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::string> SealPayload(DataKeyStore& keys,
                                                      const EnvelopeContext& context,
                                                      std::string_view plaintext) {
  ASSIGN_OR_RETURN(DataKey key, keys.GetOrCreate(context.scope));
  std::string key_id_bytes;
  if (!internal::HexDecode(key.id, &key_id_bytes) || key_id_bytes.size() != kKeyIdBytes) {
    internal::Cleanse(key.key);
    return absl::InternalError(absl::StrCat("malformed data key id '", key.id, "'"));
  }
  absl::StatusOr<std::string> sealed =
      AeadSealDeterministic(key.key, EnvelopeAad(context, key.id), plaintext);
  internal::Cleanse(key.key);
  RETURN_IF_ERROR(sealed.status());
  std::string envelope;
  envelope.reserve(kHeaderSize + sealed->size());
  envelope.push_back(kEnvelopeFormatV1);
  envelope.append(key_id_bytes);
  envelope.append(*sealed);
  return envelope;
}

[[nodiscard]] absl::StatusOr<std::string> OpenPayload(DataKeyStore& keys,
                                                      const EnvelopeContext& context,
                                                      std::string_view envelope,
                                                      AeadOpener* opener) {
  if (envelope.empty()) return absl::DataLossError("envelope is empty");
  if (envelope[0] != kEnvelopeFormatV1) {
    return absl::DataLossError(absl::StrCat(
        "unknown envelope format byte ", static_cast<int>(static_cast<unsigned char>(envelope[0])),
        ": the envelope is damaged or was written by a newer version"));
  }
  if (envelope.size() < kHeaderSize + kAeadOverhead) {
    return absl::DataLossError(absl::StrCat("envelope is truncated (", envelope.size(), " bytes)"));
  }
  const std::string key_id = internal::HexEncode(envelope.substr(1, kKeyIdBytes));
  absl::StatusOr<DataKey> key = keys.Get(context.scope, key_id);
  if (absl::IsNotFound(key.status())) {
    return absl::DataLossError(absl::StrCat(
        "envelope names data key '", key_id,
        "', which this scope does not have: the envelope is damaged or belongs to another scope (",
        key.status().message(), ")"));
  }
  RETURN_IF_ERROR(key.status());
  const std::string aad = EnvelopeAad(context, key_id);
  absl::StatusOr<std::string> plaintext =
      opener != nullptr ? opener->Open(key->key, aad, envelope.substr(kHeaderSize))
                        : AeadOpen(key->key, aad, envelope.substr(kHeaderSize));
  internal::Cleanse(key->key);
  if (absl::IsDataLoss(plaintext.status())) {
    return absl::DataLossError(absl::StrCat(
        "envelope does not open: it is damaged or belongs to another scope or record (",
        plaintext.status().message(), ")"));
  }
  return plaintext;
}

}  // namespace duurzaam::crypto
