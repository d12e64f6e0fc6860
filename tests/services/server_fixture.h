// A real duurzaam server on 127.0.0.1, port 0, over a fresh temp store.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "crypto/data_keys.h"
#include "duurzaam/v1/eventstore.grpc.pb.h"
#include "eventstore/store.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "projections/case_projection.h"
#include "services/server.h"
#include "tests/support/temp_dir.h"

namespace duurzaam::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<v1::EventStore::Stub> NewStub();

  // Builds an event with a fresh UUID.
  static v1::EventData Event(const std::string& type, const std::string& data);
  // Appends and expects success.
  v1::AppendResult MustAppend(const std::string& stream, std::vector<v1::EventData> events);
  // The google.rpc.Status carried by a failed call.
  static google::rpc::Status Details(const grpc::Status& status);
  static std::optional<google::rpc::BadRequest> BadRequestOf(const grpc::Status& status);
  static std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const grpc::Status& status);

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<eventstore::Store> access_store_;
  std::unique_ptr<projections::CaseProjection> projection_;
  // Per-case data keys under a test master key: personal data is sealed.
  std::unique_ptr<crypto::DataKeyStore> keys_;
  std::unique_ptr<services::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStore::Stub> stub_;
};

}  // namespace duurzaam::testing
