// duurzaam-expert: the labour expert's app on the command line. Works
// offline on an encrypted replica of the expert's cases (clients/expert/app.h)
// and syncs with the server when it can. Dutch first, English with --lang=en.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/expert/app.h"
#include "clients/lib/args.h"
#include "clients/lib/text.h"
#include "codec/case_codec.h"
#include "codec/placement_codec.h"
#include "common/status_macros.h"
#include "domain/case_state.h"
#include "domain/ruleset.h"
#include "domain/status.h"
#include "domain/timeline.h"

namespace {

using namespace duurzaam;

// Exit codes (also in --help).
enum Exit {
  kOk = 0,
  kNeedsYou = 1,       // done, but intents wait for the expert (conflict, rejected)
  kUsage = 2,          // the command line is wrong
  kRefused = 3,        // the rules refuse it, or there is no such case or intent
  kOffline = 4,        // the server could not be reached; nothing is lost, sync later
  kVault = 5,          // wrong passphrase, the replica is in use, damaged or missing
  kDeviceRefused = 6,  // the server no longer admits this device: its replica was purged
};

using client::Args;
Args Parse(int argc, char** argv) { return client::ParseArgs(argc, argv); }

bool english = false;
bool json = false;
const char* T(const char* nl, const char* en) { return english ? en : nl; }

using client::JsonString;

const char* kUsageText[2] = {
    // Dutch
    "gebruik: duurzaam-expert [--dir=MAP] [--lang=nl|en] [--json] OPDRACHT\n"
    "\n"
    "Werkt offline op een versleutelde kopie van je zaken en synchroniseert\n"
    "met de server zodra die bereikbaar is.\n"
    "\n"
    "  init --server=HOST:POORT --pki=MAP --user=NAAM[+APPARAAT]\n"
    "       (of --ca=CA.pem --cert=APPARAAT.pem --key=APPARAAT.key; of --dev --as=NAAM\n"
    "       voor een ontwikkelserver op loopback)     maakt de kopie op dit apparaat\n"
    "  sync [--watch[=SECONDEN]]   eerst versturen, dan ophalen; --watch blijft synchroniseren\n"
    "  cases                       je zaken met hun status (hier berekend)\n"
    "  timeline ZAAK               de tijdlijn van een zaak\n"
    "  status ZAAK [--as-of=JJJJ-MM-DD]   status met redenen\n"
    "  record ZAAK contact --summary=TEKST [--kind=visit|phone|video|three-way]\n"
    "  record ZAAK contract --contract=permanent|fixed-term [--end=JJJJ-MM-DD] [--hours=N]\n"
    "  record ZAAK close --reason=TEKST\n"
    "  record ZAAK --event-json=JSON  elke gebeurtenis (duurzaam.v1.PlacementEvent als JSON)\n"
    "       record: [--date=JJJJ-MM-DD] wanneer het gebeurde (standaard vandaag)\n"
    "  outbox                      wat nog verstuurd moet worden, conflicten, weigeringen\n"
    "  resolve ID --discard | --keep-mine | --edit SOORT ...\n"
    "       een conflict of weigering afhandelen: verwerpen, toch de mijne (bovenop de zaak),\n"
    "       of aangepast (SOORT en opties als bij record, of --event-json)\n"
    "\n"
    "Wachtwoordzin: DUURZAAM_EXPERT_PASSPHRASE, anders gevraagd (of één regel op stdin).\n"
    "Map: --dir, anders DUURZAAM_EXPERT_DIR, anders ~/.local/share/duurzaam-expert.\n"
    "Afsluitcodes: 0 klaar, 1 klaar maar iets wacht op jou, 2 verkeerd gebruik,\n"
    "3 geweigerd (regels) of niet gevonden, 4 server onbereikbaar (niets verloren),\n"
    "5 wachtwoordzin/kopie, 6 dit apparaat is niet meer toegelaten (kopie gewist).\n",
    // English
    "usage: duurzaam-expert [--dir=DIR] [--lang=nl|en] [--json] COMMAND\n"
    "\n"
    "Works offline on an encrypted copy of your cases and syncs with the server\n"
    "whenever it can be reached.\n"
    "\n"
    "  init --server=HOST:PORT --pki=DIR --user=NAME[+DEVICE]\n"
    "       (or --ca=CA.pem --cert=DEVICE.pem --key=DEVICE.key; or --dev --as=NAME\n"
    "       for a loopback dev server)               creates the copy on this device\n"
    "  sync [--watch[=SECONDS]]    push first, then pull; --watch keeps syncing\n"
    "  cases                       your cases with their status (computed here)\n"
    "  timeline CASE               a case's timeline\n"
    "  status CASE [--as-of=YYYY-MM-DD]   status with its reasons\n"
    "  record CASE contact --summary=TEXT [--kind=visit|phone|video|three-way]\n"
    "  record CASE contract --contract=permanent|fixed-term [--end=YYYY-MM-DD] [--hours=N]\n"
    "  record CASE close --reason=TEXT\n"
    "  record CASE --event-json=JSON  any event (a duurzaam.v1.PlacementEvent as JSON)\n"
    "       record: [--date=YYYY-MM-DD] when it happened (default today)\n"
    "  outbox                      what is still to be sent, conflicts, rejections\n"
    "  resolve ID --discard | --keep-mine | --edit KIND ...\n"
    "       settle a conflict or a rejection: discard mine, keep mine (on top of the case),\n"
    "       or edited (KIND and options as for record, or --event-json)\n"
    "\n"
    "Passphrase: DUURZAAM_EXPERT_PASSPHRASE, else asked (or one line on stdin).\n"
    "Folder: --dir, else DUURZAAM_EXPERT_DIR, else ~/.local/share/duurzaam-expert.\n"
    "Exit codes: 0 done, 1 done but something waits for you, 2 wrong usage,\n"
    "3 refused (the rules) or not found, 4 server unreachable (nothing lost),\n"
    "5 passphrase/replica, 6 this device is no longer admitted (replica purged).\n"};

int Usage() {
  std::fputs(kUsageText[english ? 1 : 0], stderr);
  return kUsage;
}

std::string Dir(const Args& args) {
  if (args.Has("dir")) return args.Flag("dir");
  if (const char* d = std::getenv("DUURZAAM_EXPERT_DIR"); d != nullptr && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/duurzaam-expert";
}

std::string Passphrase() {
  if (const char* p = std::getenv("DUURZAAM_EXPERT_PASSPHRASE"); p != nullptr) return p;
  std::string line;
  if (isatty(STDIN_FILENO)) {
    std::fputs(T("Wachtwoordzin: ", "Passphrase: "), stderr);
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fputs("\n", stderr);
  } else {
    std::getline(std::cin, line);
  }
  return line;
}

int VaultError(const absl::Status& s) {
  std::fprintf(stderr, "duurzaam-expert: %s\n", std::string(s.message()).c_str());
  if (absl::IsPermissionDenied(s)) {
    std::fputs(T("  De wachtwoordzin klopt niet.\n", "  The passphrase is wrong.\n"), stderr);
  } else if (absl::IsNotFound(s)) {
    std::fputs(T("  Nog geen kopie op dit apparaat: begin met 'duurzaam-expert init'.\n",
                 "  No copy on this device yet: start with 'duurzaam-expert init'.\n"),
               stderr);
  }
  return kVault;
}

int Refused(const absl::Status& s) {
  std::fprintf(stderr, "duurzaam-expert: %s %s\n", T("geweigerd:", "refused:"),
               std::string(s.message()).c_str());
  return kRefused;
}

std::string Journal(const Args& args) { return Dir(args) + "/replica.vault"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<grpc::Channel> Connect(const expert::v1::Identity& id) {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(64 << 20);  // a joined case's backlog comes in one response
  if (id.dev()) {
    return grpc::CreateCustomChannel(id.server(), grpc::InsecureChannelCredentials(), channel_args);
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(id.ca_file());
  ssl.pem_cert_chain = ReadFile(id.cert_file());
  ssl.pem_private_key = ReadFile(id.key_file());
  return grpc::CreateCustomChannel(id.server(), grpc::SslCredentials(ssl), channel_args);
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }
domain::Date Today() { return codec::RecordedDay(NowMicros()); }

absl::StatusOr<domain::Date> ParseDate(const std::string& s, const std::string& field) {
  domain::Date d;
  if (!absl::ParseCivilTime(s, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", s, T("' is geen datum JJJJ-MM-DD", "' is not a date YYYY-MM-DD")));
  }
  return d;
}

const char* LevelName(domain::StatusLevel level) {
  switch (level) {
    case domain::StatusLevel::kSustainable:
      return T("duurzaam", "sustainable");
    case domain::StatusLevel::kVulnerable:
      return T("kwetsbaar", "vulnerable");
    case domain::StatusLevel::kAtRisk:
      return T("risico", "at risk");
    case domain::StatusLevel::kEnded:
      return T("beëindigd", "ended");
  }
  return "?";
}
const std::string& In(const domain::Text& t) { return english ? t.en : t.nl; }

struct Loaded {
  std::vector<domain::Event> own;
  std::vector<domain::Event> employer;
};
absl::StatusOr<Loaded> Load(const expert::Replica& replica, const std::string& case_id) {
  Loaded l;
  ASSIGN_OR_RETURN(l.own, replica.Events(case_id, /*offline=*/true));
  ASSIGN_OR_RETURN(l.employer, replica.EmployerEvents(case_id));
  return l;
}
domain::CaseStatus StatusOf(const Loaded& l, domain::Date as_of) {
  domain::CaseState state =
      domain::FoldAsOf(domain::WithEmployerEventRefs(l.own, l.employer), as_of);
  return domain::Evaluate(state, as_of, domain::RulesetInForce(as_of));
}

// "offline, as of the last sync" when the case has pending intents.
std::string OfflineNote(const expert::Replica& r, const std::string& case_id) {
  const int pending = r.PendingOn(case_id);
  if (pending == 0) return "";
  return absl::StrCat(" [",
                      T("offline, stand van de laatste sync + ", "offline, as of the last sync + "),
                      pending, T(" niet verstuurd]", " not sent]"));
}

// A conflicted or rejected intent, in domain words.
std::string Explain(const expert::Replica& r, const expert::IntentRecord& i) {
  absl::StatusOr<domain::Event> mine = expert::IntentEvent(i, r.identity().expert_id());
  std::string what = mine.ok() ? In(domain::Title(*mine)) : i.intent.event_id();
  std::string on = mine.ok() ? domain::FormatDate(mine->occurred_on) : "";
  if (i.state == expert::IntentState::kRejected) {
    return absl::StrCat(T("Je offline invoer '", "Your offline entry '"), what, "' (", on,
                        T(") is geweigerd: ", ") was refused: "), i.outcome.message(), " [",
                        i.outcome.rule_id(), "]");
  }
  std::string theirs;
  auto c = r.cases().find(i.intent.case_id());
  for (int64_t rev : i.outcome.conflicting_revisions()) {
    if (c == r.cases().end()) break;
    ::duurzaam::v1::SyncedEvent e;
    if (!c->second.events.Parse(rev, &e)) continue;
    absl::StatusOr<domain::Event> other = expert::FromSynced(e);
    if (!other.ok()) continue;
    absl::StrAppend(&theirs, theirs.empty() ? "" : "; ", e.event().recorded_by().id(),
                    T(" legde vast: '", " recorded: '"), In(domain::Title(*other)), "' (",
                    domain::FormatDate(other->occurred_on), ")");
  }
  if (theirs.empty()) theirs = T("een wijziging die je nog niet had", "a change you had not seen");
  return absl::StrCat(theirs, T("; je offline invoer '", "; your offline entry '"), what, "' (", on,
                      T(") botst daarmee [", ") conflicts with it ["), i.outcome.rule_id(), "]");
}

int Init(const Args& args) {
  if (!args.Has("server") && !args.Has("dev")) return Usage();
  expert::v1::Identity id;
  id.set_server(args.Flag("server", "127.0.0.1:50051"));
  std::string user = args.Flag("user", args.Flag("as"));
  if (user.empty()) return Usage();
  if (args.Has("dev")) {
    id.set_dev(true);
  } else {
    const std::string pki = args.Flag("pki");
    id.set_ca_file(args.Flag("ca", pki + "/ca.pem"));
    id.set_cert_file(args.Flag("cert", pki + "/clients/" + user + ".pem"));
    id.set_key_file(args.Flag("key", pki + "/clients/" + user + ".key"));
    for (const std::string& f : {id.ca_file(), id.cert_file(), id.key_file()}) {
      if (::access(f.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "duurzaam-expert: %s %s\n", T("kan niet lezen:", "cannot read:"),
                     f.c_str());
        return kUsage;
      }
    }
  }
  const std::string expert_id = "expert:" + user.substr(0, user.find('+'));
  id.set_expert_id(expert_id);
  std::filesystem::create_directories(Dir(args));
  expert::VaultOptions kdf;
  if (args.Has("kdf-cost")) {  // tests only: a guess must stay expensive
    if (!absl::SimpleAtoi(args.Flag("kdf-cost"), &kdf.log2_n)) return Usage();
  }
  const std::string pass = Passphrase();
  auto app = expert::ExpertApp::Create(Journal(args), pass, id, kdf);
  if (!app.ok()) {
    if (absl::IsInvalidArgument(app.status())) return Refused(app.status());
    return VaultError(app.status());
  }
  std::printf(T("Kopie aangemaakt voor %s in %s. Volgende stap: duurzaam-expert sync\n",
                "Copy created for %s in %s. Next: duurzaam-expert sync\n"),
              expert_id.c_str(), Journal(args).c_str());
  return kOk;
}

void PrintProgress(uint64_t cursor, uint64_t end) {
  if (json || !isatty(STDERR_FILENO) || end == 0) return;
  const int width = 30;
  const int done = static_cast<int>(width * std::min<uint64_t>(cursor, end) / end);
  std::fprintf(stderr, "\r%s [%s%s] %3d%%", T("ophalen", "pulling"), std::string(done, '#').c_str(),
               std::string(width - done, '.').c_str(),
               static_cast<int>(100 * std::min<uint64_t>(cursor, end) / end));
  if (cursor >= end) std::fputs("\n", stderr);
}

int NeedsYouCount(const expert::Replica& r) {
  int n = 0;
  for (const auto& i : r.intents()) n += expert::NeedsExpert(i.state) ? 1 : 0;
  return n;
}

int SyncOnce(expert::ExpertApp& app, bool quiet_offline) {
  const expert::v1::Identity& id = app.replica().identity();
  auto stub = v1::Cases::NewStub(Connect(id));
  auto report = app.Sync(
      stub.get(),
      [&](grpc::ClientContext* c) {
        c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        if (id.dev()) {
          c->AddMetadata("x-duurzaam-principal", id.expert_id());
          c->AddMetadata("x-duurzaam-role", "EXPERT");
        }
      },
      PrintProgress);
  if (!report.ok()) {
    const absl::StatusCode code = report.status().code();
    const bool transient = code == absl::StatusCode::kUnavailable ||
                           code == absl::StatusCode::kDeadlineExceeded ||
                           code == absl::StatusCode::kCancelled;
    if (!transient) {
      // Not a network matter: the replica, or the server refuses for a
      // reason a retry does not change.
      std::fprintf(stderr, "duurzaam-expert: %s %s\n",
                   T("synchroniseren is gestopt:", "sync stopped:"),
                   std::string(report.status().message()).c_str());
      return absl::IsDataLoss(report.status()) || absl::IsFailedPrecondition(report.status())
                 ? kVault
                 : kRefused;
    }
    if (!quiet_offline) {
      std::fprintf(stderr, "duurzaam-expert: %s %s\n",
                   T("synchroniseren lukte niet (niets verloren, probeer later opnieuw):",
                     "sync did not complete (nothing lost, try again later):"),
                   std::string(report.status().message()).c_str());
    }
    return kOffline;
  }
  if (json) {
    std::printf(
        "{\"pushed\":%d,\"appended\":%d,\"duplicate\":%d,\"rebased\":%d,\"conflict\":%d,"
        "\"rejected\":%d,\"events_received\":%d,\"cases_removed\":%d,\"intents_purged\":%d,"
        "\"device_refused\":%s,\"cursor\":%llu}\n",
        report->pushed, report->appended, report->duplicate, report->rebased, report->conflict,
        report->rejected, report->events_received, report->cases_removed, report->intents_purged,
        report->device_refused ? "true" : "false",
        static_cast<unsigned long long>(app.replica().cursor()));
  } else if (report->device_refused) {
    std::printf(
        T("Dit apparaat is niet meer toegelaten (certificaat ingetrokken of verlopen);\n"
          "alle zaken zijn van dit apparaat gewist.\n",
          "This device is no longer admitted (certificate revoked or expired);\n"
          "every case was wiped from this device.\n"));
  } else {
    std::printf(T("Verstuurd: %d (vastgelegd %d, al bekend %d, bovenop nieuwere %d, conflict %d, "
                  "geweigerd %d). Opgehaald: %d gebeurtenissen; %d zaken van dit apparaat "
                  "verwijderd.\n",
                  "Pushed: %d (appended %d, already known %d, rebased %d, conflict %d, rejected "
                  "%d). Pulled: %d events; %d cases removed from this device.\n"),
                report->pushed, report->appended, report->duplicate, report->rebased,
                report->conflict, report->rejected, report->events_received, report->cases_removed);
    if (report->intents_purged > 0) {
      std::printf(T("  %d van je invoer ging mee met die zaken (zie outbox).\n",
                    "  %d of your entries went with those cases (see outbox).\n"),
                  report->intents_purged);
    }
    for (const auto& i : app.replica().intents()) {
      if (expert::NeedsExpert(i.state)) {
        std::printf("  %s %s\n    %s\n", T("wacht op jou:", "needs you:"),
                    i.intent.event_id().c_str(), Explain(app.replica(), i).c_str());
      }
    }
  }
  if (report->device_refused) return kDeviceRefused;
  return NeedsYouCount(app.replica()) > 0 ? kNeedsYou : kOk;
}

int Cases(const expert::ExpertApp& app) {
  const domain::Date today = Today();
  if (json) std::printf("[");
  bool first = true;
  for (const auto& [id, copy] : app.replica().cases()) {
    absl::StatusOr<Loaded> l = Load(app.replica(), id);
    if (!l.ok()) continue;
    const domain::CaseStatus status = StatusOf(*l, today);
    if (json) {
      std::printf("%s{\"case_id\":%s,\"employer_id\":%s,\"level\":%s,\"pending\":%d}",
                  first ? "" : ",", JsonString(id).c_str(), JsonString(copy.employer_id).c_str(),
                  JsonString(LevelName(status.level)).c_str(), app.replica().PendingOn(id));
    } else {
      std::printf("%-20s %-20s %-12s%s\n", id.c_str(), copy.employer_id.c_str(),
                  LevelName(status.level), OfflineNote(app.replica(), id).c_str());
    }
    first = false;
  }
  if (json) std::printf("]\n");
  if (!json && first)
    std::printf(T("Geen zaken op dit apparaat. Eerst: duurzaam-expert sync\n",
                  "No cases on this device. First: duurzaam-expert sync\n"));
  return kOk;
}

int Timeline(const expert::ExpertApp& app, const std::string& case_id) {
  absl::StatusOr<Loaded> l = Load(app.replica(), case_id);
  if (!l.ok()) return Refused(l.status());
  if (!json) std::printf("%s%s\n", case_id.c_str(), OfflineNote(app.replica(), case_id).c_str());
  if (json) std::printf("[");
  bool first = true;
  for (const domain::TimelineEntry& e : domain::BuildTimeline(l->own, l->employer)) {
    const expert::IntentRecord* pending = app.replica().FindIntent(e.event->id);
    const bool offline = pending != nullptr && pending->state == expert::IntentState::kPending;
    if (json) {
      std::printf(
          "%s{\"event_id\":%s,\"occurred_on\":%s,\"title\":%s,\"employer_wide\":%s,"
          "\"offline\":%s}",
          first ? "" : ",", JsonString(e.event->id).c_str(),
          JsonString(domain::FormatDate(e.event->occurred_on)).c_str(),
          JsonString(In(e.title)).c_str(), e.employer_wide ? "true" : "false",
          offline ? "true" : "false");
    } else {
      std::printf("  %s  %s%s%s\n", domain::FormatDate(e.event->occurred_on).c_str(),
                  In(e.title).c_str(), e.employer_wide ? T(" (werkgever)", " (employer)") : "",
                  offline ? T("  [offline]", "  [offline]") : "");
    }
    first = false;
  }
  if (json) std::printf("]\n");
  return kOk;
}

int Status(const expert::ExpertApp& app, const std::string& case_id, const Args& args) {
  domain::Date as_of = Today();
  if (args.Has("as-of")) {
    absl::StatusOr<domain::Date> d = ParseDate(args.Flag("as-of"), "--as-of");
    if (!d.ok()) return Refused(d.status());
    as_of = *d;
  }
  absl::StatusOr<Loaded> l = Load(app.replica(), case_id);
  if (!l.ok()) return Refused(l.status());
  const domain::CaseStatus status = StatusOf(*l, as_of);
  if (json) {
    std::printf(
        "{\"case_id\":%s,\"as_of\":%s,\"level\":%s,\"ruleset\":%s,\"pending\":%d,"
        "\"reasons\":[",
        JsonString(case_id).c_str(), JsonString(domain::FormatDate(as_of)).c_str(),
        JsonString(LevelName(status.level)).c_str(), JsonString(status.ruleset_version).c_str(),
        app.replica().PendingOn(case_id));
    for (size_t i = 0; i < status.reasons.size(); ++i) {
      std::printf("%s{\"rule_id\":%s,\"text\":%s}", i ? "," : "",
                  JsonString(status.reasons[i].rule_id).c_str(),
                  JsonString(In(status.reasons[i].sentence)).c_str());
    }
    std::printf("]}\n");
    return kOk;
  }
  std::printf("%s %s %s: %s%s\n", case_id.c_str(), T("op", "on"), domain::FormatDate(as_of).c_str(),
              LevelName(status.level), OfflineNote(app.replica(), case_id).c_str());
  for (const auto& r : status.reasons) {
    std::printf("  - %s [%s]\n", In(r.sentence).c_str(), r.rule_id.c_str());
  }
  for (const auto& w : status.watch_items) {
    std::printf("  %s %s [%s]\n", T("let op:", "watch:"), In(w.sentence).c_str(),
                w.rule_id.c_str());
  }
  for (const auto& a : status.actions) {
    std::printf("  %s %s\n", T("actie:", "action:"), In(a.text).c_str());
  }
  std::printf("  (%s %s)\n", T("regelset", "ruleset"), status.ruleset_version.c_str());
  return kOk;
}

absl::StatusOr<v1::PlacementEvent> EventFrom(const Args& args) {
  v1::PlacementEvent e;
  if (args.Has("event-json")) {
    auto parsed = google::protobuf::util::JsonStringToMessage(args.Flag("event-json"), &e);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--event-json: ", parsed.ToString()));
    }
  } else {
    if (args.positional.size() < 3) return absl::InvalidArgumentError("record: which kind?");
    const std::string& kind = args.positional[2];
    if (kind == "contact") {
      static const std::map<std::string, v1::ContactKind> kinds = {
          {"visit", v1::CONTACT_KIND_VISIT},
          {"phone", v1::CONTACT_KIND_PHONE},
          {"video", v1::CONTACT_KIND_VIDEO},
          {"three-way", v1::CONTACT_KIND_THREE_WAY_CONVERSATION}};
      auto k = kinds.find(args.Flag("kind", "visit"));
      if (k == kinds.end())
        return absl::InvalidArgumentError("--kind: visit|phone|video|three-way");
      e.mutable_contact_moment()->set_kind(k->second);
      e.mutable_contact_moment()->set_summary(args.Flag("summary"));
    } else if (kind == "contract") {
      const std::string c = args.Flag("contract");
      if (c != "permanent" && c != "fixed-term") {
        return absl::InvalidArgumentError("--contract: permanent|fixed-term");
      }
      auto* cc = e.mutable_contract_changed();
      cc->set_contract(c == "permanent" ? v1::CONTRACT_TYPE_PERMANENT
                                        : v1::CONTRACT_TYPE_FIXED_TERM);
      if (args.Has("end")) {
        ASSIGN_OR_RETURN(domain::Date end, ParseDate(args.Flag("end"), "--end"));
        codec::ToProto(end, cc->mutable_contract_end());
      }
      int hours = 0;
      if (args.Has("hours") && !absl::SimpleAtoi(args.Flag("hours"), &hours)) {
        return absl::InvalidArgumentError("--hours: a number");
      }
      cc->set_hours_per_week(hours);
    } else if (kind == "close") {
      e.mutable_case_closed()->set_reason(args.Flag("reason"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "record: '", kind,
          T("' ken ik niet: contact, contract, close, of --event-json voor elke gebeurtenis",
            "' is not known: contact, contract, close, or --event-json for any event")));
    }
  }
  domain::Date day = Today();
  if (args.Has("date")) {
    ASSIGN_OR_RETURN(day, ParseDate(args.Flag("date"), "--date"));
  }
  if (!e.has_occurred_on()) codec::ToProto(day, e.mutable_occurred_on());
  return e;
}

int Record(expert::ExpertApp& app, const Args& args) {
  if (args.positional.size() < 2) return Usage();
  absl::StatusOr<v1::PlacementEvent> event = EventFrom(args);
  if (!event.ok()) return Refused(event.status());
  absl::StatusOr<std::string> id = app.Record(args.positional[1], *event, Today(), NowMicros());
  if (!id.ok()) {
    if (absl::IsInvalidArgument(id.status()) || absl::IsFailedPrecondition(id.status()) ||
        absl::IsNotFound(id.status()) || absl::IsAlreadyExists(id.status())) {
      return Refused(id.status());
    }
    return VaultError(id.status());
  }
  if (json) {
    std::printf("{\"event_id\":%s,\"state\":\"pending\"}\n", JsonString(*id).c_str());
  } else {
    std::printf(T("Opgeslagen op dit apparaat (%s); wordt verstuurd bij de volgende sync.\n",
                  "Saved on this device (%s); it is sent at the next sync.\n"),
                id->c_str());
  }
  return kOk;
}

int Outbox(const expert::ExpertApp& app) {
  if (json) std::printf("[");
  bool first = true;
  // What went with a purged case first: its id, how far it got and why.
  for (const auto& p : app.replica().purged_intents()) {
    const char* why = p.device_refused ? T("dit apparaat werd geweigerd", "this device was refused")
                      : p.reason == v1::CaseRemoved::ERASED
                          ? T("de zaak is gewist", "the case was erased")
                          : T("je staat niet meer in het team", "you left the case's team");
    const bool recorded = p.state == expert::IntentState::kAppended ||
                          p.state == expert::IntentState::kRebased ||
                          p.state == expert::IntentState::kDuplicate;
    if (json) {
      std::printf(
          "%s{\"event_id\":%s,\"state\":\"purged\",\"state_when_purged\":%s,"
          "\"recorded\":%s,\"why\":%s}",
          first ? "" : ",", JsonString(p.event_id).c_str(),
          JsonString(expert::StateName(p.state)).c_str(), recorded ? "true" : "false",
          JsonString(why).c_str());
    } else {
      std::printf("%s  %-10s %-9s  %s (%s; %s)\n", p.event_id.c_str(), "-", "purged",
                  T("weg met de zaak", "gone with the case"), why,
                  recorded ? T("vastgelegd op de server", "recorded on the server")
                           : T("niet vastgelegd", "not recorded"));
    }
    first = false;
  }
  for (const auto& i : app.replica().intents()) {
    if (json) {
      std::printf(
          "%s{\"event_id\":%s,\"case_id\":%s,\"state\":%s,\"rule_id\":%s}", first ? "" : ",",
          JsonString(i.intent.event_id()).c_str(), JsonString(i.intent.case_id()).c_str(),
          JsonString(expert::StateName(i.state)).c_str(), JsonString(i.outcome.rule_id()).c_str());
    } else {
      std::printf("%s  %-10s %-9s", i.intent.event_id().c_str(), i.intent.case_id().c_str(),
                  expert::StateName(i.state));
      if (expert::NeedsExpert(i.state)) std::printf("  %s", Explain(app.replica(), i).c_str());
      std::printf("\n");
    }
    first = false;
  }
  if (json) std::printf("]\n");
  return NeedsYouCount(app.replica()) > 0 ? kNeedsYou : kOk;
}

int Resolve(expert::ExpertApp& app, const Args& args) {
  const int ways = args.Has("discard") + args.Has("keep-mine") + args.Has("edit");
  if (ways != 1) return Usage();
  // --edit takes the entry as `record` does: resolve ID --edit KIND flags.
  if (args.positional.size() != (args.Has("edit") && !args.Has("event-json") ? 3u : 2u)) {
    return Usage();
  }
  const std::string& id = args.positional[1];
  if (args.Has("discard")) {
    absl::Status s = app.Discard(id);
    if (!s.ok()) return Refused(s);
    std::printf(T("Verworpen; blijft zichtbaar in de outbox als 'discarded'.\n",
                  "Discarded; it stays in the outbox as 'discarded'.\n"));
    return kOk;
  }
  const expert::IntentRecord* r = app.replica().FindIntent(id);
  if (r == nullptr) return Refused(absl::NotFoundError(id));
  v1::PlacementEvent mine = r->intent.event();
  if (args.Has("edit")) {
    absl::StatusOr<v1::PlacementEvent> edited = EventFrom(args);
    if (!edited.ok()) return Refused(edited.status());
    mine = *std::move(edited);
  }
  absl::StatusOr<std::string> replaced = app.Replace(id, mine, Today(), NowMicros());
  if (!replaced.ok()) return Refused(replaced.status());
  if (json) {
    std::printf("{\"event_id\":%s,\"replaces\":%s,\"state\":\"pending\"}\n",
                JsonString(*replaced).c_str(), JsonString(id).c_str());
  } else if (args.Has("edit")) {
    std::printf(T("Je aangepaste invoer vervangt %s als %s; verstuurd bij de volgende sync.\n",
                  "Your edited entry replaces %s as %s; it is sent at the next sync.\n"),
                id.c_str(), replaced->c_str());
  } else {
    std::printf(
        T("Je invoer komt bovenop de huidige zaak als %s; verstuurd bij de volgende sync.\n",
          "Your entry goes on top of the current case as %s; it is sent at the next sync.\n"),
        replaced->c_str());
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  english = args.Flag("lang", "nl") == "en";
  json = args.Has("json");
  if (args.Has("help") || args.positional.empty()) {
    if (args.Has("help")) {
      std::fputs(kUsageText[english ? 1 : 0], stdout);
      return kOk;
    }
    return Usage();
  }
  const std::string& command = args.positional[0];
  if (command == "init") return Init(args);
  static const std::set<std::string> known = {"sync",   "cases",  "timeline", "status",
                                              "record", "outbox", "resolve"};
  if (!known.contains(command)) return Usage();
  auto app = expert::ExpertApp::Open(Journal(args), Passphrase());
  if (!app.ok()) return VaultError(app.status());
  if ((*app)->recovered_unfinished_save()) {
    std::fputs(T("Let op: een onafgemaakte opslag (vastgelopen vorige keer) is weggelaten; "
                 "alles wat als opgeslagen was gemeld is er.\n",
                 "Note: an unfinished save (the last run stopped) was left out; everything "
                 "reported as saved is here.\n"),
               stderr);
  }
  if (command == "sync") {
    if (!args.Has("watch")) return SyncOnce(**app, false);
    int every = 30;
    if (!args.Flag("watch").empty() && !absl::SimpleAtoi(args.Flag("watch"), &every)) {
      return Usage();
    }
    for (;;) {  // until interrupted, or the device is refused
      const int code = SyncOnce(**app, true);
      if (code != kOk && code != kNeedsYou && code != kOffline) return code;
      std::this_thread::sleep_for(std::chrono::seconds(std::max(1, every)));
    }
  }
  if (command == "cases") return Cases(**app);
  if (command == "timeline" && args.positional.size() == 2) {
    return Timeline(**app, args.positional[1]);
  }
  if (command == "status" && args.positional.size() == 2) {
    return Status(**app, args.positional[1], args);
  }
  if (command == "record") return Record(**app, args);
  if (command == "outbox") return Outbox(**app);
  if (command == "resolve") return Resolve(**app, args);
  return Usage();
}
