// Supervised projections on the real server stack: a failing projection
// takes the services that read it to NOT_SERVING with a precise error for
// their callers, the rest keeps serving, and everything recovers by itself;
// the Audit service signs nothing over a tree that is not the log's.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>

#include "duurzaam/v1/audit.grpc.pb.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "projections/projection.h"
#include "tests/services/mtls_fixture.h"

namespace duurzaam::testing {
namespace {

using grpc::StatusCode;

// A plug-in projection (server::StackOptions::plugins) that counts what it
// applies and fails its commits while `broken` is set.
class CountingProjection final : public projections::Projection {
 public:
  std::string_view Name() const override { return "counting projection"; }
  uint64_t Checkpoint() const override { return checkpoint_.load(); }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Batch>> NewBatch(uint64_t) override {
    return std::make_unique<CountingBatch>(this);
  }
  std::atomic<bool> broken{false};
  std::atomic<uint64_t> records{0};

 private:
  class CountingBatch final : public Batch {
   public:
    explicit CountingBatch(CountingProjection* p) : p_(p) {}
    [[nodiscard]] absl::Status Add(const eventstore::EventView&) override {
      ++added_;
      return absl::OkStatus();
    }
    [[nodiscard]] absl::Status Commit(uint64_t next) override {
      if (p_->broken.load()) return absl::UnavailableError("its volume is read-only");
      p_->records += added_;
      p_->checkpoint_ = next;
      return absl::OkStatus();
    }

   private:
    CountingProjection* p_;
    uint64_t added_ = 0;
  };
  std::atomic<uint64_t> checkpoint_{0};
};

class SupervisionTest : public MtlsServerTest {
 protected:
  static void SetUpTestSuite() { MakePki({"EXPERT jdevries", "AUDITOR audit"}); }
  static void TearDownTestSuite() { DeletePki(); }

  void Start(bool seed = true) {
    Options options;
    options.seed = seed;
    options.audit = true;
    options.plugins = {{&plugin_, {v1::Cases::service_full_name()}}};
    options.follower.first_backoff = absl::Milliseconds(20);
    options.follower.max_backoff = absl::Milliseconds(200);
    StartAll(options);
  }

  // grpc.health.v1.Health/Check for `service` (no client certificate: the
  // health service answers without one). 1 SERVING, 2 NOT_SERVING.
  int Health(const std::string& service) {
    std::string request_bytes =
        std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::GenericStub generic(Channel(""));
    grpc::ClientContext context;
    Deadline(&context);
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                      &response, [&](grpc::Status s) { done.set_value(s); });
    grpc::Status status = done.get_future().get();
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return bytes.size() == 2 && bytes[0] == '\x08' ? bytes[1] : -1;
  }

  // Polls until `service` reports `want` (or 10 s pass).
  bool HealthBecomes(const std::string& service, int want) {
    for (int i = 0; i < 200; ++i) {
      if (Health(service) == want) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  grpc::Status Timeline(const std::string& case_id) {
    v1::GetTimelineRequest request;
    request.set_case_id(case_id);
    v1::Timeline response;
    grpc::ClientContext context;
    Deadline(&context);
    return v1::Cases::NewStub(Channel("jdevries"))->GetTimeline(&context, request, &response);
  }

  // Audit.GetCheckpoint as the suite's auditor.
  grpc::Status Checkpoint(v1::SignedCheckpoint* out) {
    grpc::ClientContext context;
    Deadline(&context);
    return v1::Audit::NewStub(Channel("audit"))->GetCheckpoint(&context, {}, out);
  }

  // Stops the server and removes its log and case projection, keeping the
  // Merkle tree (and the keys).
  void ReplaceTheLog() {
    StopAll();
    std::filesystem::remove_all(dir_.Sub("events"));
    std::filesystem::remove_all(dir_.Sub("projections"));
  }

  CountingProjection plugin_;
};

TEST_F(SupervisionTest, AFailingProjectionTakesItsServicesDownAndRecoversByItself) {
  Start();
  ASSERT_TRUE(HealthBecomes(v1::Cases::service_full_name(), 1));
  ASSERT_TRUE(Timeline("anna").ok());
  EXPECT_EQ(plugin_.records.load(), store_->CommittedEnd());  // fed the whole log

  plugin_.broken = true;
  // A write gives the broken projection something to fail on.
  ASSERT_TRUE(Record("jdevries", "anna",
                     [] {
                       auto e = Today();
                       e.mutable_contact_moment()->set_kind(v1::CONTACT_KIND_PHONE);
                       e.mutable_contact_moment()->set_summary("gebeld");
                       return e;
                     }())
                  .ok());
  ASSERT_TRUE(HealthBecomes(v1::Cases::service_full_name(), 2));
  EXPECT_EQ(Health(v1::EventStore::service_full_name()), 1);  // appends still work
  EXPECT_EQ(Health(v1::Audit::service_full_name()), 1);       // its tree is fine
  EXPECT_EQ(Health(""), 1);
  const grpc::Status refused = Timeline("anna");
  EXPECT_EQ(refused.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find("counting projection is failing"), std::string::npos)
      << refused.error_message();
  EXPECT_NE(refused.error_message().find("its volume is read-only"), std::string::npos);
  bool reported = false;
  for (const projections::ProjectionHealth& h : stack_->follower()->Health()) {
    if (h.name == "counting projection") reported = h.failing && h.failures >= 1;
  }
  EXPECT_TRUE(reported);

  plugin_.broken = false;
  ASSERT_TRUE(HealthBecomes(v1::Cases::service_full_name(), 1));
  EXPECT_TRUE(Timeline("anna").ok());
  EXPECT_EQ(plugin_.Checkpoint(), store_->CommittedEnd());
}

TEST_F(SupervisionTest, NoCheckpointIsSignedOverATreeThatIsNotTheLogs) {
  Start();
  ASSERT_GT(store_->CommittedEnd(), 0u);
  ASSERT_TRUE(stack_->CatchUp(absl::Seconds(10)).ok());
  // The log is replaced by an empty one; the Merkle tree stays: it is now
  // larger than the log it claims to cover.
  ReplaceTheLog();
  plugin_.broken = false;
  Start(/*seed=*/false);
  ASSERT_TRUE(HealthBecomes(v1::Audit::service_full_name(), 2));
  v1::SignedCheckpoint checkpoint;
  const grpc::Status s = Checkpoint(&checkpoint);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("Merkle tree is failing"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("the log only 0 records"), std::string::npos);
  EXPECT_TRUE(checkpoint.signature().empty());
  EXPECT_EQ(Health(v1::Cases::service_full_name()), 1);  // the case projection is fine
}

TEST_F(SupervisionTest, NoCheckpointIsSignedOverATreeOfAReplacedLogOfTheSameSize) {
  Start();
  ASSERT_TRUE(stack_->CatchUp(absl::Seconds(10)).ok());
  const uint64_t size = store_->CommittedEnd();
  // A new log of the same length (the demo set recorded again, at other
  // times): the old tree's size fits it, its leaves do not.
  ReplaceTheLog();
  Start(/*seed=*/true);
  ASSERT_EQ(store_->CommittedEnd(), size);
  ASSERT_TRUE(HealthBecomes(v1::Audit::service_full_name(), 2));
  v1::SignedCheckpoint checkpoint;
  const grpc::Status s = Checkpoint(&checkpoint);
  EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("is not the leaf of the log's record there"), std::string::npos)
      << s.error_message();
  EXPECT_TRUE(checkpoint.signature().empty());
}

}  // namespace
}  // namespace duurzaam::testing
