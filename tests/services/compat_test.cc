// Stores written by earlier code still open and read the same. The fixture
// tests/data/store-2026-12.tar.gz is a data folder duurzaamd wrote on
// 2026-12-01 (`--dev --demo`, with its development master key), before the
// storage schema was separated from the API; the golden file beside it is
// every demo case's timeline as that code served it. Both the stored
// projections and a rebuild from the log must serve exactly that.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "duurzaam/v1/cases.grpc.pb.h"
#include "projections/case_projection.h"
#include "server/stack.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {
namespace {

const std::string kFixture = std::string(DUURZAAM_SOURCE_DIR) + "/tests/data/store-2026-12.tar.gz";
const std::string kGolden =
    std::string(DUURZAAM_SOURCE_DIR) + "/tests/data/store-2026-12.timelines.txt";

void As(grpc::ClientContext* context) {
  context->AddMetadata("x-duurzaam-principal", "expert:jdevries");
  context->AddMetadata("x-duurzaam-role", "EXPERT");
}

// Every timeline entry of every case in jdevries's portfolio, one line each.
std::string Timelines(const std::string& address) {
  auto cases = v1::Cases::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::ListPortfolioRequest list;
  v1::Portfolio portfolio;
  grpc::ClientContext list_context;
  As(&list_context);
  grpc::Status listed = cases->ListPortfolio(&list_context, list, &portfolio);
  EXPECT_TRUE(listed.ok()) << listed.error_message();
  std::vector<std::string> ids;
  for (const auto& item : portfolio.items()) ids.push_back(item.case_id());
  std::sort(ids.begin(), ids.end());
  std::ostringstream out;
  for (const std::string& id : ids) {
    v1::GetTimelineRequest request;
    request.set_case_id(id);
    v1::Timeline timeline;
    grpc::ClientContext context;
    As(&context);
    grpc::Status got = cases->GetTimeline(&context, request, &timeline);
    EXPECT_TRUE(got.ok()) << id << ": " << got.error_message();
    for (const v1::TimelineEntry& e : timeline.entries()) {
      out << id << " | " << e.event_id() << " | " << e.event_type() << " | " << e.title() << " | "
          << e.event().ShortDebugString() << "\n";
    }
  }
  return out.str();
}

std::string Serve(const std::string& data_dir, bool rebuild) {
  server::StackOptions options;
  options.config.data_dir = data_dir;
  options.config.dev = true;
  options.config.listen = "127.0.0.1:0";
  options.config.master_key_file = data_dir + ".master.keys";
  options.config.rebuild_projections = rebuild;
  auto stack = server::ServerStack::Start(std::move(options));
  EXPECT_TRUE(stack.ok()) << stack.status();
  if (!stack.ok()) return "";
  EXPECT_TRUE((*stack)->CatchUp(absl::Seconds(30)).ok());
  auto verified = (*stack)->store()->VerifyChain(0, UINT64_MAX);
  EXPECT_TRUE(verified.ok() && verified->ok());
  return Timelines((*stack)->server()->address());
}

TEST(CompatTest, AStoreWrittenByEarlierCodeReadsTheSame) {
  TempDir dir;
  ASSERT_EQ(std::system(("tar -xzf " + kFixture + " -C " + dir.path()).c_str()), 0);
  const std::string stored = Serve(dir.Sub("data"), /*rebuild=*/false);
  ASSERT_FALSE(stored.empty());
  if (std::getenv("DUURZAAM_WRITE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << stored;
    GTEST_SKIP() << "wrote " << kGolden;
  }
  std::ifstream in(kGolden);
  std::stringstream golden;
  golden << in.rdbuf();
  ASSERT_FALSE(golden.str().empty()) << "no golden file " << kGolden;
  EXPECT_EQ(stored, golden.str()) << "served from the stored projections";
  // Rebuilt from the log: every stored record decoded (and upcast) anew.
  EXPECT_EQ(Serve(dir.Sub("data"), /*rebuild=*/true), golden.str()) << "rebuilt from the log";
}

// The fixture's projections predate the employer index: duurzaamd rebuilds
// them at start, so an employer's placements list at once.
TEST(CompatTest, OlderProjectionsAreRebuiltAtStartWithTheIndexesThisVersionReads) {
  TempDir dir;
  ASSERT_EQ(std::system(("tar -xzf " + kFixture + " -C " + dir.path()).c_str()), 0);
  auto projection = projections::CaseProjection::Open(dir.Sub("data") + "/projections");
  ASSERT_TRUE(projection.ok());
  EXPECT_TRUE((*projection)->OutOfDate());
  ASSERT_TRUE((*projection)->CasesOfEmployer("acme")->empty());  // the index is not there
  projection->reset();
  server::StackOptions options;
  options.config.data_dir = dir.Sub("data");
  options.config.dev = true;
  options.config.listen = "127.0.0.1:0";
  options.config.master_key_file = dir.Sub("data") + ".master.keys";
  auto stack = server::ServerStack::Start(std::move(options));
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_TRUE((*stack)->CatchUp(absl::Seconds(30)).ok());
  EXPECT_FALSE((*stack)->projection()->OutOfDate());
  auto cases = v1::Cases::NewStub(
      grpc::CreateChannel((*stack)->server()->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-duurzaam-principal", "employer:acme/hr");
  context.AddMetadata("x-duurzaam-role", "EMPLOYER");
  context.AddMetadata("x-duurzaam-organisation", "acme");
  v1::PlacementList list;
  grpc::Status listed = cases->ListPlacements(&context, v1::ListPlacementsRequest(), &list);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  EXPECT_EQ(list.total(), 3);
}

}  // namespace
}  // namespace duurzaam::testing
