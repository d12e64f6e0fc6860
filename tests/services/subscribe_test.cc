// Subscriptions: catch-up, the handover to live, filters, checkpoints,
// deadlines and cancellation, on a real server.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "clients/lib/log_reader.h"
#include "tests/services/server_fixture.h"

namespace duurzaam::testing {
namespace {

TEST_F(ServerTest, CatchUpThenLiveWithNoGapAndNoDuplicateWhileAppendsContinue) {
  constexpr int kBefore = 2500;
  constexpr int kDuring = 1500;
  for (int i = 0; i < kBefore; i += 50) {
    std::vector<v1::EventData> events;
    for (int k = 0; k < 50; ++k) events.push_back(Event("Before", std::to_string(i + k)));
    MustAppend("ext-case-" + std::to_string(i % 7), std::move(events));
  }
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto stub = NewStub();
    for (int i = 0; i < kDuring; ++i) {
      v1::AppendRequest request;
      request.set_stream("ext-case-" + std::to_string(i % 5));
      *request.add_events() = Event("During", std::to_string(i));
      v1::AppendResponse response;
      grpc::ClientContext context;
      ASSERT_TRUE(stub->Append(&context, request, &response).ok());
    }
    writing = false;
  });

  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(0);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto reader = stub_->Subscribe(&context, request);
  std::vector<uint64_t> positions;
  int caught_up = 0;
  uint64_t caught_up_at = 0;
  v1::SubscribeResponse message;
  while (positions.size() < static_cast<size_t>(kBefore + kDuring) && reader->Read(&message)) {
    if (message.has_caught_up()) {
      ++caught_up;
      caught_up_at = message.caught_up().position();
      EXPECT_EQ(caught_up_at, positions.size());
    }
    for (const auto& e : message.events().events()) positions.push_back(e.position());
  }
  writer.join();
  context.TryCancel();
  reader->Finish().IgnoreError();

  ASSERT_EQ(positions.size(), static_cast<size_t>(kBefore + kDuring));
  for (size_t i = 0; i < positions.size(); ++i) ASSERT_EQ(positions[i], i) << "gap or duplicate";
  EXPECT_EQ(caught_up, 1);
  EXPECT_GE(caught_up_at, static_cast<uint64_t>(kBefore));
}

// The client library's fast reader sees byte for byte what the generated
// stub sees: every event in order, the caught-up marker, checkpoints.
TEST_F(ServerTest, TheClientLogReaderReadsWhatTheGeneratedStubReads) {
  for (int i = 0; i < 4500; i += 50) {
    std::vector<v1::EventData> events;
    for (int k = 0; k < 50; ++k) events.push_back(Event("Before", std::to_string(i + k)));
    MustAppend("ext-case-" + std::to_string(i % 7), std::move(events));
  }
  auto read_all = [&](bool fast, uint32_t checkpoint_every, const std::string& prefix) {
    v1::SubscribeRequest request;
    request.mutable_all()->set_from_position(0);
    if (!prefix.empty()) request.mutable_all()->mutable_filter()->add_stream_prefixes(prefix);
    request.set_checkpoint_interval(checkpoint_every);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    std::vector<std::string> seen;  // serialized events, then markers
    if (fast) {
      client::LogReader reader(channel_, &context, request);
      while (reader.Next()) {
        if (reader.kind() == client::LogReader::Kind::kEvents) {
          for (const auto& e : reader.events().events()) seen.push_back(e.SerializeAsString());
        } else if (reader.kind() == client::LogReader::Kind::kCheckpoint) {
          seen.push_back("checkpoint " + std::to_string(reader.position()));
        } else {
          seen.push_back("caught up " + std::to_string(reader.position()));
          break;
        }
      }
    } else {
      auto reader = stub_->Subscribe(&context, request);
      v1::SubscribeResponse message;
      while (reader->Read(&message)) {
        for (const auto& e : message.events().events()) seen.push_back(e.SerializeAsString());
        if (message.has_checkpoint()) {
          seen.push_back("checkpoint " + std::to_string(message.checkpoint().position()));
        }
        if (message.has_caught_up()) {
          seen.push_back("caught up " + std::to_string(message.caught_up().position()));
          break;
        }
      }
      context.TryCancel();
      reader->Finish().IgnoreError();
    }
    return seen;
  };
  const auto everything = read_all(false, 0, "");
  ASSERT_EQ(everything.size(), 4501u);  // 4500 events and the marker
  EXPECT_EQ(everything.back(), "caught up 4500");
  EXPECT_EQ(read_all(true, 0, ""), everything);
  // Filtered: checkpoints over the records left out.
  const auto filtered = read_all(false, 100, "ext-case-3");
  ASSERT_GT(filtered.size(), 2u);
  EXPECT_EQ(read_all(true, 100, "ext-case-3"), filtered);
}

TEST_F(ServerTest, FilteredSubscriptionSendsOnlyMatchesAndCheckpoints) {
  for (int i = 0; i < 300; ++i) {
    MustAppend(i % 10 == 0 ? "ext-employer-1" : "ext-case-" + std::to_string(i % 10),
               {Event("Noise", "")});
  }
  v1::SubscribeRequest request;
  request.mutable_all()->mutable_filter()->add_stream_prefixes("ext-employer-");
  request.set_checkpoint_interval(50);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  int events = 0, checkpoints = 0;
  bool caught_up = false;
  while (!caught_up && reader->Read(&message)) {
    for (const auto& e : message.events().events()) {
      EXPECT_EQ(e.stream(), "ext-employer-1");
      ++events;
    }
    if (message.has_checkpoint()) ++checkpoints;
    caught_up = message.has_caught_up();
  }
  ASSERT_TRUE(caught_up);
  EXPECT_EQ(events, 30);
  // Live: a matching event arrives, a non-matching one does not.
  MustAppend("ext-case-1", {Event("Noise", "")});
  MustAppend("ext-employer-1", {Event("Reorganised", "live")});
  ASSERT_TRUE(reader->Read(&message));
  while (message.has_checkpoint()) ASSERT_TRUE(reader->Read(&message));
  ASSERT_EQ(message.events().events_size(), 1);
  EXPECT_EQ(message.events().events(0).data(), "live");
  context.TryCancel();
  reader->Finish().IgnoreError();
}

TEST_F(ServerTest, LargeFilteredGapProducesCheckpoints) {
  for (int i = 0; i < 60; ++i) {
    std::vector<v1::EventData> batch;
    for (int k = 0; k < 50; ++k) batch.push_back(Event("Noise", ""));
    MustAppend("ext-case-noise", std::move(batch));
  }
  v1::SubscribeRequest request;
  request.mutable_all()->mutable_filter()->add_stream_prefixes("ext-employer-");
  request.set_checkpoint_interval(500);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  uint64_t last_checkpoint = 0;
  int checkpoints = 0;
  while (reader->Read(&message) && !message.has_caught_up()) {
    EXPECT_EQ(message.events().events_size(), 0);
    if (message.has_checkpoint()) {
      EXPECT_GT(message.checkpoint().position(), last_checkpoint);
      // The interval holds during catch-up too, not once per long scan.
      EXPECT_LE(message.checkpoint().position() - last_checkpoint, 500u);
      last_checkpoint = message.checkpoint().position();
      ++checkpoints;
    }
  }
  EXPECT_TRUE(message.has_caught_up());
  EXPECT_EQ(message.caught_up().position(), 3000u);
  EXPECT_EQ(checkpoints, 6);  // at 500, 1000, ..., 3000
  context.TryCancel();
  reader->Finish().IgnoreError();
}

TEST_F(ServerTest, StreamSubscriptionFromRevisionGoesLive) {
  MustAppend("ext-case-9", {Event("A", "0"), Event("B", "1"), Event("C", "2")});
  MustAppend("ext-case-other", {Event("X", "")});
  v1::SubscribeRequest request;
  request.mutable_stream()->set_stream("ext-case-9");
  request.mutable_stream()->set_from_revision(1);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_->Subscribe(&context, request);
  std::vector<std::string> seen;
  v1::SubscribeResponse message;
  while (reader->Read(&message) && !message.has_caught_up()) {
    for (const auto& e : message.events().events()) seen.push_back(e.data());
  }
  EXPECT_EQ(message.caught_up().position(), 3u);
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2"}));
  MustAppend("ext-case-other", {Event("X", "")});
  MustAppend("ext-case-9", {Event("D", "3")});
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_EQ(message.events().events_size(), 1);
  EXPECT_EQ(message.events().events(0).data(), "3");
  EXPECT_EQ(message.events().events(0).revision(), 3u);
  context.TryCancel();
  reader->Finish().IgnoreError();
}

TEST_F(ServerTest, LargeEventsAreSplitAcrossMessagesUnderTheLimit) {
  // 300 events of 60 KB: 18 MB in all, more than twice the message limit.
  for (int i = 0; i < 30; ++i) {
    std::vector<v1::EventData> batch;
    for (int k = 0; k < 10; ++k) batch.push_back(Event("Big", std::string(60000, 'a' + k)));
    MustAppend("ext-case-big", std::move(batch));
  }
  for (bool whole_log : {false, true}) {
    v1::SubscribeRequest request;
    if (whole_log) {
      request.mutable_all();
    } else {
      request.mutable_stream()->set_stream("ext-case-big");
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    int events = 0, messages = 0;
    while (reader->Read(&message) && !message.has_caught_up()) {
      EXPECT_LE(message.ByteSizeLong(), 4u << 20);
      events += message.events().events_size();
      ++messages;
    }
    EXPECT_TRUE(message.has_caught_up()) << (whole_log ? "all" : "stream");
    EXPECT_EQ(events, 300);
    EXPECT_GT(messages, 4);
    context.TryCancel();
    reader->Finish().IgnoreError();
  }
  v1::ReadStreamRequest read;
  read.set_stream("ext-case-big");
  read.set_max_count(1000);
  v1::ReadStreamResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ReadStream(&context, read, &response).ok());
  EXPECT_GT(response.events_size(), 0);
  EXPECT_LT(response.events_size(), 300);
  EXPECT_FALSE(response.end_of_stream());
  v1::ReadAllRequest read_all;
  read_all.set_max_count(1000);
  v1::ReadAllResponse all;
  grpc::ClientContext all_context;
  ASSERT_TRUE(stub_->ReadAll(&all_context, read_all, &all).ok());
  EXPECT_LT(all.events_size(), 300);
  EXPECT_FALSE(all.end_of_log());
  EXPECT_EQ(all.next_position(), static_cast<uint64_t>(all.events_size()));
}

// Polls (bounded by `within`) until the server runs no subscription handler.
bool HandlersEnd(const services::Server& server, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (server.open_subscriptions() > 0) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_F(ServerTest, SubscriptionEndsAtItsDeadline) {
  v1::SubscribeRequest request;
  request.mutable_all();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(400));
  auto reader = stub_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  auto start = std::chrono::steady_clock::now();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The client gives up at its deadline by itself; what matters is that the
  // server's handler ends too (it checks the deadline every wait slice).
  EXPECT_TRUE(HandlersEnd(*server_, std::chrono::seconds(2)))
      << server_->open_subscriptions() << " handler(s) still running";
}

TEST_F(ServerTest, CancelledSubscriptionsDoNotHoldTheServer) {
  // Many subscribers that cancel: the server stops them and can still shut
  // down promptly, which it cannot if handlers keep running.
  for (int i = 0; i < 20; ++i) {
    v1::SubscribeRequest request;
    request.mutable_all();
    grpc::ClientContext context;
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    ASSERT_TRUE(reader->Read(&message));  // caught up on an empty log
    EXPECT_TRUE(message.has_caught_up());
    context.TryCancel();
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Before any shutdown (which would end them anyway): every handler ended.
  EXPECT_TRUE(HandlersEnd(*server_, std::chrono::seconds(2)))
      << server_->open_subscriptions() << " handler(s) still running after cancel";
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown(absl::Seconds(10));
  server_->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace duurzaam::testing
