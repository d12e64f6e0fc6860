// What an auditor's tool reads from a server it does not trust: signed
// notes (C2SP), checkpoint bodies, verifier keys, base64, and inclusion and
// consistency proofs. Refused or verified, never a crash or an overread.
#include "tests/fuzz/fuzz_input.h"
#include "transparency/merkle.h"
#include "transparency/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace duurzaam::transparency;
  duurzaam::fuzz::Input in(data, size);
  const uint8_t which = in.Byte() % 4;
  switch (which) {
    case 0: {
      auto note = ParseNote(in.Rest());
      if (!note.ok()) return 0;
      (void)ParseCheckpointNoteBody(note->body);
      static const VerifierKey key = MakeVerifierKey("duurzaam", 1, std::string(32, '\x07'));
      (void)VerifyNote(*note, key);
      break;
    }
    case 1:
      (void)ParseVerifierKey(in.Rest());
      (void)FromBase64(in.Rest());
      (void)HashFromHex(in.Rest());
      break;
    case 2:
    case 3: {
      const uint64_t a = in.U64() % 100000, b = in.U64() % 100000;
      Hash h1{}, h2{};
      const std::string_view r1 = in.Piece(32), r2 = in.Piece(32);
      std::copy(r1.begin(), r1.end(), h1.begin());
      std::copy(r2.begin(), r2.end(), h2.begin());
      std::vector<Hash> proof;
      while (in.Rest().size() >= 32 && proof.size() < 70) {
        Hash h{};
        const std::string_view p = in.Piece(32);
        std::copy(p.begin(), p.end(), h.begin());
        proof.push_back(h);
      }
      if (which == 2) {
        (void)VerifyInclusion(h1, a, b, proof, h2);
      } else {
        (void)VerifyConsistency(a, b, h1, h2, proof);
      }
      break;
    }
  }
  return 0;
}
