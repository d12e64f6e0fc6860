// The EventStore service end to end on a real server over loopback.
#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "tests/services/server_fixture.h"

namespace duurzaam::testing {
namespace {

TEST_F(ServerTest, AppendThenReadStreamRoundTrip) {
  v1::AppendRequest request;
  request.set_stream("ext-case-42");
  request.mutable_expected_revision()->mutable_no_stream();
  *request.add_events() = Event("PlacementHired", "hire");
  *request.add_events() = Event("ContractChanged", "contract");
  v1::AppendResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Append(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result().first_revision(), 0u);
  EXPECT_EQ(response.result().last_revision(), 1u);
  EXPECT_FALSE(response.result().replayed());

  v1::ReadStreamRequest read;
  read.set_stream("ext-case-42");
  v1::ReadStreamResponse events;
  grpc::ClientContext read_context;
  ASSERT_TRUE(stub_->ReadStream(&read_context, read, &events).ok());
  ASSERT_EQ(events.events_size(), 2);
  EXPECT_EQ(events.events(0).event_type(), "PlacementHired");
  EXPECT_EQ(events.events(0).data(), "hire");
  EXPECT_EQ(events.events(0).event_id(), request.events(0).event_id());
  EXPECT_EQ(events.events(1).revision(), 1u);
  EXPECT_EQ(events.events(1).hash().size(), 32u);
  EXPECT_GT(events.events(1).recorded_at().seconds(), 1'600'000'000);
  EXPECT_EQ(events.current_revision(), 1);
  EXPECT_TRUE(events.end_of_stream());

  v1::ReadStreamRequest backwards;
  backwards.set_stream("ext-case-42");
  backwards.set_direction(v1::READ_DIRECTION_BACKWARDS);
  backwards.set_from_end(true);
  backwards.set_max_count(1);
  v1::ReadStreamResponse last;
  grpc::ClientContext back_context;
  ASSERT_TRUE(stub_->ReadStream(&back_context, backwards, &last).ok());
  ASSERT_EQ(last.events_size(), 1);
  EXPECT_EQ(last.events(0).event_type(), "ContractChanged");
  EXPECT_FALSE(last.end_of_stream());
}

// eventstore.proto: a stream without events reads as current_revision -1.
TEST_F(ServerTest, ReadingAStreamWithoutEventsIsEmptyAtRevisionMinusOne) {
  MustAppend("ext-other", {Event("A", "")});  // so -1 is not just "empty log"
  v1::ReadStreamRequest read;
  read.set_stream("ext-case-none");
  v1::ReadStreamResponse response;
  response.set_current_revision(42);
  grpc::ClientContext context;
  grpc::Status status = stub_->ReadStream(&context, read, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.current_revision(), -1);
  EXPECT_EQ(response.events_size(), 0);
  EXPECT_TRUE(response.end_of_stream());
}

// A position past the end reads as the end: a client resuming from
// next_position gets everything written later.
TEST_F(ServerTest, ReadAllFromPastTheEndReturnsTheEnd) {
  MustAppend("ext-a", {Event("A", ""), Event("B", "")});
  v1::ReadAllRequest request;
  request.set_from_position(1000);
  v1::ReadAllResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ReadAll(&context, request, &response).ok());
  }
  EXPECT_EQ(response.next_position(), 2u);
  EXPECT_TRUE(response.end_of_log());
  MustAppend("ext-a", {Event("C", "")});
  request.set_from_position(response.next_position());
  v1::ReadAllResponse later;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ReadAll(&context, request, &later).ok());
  ASSERT_EQ(later.events_size(), 1);
  EXPECT_EQ(later.events(0).event_type(), "C");
}

TEST_F(ServerTest, WrongExpectedRevisionIsFailedPreconditionWithDetails) {
  MustAppend("ext-case-1", {Event("A", ""), Event("B", ""), Event("C", "")});
  v1::AppendRequest request;
  request.set_stream("ext-case-1");
  request.mutable_expected_revision()->set_exact(0);
  *request.add_events() = Event("D", "");
  v1::AppendResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Append(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("current revision: 2"), std::string::npos)
      << status.error_message();
  auto info = ErrorInfoOf(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "WRONG_EXPECTED_REVISION");
  EXPECT_EQ(info->domain(), "duurzaam.v1");
  EXPECT_EQ(info->metadata().at("actual_revision"), "2");
  EXPECT_EQ(info->metadata().at("expected_revision"), "0");
  EXPECT_EQ(info->metadata().at("stream"), "ext-case-1");
  bool has_precondition = false;
  const google::rpc::Status rich = Details(status);
  for (const auto& any : rich.details()) {
    google::rpc::PreconditionFailure failure;
    if (any.UnpackTo(&failure)) {
      has_precondition = true;
      ASSERT_EQ(failure.violations_size(), 1);
      EXPECT_EQ(failure.violations(0).type(), "REVISION");
      EXPECT_EQ(failure.violations(0).subject(), "ext-case-1");
    }
  }
  EXPECT_TRUE(has_precondition);
  EXPECT_EQ(store_->CommittedEnd(), 3u);  // nothing written
}

TEST_F(ServerTest, RetryWithSameIdsReturnsOriginalResult) {
  v1::AppendRequest request;
  request.set_stream("ext-case-1");
  request.mutable_expected_revision()->mutable_no_stream();
  *request.add_events() = Event("A", "x");
  v1::AppendResponse first, second;
  grpc::ClientContext c1, c2;
  ASSERT_TRUE(stub_->Append(&c1, request, &first).ok());
  grpc::Status status = stub_->Append(&c2, request, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(second.result().replayed());
  EXPECT_EQ(second.result().first_position(), first.result().first_position());
  EXPECT_EQ(store_->CommittedEnd(), 1u);

  request.mutable_events(0)->set_data("different");
  v1::AppendResponse third;
  grpc::ClientContext c3;
  EXPECT_EQ(stub_->Append(&c3, request, &third).error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ServerTest, MultiStreamAppendIsAllOrNothing) {
  MustAppend("ext-employer-7", {Event("Reorganised", "")});
  v1::AppendMultiStreamRequest request;
  auto* a = request.add_appends();
  a->set_stream("ext-case-1");
  a->mutable_expected_revision()->mutable_no_stream();
  *a->add_events() = Event("A", "");
  auto* b = request.add_appends();
  b->set_stream("ext-employer-7");
  b->mutable_expected_revision()->mutable_no_stream();  // wrong: it exists
  *b->add_events() = Event("B", "");
  v1::AppendMultiStreamResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->AppendMultiStream(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorInfoOf(status)->metadata().at("stream"), "ext-employer-7");
  EXPECT_EQ(store_->CommittedEnd(), 1u);

  b->mutable_expected_revision()->set_exact(0);
  grpc::ClientContext retry;
  status = stub_->AppendMultiStream(&retry, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).stream(), "ext-case-1");
  EXPECT_EQ(response.results(1).first_revision(), 1u);
  EXPECT_EQ(store_->CommittedEnd(), 3u);
}

// Dev tooling (no principal metadata) writes raw events, but never into the
// streams the server writes through the domain's checks and the sealer.
TEST_F(ServerTest, DevToolingCannotWriteTheServersOwnStreams) {
  for (const char* stream : {"case-1", "employer-1", "erasures", "anything-else"}) {
    v1::AppendRequest request;
    request.set_stream(stream);
    *request.add_events() = Event("Garbage", "not a placement event");
    v1::AppendResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->Append(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << stream;
    EXPECT_NE(status.error_message().find("ext-"), std::string::npos) << status.error_message();
  }
  v1::AppendMultiStreamRequest multi;
  auto* ok = multi.add_appends();
  ok->set_stream("ext-tool");
  *ok->add_events() = Event("A", "");
  auto* reserved = multi.add_appends();
  reserved->set_stream("case-2");
  *reserved->add_events() = Event("A", "");
  v1::AppendMultiStreamResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->AppendMultiStream(&context, multi, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(store_->CommittedEnd(), 0u);  // nothing written, not even the ext- half
  MustAppend("ext-tool", {Event("A", "")});
  EXPECT_EQ(store_->CommittedEnd(), 1u);
}

TEST_F(ServerTest, AnUnknownReadDirectionIsRefusedNotReadAsADefault) {
  v1::ReadStreamRequest request;
  request.set_stream("ext-orders-1");
  request.set_direction(static_cast<v1::ReadDirection>(7));
  v1::ReadStreamResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->ReadStream(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  auto bad = BadRequestOf(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "direction");
}

TEST_F(ServerTest, BadInputGetsInvalidArgumentNamingTheField) {
  struct Case {
    std::string name;
    std::function<void(v1::AppendRequest*)> edit;
    std::string field;
  };
  std::vector<Case> cases = {
      {"missing stream", [](v1::AppendRequest* r) { r->clear_stream(); }, "stream"},
      {"stream with space", [](v1::AppendRequest* r) { r->set_stream("ext-case 1"); }, "stream"},
      {"stream too long",
       [](v1::AppendRequest* r) { r->set_stream("ext-" + std::string(300, 'a')); }, "stream"},
      {"no events", [](v1::AppendRequest* r) { r->clear_events(); }, "events"},
      {"missing id", [](v1::AppendRequest* r) { r->mutable_events(0)->clear_event_id(); },
       "events[0].event_id"},
      {"malformed id", [](v1::AppendRequest* r) { r->mutable_events(0)->set_event_id("nope"); },
       "events[0].event_id"},
      {"nil id",
       [](v1::AppendRequest* r) {
         r->mutable_events(0)->set_event_id("00000000-0000-0000-0000-000000000000");
       },
       "events[0].event_id"},
      {"duplicate id", [](v1::AppendRequest* r) { *r->add_events() = r->events(0); },
       "events[1].event_id"},
      {"missing type", [](v1::AppendRequest* r) { r->mutable_events(0)->clear_event_type(); },
       "events[0].event_type"},
      {"bad type", [](v1::AppendRequest* r) { r->mutable_events(0)->set_event_type("a b"); },
       "events[0].event_type"},
      {"event too large",
       [](v1::AppendRequest* r) { r->mutable_events(0)->set_data(std::string(70000, 'x')); },
       "events[0].data"},
      {"too many events",
       [](v1::AppendRequest* r) {
         for (int i = 0; i < 100; ++i) *r->add_events() = Event("A", "");
       },
       "events"},
  };
  for (const Case& c : cases) {
    v1::AppendRequest request;
    request.set_stream("ext-case-1");
    *request.add_events() = Event("A", "");
    c.edit(&request);
    v1::AppendResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->Append(&context, request, &response);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    auto bad = BadRequestOf(status);
    ASSERT_TRUE(bad.has_value()) << c.name;
    ASSERT_EQ(bad->field_violations_size(), 1) << c.name;
    EXPECT_EQ(bad->field_violations(0).field(), c.field)
        << c.name << ": " << status.error_message();
    EXPECT_FALSE(bad->field_violations(0).description().empty());
    EXPECT_EQ(ErrorInfoOf(status)->reason(), "INVALID_FIELD");
  }
  EXPECT_EQ(store_->CommittedEnd(), 0u);

  // Multi-stream: the same stream twice.
  v1::AppendMultiStreamRequest multi;
  for (int i = 0; i < 2; ++i) {
    auto* a = multi.add_appends();
    a->set_stream("ext-case-1");
    *a->add_events() = Event("A", "");
  }
  v1::AppendMultiStreamResponse multi_response;
  grpc::ClientContext multi_context;
  grpc::Status multi_status = stub_->AppendMultiStream(&multi_context, multi, &multi_response);
  ASSERT_EQ(multi_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(multi_status)->field_violations(0).field(), "appends[1].stream");

  // Reads.
  v1::ReadStreamRequest read;
  read.set_stream("ext-case-1");
  read.set_max_count(5000);
  v1::ReadStreamResponse read_response;
  grpc::ClientContext read_context;
  grpc::Status read_status = stub_->ReadStream(&read_context, read, &read_response);
  ASSERT_EQ(read_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(read_status)->field_violations(0).field(), "max_count");

  v1::ReadStreamRequest from_end;
  from_end.set_stream("ext-case-1");
  from_end.set_from_end(true);
  grpc::ClientContext from_end_context;
  EXPECT_EQ(stub_->ReadStream(&from_end_context, from_end, &read_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ReadStreamRequest bad_stream;
  bad_stream.set_stream("ext-no spaces allowed");
  grpc::ClientContext bad_stream_context;
  grpc::Status bad_stream_status =
      stub_->ReadStream(&bad_stream_context, bad_stream, &read_response);
  EXPECT_EQ(bad_stream_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ReadAllRequest read_all;
  read_all.set_max_count(-1);
  v1::ReadAllResponse read_all_response;
  grpc::ClientContext read_all_context;
  EXPECT_EQ(stub_->ReadAll(&read_all_context, read_all, &read_all_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::SubscribeRequest no_target;
  grpc::ClientContext subscribe_context;
  auto reader = stub_->Subscribe(&subscribe_context, no_target);
  v1::SubscribeResponse message;
  EXPECT_FALSE(reader->Read(&message));
  grpc::Status subscribe_status = reader->Finish();
  EXPECT_EQ(subscribe_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(subscribe_status)->field_violations(0).field(), "target");
}

TEST_F(ServerTest, OversizedMessageIsRejectedByTransport) {
  v1::AppendRequest request;
  request.set_stream("ext-case-1");
  *request.add_events() = Event("A", std::string(9 << 20, 'x'));  // over max_message_bytes
  v1::AppendResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->Append(&context, request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(store_->CommittedEnd(), 0u);
}

TEST_F(ServerTest, ReadAllPagesAndFiltersOnTheServer) {
  for (int i = 0; i < 30; ++i) {
    MustAppend(i % 3 == 0 ? "ext-employer-1" : "ext-case-" + std::to_string(i % 3),
               {Event(i % 2 ? "Odd" : "Even", std::to_string(i))});
  }
  v1::ReadAllRequest request;
  request.set_max_count(7);
  std::vector<uint64_t> positions;
  for (int page = 0; page < 10; ++page) {
    v1::ReadAllResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ReadAll(&context, request, &response).ok());
    for (const auto& e : response.events()) positions.push_back(e.position());
    request.set_from_position(response.next_position());
    if (response.end_of_log()) break;
  }
  ASSERT_EQ(positions.size(), 30u);
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], i);

  v1::ReadAllRequest filtered;
  filtered.mutable_filter()->add_stream_prefixes("ext-case-");
  filtered.mutable_filter()->add_event_types("Odd");
  v1::ReadAllResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ReadAll(&context, filtered, &response).ok());
  ASSERT_EQ(response.events_size(), 10);
  for (const auto& e : response.events()) {
    EXPECT_EQ(e.event_type(), "Odd");
    EXPECT_EQ(e.stream().rfind("ext-case-", 0), 0u);
  }
  EXPECT_TRUE(response.end_of_log());
  EXPECT_EQ(response.next_position(), 30u);
}

TEST_F(ServerTest, HealthServiceReportsServing) {
  // grpc.health.v1.Health/Check with HealthCheckRequest{service:
  // "duurzaam.v1.EventStore"}, encoded by hand (field 1, string).
  std::string service = "duurzaam.v1.EventStore";
  std::string request_bytes = std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

}  // namespace
}  // namespace duurzaam::testing
