#include "tests/services/server_fixture.h"

#include "eventstore/types.h"

namespace duurzaam::testing {

void ServerTest::SetUp() {
  server::StackOptions options;
  options.config.data_dir = dir_.path();
  options.config.listen = "127.0.0.1:0";
  options.config.dev = true;
  options.config.max_event_bytes = 64 * 1024;
  options.config.max_append_events = 100;
  options.audit = false;
  auto keyring = crypto::MasterKeyring::FromKeys({{"test-master", std::string(32, '\x5a')}});
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  options.keyring = *std::move(keyring);
  auto stack = server::ServerStack::Start(std::move(options));
  ASSERT_TRUE(stack.ok()) << stack.status();
  stack_ = std::move(*stack);
  store_ = stack_->store();
  access_store_ = stack_->access_store();
  projection_ = stack_->projection();
  keys_ = stack_->keys();
  server_ = stack_->server();
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  stub_ = NewStub();
}

void ServerTest::TearDown() {
  stub_.reset();
  channel_.reset();
  if (stack_) stack_->Shutdown(absl::Milliseconds(500));
  stack_.reset();
  store_ = nullptr;
  access_store_ = nullptr;
  projection_ = nullptr;
  keys_ = nullptr;
  server_ = nullptr;
}

std::unique_ptr<v1::EventStore::Stub> ServerTest::NewStub() {
  return v1::EventStore::NewStub(channel_);
}

v1::EventData ServerTest::Event(const std::string& type, const std::string& data) {
  v1::EventData e;
  e.set_event_id(eventstore::EventId::Random().ToString());
  e.set_event_type(type);
  e.set_data(data);
  return e;
}

v1::AppendResult ServerTest::MustAppend(const std::string& stream,
                                        std::vector<v1::EventData> events) {
  v1::AppendRequest request;
  request.set_stream(stream);
  for (auto& e : events) *request.add_events() = std::move(e);
  v1::AppendResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Append(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.result();
}

google::rpc::Status ServerTest::Details(const grpc::Status& status) {
  google::rpc::Status rich;
  EXPECT_TRUE(rich.ParseFromString(status.error_details()));
  return rich;
}

std::optional<google::rpc::BadRequest> ServerTest::BadRequestOf(const grpc::Status& status) {
  const google::rpc::Status rich = Details(status);
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) return bad;
  }
  return std::nullopt;
}

std::optional<google::rpc::ErrorInfo> ServerTest::ErrorInfoOf(const grpc::Status& status) {
  const google::rpc::Status rich = Details(status);
  for (const auto& any : rich.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info;
  }
  return std::nullopt;
}

}  // namespace duurzaam::testing
