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
#include "server/stack.h"
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
  // The production stack (server/stack.h) in dev mode; the pointers below
  // are its parts. Personal data is sealed under a test master key.
  std::unique_ptr<server::ServerStack> stack_;
  eventstore::Store* store_ = nullptr;
  eventstore::Store* access_store_ = nullptr;
  projections::CaseProjection* projection_ = nullptr;
  crypto::DataKeyStore* keys_ = nullptr;
  services::Server* server_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStore::Stub> stub_;
};

}  // namespace duurzaam::testing
