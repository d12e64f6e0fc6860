#include "tests/services/server_fixture.h"

#include "eventstore/types.h"

namespace duurzaam::testing {

void ServerTest::SetUp() {
  eventstore::Options options;
  options.path = dir_.Sub("events");
  options.max_event_bytes = 64 * 1024;
  options.max_append_events = 100;
  auto store = eventstore::Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  auto projection = projections::CaseProjection::Open(dir_.Sub("projections"));
  ASSERT_TRUE(projection.ok()) << projection.status();
  projection_ = std::move(*projection);
  projection_->Start(store_.get());
  services::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.dev = true;
  eventstore::Options access_options;
  access_options.path = dir_.Sub("access");
  auto access_store = eventstore::Store::Open(access_options);
  ASSERT_TRUE(access_store.ok()) << access_store.status();
  access_store_ = std::move(*access_store);
  auto keyring = crypto::MasterKeyring::FromKeys({{"test-master", std::string(32, '\x5a')}});
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  auto keys = crypto::DataKeyStore::Open(dir_.Sub("keys"), *std::move(keyring));
  ASSERT_TRUE(keys.ok()) << keys.status();
  keys_ = std::move(*keys);
  services::ServerDeps deps;
  deps.store = store_.get();
  deps.projection = projection_.get();
  deps.access_store = access_store_.get();
  deps.keys = keys_.get();
  auto server = services::Server::Start(config, deps);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  stub_ = NewStub();
}

void ServerTest::TearDown() {
  stub_.reset();
  channel_.reset();
  if (server_) server_->Shutdown(absl::Milliseconds(500));
  server_.reset();
  if (projection_) projection_->Stop();
  projection_.reset();
  store_.reset();
  access_store_.reset();
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
