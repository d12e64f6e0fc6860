// duurzaam-audit: the auditor's tool. Replays a case from its records as
// stored, shows its status on any day in both clocks and its status
// history, exports and checks evidence bundles offline, detects a server
// that forks its log, verifies the whole log, exports the access log as CSV
// and writes a report (HTML, and PDF through Chromium). It trusts no answer
// of the server: every record it uses is checked against an inclusion proof
// and a checkpoint signed by a key the auditor pinned.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/audit/evidence.h"
#include "clients/audit/log_check.h"
#include "clients/audit/report.h"
#include "clients/lib/args.h"
#include "clients/lib/error_details.h"
#include "clients/lib/log_reader.h"
#include "clients/lib/text.h"
#include "codec/eventstore_codec.h"
#include "domain/history.h"
#include "domain/timeline.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "transparency/note.h"
#include "verify/log_verifier.h"

namespace {

using namespace duurzaam;
using client::Args;

// Exit codes (also in --help).
enum Exit {
  kOk = 0,
  kBroken = 1,       // a check failed: the evidence was changed, or does not verify
  kUsage = 2,        // the command line is wrong
  kRefused = 3,      // not found, or the server refused (access)
  kUnreachable = 4,  // the server could not be reached
  kFork = 5,         // the server signed two inconsistent histories: evidence kept
  kNoKey = 6,        // no pinned key to check against (run `pin` first)
};

bool english = false;
bool json = false;
const char* T(const char* nl, const char* en) { return english ? en : nl; }

const char* kUsageText[2] = {
    "gebruik: duurzaam-audit [verbinding] [--state=MAP] [--lang=nl|en] [--json] OPDRACHT\n"
    "\n"
    "Controleert zaken zonder de server te vertrouwen: elke vastlegging wordt getoetst aan\n"
    "een inclusiebewijs en een checkpoint dat is ondertekend met een sleutel die je vastpint.\n"
    "\n"
    "  pin --fingerprint=HEX | --verifier-key=SLEUTEL [--replace]   de checkpointsleutel\n"
    "       vastpinnen (een andere sleutel vervangt een vastgepinde alleen met --replace)\n"
    "       (vingerafdruk: zoals duurzaamd bij de start meldt of `duurzaamctl signing-key` toont)\n"
    "  checkpoint                  nieuwste checkpoint ophalen en toetsen aan het vorige (vork?)\n"
    "  replay ZAAK                 elke gebeurtenis zoals vastgelegd, met wie en wanneer\n"
    "  status ZAAK [--on=JJJJ-MM-DD]   status op die dag: zoals toen bekend en zoals nu bekend\n"
    "  history ZAAK [--until=JJJJ-MM-DD] [--svg=BESTAND]   elke wijziging van niveau, met oorzaak\n"
    "  bundle ZAAK --out=BESTAND   bewijsbundel voor offline controle\n"
    "  verify BESTAND              een bewijsbundel offline controleren\n"
    "  verify-log [--restart]      het hele logboek controleren (hervat waar het bleef)\n"
    "  verify-note BESTAND [--witness=SLEUTEL[,SLEUTEL...]] [--quorum=N]   een checkpoint (C2SP) "
    "met\n"
    "       medeondertekeningen van getuigen controleren\n"
    "  access ZAAK [--out=BESTAND.csv]   wie las wat (CSV, RFC 4180)\n"
    "  report ZAAK --html=BESTAND [--pdf=BESTAND] [--on=JJJJ-MM-DD]   auditrapport\n"
    "\n"
    "replay, status, history en report lezen met --bundle=BESTAND een bundel in plaats van de "
    "server.\n"
    "Verbinding: --server=HOST:POORT met --pki=MAP --user=NAAM (of --ca, --cert, --key);\n"
    "zonder --ca een ontwikkelserver op loopback, als --as=auditor:NAAM.\n"
    "Map: --state, anders DUURZAAM_AUDIT_STATE, anders ~/.local/state/duurzaam-audit\n"
    "(vastgepinde sleutels, het laatst aanvaarde checkpoint, voortgang van verify-log).\n"
    "Afsluitcodes: 0 in orde, 1 controle mislukt (gewijzigd of onjuist), 2 verkeerd gebruik,\n"
    "3 niet gevonden of geweigerd, 4 server onbereikbaar, 5 VORK: de server toonde twee\n"
    "geschiedenissen (bewijs bewaard), 6 geen vastgepinde sleutel (eerst `pin`).\n",
    "usage: duurzaam-audit [connection] [--state=DIR] [--lang=nl|en] [--json] COMMAND\n"
    "\n"
    "Checks cases without trusting the server: every record is checked against an inclusion\n"
    "proof and a checkpoint signed by a key you pin.\n"
    "\n"
    "  pin --fingerprint=HEX | --verifier-key=VKEY [--replace]   pin the server's checkpoint\n"
    "       key (another key replaces a pinned one only with --replace)\n"
    "       (fingerprint: as duurzaamd logs at start or `duurzaamctl signing-key` prints)\n"
    "  checkpoint                  fetch the newest checkpoint, check it against the last (fork?)\n"
    "  replay CASE                 every event as recorded, with who and when\n"
    "  status CASE [--on=YYYY-MM-DD]   status on that day: as known then and as now known\n"
    "  history CASE [--until=YYYY-MM-DD] [--svg=FILE]   every change of level, with its cause\n"
    "  bundle CASE --out=FILE      an evidence bundle to check offline\n"
    "  verify FILE                 check an evidence bundle offline\n"
    "  verify-log [--restart]      verify the whole log (resumes where it stopped)\n"
    "  verify-note FILE [--witness=VKEY[,VKEY...]] [--quorum=N]   check a checkpoint (C2SP) and "
    "its\n"
    "       witnesses' cosignatures\n"
    "  access CASE [--out=FILE.csv]   who read what (CSV, RFC 4180)\n"
    "  report CASE --html=FILE [--pdf=FILE] [--on=YYYY-MM-DD]   audit report\n"
    "\n"
    "replay, status, history and report read a bundle instead of the server with --bundle=FILE.\n"
    "Connection: --server=HOST:PORT with --pki=DIR --user=NAME (or --ca, --cert, --key);\n"
    "without --ca a loopback dev server, as --as=auditor:NAME.\n"
    "Folder: --state, else DUURZAAM_AUDIT_STATE, else ~/.local/state/duurzaam-audit\n"
    "(pinned keys, the last accepted checkpoint, verify-log's progress).\n"
    "Exit codes: 0 all good, 1 a check failed (changed or wrong), 2 wrong usage,\n"
    "3 not found or refused, 4 server unreachable, 5 FORK: the server showed two\n"
    "histories (evidence kept), 6 no pinned key (run `pin` first).\n"};

int Usage(int code) {
  std::fputs(kUsageText[english ? 1 : 0], code == kOk ? stdout : stderr);
  return code;
}

int Say(int code, const std::string& message) {
  std::fprintf(stderr, "duurzaam-audit: %s\n", message.c_str());
  return code;
}

using client::JsonString;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  return static_cast<bool>(out);
}

std::string StateDir(const Args& args) {
  if (args.Has("state")) return args.Flag("state");
  if (const char* env = std::getenv("DUURZAAM_AUDIT_STATE"); env != nullptr && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/state/duurzaam-audit";
}

std::optional<domain::Date> ParseDate(const std::string& text) {
  domain::Date d;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &d)) return std::nullopt;
  return d;
}

domain::Date Today() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }

// --- the server ---

bool Tls(const Args& args) { return args.Has("ca") || args.Has("pki"); }

std::shared_ptr<grpc::Channel> Connect(const Args& args) {
  const std::string server = args.Flag("server", Tls(args) ? "localhost:50051" : "127.0.0.1:50051");
  if (!Tls(args)) return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  const std::string pki = args.Flag("pki");
  const std::string user = args.Flag("user");
  grpc::SslCredentialsOptions ssl;
  std::string ca, cert, key;
  if (!ReadFile(args.Flag("ca", pki + "/ca.pem"), &ca)) {
    std::exit(
        Say(kUsage, T("kan het CA-certificaat niet lezen", "cannot read the CA certificate")));
  }
  ssl.pem_root_certs = ca;
  const std::string cert_path =
      args.Flag("cert", pki.empty() || user.empty() ? "" : pki + "/clients/" + user + ".pem");
  const std::string key_path =
      args.Flag("key", pki.empty() || user.empty() ? "" : pki + "/clients/" + user + ".key");
  if (!cert_path.empty()) {
    if (!ReadFile(cert_path, &cert) || !ReadFile(key_path, &key)) {
      std::exit(Say(kUsage, T("kan het clientcertificaat of de sleutel niet lezen",
                              "cannot read the client certificate or its key")));
    }
    ssl.pem_cert_chain = cert;
    ssl.pem_private_key = key;
  }
  return grpc::CreateChannel(server, grpc::SslCredentials(ssl));
}

void Prepare(const Args& args, grpc::ClientContext* context, int seconds = 60) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  if (!Tls(args)) {
    context->AddMetadata("x-duurzaam-principal", args.Flag("as", "auditor:demo"));
    context->AddMetadata("x-duurzaam-role", "AUDITOR");
  }
}

int FromGrpc(const grpc::Status& status) {
  const client::ErrorDetails details = client::ReadErrorDetails(status);
  std::fprintf(stderr, "duurzaam-audit: %s: %s\n", client::CodeName(details.code).c_str(),
               details.message.c_str());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kUnreachable;
    default:
      return kRefused;
  }
}

// The pinned key for a log origin: --key, else the state folder's.
std::optional<transparency::VerifierKey> PinnedKey(const Args& args, const std::string& origin,
                                                   std::string* why) {
  std::string text;
  if (args.Has("verifier-key")) {
    text = args.Flag("verifier-key");
  } else if (!ReadFile(StateDir(args) + "/" + audit::SafeFileName(origin) + ".vkey", &text)) {
    *why = absl::StrCat(T("geen vastgepinde sleutel voor ", "no pinned key for "), origin,
                        T(": eerst `duurzaam-audit pin --fingerprint=...`",
                          ": run `duurzaam-audit pin --fingerprint=...` first"));
    return std::nullopt;
  }
  absl::StatusOr<transparency::VerifierKey> key =
      transparency::ParseVerifierKey(std::string(absl::StripAsciiWhitespace(text)));
  if (!key.ok()) {
    *why = std::string(key.status().message());
    return std::nullopt;
  }
  if (key->name != origin) {
    *why = absl::StrCat(T("de vastgepinde sleutel is van ", "the pinned key is for "), key->name,
                        T(", niet van ", ", not for "), origin);
    return std::nullopt;
  }
  return *key;
}

std::string OriginOf(const std::string& note) {
  absl::StatusOr<transparency::Note> n = transparency::ParseNote(note);
  if (!n.ok()) return "";
  absl::StatusOr<transparency::NoteCheckpoint> cp = transparency::ParseCheckpointNoteBody(n->body);
  return cp.ok() ? cp->origin : "";
}

// Fork detection against the kept checkpoint, for every checkpoint the
// tool is served. Returns kOk, kFork or an error exit.
int CheckAgainstKept(const Args& args, const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& note, audit::CheckpointVerdict* out = nullptr) {
  audit::CheckpointStore store(StateDir(args));
  auto stub = v1::Audit::NewStub(channel);
  std::string why;
  auto key = PinnedKey(args, OriginOf(note), &why);
  if (!key) return Say(kNoKey, why);
  absl::StatusOr<audit::CheckpointVerdict> verdict = store.Accept(
      note, *key,
      [&](uint64_t first, uint64_t second) -> absl::StatusOr<std::vector<transparency::Hash>> {
        grpc::ClientContext context;
        Prepare(args, &context);
        v1::GetConsistencyProofRequest request;
        request.set_first_size(first);
        request.set_second_size(second);
        v1::ConsistencyProof proof;
        grpc::Status s = stub->GetConsistencyProof(&context, request, &proof);
        if (!s.ok()) return absl::UnavailableError(s.error_message());
        std::vector<transparency::Hash> path;
        for (const std::string& h : proof.path()) {
          transparency::Hash node{};
          if (h.size() != node.size()) return absl::DataLossError("a proof hash is not 32 bytes");
          std::copy(h.begin(), h.end(), node.begin());
          path.push_back(node);
        }
        return path;
      });
  if (!verdict.ok()) {
    return Say(absl::IsUnavailable(verdict.status()) ? kUnreachable : kBroken,
               std::string(verdict.status().message()));
  }
  if (out != nullptr) *out = *verdict;
  if (verdict->consistency == audit::Consistency::kFork) {
    std::fprintf(stderr, "duurzaam-audit: %s\n  %s\n%s %s\n",
                 T("VORK: de server toont een geschiedenis die niet aansluit op het checkpoint dat "
                   "je eerder aanvaardde.",
                   "FORK: the server shows a history that does not extend the checkpoint you "
                   "accepted before."),
                 verdict->detail.c_str(),
                 T("Het bewijs (beide checkpoints en het bewijs) staat in",
                   "The evidence (both checkpoints and the proof) is in"),
                 store.dir().c_str());
    return kFork;
  }
  return kOk;
}

// Offline: a bundle's checkpoint against the kept one (a fork at the same
// size is caught; another size cannot be compared without a proof).
int CompareWithKept(const Args& args, const std::string& note) {
  std::string why;
  const std::string origin = OriginOf(note);
  if (origin.empty()) {
    return Say(kBroken, T("het checkpoint is geen geldige C2SP-notitie",
                          "the checkpoint is not a valid C2SP note"));
  }
  auto key = PinnedKey(args, origin, &why);
  if (!key) return Say(kNoKey, why);
  audit::CheckpointStore store(StateDir(args));
  absl::StatusOr<audit::CheckpointVerdict> verdict = store.CompareOffline(note, *key);
  if (!verdict.ok()) {
    return Say(kBroken, absl::StrCat("checkpoint: ", verdict.status().message()));
  }
  if (verdict->consistency == audit::Consistency::kFork) {
    std::fprintf(stderr, "duurzaam-audit: %s\n  %s\n",
                 T("VORK: de bundel draagt een ander checkpoint van dezelfde omvang dan het "
                   "checkpoint dat je eerder aanvaardde.",
                   "FORK: the bundle carries another checkpoint of the same size than the one "
                   "you accepted before."),
                 verdict->detail.c_str());
    return kFork;
  }
  return kOk;
}

// A case's evidence: from a bundle, or from the server (and then the
// checkpoint is also checked against the kept one).
struct Evidence {
  v1::CaseProofs proofs;
  std::string source;
};

int LoadEvidence(const Args& args, const std::string& case_id, Evidence* out) {
  if (args.Has("bundle")) {
    std::string bytes;
    if (!ReadFile(args.Flag("bundle"), &bytes)) {
      return Say(kUsage, absl::StrCat(T("kan niet lezen: ", "cannot read: "), args.Flag("bundle")));
    }
    absl::StatusOr<v1::EvidenceBundle> bundle = audit::ReadBundle(bytes);
    if (!bundle.ok()) {
      return Say(kBroken, english ? std::string(bundle.status().message())
                                  : audit::InDutch(bundle.status()));
    }
    if (bundle->case_id() != case_id) {
      return Say(kRefused, absl::StrCat(T("de bundel is van zaak ", "the bundle is of case "),
                                        bundle->case_id()));
    }
    out->proofs = bundle->proofs();
    out->source = absl::StrCat(T("bundel ", "bundle "), args.Flag("bundle"));
    return CompareWithKept(args, out->proofs.checkpoint().note());
  }
  auto channel = Connect(args);
  auto stub = v1::Audit::NewStub(channel);
  grpc::ClientContext context;
  Prepare(args, &context);
  v1::GetCaseProofsRequest request;
  request.set_case_id(case_id);
  grpc::Status s = stub->GetCaseProofs(&context, request, &out->proofs);
  if (!s.ok()) return FromGrpc(s);
  out->source = absl::StrCat("server ", args.Flag("server", "127.0.0.1:50051"));
  if (out->proofs.entries_size() == 0) {
    return Say(kRefused, absl::StrCat(T("geen zaak ", "no case "), case_id));
  }
  // Check the signature before the kept checkpoint is touched.
  std::string why;
  const std::string origin = OriginOf(out->proofs.checkpoint().note());
  auto key = PinnedKey(args, origin.empty() ? "duurzaam" : origin, &why);
  if (!key) return Say(kNoKey, why);
  absl::StatusOr<transparency::Note> note =
      transparency::ParseNote(out->proofs.checkpoint().note());
  absl::Status signed_ok = note.ok() ? transparency::VerifyNote(*note, *key) : note.status();
  if (!signed_ok.ok()) {
    return Say(kBroken, absl::StrCat("checkpoint: ", signed_ok.message()));
  }
  return CheckAgainstKept(args, channel, out->proofs.checkpoint().note());
}

// Verifies evidence; prints the failure. kOk or kBroken/kNoKey.
int Verify(const Args& args, const std::string& case_id, const Evidence& evidence,
           audit::Verification* out, bool quiet_ok) {
  std::string why;
  const std::string origin = OriginOf(evidence.proofs.checkpoint().note());
  if (origin.empty())
    return Say(kBroken,
               T("checkpoint: geen geldige C2SP-notitie", "checkpoint: not a valid C2SP note"));
  auto key = PinnedKey(args, origin, &why);
  if (!key) return Say(kNoKey, why);
  *out = audit::VerifyCaseProofs(evidence.proofs, case_id, *key);
  if (const audit::Check* bad = out->FirstFailure(); bad != nullptr || !out->ok()) {
    std::fprintf(stderr, "duurzaam-audit: %s %s: %s\n", T("NIET IN ORDE:", "FAILED:"),
                 bad ? bad->Item(english).c_str() : "", bad ? bad->Detail(english).c_str() : "");
    return kBroken;
  }
  if (!quiet_ok && !json) {
    std::printf("%s %zu %s %zu %s %s (%llu %s)\n", T("Geverifieerd:", "Verified:"), out->records,
                T("vastleggingen van de zaak en", "records of the case and"), out->related,
                T("verwante, tegen het checkpoint van", "related ones, against the checkpoint of"),
                out->origin.c_str(), static_cast<unsigned long long>(out->tree_size),
                T("vastleggingen", "records"));
  }
  return kOk;
}

// Loads, verifies and replays a case.
int LoadCase(const Args& args, const std::string& case_id, Evidence* evidence,
             audit::Verification* verification, audit::ReplayedCase* replay, bool quiet) {
  if (int rc = LoadEvidence(args, case_id, evidence); rc != kOk) return rc;
  if (int rc = Verify(args, case_id, *evidence, verification, quiet); rc != kOk) return rc;
  *replay = audit::Replay(evidence->proofs, case_id);
  for (const std::string& u : replay->unreadable) {
    std::fprintf(stderr, "duurzaam-audit: %s %s\n", T("onleesbaar:", "unreadable:"), u.c_str());
  }
  return kOk;
}

std::string When(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

// --- commands ---

int Pin(const Args& args) {
  std::string vkey;
  if (args.Has("verifier-key")) {
    vkey = args.Flag("verifier-key");
  } else if (args.Has("fingerprint")) {
    auto stub = v1::Audit::NewStub(Connect(args));
    grpc::ClientContext context;
    Prepare(args, &context);
    v1::SigningKeyInfo info;
    grpc::Status s = stub->GetSigningKey(&context, v1::GetSigningKeyRequest(), &info);
    if (!s.ok()) return FromGrpc(s);
    // Compare the fingerprint of the key itself, not the one the server states.
    unsigned char digest[32];
    EVP_Digest(info.public_key().data(), info.public_key().size(), digest, nullptr, EVP_sha256(),
               nullptr);
    const std::string actual = absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
    const std::string wanted = absl::AsciiStrToLower(args.Flag("fingerprint"));
    if (actual != wanted) {
      return Say(kBroken, absl::StrCat(T("de sleutel van de server heeft vingerafdruk ",
                                         "the server's key has fingerprint "),
                                       actual, T(", niet ", ", not "), wanted,
                                       T(": niet vastgepind", ": not pinned")));
    }
    // The verifier key the server names must be that very key.
    absl::StatusOr<transparency::VerifierKey> named =
        transparency::ParseVerifierKey(info.note_verifier_key());
    if (!named.ok() || named->algorithm != transparency::kNoteEd25519 ||
        named->key != info.public_key()) {
      return Say(kBroken, T("de server noemt een andere notitiesleutel dan de sleutel met deze "
                            "vingerafdruk: niet vastgepind",
                            "the server names another note key than the key with this "
                            "fingerprint: not pinned"));
    }
    vkey = info.note_verifier_key();
  } else {
    return Say(kUsage, T("pin wil --fingerprint=HEX (of --verifier-key=SLEUTEL)",
                         "pin takes --fingerprint=HEX (or --verifier-key=VKEY)"));
  }
  absl::StatusOr<transparency::VerifierKey> key = transparency::ParseVerifierKey(vkey);
  if (!key.ok()) return Say(kUsage, std::string(key.status().message()));
  if (key->algorithm != transparency::kNoteEd25519) {
    return Say(kUsage, T("een logsleutel is een Ed25519-sleutel (algoritme 1)",
                         "a log key is an Ed25519 key (algorithm 1)"));
  }
  std::error_code ec;
  std::filesystem::create_directories(StateDir(args), ec);
  const std::string path = StateDir(args) + "/" + audit::SafeFileName(key->name) + ".vkey";
  // A key once pinned is not silently replaced: a new key of the same log
  // is an event an auditor must decide on (--replace).
  std::string before;
  if (ReadFile(path, &before) && std::string(absl::StripAsciiWhitespace(before)) != key->Format() &&
      !args.Has("replace")) {
    return Say(kBroken, absl::StrCat(T("voor ", "for "), key->name,
                                     T(" is al een andere sleutel vastgepind (",
                                       " another key is pinned already ("),
                                     absl::StripAsciiWhitespace(before),
                                     T("); vervang hem alleen bewust, met --replace",
                                       "); replace it only deliberately, with --replace")));
  }
  if (!WriteFile(path, key->Format() + "\n")) {
    return Say(kUsage, absl::StrCat(T("kan niet schrijven: ", "cannot write: "), path));
  }
  if (json) {
    std::printf("{\"pinned\":%s,\"file\":%s}\n", JsonString(key->Format()).c_str(),
                JsonString(path).c_str());
  } else {
    std::printf("%s %s\n  %s\n", T("Vastgepind:", "Pinned:"), key->Format().c_str(), path.c_str());
  }
  return kOk;
}

// The newest checkpoint, its note signed by the pinned key; kOk or the exit.
int FetchCheckpoint(const Args& args, const std::shared_ptr<grpc::Channel>& channel,
                    v1::SignedCheckpoint* cp, std::string* origin,
                    transparency::NoteCheckpoint* body) {
  grpc::ClientContext context;
  Prepare(args, &context);
  grpc::Status s = v1::Audit::NewStub(channel)->GetCheckpoint(&context, {}, cp);
  if (!s.ok()) return FromGrpc(s);
  *origin = OriginOf(cp->note());
  if (origin->empty()) {
    return Say(kBroken, T("het checkpoint is geen geldige C2SP-notitie",
                          "the checkpoint is not a valid C2SP note"));
  }
  std::string why;
  auto key = PinnedKey(args, *origin, &why);
  if (!key) return Say(kNoKey, why);
  absl::StatusOr<transparency::Note> note = transparency::ParseNote(cp->note());
  absl::Status signed_ok = note.ok() ? transparency::VerifyNote(*note, *key) : note.status();
  if (!signed_ok.ok()) return Say(kBroken, absl::StrCat("checkpoint: ", signed_ok.message()));
  absl::StatusOr<transparency::NoteCheckpoint> parsed =
      transparency::ParseCheckpointNoteBody(note->body);
  if (!parsed.ok()) return Say(kBroken, absl::StrCat("checkpoint: ", parsed.status().message()));
  *body = *std::move(parsed);
  return kOk;
}

int Checkpoint(const Args& args) {
  auto channel = Connect(args);
  v1::SignedCheckpoint cp;
  std::string origin;
  transparency::NoteCheckpoint body;
  if (int rc = FetchCheckpoint(args, channel, &cp, &origin, &body); rc != kOk) return rc;
  audit::CheckpointVerdict verdict;
  const int rc = CheckAgainstKept(args, channel, cp.note(), &verdict);
  if (rc != kOk && rc != kFork) return rc;
  if (json) {
    std::printf("{\"origin\":%s,\"tree_size\":%llu,\"consistency\":%s,\"detail\":%s}\n",
                JsonString(origin).c_str(), static_cast<unsigned long long>(cp.tree_size()),
                JsonString(rc == kFork                                         ? "FORK"
                           : verdict.consistency == audit::Consistency::kFirst ? "FIRST"
                           : verdict.consistency == audit::Consistency::kSame  ? "SAME"
                                                                               : "GREW")
                    .c_str(),
                JsonString(verdict.detail).c_str());
  } else if (rc == kOk) {
    std::string how;
    switch (verdict.consistency) {
      case audit::Consistency::kFirst:
        how =
            T("eerste checkpoint van deze server: bewaard", "this server's first checkpoint: kept");
        break;
      case audit::Consistency::kSame:
        how = T("hetzelfde als de vorige keer", "the same as last time");
        break;
      default:
        how = absl::StrCat(T("gegroeid van ", "grew from "), verdict.previous_size,
                           T(" naar ", " to "), verdict.size,
                           T(" vastleggingen, consistent (bewijs gecontroleerd)",
                             " records, consistently (proof checked)"));
    }
    std::printf("%s %s, %llu %s\n  %s\n", T("Checkpoint in orde:", "Checkpoint good:"),
                origin.c_str(), static_cast<unsigned long long>(cp.tree_size()),
                T("vastleggingen", "records"), how.c_str());
  }
  return rc;
}

int Replay(const Args& args, const std::string& case_id) {
  Evidence evidence;
  audit::Verification verification;
  audit::ReplayedCase replay;
  if (int rc = LoadCase(args, case_id, &evidence, &verification, &replay, json); rc != kOk)
    return rc;
  if (replay.erasure && !json) {
    std::printf("%s %s (%s: %s)\n", T("Persoonsgegevens gewist op", "Personal data erased on"),
                When(replay.erasure->erased_at_micros).c_str(), replay.erasure->erased_by.c_str(),
                replay.erasure->reason.c_str());
  }
  if (json) std::printf("[");
  bool first = true;
  for (const domain::TimelineEntry& e :
       domain::BuildTimeline(replay.case_events, replay.employer_events)) {
    const audit::RecordMeta* m = replay.MetaOf(*e.event);
    const std::string title = english ? e.title.en : e.title.nl;
    const char* data =
        m && m->sealed ? (e.event->personal_data_erased ? "erased" : "encrypted") : "";
    if (json) {
      std::printf(
          "%s\n{\"event_id\":%s,\"type\":%s,\"occurred_on\":%s,\"recorded_at\":%s,"
          "\"recorded_by\":%s,\"stream\":%s,\"revision\":%lld,\"position\":%llu,"
          "\"employer_wide\":%s,\"personal_data\":%s,\"title\":%s}",
          first ? "" : ",", JsonString(e.event->id).c_str(), JsonString(m ? m->type : "").c_str(),
          JsonString(domain::FormatDate(e.event->occurred_on)).c_str(),
          JsonString(m ? When(m->recorded_at_micros) : "").c_str(),
          JsonString(e.event->recorded_by.id).c_str(), JsonString(m ? m->stream : "").c_str(),
          static_cast<long long>(m ? m->revision : 0),
          static_cast<unsigned long long>(m ? m->position : 0), e.employer_wide ? "true" : "false",
          JsonString(data).c_str(), JsonString(title).c_str());
    } else {
      std::string marks;
      if (e.employer_wide) marks += T(" (hele werkgever)", " (employer-wide)");
      if (*data) {
        marks += e.event->personal_data_erased
                     ? T(" [persoonsgegevens gewist]", " [personal data erased]")
                     : T(" [persoonsgegevens versleuteld]", " [personal data encrypted]");
      }
      std::printf("%s  %s  %-22s #%llu  %s%s\n", domain::FormatDate(e.event->occurred_on).c_str(),
                  m ? When(m->recorded_at_micros).c_str() : "", e.event->recorded_by.id.c_str(),
                  static_cast<unsigned long long>(m ? m->position : 0), title.c_str(),
                  marks.c_str());
    }
    first = false;
  }
  if (json) std::printf("\n]\n");
  return replay.unreadable.empty() ? kOk : kBroken;
}

void PrintStatus(const char* heading, const domain::CaseStatus& s) {
  std::printf("%s: %s  (%s %s)\n", heading, audit::LevelWord(s.level, english),
              T("regels", "ruleset"), s.ruleset_version.c_str());
  for (const domain::Reason& r : s.reasons) {
    std::printf("  - %s: %s", r.rule_id.c_str(), (english ? r.sentence.en : r.sentence.nl).c_str());
    if (!r.evidence.empty()) {
      std::printf("  [%s", T("bewijs", "evidence"));
      for (const std::string& e : r.evidence) std::printf(" %s", e.c_str());
      std::printf("]");
    }
    std::printf("\n");
  }
}

std::string StatusJson(const domain::CaseStatus& s) {
  std::string out =
      absl::StrCat("{\"level\":", JsonString(domain::LevelName(s.level)),
                   ",\"ruleset_version\":", JsonString(s.ruleset_version), ",\"reasons\":[");
  for (size_t i = 0; i < s.reasons.size(); ++i) {
    const domain::Reason& r = s.reasons[i];
    absl::StrAppend(&out, i ? "," : "", "{\"rule_id\":", JsonString(r.rule_id),
                    ",\"sentence\":", JsonString(english ? r.sentence.en : r.sentence.nl),
                    ",\"evidence\":[");
    for (size_t j = 0; j < r.evidence.size(); ++j) {
      absl::StrAppend(&out, j ? "," : "", JsonString(r.evidence[j]));
    }
    out += "]}";
  }
  return out + "]}";
}

int Status(const Args& args, const std::string& case_id) {
  std::optional<domain::Date> on = args.Has("on") ? ParseDate(args.Flag("on")) : Today();
  if (!on) return Say(kUsage, T("--on is een datum JJJJ-MM-DD", "--on is a date YYYY-MM-DD"));
  Evidence evidence;
  audit::Verification verification;
  audit::ReplayedCase replay;
  if (int rc = LoadCase(args, case_id, &evidence, &verification, &replay, json); rc != kOk)
    return rc;
  const domain::StatusPair pair = domain::StatusBothClocks(replay.Joined(), *on);
  if (json) {
    std::printf(
        "{\"case_id\":%s,\"on\":%s,\"as_known\":%s,\"as_now_known\":%s,\"differ\":%s,"
        "\"late_events\":[",
        JsonString(case_id).c_str(), JsonString(domain::FormatDate(*on)).c_str(),
        StatusJson(pair.as_known).c_str(), StatusJson(pair.as_now_known).c_str(),
        pair.differ ? "true" : "false");
    for (size_t i = 0; i < pair.late_events.size(); ++i) {
      std::printf("%s%s", i ? "," : "", JsonString(pair.late_events[i]).c_str());
    }
    std::printf("]}\n");
    return kOk;
  }
  std::printf("%s %s %s %s\n", T("Zaak", "Case"), case_id.c_str(), T("op", "on"),
              domain::FormatDate(*on).c_str());
  PrintStatus(T("Zoals toen bekend (wat op die dag was vastgelegd)",
                "As known then (what was recorded by that day)"),
              pair.as_known);
  PrintStatus(T("Zoals nu bekend (alles wat tot die dag gebeurde)",
                "As now known (everything that happened by that day)"),
              pair.as_now_known);
  if (pair.differ) {
    std::printf("%s", T("De twee verschillen door later vastgelegde gebeurtenissen:",
                        "The two differ because of events recorded later:"));
    for (const std::string& id : pair.late_events) std::printf(" %s", id.c_str());
    std::printf("\n");
  } else {
    std::printf("%s\n", T("De twee zijn gelijk.", "The two are the same."));
  }
  return kOk;
}

int History(const Args& args, const std::string& case_id) {
  std::optional<domain::Date> until = args.Has("until") ? ParseDate(args.Flag("until")) : Today();
  if (!until)
    return Say(kUsage, T("--until is een datum JJJJ-MM-DD", "--until is a date YYYY-MM-DD"));
  Evidence evidence;
  audit::Verification verification;
  audit::ReplayedCase replay;
  if (int rc = LoadCase(args, case_id, &evidence, &verification, &replay, json); rc != kOk)
    return rc;
  const auto joined = replay.Joined();
  const auto now_known = domain::StatusHistory(joined, *until, domain::Clock::kAsNowKnown);
  const auto as_known = domain::StatusHistory(joined, *until, domain::Clock::kAsKnown);
  if (args.Has("svg")) {
    if (!WriteFile(args.Flag("svg"), audit::StatusChartSvg(now_known, as_known, *until, english))) {
      return Say(kUsage,
                 absl::StrCat(T("kan niet schrijven: ", "cannot write: "), args.Flag("svg")));
    }
  }
  if (json) {
    std::printf("[");
    for (size_t i = 0; i < now_known.size(); ++i) {
      const domain::LevelChange& c = now_known[i];
      std::string events, added, removed;
      for (const auto& e : c.events)
        absl::StrAppend(&events, events.empty() ? "" : ",", JsonString(e));
      for (const auto& e : c.rules_added)
        absl::StrAppend(&added, added.empty() ? "" : ",", JsonString(e));
      for (const auto& e : c.rules_removed)
        absl::StrAppend(&removed, removed.empty() ? "" : ",", JsonString(e));
      std::printf(
          "%s\n{\"on\":%s,\"from\":%s,\"to\":%s,\"events\":[%s],\"rules_added\":[%s],"
          "\"rules_removed\":[%s],\"ruleset_version\":%s,\"ruleset_changed\":%s}",
          i ? "," : "", JsonString(domain::FormatDate(c.on)).c_str(),
          c.first ? "null" : JsonString(domain::LevelName(c.from)).c_str(),
          JsonString(domain::LevelName(c.to)).c_str(), events.c_str(), added.c_str(),
          removed.c_str(), JsonString(c.ruleset_version).c_str(),
          c.ruleset_changed ? "true" : "false");
    }
    std::printf("\n]\n");
    return kOk;
  }
  auto table = [](const std::vector<domain::LevelChange>& changes) {
    std::printf("%-10s  %-10s  %-10s  %-7s  %s\n", T("datum", "date"), T("van", "from"),
                T("naar", "to"), T("regels", "ruleset"), T("oorzaak", "cause"));
    for (const domain::LevelChange& c : changes) {
      std::string cause;
      auto add = [&cause](const std::string& s) {
        absl::StrAppend(&cause, cause.empty() ? "" : "; ", s);
      };
      if (!c.events.empty()) {
        const size_t shown = std::min<size_t>(3, c.events.size());
        std::vector<std::string> first(c.events.begin(), c.events.begin() + shown);
        add(absl::StrCat(
            T("gebeurtenissen ", "events "), absl::StrJoin(first, ","),
            c.events.size() > shown
                ? absl::StrCat(T(" en ", " and "), c.events.size() - shown, T(" meer", " more"))
                : ""));
      }
      if (!c.rules_added.empty()) add(absl::StrCat("+", absl::StrJoin(c.rules_added, " +")));
      if (!c.rules_removed.empty()) add(absl::StrCat("-", absl::StrJoin(c.rules_removed, " -")));
      if (c.ruleset_changed) add(T("nieuwe regels", "new ruleset"));
      if (cause.empty()) add(T("verstreken tijd", "time passed"));
      std::printf("%-10s  %-10s  %-10s  %-7s  %s\n", domain::FormatDate(c.on).c_str(),
                  c.first ? "-" : audit::LevelWord(c.from, english),
                  audit::LevelWord(c.to, english), c.ruleset_version.c_str(), cause.c_str());
    }
  };
  std::printf("%s\n", T("Zoals nu bekend (wat er gebeurde, wanneer ook vastgelegd):",
                        "As now known (what happened, whenever it was recorded):"));
  table(now_known);
  bool same = as_known.size() == now_known.size();
  for (size_t i = 0; same && i < as_known.size(); ++i) {
    same = as_known[i].on == now_known[i].on && as_known[i].to == now_known[i].to;
  }
  if (same) {
    std::printf("%s\n", T("Zoals toen bekend is het verloop hetzelfde.",
                          "As known then, the history is the same."));
  } else {
    std::printf("\n%s\n", T("Zoals toen bekend (wat op elke dag was vastgelegd):",
                            "As known then (what had been recorded by each day):"));
    table(as_known);
  }
  return kOk;
}

int Bundle(const Args& args, const std::string& case_id) {
  if (!args.Has("out"))
    return Say(kUsage, T("bundle wil --out=BESTAND", "bundle takes --out=FILE"));
  Evidence evidence;
  if (int rc = LoadEvidence(args, case_id, &evidence); rc != kOk) return rc;
  audit::Verification verification;
  if (int rc = Verify(args, case_id, evidence, &verification, true); rc != kOk) return rc;
  std::string why;
  auto key = PinnedKey(args, verification.origin, &why);
  const std::string bytes = audit::WriteBundle(case_id, evidence.proofs, key ? key->Format() : "");
  if (!WriteFile(args.Flag("out"), bytes))
    return Say(kUsage, absl::StrCat(T("kan niet schrijven: ", "cannot write: "), args.Flag("out")));
  std::printf("%s %s: %zu + %zu %s, %zu bytes\n",
              T("Bewijsbundel geschreven:", "Evidence bundle written:"), args.Flag("out").c_str(),
              verification.records, verification.related,
              T("vastleggingen met bewijs", "records with proofs"), bytes.size());
  return kOk;
}

int VerifyBundle(const Args& args, const std::string& path) {
  std::string bytes;
  if (!ReadFile(path, &bytes))
    return Say(kUsage, absl::StrCat(T("kan niet lezen: ", "cannot read: "), path));
  // The key to check against: pinned for the origin the bundle's checkpoint names.
  std::string origin;
  if (absl::StatusOr<v1::EvidenceBundle> peek = audit::ReadBundle(bytes); peek.ok()) {
    origin = OriginOf(peek->proofs().checkpoint().note());
  }
  std::string why;
  auto key = PinnedKey(args, origin.empty() ? "duurzaam" : origin, &why);
  if (!key) return Say(kNoKey, why);
  v1::EvidenceBundle bundle;
  const audit::Verification v = audit::VerifyBundle(bytes, *key, &bundle);
  const audit::Check* bad = v.FirstFailure();
  const int rc = v.ok() ? kOk : kBroken;
  if (json) {
    std::printf(
        "{\"ok\":%s,\"case_id\":%s,\"records\":%zu,\"related\":%zu,\"tree_size\":%llu%s%s%s%s}\n",
        rc == kOk ? "true" : "false", JsonString(bundle.case_id()).c_str(), v.records, v.related,
        static_cast<unsigned long long>(v.tree_size), bad ? ",\"item\":" : "",
        bad ? JsonString(bad->item).c_str() : "", bad ? ",\"detail\":" : "",
        bad ? JsonString(bad->detail).c_str() : "");
    return rc;
  }
  if (rc == kOk) {
    if (int kept = CompareWithKept(args, bundle.proofs().checkpoint().note()); kept != kOk) {
      return kept;
    }
  }
  if (rc != kOk) {
    return Say(kBroken, absl::StrCat(T("NIET IN ORDE: ", "FAILED: "),
                                     bad ? bad->Item(english) : T("bundel", "bundle"), ": ",
                                     bad ? bad->Detail(english) : ""));
  }
  std::printf("%s %s: %s %s, %zu %s %zu %s\n  %s %s, %llu %s, root %s\n",
              T("In orde:", "Verified:"), path.c_str(), T("zaak", "case"), bundle.case_id().c_str(),
              v.records, T("vastleggingen en", "records and"), v.related,
              T("verwante, elk met inclusiebewijs", "related, each with its inclusion proof"),
              T("checkpoint van", "checkpoint of"), v.origin.c_str(),
              static_cast<unsigned long long>(v.tree_size), T("vastleggingen", "records"),
              transparency::HexOf(v.root).c_str());
  return kOk;
}

int VerifyNoteFile(const Args& args, const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text))
    return Say(kUsage, absl::StrCat(T("kan niet lezen: ", "cannot read: "), path));
  const std::string origin = OriginOf(text);
  if (origin.empty())
    return Say(kBroken, T("geen geldig checkpoint (C2SP)", "not a valid checkpoint (C2SP)"));
  std::string why;
  auto key = PinnedKey(args, origin, &why);
  if (!key) return Say(kNoKey, why);
  absl::StatusOr<transparency::Note> note = transparency::ParseNote(text);
  if (absl::Status s = transparency::VerifyNote(*note, *key); !s.ok()) {
    return Say(kBroken, absl::StrCat("checkpoint: ", s.message()));
  }
  // Witnesses: --witness=VKEY[,VKEY...] (each a tlog-cosignature/v1 key,
  // counted once); --quorum of them (default: all) must have cosigned.
  std::vector<transparency::VerifierKey> witnesses;
  for (absl::string_view w : absl::StrSplit(args.Flag("witness"), ',', absl::SkipEmpty())) {
    absl::StatusOr<transparency::VerifierKey> wk = transparency::ParseVerifierKey(std::string(w));
    if (!wk.ok()) return Say(kUsage, absl::StrCat("--witness: ", wk.status().message()));
    if (wk->algorithm != transparency::kNoteCosignatureV1) {
      return Say(kUsage, absl::StrCat("--witness: ", wk->name,
                                      T(" is geen getuigensleutel (cosignature/v1, algoritme 4)",
                                        " is not a witness key (cosignature/v1, algorithm 4)")));
    }
    bool seen = false;
    for (const auto& other : witnesses)
      seen = seen || (other.hash == wk->hash && other.name == wk->name);
    if (!seen) witnesses.push_back(*wk);
  }
  int quorum = static_cast<int>(witnesses.size());
  if (args.Has("quorum") && (!absl::SimpleAtoi(args.Flag("quorum"), &quorum) || quorum < 1 ||
                             quorum > static_cast<int>(witnesses.size()))) {
    return Say(kUsage, T("--quorum is een aantal van 1 tot het aantal getuigen",
                         "--quorum is a number from 1 to the number of witnesses"));
  }
  int good = 0;
  for (const transparency::VerifierKey& wk : witnesses) {
    absl::Status s = transparency::VerifyNote(*note, wk);
    std::printf("  %s %s: %s\n", s.ok() ? "+" : "-", wk.name.c_str(),
                s.ok() ? T("medeondertekend", "cosigned") : std::string(s.message()).c_str());
    if (s.ok()) ++good;
  }
  if (good < quorum) {
    return Say(kBroken, absl::StrCat(good, T(" van de vereiste ", " of the required "), quorum,
                                     T(" getuigen hebben medeondertekend", " witnesses cosigned")));
  }
  std::printf(
      "%s %s (%s)%s\n", T("Checkpoint in orde:", "Checkpoint good:"), origin.c_str(),
      key->name.c_str(),
      witnesses.empty() ? "" : absl::StrCat(", ", good, " ", T("getuigen", "witnesses")).c_str());
  return kOk;
}

int Access(const Args& args, const std::string& case_id) {
  auto stub = v1::Audit::NewStub(Connect(args));
  grpc::ClientContext context;
  Prepare(args, &context);
  v1::ListAccessRecordsRequest request;
  request.set_case_id(case_id);
  v1::ListAccessRecordsResponse response;
  grpc::Status s = stub->ListAccessRecords(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  const std::string csv = audit::AccessCsv(response);
  if (args.Has("out")) {
    if (!WriteFile(args.Flag("out"), csv))
      return Say(kUsage,
                 absl::StrCat(T("kan niet schrijven: ", "cannot write: "), args.Flag("out")));
    std::printf("%d %s %s\n", response.records_size(),
                T("keer gelezen, geschreven naar", "reads, written to"), args.Flag("out").c_str());
  } else {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  }
  return kOk;
}

// Chromium prints the HTML to PDF (Debian's chromium, headless).
int PrintPdf(const std::string& html_path, const std::string& pdf_path) {
  const char* candidates[] = {std::getenv("DUURZAAM_CHROMIUM"), "/usr/bin/chromium",
                              "/usr/bin/chromium-browser"};
  std::string chromium;
  for (const char* c : candidates) {
    if (c != nullptr && *c && ::access(c, X_OK) == 0) {
      chromium = c;
      break;
    }
  }
  if (chromium.empty()) {
    return Say(kUsage, T("geen Chromium gevonden (apt install chromium, of DUURZAAM_CHROMIUM)",
                         "no Chromium found (apt install chromium, or DUURZAAM_CHROMIUM)"));
  }
  const std::string abs_html = std::filesystem::absolute(html_path).string();
  const std::string profile = std::filesystem::temp_directory_path().string() + "/duurzaam-audit-" +
                              std::to_string(::getpid());
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string pdf_flag = "--print-to-pdf=" + pdf_path;
    const std::string profile_flag = "--user-data-dir=" + profile;
    const std::string url = "file://" + abs_html;
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::execl(chromium.c_str(), chromium.c_str(), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-pdf-header-footer", "--disable-extensions", profile_flag.c_str(),
            pdf_flag.c_str(), url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(profile, ec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(pdf_path)) {
    return Say(kUsage, T("Chromium kon de PDF niet maken", "Chromium could not make the PDF"));
  }
  return kOk;
}

int Report(const Args& args, const std::string& case_id) {
  if (!args.Has("html"))
    return Say(kUsage, T("report wil --html=BESTAND", "report takes --html=FILE"));
  std::optional<domain::Date> on = args.Has("on") ? ParseDate(args.Flag("on")) : Today();
  if (!on) return Say(kUsage, T("--on is een datum JJJJ-MM-DD", "--on is a date YYYY-MM-DD"));
  Evidence evidence;
  audit::Verification verification;
  audit::ReplayedCase replay;
  // A report is written for failed verifications too: it says so.
  int rc = LoadEvidence(args, case_id, &evidence);
  if (rc != kOk) return rc;
  const int verified = Verify(args, case_id, evidence, &verification, true);
  if (verified == kNoKey) return verified;
  replay = audit::Replay(evidence.proofs, case_id);
  audit::ReportInput input;
  input.case_id = case_id;
  input.replay = &replay;
  input.verification = &verification;
  input.on = *on;
  const auto joined = replay.Joined();
  input.history = domain::StatusHistory(joined, *on, domain::Clock::kAsNowKnown);
  input.history_known = domain::StatusHistory(joined, *on, domain::Clock::kAsKnown);
  input.english = english;
  input.source = evidence.source;
  input.generated_at = When(absl::ToUnixMicros(absl::Now()));
  v1::ListAccessRecordsResponse access;
  if (args.Has("bundle")) {
    input.access_error =
        T("een bundel bevat het toegangslogboek niet", "a bundle does not hold the access log");
  } else {
    auto stub = v1::Audit::NewStub(Connect(args));
    grpc::ClientContext context;
    Prepare(args, &context);
    v1::ListAccessRecordsRequest request;
    request.set_case_id(case_id);
    grpc::Status s = stub->ListAccessRecords(&context, request, &access);
    if (s.ok()) {
      input.access = &access;
    } else {
      input.access_error = s.error_message();
    }
  }
  if (!WriteFile(args.Flag("html"), audit::ReportHtml(input))) {
    return Say(kUsage,
               absl::StrCat(T("kan niet schrijven: ", "cannot write: "), args.Flag("html")));
  }
  std::printf("%s %s\n", T("Rapport:", "Report:"), args.Flag("html").c_str());
  if (args.Has("pdf")) {
    if (int p = PrintPdf(args.Flag("html"), args.Flag("pdf")); p != kOk) {
      return verified != kOk ? verified : p;
    }
    std::printf("PDF: %s\n", args.Flag("pdf").c_str());
  }
  return verified;
}

// A progress bar on stderr (a line per 10% when stderr is not a terminal).
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(total), tty_(::isatty(2)) {}
  void Show(uint64_t done) {
    const int pct = total_ ? static_cast<int>(100 * done / total_) : 100;
    if (finished_) return;
    finished_ = done >= total_;
    if (tty_) {
      if (pct == last_ && done != total_) return;
      const int filled = pct * 30 / 100;
      std::fprintf(stderr, "\r[%s%s] %3d%%  %llu / %llu", std::string(filled, '#').c_str(),
                   std::string(30 - filled, ' ').c_str(), pct,
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
      if (done == total_) std::fprintf(stderr, "\n");
    } else if (pct / 10 != last_ / 10 || done == total_) {
      std::fprintf(stderr, "%3d%%  %llu / %llu\n", pct, static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total_));
    }
    last_ = pct;
  }

 private:
  uint64_t total_;
  bool tty_;
  bool finished_ = false;
  int last_ = -1;
};

int VerifyLog(const Args& args) {
  auto channel = Connect(args);
  v1::SignedCheckpoint cp;
  std::string origin;
  transparency::NoteCheckpoint checkpoint;
  if (int rc = FetchCheckpoint(args, channel, &cp, &origin, &checkpoint); rc != kOk) return rc;
  if (int rc = CheckAgainstKept(args, channel, cp.note()); rc != kOk) return rc;
  const transparency::NoteCheckpoint* target = &checkpoint;
  // Resume from the saved state unless told to restart.
  // The saved progress belongs to this log and this key.
  std::string why;
  auto pinned = PinnedKey(args, origin, &why);
  if (!pinned) return Say(kNoKey, why);
  const std::string state_path = absl::StrCat(StateDir(args), "/", audit::SafeFileName(origin), ".",
                                              absl::BytesToHexString(pinned->hash), ".logverify");
  verify::LogVerifier verifier;
  std::string saved;
  if (!args.Has("restart") && ReadFile(state_path, &saved)) {
    absl::StatusOr<verify::LogVerifier::State> state = verify::LogVerifier::State::Parse(saved);
    if (state.ok() && state->size <= target->tree_size) {
      verifier = verify::LogVerifier(*state);
      if (!json && state->size > 0) {
        std::fprintf(stderr, "%s %llu\n", T("hervat bij vastlegging", "resuming at record"),
                     static_cast<unsigned long long>(state->size));
      }
    }
  }
  auto save = [&]() {
    std::error_code ec;
    std::filesystem::create_directories(StateDir(args), ec);
    (void)WriteFile(state_path + ".tmp", verifier.state().Serialize());
    std::filesystem::rename(state_path + ".tmp", state_path, ec);
  };
  const auto started = std::chrono::steady_clock::now();
  const uint64_t from = verifier.size();
  Progress progress(target->tree_size);
  uint64_t saved_at = verifier.size();
  {
    grpc::ClientContext context;
    Prepare(args, &context, 3600);
    absl::Status s =
        audit::VerifyLogUpTo(channel, &context, target->tree_size, &verifier, [&](uint64_t done) {
          progress.Show(done);
          if (done - saved_at >= 100000) {
            save();
            saved_at = done;
          }
        });
    if (!s.ok()) {
      save();
      if (absl::IsUnavailable(s)) return Say(kUnreachable, std::string(s.message()));
      if (json) {
        std::printf("{\"ok\":false,\"verified\":%llu,\"detail\":%s}\n",
                    static_cast<unsigned long long>(verifier.size()),
                    JsonString(std::string(s.message())).c_str());
      }
      return Say(kBroken, absl::StrCat(T("NIET IN ORDE, eerste slechte vastlegging: ",
                                         "FAILED, first bad record: "),
                                       s.message()));
    }
  }
  progress.Show(verifier.size());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (verifier.Root() != target->root) {
    // Every record's chain held, yet the tree differs from the signed one:
    // nothing of this run can be trusted to resume from.
    std::error_code ec;
    std::filesystem::remove(state_path, ec);
    if (json) std::printf("{\"ok\":false,\"detail\":\"root\"}\n");
    return Say(
        kBroken,
        absl::StrCat(T("NIET IN ORDE: de boom over ", "FAILED: the tree over "), target->tree_size,
                     T(" vastleggingen heeft een andere wortel dan het ondertekende checkpoint (",
                       " records has another root than the signed checkpoint ("),
                     transparency::HexOf(verifier.Root()), " / ", transparency::HexOf(target->root),
                     ")"));
  }
  save();
  if (json) {
    std::printf(
        "{\"ok\":true,\"records\":%llu,\"verified_now\":%llu,\"seconds\":%.3f,\"root\":%s}\n",
        static_cast<unsigned long long>(verifier.size()),
        static_cast<unsigned long long>(verifier.size() - from), seconds,
        JsonString(transparency::HexOf(target->root)).c_str());
  } else {
    std::printf("%s %llu %s (%llu %s %.2f s): %s\n", T("In orde:", "Verified:"),
                static_cast<unsigned long long>(verifier.size()),
                T("vastleggingen, keten en boom kloppen met het checkpoint",
                  "records, chain and tree match the checkpoint"),
                static_cast<unsigned long long>(verifier.size() - from),
                T("nu gecontroleerd in", "checked now in"), seconds,
                transparency::HexOf(target->root).c_str());
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = client::ParseArgs(argc, argv);
  const std::string lang = args.Flag("lang", "nl");
  if (lang != "nl" && lang != "en") return Usage(kUsage);
  english = lang == "en";
  json = args.Has("json");
  if (args.Has("help") || args.positional.empty()) return Usage(args.Has("help") ? kOk : kUsage);
  const std::string command = args.positional[0];
  const std::string arg = args.positional.size() > 1 ? args.positional[1] : "";
  auto needs = [&](const char* what) {
    return Say(kUsage, absl::StrCat(command, T(" wil ", " takes "), what));
  };
  static const char* const kCommands[] = {"pin",         "checkpoint", "verify-log", "replay",
                                          "status",      "history",    "bundle",     "verify",
                                          "verify-note", "access",     "report"};
  if (std::find(std::begin(kCommands), std::end(kCommands), command) == std::end(kCommands)) {
    Say(kUsage, absl::StrCat(T("onbekende opdracht: ", "unknown command: "), command));
    return Usage(kUsage);
  }
  if (command == "pin") return Pin(args);
  if (command == "checkpoint") return Checkpoint(args);
  if (command == "verify-log") return VerifyLog(args);
  if (arg.empty())
    return needs(command == "verify" || command == "verify-note" ? T("een BESTAND", "a FILE")
                                                                 : T("een ZAAK", "a CASE"));
  if (command == "replay") return Replay(args, arg);
  if (command == "status") return Status(args, arg);
  if (command == "history") return History(args, arg);
  if (command == "bundle") return Bundle(args, arg);
  if (command == "verify") return VerifyBundle(args, arg);
  if (command == "verify-note") return VerifyNoteFile(args, arg);
  if (command == "access") return Access(args, arg);
  if (command == "report") return Report(args, arg);
  Say(kUsage, absl::StrCat(T("onbekende opdracht: ", "unknown command: "), command));
  return Usage(kUsage);
}
