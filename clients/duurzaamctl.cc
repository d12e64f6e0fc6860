// duurzaamctl: a command-line client of the duurzaam API, plus offline
// tools: a check of a stopped store's hash chain and the master keyring file.
//
// Master-key rotation: `master-key add FILE` (the new key becomes current),
// `rotate-master-key` (the server re-reads FILE and re-wraps every data key),
// then `master-key retire FILE OLD_ID`.
//
//   duurzaamctl [--server=HOST:PORT] [--pki=DIR --user=NAME | --ca=F --cert=F --key=F]
//               COMMAND ...
//     append STREAM TYPE DATA [--expect=any|no_stream|exists|N]
//     read STREAM [--from=N] [--backwards] [--max=N]
//     read-all [--from=N] [--max=N] [--prefix=P] [--type=T]
//     subscribe [--from=N] [--prefix=P] [--stream=S]    (until Ctrl-C)
//     timeline CASE [--lang=nl|en] [--json]
//     status CASE [--as-of=YYYY-MM-DD] [--lang=nl|en] [--json]
//     portfolio [EXPERT] [--lang=nl|en]
//     placements [--level=AT_RISK,...] [--order=urgency|case|attention] [--desc]
//                [--page-size=N] [--page=TOKEN] [--lang=nl|en]       (EMPLOYER)
//     erase CASE --reason=TEXT                            (ADMIN)
//     rotate-master-key                                   (ADMIN)
//     verify DATA_DIR                                     (offline)
//     master-key init|add|list FILE | retire FILE KEY_ID  (offline)
//
// Connection: without --ca the connection is plaintext (dev-mode servers;
// the caller names itself with --as=expert:jdevries --role=EXPERT
// [--org=EMPLOYER_ID]). With --ca it is TLS verified against that CA, and
// --cert/--key present a client certificate (mutual TLS: the certificate
// says who you are). --pki=DIR --user=NAME is short for --ca=DIR/ca.pem
// --cert=DIR/clients/NAME.pem --key=DIR/clients/NAME.key (the layout of
// deploy/duurzaam-pki).
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/lib/args.h"
#include "clients/lib/error_details.h"
#include "crypto/master_keyring.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/store.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace {

using namespace duurzaam;

using client::Args;
Args Parse(int argc, char** argv) { return client::ParseArgs(argc, argv); }

// The whole answer as JSON (proto3 mapping), for scripts.
int PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return 1;
  std::fputs(json.c_str(), stdout);
  return 0;
}

uint64_t Number(const std::string& s, const char* what) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) {
    std::fprintf(stderr, "duurzaamctl: %s must be a number, got '%s'\n", what, s.c_str());
    std::exit(2);
  }
  return v;
}

int Fail(const grpc::Status& status) {
  const client::ErrorDetails details = client::ReadErrorDetails(status);
  std::fprintf(stderr, "duurzaamctl: %s: %s\n", client::CodeName(details.code).c_str(),
               details.message.c_str());
  for (const client::FieldViolation& v : details.field_violations) {
    std::fprintf(stderr, "  field %s: %s\n", v.field.c_str(), v.description.c_str());
  }
  if (!details.reason.empty()) {
    std::fprintf(stderr, "  reason %s", details.reason.c_str());
    for (const auto& [k, v] : details.metadata)
      std::fprintf(stderr, " %s=%s", k.c_str(), v.c_str());
    std::fprintf(stderr, "\n");
  }
  return 1;
}

void Print(const v1::RecordedEvent& e) {
  std::printf("%llu\t%s@%llu\t%s\t%s\t%s\n", static_cast<unsigned long long>(e.position()),
              e.stream().c_str(), static_cast<unsigned long long>(e.revision()),
              e.event_type().c_str(), e.event_id().c_str(), e.data().c_str());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read '%s'\n", path.c_str());
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Tls(const Args& args) { return args.Has("ca") || args.Has("pki"); }

std::shared_ptr<grpc::Channel> Connect(const Args& args) {
  std::string server = args.Flag("server", Tls(args) ? "localhost:50051" : "127.0.0.1:50051");
  if (!Tls(args)) return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  const std::string pki = args.Flag("pki", "");
  const std::string user = args.Flag("user", "");
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Slurp(args.Flag("ca", pki + "/ca.pem"));
  std::string cert =
      args.Flag("cert", pki.empty() || user.empty() ? "" : pki + "/clients/" + user + ".pem");
  std::string key =
      args.Flag("key", pki.empty() || user.empty() ? "" : pki + "/clients/" + user + ".key");
  if (!cert.empty()) {
    ssl.pem_cert_chain = Slurp(cert);
    ssl.pem_private_key = Slurp(key);
  }
  return grpc::CreateChannel(server, grpc::SslCredentials(ssl));
}

int Verify(const std::string& dir) {
  eventstore::Options options;
  // The data folder (as duurzaamd's --data_dir) holds the log in events/;
  // the log's own folder is taken as well.
  options.path = std::filesystem::exists(dir + "/events/CURRENT") ? dir + "/events" : dir;
  options.create_if_missing = false;
  auto store = eventstore::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "duurzaamctl: %s\n", store.status().ToString().c_str());
    return 1;
  }
  auto report = (*store)->VerifyChain(0, UINT64_MAX);
  if (!report.ok()) {
    std::fprintf(stderr, "duurzaamctl: %s\n", report.status().ToString().c_str());
    return 1;
  }
  if (!report->ok()) {
    std::printf("BROKEN at position %llu: %s (%llu records verified before it)\n",
                static_cast<unsigned long long>(*report->first_broken), report->detail.c_str(),
                static_cast<unsigned long long>(report->verified));
    return 3;
  }
  std::printf("OK: %llu records, hash chain intact\n",
              static_cast<unsigned long long>(report->verified));
  return 0;
}

// The offline master keyring commands (on the file, not the server).
int MasterKey(const std::vector<std::string>& args) {
  using crypto::MasterKeyring;
  const std::string verb = args.size() > 1 ? args[1] : "";
  const bool retire = verb == "retire";
  if (args.size() != (retire ? 4u : 3u) ||
      (verb != "init" && verb != "add" && verb != "list" && !retire)) {
    std::fprintf(stderr, "usage: master-key init|add|list FILE | master-key retire FILE KEY_ID\n");
    return 2;
  }
  const std::string& file = args[2];
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "duurzaamctl: %s\n", std::string(status.message()).c_str());
    return 1;
  };
  if (verb == "init") {
    if (absl::Status s = MasterKeyring::Create(file); !s.ok()) return fail(s);
  } else if (verb == "add") {
    auto id = MasterKeyring::AddKey(file);
    if (!id.ok()) return fail(id.status());
    std::printf(
        "added %s (now current); run `duurzaamctl rotate-master-key` against the "
        "server, then retire the older keys\n",
        id->c_str());
    return 0;
  } else if (retire) {
    if (absl::Status s = MasterKeyring::Retire(file, args[3]); !s.ok()) return fail(s);
  }
  auto keyring = MasterKeyring::Load(file);
  if (!keyring.ok()) return fail(keyring.status());
  for (const std::string& id : keyring->ids()) {
    std::printf("%s%s\n", id.c_str(), id == keyring->current_id() ? "\t(current)" : "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  if (args.positional.empty() || args.Has("help")) {
    std::fprintf(
        stderr,
        "usage: duurzaamctl [--server=HOST:PORT] [--ca=CA.pem] COMMAND\n"
        "  append STREAM TYPE DATA [--expect=any|no_stream|exists|N]\n"
        "  read STREAM [--from=N] [--backwards] [--max=N]\n"
        "  read-all [--from=N] [--max=N] [--prefix=P] [--type=T]\n"
        "  subscribe [--from=N] [--prefix=P] [--stream=S]\n"
        "  timeline CASE [--lang=nl|en]\n"
        "  status CASE [--as-of=YYYY-MM-DD] [--lang=nl|en]\n"
        "  portfolio [EXPERT] [--lang=nl|en]\n"
        "  placements [--level=AT_RISK,VULNERABLE,...] [--order=urgency|case|attention]\n"
        "             [--desc] [--page-size=N] [--page=TOKEN] [--lang=nl|en]   (EMPLOYER)\n"
        "  erase CASE --reason=TEXT   (ADMIN: crypto-shred a closed case)\n"
        "  rotate-master-key          (ADMIN: re-wrap data keys, see master-key)\n"
        "  signing-key                (AUDITOR: the checkpoint key to pin)\n"
        "  register-employer ID NAME  (ADMIN: add an employer to the registry)\n"
        "  verify DATA_DIR   (offline, on a stopped server's store)\n"
        "  master-key init|add|list FILE | master-key retire FILE KEY_ID   (offline)\n");
    return 2;
  }
  const std::string& command = args.positional[0];
  if (command == "verify") {
    if (args.positional.size() != 2) return std::fprintf(stderr, "verify DATA_DIR\n"), 2;
    return Verify(args.positional[1]);
  }
  if (command == "master-key") return MasterKey(args.positional);
  auto channel = Connect(args);
  auto stub = v1::EventStore::NewStub(channel);
  grpc::ClientContext context;
  if (!Tls(args)) {  // dev mode: the caller names itself
    context.AddMetadata("x-duurzaam-principal", args.Flag("as", "expert:jdevries"));
    context.AddMetadata("x-duurzaam-role", args.Flag("role", "EXPERT"));
    if (args.Has("org")) context.AddMetadata("x-duurzaam-organisation", args.Flag("org"));
  }
  if (command == "erase") {
    if (args.positional.size() != 2 || !args.Has("reason")) {
      return std::fprintf(stderr, "erase CASE --reason=TEXT\n"), 2;
    }
    v1::EraseCaseRequest request;
    request.set_case_id(args.positional[1]);
    request.set_reason(args.Flag("reason"));
    v1::EraseCaseResponse response;
    grpc::Status status = v1::Admin::NewStub(channel)->EraseCase(&context, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf(
        "%s %s at %s\n", request.case_id().c_str(),
        response.erased() ? "erased" : "was already erased",
        absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                         absl::FromUnixSeconds(response.erased_at().seconds()), absl::UTCTimeZone())
            .c_str());
    return 0;
  }
  if (command == "register-employer") {
    if (args.positional.size() != 3) return std::fprintf(stderr, "register-employer ID NAME\n"), 2;
    v1::RegisterEmployerRequest request;
    request.set_employer_id(args.positional[1]);
    request.set_name(args.positional[2]);
    v1::RegisterEmployerResponse response;
    grpc::Status status =
        v1::Admin::NewStub(channel)->RegisterEmployer(&context, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("%s %s\n", request.employer_id().c_str(),
                response.registered() ? "registered" : "was already registered");
    return 0;
  }
  if (command == "signing-key") {
    v1::SigningKeyInfo key;
    grpc::Status status = v1::Audit::NewStub(channel)->GetSigningKey(&context, {}, &key);
    if (!status.ok()) return Fail(status);
    std::printf("%s key %s\nfingerprint (SHA-256) %s\n%s", key.algorithm().c_str(),
                key.key_id().c_str(), key.fingerprint_sha256().c_str(),
                key.public_key_pem().c_str());
    return 0;
  }
  if (command == "rotate-master-key") {
    v1::RotateMasterKeyResponse response;
    grpc::Status status = v1::Admin::NewStub(channel)->RotateMasterKey(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    std::printf("current master key %s; %d data keys re-wrapped; keys in the file:",
                response.current_key_id().c_str(), response.rewrapped());
    for (const std::string& id : response.key_ids()) std::printf(" %s", id.c_str());
    std::printf("\n");
    return 0;
  }
  if (command == "portfolio") {
    auto cases = v1::Cases::NewStub(channel);
    v1::ListPortfolioRequest request;
    if (args.positional.size() > 1) request.set_expert_id(args.positional[1]);
    request.set_language(args.Flag("lang", "nl"));
    v1::Portfolio portfolio;
    grpc::Status status = cases->ListPortfolio(&context, request, &portfolio);
    if (!status.ok()) return Fail(status);
    for (const auto& item : portfolio.items()) {
      std::printf("%-28s %-10s %s\n", v1::StatusLevel_Name(item.level()).c_str(),
                  item.case_id().c_str(), item.employer_id().c_str());
      for (const auto& a : item.attention()) std::printf("    > %s\n", a.c_str());
    }
    return 0;
  }
  if (command == "placements") {
    v1::ListPlacementsRequest request;
    request.set_language(args.Flag("lang", "nl"));
    for (const auto& level : absl::StrSplit(args.Flag("level", ""), ',', absl::SkipEmpty())) {
      v1::StatusLevel parsed;
      if (!v1::StatusLevel_Parse(absl::StrCat("STATUS_LEVEL_", level), &parsed)) {
        return std::fprintf(stderr, "--level: SUSTAINABLE, VULNERABLE, AT_RISK or ENDED\n"), 2;
      }
      request.add_levels(parsed);
    }
    const std::string order = args.Flag("order", "urgency");
    if (order == "case") {
      request.set_order(v1::ListPlacementsRequest::CASE_ID);
    } else if (order == "attention") {
      request.set_order(v1::ListPlacementsRequest::ATTENTION_DATE);
    } else if (order != "urgency") {
      return std::fprintf(stderr, "--order: urgency, case or attention\n"), 2;
    }
    request.set_descending(args.Has("desc"));
    if (args.Has("page-size")) {
      request.set_page_size(static_cast<int32_t>(Number(args.Flag("page-size"), "--page-size")));
    }
    request.set_page_token(args.Flag("page", ""));
    v1::PlacementList list;
    grpc::Status status = v1::Cases::NewStub(channel)->ListPlacements(&context, request, &list);
    if (!status.ok()) return Fail(status);
    for (const auto& p : list.placements()) {
      std::printf("%-28s %-10s %s\n", v1::StatusLevel_Name(p.level()).c_str(), p.case_id().c_str(),
                  p.contract() == v1::CONTRACT_TYPE_PERMANENT    ? "vast/permanent"
                  : p.contract() == v1::CONTRACT_TYPE_FIXED_TERM ? "tijdelijk/fixed-term"
                                                                 : "");
      for (const auto& r : p.reasons()) std::printf("    - %s\n", r.text().c_str());
      for (const auto& a : p.attention()) std::printf("    > %s\n", a.text().c_str());
    }
    std::printf("%d placement(s)%s%s\n", list.total(),
                list.next_page_token().empty() ? "" : "; next page: --page=",
                list.next_page_token().c_str());
    return 0;
  }
  if (command == "timeline" || command == "status") {
    if (args.positional.size() != 2) return std::fprintf(stderr, "%s CASE\n", command.c_str()), 2;
    auto cases = v1::Cases::NewStub(channel);
    if (command == "timeline") {
      v1::GetTimelineRequest request;
      request.set_case_id(args.positional[1]);
      request.set_language(args.Flag("lang", "nl"));
      v1::Timeline timeline;
      grpc::Status status = cases->GetTimeline(&context, request, &timeline);
      if (!status.ok()) return Fail(status);
      if (args.Has("json")) return PrintJson(timeline);
      for (const auto& e : timeline.entries()) {
        std::printf("%04d-%02d-%02d  %s%s%s\n", e.occurred_on().year(), e.occurred_on().month(),
                    e.occurred_on().day(), e.title().c_str(),
                    e.employer_wide() ? "  [werkgever/employer]" : "",
                    e.event().personal_data_erased() ? "  [persoonsgegevens gewist/erased]" : "");
      }
      return 0;
    }
    v1::GetStatusRequest request;
    request.set_case_id(args.positional[1]);
    request.set_language(args.Flag("lang", "nl"));
    if (args.Has("as-of")) {
      int y = 0, m = 0, d = 0;
      if (std::sscanf(args.Flag("as-of").c_str(), "%d-%d-%d", &y, &m, &d) != 3) {
        return std::fprintf(stderr, "--as-of=YYYY-MM-DD\n"), 2;
      }
      request.mutable_as_of()->set_year(y);
      request.mutable_as_of()->set_month(m);
      request.mutable_as_of()->set_day(d);
    }
    v1::CaseStatus result;
    grpc::Status status = cases->GetStatus(&context, request, &result);
    if (!status.ok()) return Fail(status);
    if (args.Has("json")) return PrintJson(result);
    std::printf("%s: %s (as of %04d-%02d-%02d, ruleset %s)\n", result.case_id().c_str(),
                v1::StatusLevel_Name(result.level()).c_str(), result.as_of().year(),
                result.as_of().month(), result.as_of().day(), result.ruleset_version().c_str());
    for (const auto& r : result.reasons()) {
      std::printf("  - %s  [%s]\n", r.text().c_str(), r.rule_id().c_str());
    }
    for (const auto& w : result.watch_items()) std::printf("  ~ %s\n", w.text().c_str());
    for (const auto& a : result.suggested_actions()) std::printf("  > %s\n", a.text().c_str());
    return 0;
  }
  if (command == "append") {
    if (args.positional.size() != 4) return std::fprintf(stderr, "append STREAM TYPE DATA\n"), 2;
    v1::AppendRequest request;
    request.set_stream(args.positional[1]);
    auto* e = request.add_events();
    e->set_event_id(eventstore::EventId::Random().ToString());
    e->set_event_type(args.positional[2]);
    e->set_data(args.positional[3]);
    std::string expect = args.Flag("expect", "any");
    if (expect == "no_stream") {
      request.mutable_expected_revision()->mutable_no_stream();
    } else if (expect == "exists") {
      request.mutable_expected_revision()->mutable_stream_exists();
    } else if (expect != "any") {
      request.mutable_expected_revision()->set_exact(Number(expect, "--expect"));
    }
    v1::AppendResponse response;
    grpc::Status status = stub->Append(&context, request, &response);
    if (!status.ok()) return Fail(status);
    std::printf("appended %s revision %llu at position %llu%s\n",
                response.result().stream().c_str(),
                static_cast<unsigned long long>(response.result().last_revision()),
                static_cast<unsigned long long>(response.result().last_position()),
                response.result().replayed() ? " (replayed)" : "");
    return 0;
  }
  if (command == "read") {
    if (args.positional.size() != 2) return std::fprintf(stderr, "read STREAM\n"), 2;
    v1::ReadStreamRequest request;
    request.set_stream(args.positional[1]);
    request.set_from_revision(Number(args.Flag("from", "0"), "--from"));
    request.set_max_count(static_cast<int>(Number(args.Flag("max", "100"), "--max")));
    if (args.Has("backwards")) {
      request.set_direction(v1::READ_DIRECTION_BACKWARDS);
      if (!args.Has("from")) request.set_from_end(true);
    }
    v1::ReadStreamResponse response;
    grpc::Status status = stub->ReadStream(&context, request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& e : response.events()) Print(e);
    return 0;
  }
  if (command == "read-all") {
    v1::ReadAllRequest request;
    request.set_from_position(Number(args.Flag("from", "0"), "--from"));
    request.set_max_count(static_cast<int>(Number(args.Flag("max", "100"), "--max")));
    if (args.Has("prefix")) request.mutable_filter()->add_stream_prefixes(args.Flag("prefix"));
    if (args.Has("type")) request.mutable_filter()->add_event_types(args.Flag("type"));
    v1::ReadAllResponse response;
    grpc::Status status = stub->ReadAll(&context, request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& e : response.events()) Print(e);
    std::printf("# next position %llu%s\n",
                static_cast<unsigned long long>(response.next_position()),
                response.end_of_log() ? " (end of log)" : "");
    return 0;
  }
  if (command == "subscribe") {
    v1::SubscribeRequest request;
    if (args.Has("stream")) {
      request.mutable_stream()->set_stream(args.Flag("stream"));
      request.mutable_stream()->set_from_revision(Number(args.Flag("from", "0"), "--from"));
    } else {
      request.mutable_all()->set_from_position(Number(args.Flag("from", "0"), "--from"));
      if (args.Has("prefix")) {
        request.mutable_all()->mutable_filter()->add_stream_prefixes(args.Flag("prefix"));
      }
    }
    auto reader = stub->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      for (const auto& e : message.events().events()) Print(e);
      if (message.has_caught_up()) {
        std::printf("# caught up at %llu; live\n",
                    static_cast<unsigned long long>(message.caught_up().position()));
      }
      std::fflush(stdout);
    }
    grpc::Status status = reader->Finish();
    return status.ok() ? 0 : Fail(status);
  }
  std::fprintf(stderr, "duurzaamctl: unknown command '%s' (see --help)\n", command.c_str());
  return 2;
}
