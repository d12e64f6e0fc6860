// The auditor's whole-log verification (duurzaam-audit verify-log): every
// record's chain hash and Merkle leaf recomputed as it is read over the API,
// the root compared with the signed checkpoint; beside the raw read of the
// same log over the same API in the same run.
#include "absl/strings/str_cat.h"
#include "bench/benches.h"
#include "clients/audit/log_check.h"
#include "clients/lib/log_reader.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "transparency/note.h"

namespace duurzaam::bench {
namespace {

using Clock = std::chrono::steady_clock;

void AsAuditor(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  context->AddMetadata("x-duurzaam-principal", "auditor:bench");
  context->AddMetadata("x-duurzaam-role", "AUDITOR");
}

}  // namespace

void AuditLogVerify(const Settings& settings) {
  const uint64_t events = settings.smoke ? 20'000 : 1'000'000;
  ScratchDir dir(settings, "audit-log");
  BenchServer server(dir, /*mtls=*/false, /*encrypt=*/false, /*serve=*/false);
  BulkFill(server.store, events, 100);
  server.Serve();
  auto channel = server.ChannelAs("");
  v1::SignedCheckpoint cp;
  {
    grpc::ClientContext context;
    AsAuditor(&context);
    grpc::Status s = v1::Audit::NewStub(channel)->GetCheckpoint(&context, {}, &cp);
    if (!s.ok() || cp.tree_size() != events) {
      std::fprintf(stderr, "checkpoint: %s (%llu)\n", s.error_message().c_str(),
                   static_cast<unsigned long long>(cp.tree_size()));
      std::exit(1);
    }
  }
  const auto key = transparency::MakeVerifierKey("duurzaam", transparency::kNoteEd25519,
                                                 server.stack->signing_key()->PublicKeyRaw());
  auto note = transparency::ParseNote(cp.note());
  if (!note.ok() || !transparency::VerifyNote(*note, key).ok()) std::exit(1);

  // Baseline: the same subscription, records counted and dropped.
  auto raw_read = [&] {
    grpc::ClientContext context;
    AsAuditor(&context);
    v1::SubscribeRequest request;
    request.mutable_all()->set_from_position(0);
    auto start = Clock::now();
    client::LogReader reader(channel, &context, request);
    uint64_t received = 0;
    while (received < events && reader.Next()) {
      if (reader.kind() == client::LogReader::Kind::kEvents) {
        received += reader.events().events_size();
      }
    }
    const double s = Seconds(Clock::now() - start);
    context.TryCancel();
    (void)reader.Finish();
    if (received != events) std::exit(1);
    return s;
  };
  auto verified = [&] {
    grpc::ClientContext context;
    AsAuditor(&context);
    verify::LogVerifier verifier;
    auto start = Clock::now();
    absl::Status s = audit::VerifyLogUpTo(channel, &context, cp.tree_size(), &verifier);
    const bool root_ok =
        s.ok() &&
        std::string(reinterpret_cast<const char*>(verifier.Root().data()), 32) == cp.root_hash();
    const double seconds = Seconds(Clock::now() - start);
    if (!root_ok) {
      std::fprintf(stderr, "verify-log: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    return seconds;
  };
  raw_read();  // warm the block cache for both
  std::vector<double> raws, checks;
  for (int run = 0; run < settings.runs; ++run) {
    raws.push_back(raw_read());
    checks.push_back(verified());
  }
  const double check = Median(checks), raw = Median(raws);
  Report({absl::StrCat("audit: whole log verified over the API (chain + Merkle root), ", events,
                       " events"),
          check, "s", "raw read of the same log, same API (s)", raw, "<= 5 s for 1,000,000",
          settings.smoke || check <= 5.0});
}

}  // namespace duurzaam::bench
