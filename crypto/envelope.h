// Sealing one record's payload under its scope's data key (envelope
// encryption). Stateless; thread-safe as far as the DataKeyStore is (it is
// borrowed for the duration of each call).
//
// Envelope format (v1), binary:
//   0x01 | data key id (8 raw bytes) | AeadSeal output (nonce | ciphertext | tag)
// AAD: "duurzaam.envelope.v1\0" scope "\0" record_id "\0" data key id (16 hex),
// so an envelope moved to another scope or record does not open.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/aead.h"
#include "crypto/data_keys.h"

namespace duurzaam::crypto {

inline constexpr char kEnvelopeFormatV1 = 0x01;

// Which record a payload belongs to. Both views are borrowed for the call.
struct EnvelopeContext {
  std::string_view scope;      // e.g. the case; see DataKeyStore for the rules
  std::string_view record_id;  // e.g. the 16-byte event id; any bytes
};

// Encrypts `plaintext` under the scope's data key (created if needed). An
// erased scope gives the IsErased status. Deterministic (AeadSealDeterministic):
// the same scope, record id, data key and plaintext always give the same
// envelope, so a retried write is byte-identical to the original.
[[nodiscard]] absl::StatusOr<std::string> SealPayload(DataKeyStore& keys,
                                                      const EnvelopeContext& context,
                                                      std::string_view plaintext);

// Decrypts an envelope made by SealPayload for the same scope and record id.
// Erased scope: the IsErased FAILED_PRECONDITION. A truncated, altered or
// misplaced envelope (another scope or record, or a data key the scope does
// not have): DATA_LOSS. The master key missing from the keyring:
// FAILED_PRECONDITION.
// With `opener`, the cipher context is kept there for the next envelope
// under the same data key (one reader's run of reads); the key store is
// still asked every time, so an erasure is seen at once.
[[nodiscard]] absl::StatusOr<std::string> OpenPayload(DataKeyStore& keys,
                                                      const EnvelopeContext& context,
                                                      std::string_view envelope,
                                                      AeadOpener* opener = nullptr);

}  // namespace duurzaam::crypto
