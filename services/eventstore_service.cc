#include "services/eventstore_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "eventstore/errors.h"
#include "eventstore/read_ahead.h"
#include "google/protobuf/unknown_field_set.h"
#include "services/grpc_status.h"

namespace duurzaam::services {
namespace {

constexpr int kDefaultMaxCount = 100;
constexpr int kMaxCount = 1000;
// Catch-up batches: at most this many events or bytes per message.
constexpr size_t kBatchEvents = 2000;
constexpr size_t kBatchBytes = 2 << 20;
// Unary replies stop adding events past this size (one event always fits:
// the server config keeps max_event_bytes well below the message limit).
constexpr size_t kReplyBytes = 2 << 20;
// Filtered reads look at most this many records per call.
constexpr size_t kMaxScannedPerRead = 20000;
// Live subscribers re-check cancellation at least this often.
constexpr absl::Duration kLiveWaitSlice = absl::Milliseconds(200);

// Roughly what an event adds to a message.
size_t EventBytes(size_t data, size_t metadata, size_t stream, size_t type) {
  return data + metadata + stream + type + 128;
}
size_t EventBytes(const eventstore::RecordedEvent& e) {
  return EventBytes(e.data.size(), e.metadata.size(), e.stream.size(), e.type.size());
}
size_t EventBytes(const eventstore::EventView& e) {
  return EventBytes(e.data.size(), e.metadata.size(), e.stream.size(), e.type.size());
}

[[nodiscard]] absl::StatusOr<size_t> CheckMaxCount(int32_t max_count) {
  if (max_count < 0 || max_count > kMaxCount) {
    return eventstore::MakeInvalidArgument(
        {"max_count", absl::StrCat("max_count is 1..", kMaxCount, " (0 means ", kDefaultMaxCount,
                                   "); got ", max_count)});
  }
  return max_count == 0 ? kDefaultMaxCount : max_count;
}

}  // namespace

grpc::Status EventStoreService::CheckAlive(grpc::ServerContextBase* context) const {
  if (grpc::Status alive = CallAlive(*context); !alive.ok()) return alive;
  if (stopping_.load()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the server is shutting down; resubscribe from your last position");
  }
  return grpc::Status::OK;
}

[[nodiscard]] absl::Status EventStoreService::AdmitAppend(
    const grpc::ServerContextBase& context, const std::vector<const std::string*>& streams) {
  absl::StatusOr<domain::Principal> who = guard_->Admit(context, access::Operation::kAppendRaw);
  if (!who.ok()) return who.status();
  // Dev tooling may skip the role check, never the naming rule: case and
  // employer streams are written only through the domain's checks and the
  // sealer, in every mode.
  const bool dev_local = Guard::IsDevLocal(*who);
  for (const std::string* stream : streams) {
    absl::Status s =
        dev_local ? access::CheckRawStream(*who, *stream) : access::CheckRawAppend(*who, *stream);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* EventStoreService::Append(grpc::CallbackServerContext* context,
                                                    const v1::AppendRequest* request,
                                                    v1::AppendResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status alive = CheckAlive(context); !alive.ok()) {
    reactor->Finish(alive);
    return reactor;
  }
  if (absl::Status s = AdmitAppend(*context, {&request->stream()}); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  absl::StatusOr<eventstore::StreamAppend> append = codec::FromProto(*request);
  if (!append.ok()) {
    reactor->Finish(ToGrpcStatus(append.status()));
    return reactor;
  }
  // The response and reactor stay valid until Finish.
  store_->AppendAsync(*std::move(append),
                      [reactor, response](absl::StatusOr<eventstore::AppendResult> result) {
                        if (!result.ok()) {
                          reactor->Finish(ToGrpcStatus(result.status()));
                          return;
                        }
                        codec::ToProto(*result, response->mutable_result());
                        reactor->Finish(grpc::Status::OK);
                      });
  return reactor;
}

grpc::ServerUnaryReactor* EventStoreService::AppendMultiStream(
    grpc::CallbackServerContext* context, const v1::AppendMultiStreamRequest* request,
    v1::AppendMultiStreamResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status alive = CheckAlive(context); !alive.ok()) {
    reactor->Finish(alive);
    return reactor;
  }
  std::vector<const std::string*> streams;
  for (const auto& a : request->appends()) streams.push_back(&a.stream());
  if (absl::Status s = AdmitAppend(*context, streams); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  std::vector<eventstore::StreamAppend> appends;
  appends.reserve(request->appends_size());
  for (int i = 0; i < request->appends_size(); ++i) {
    absl::StatusOr<eventstore::StreamAppend> append =
        codec::FromProto(request->appends(i), absl::StrCat("appends[", i, "]."));
    if (!append.ok()) {
      reactor->Finish(ToGrpcStatus(append.status()));
      return reactor;
    }
    appends.push_back(*std::move(append));
  }
  store_->AppendMultiAsync(
      std::move(appends),
      [reactor, response](absl::StatusOr<std::vector<eventstore::AppendResult>> results) {
        if (!results.ok()) {
          reactor->Finish(ToGrpcStatus(results.status()));
          return;
        }
        for (const auto& r : *results) codec::ToProto(r, response->add_results());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::Status EventStoreService::ReadStream(grpc::ServerContext* context,
                                           const v1::ReadStreamRequest* request,
                                           v1::ReadStreamResponse* response) {
  if (grpc::Status alive = CheckAlive(context); !alive.ok()) return alive;
  auto who = guard_->Admit(*context, access::Operation::kReadLog);
  if (!who.ok()) return ToGrpcStatus(who.status());
  Guard::LogReader reader = guard_->ForLog(*who, "duurzaam.v1.EventStore/ReadStream");
  absl::StatusOr<size_t> max_count = CheckMaxCount(request->max_count());
  if (!max_count.ok()) return ToGrpcStatus(max_count.status());
  bool backwards = false;
  switch (request->direction()) {
    case v1::READ_DIRECTION_UNSPECIFIED:
    case v1::READ_DIRECTION_FORWARDS:
      break;
    case v1::READ_DIRECTION_BACKWARDS:
      backwards = true;
      break;
    default:  // a value this server does not know: never read as a default
      return ToGrpcStatus(eventstore::MakeInvalidArgument(
          {"direction",
           absl::StrCat("unknown ReadDirection ", request->direction(),
                        ": use READ_DIRECTION_FORWARDS or READ_DIRECTION_BACKWARDS")}));
  }
  if (request->from_end() && !backwards) {
    return ToGrpcStatus(eventstore::MakeInvalidArgument(
        {"from_end", "from_end reads backwards: set direction to READ_DIRECTION_BACKWARDS"}));
  }
  if (request->from_revision() > static_cast<uint64_t>(INT64_MAX)) {
    return ToGrpcStatus(
        eventstore::MakeInvalidArgument({"from_revision", "the revision is out of range"}));
  }
  if (absl::Status s = reader.CheckStream(request->stream(), "stream"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<eventstore::Revision> current = store_->StreamRevision(request->stream());
  if (!current.ok()) return ToGrpcStatus(current.status());
  if (*current == eventstore::kNoStream) {
    // As the proto promises: no events, current_revision -1. (Who may not
    // read the stream was refused above, whether or not it exists.)
    response->set_current_revision(eventstore::kNoStream);
    response->set_end_of_stream(true);
    return grpc::Status::OK;
  }
  eventstore::Revision from =
      request->from_end() ? -1 : static_cast<eventstore::Revision>(request->from_revision());
  auto events = store_->ReadStream(
      request->stream(), from,
      backwards ? eventstore::Direction::kBackwards : eventstore::Direction::kForwards, *max_count);
  if (!events.ok()) return ToGrpcStatus(events.status());
  size_t bytes = 0;
  int64_t last_examined = -1;
  for (const auto& e : *events) {
    if (response->events_size() > 0 && bytes + EventBytes(e) > kReplyBytes) break;
    last_examined = e.revision;
    v1::RecordedEvent shaped;
    absl::StatusOr<bool> visible = reader.Shape(e, &shaped);
    if (!visible.ok()) return ToGrpcStatus(visible.status());
    if (!*visible) continue;
    bytes += EventBytes(e);
    *response->add_events() = std::move(shaped);
  }
  if (absl::Status s = reader.Flush(); !s.ok()) return ToGrpcStatus(s);
  response->set_current_revision(*current);
  if (last_examined < 0) {
    response->set_end_of_stream(true);
  } else {
    const uint64_t last = static_cast<uint64_t>(last_examined);
    response->set_end_of_stream(backwards ? last == 0 : last >= static_cast<uint64_t>(*current));
  }
  return grpc::Status::OK;
}

grpc::Status EventStoreService::ReadAll(grpc::ServerContext* context,
                                        const v1::ReadAllRequest* request,
                                        v1::ReadAllResponse* response) {
  if (grpc::Status alive = CheckAlive(context); !alive.ok()) return alive;
  auto who = guard_->Admit(*context, access::Operation::kReadLog);
  if (!who.ok()) return ToGrpcStatus(who.status());
  Guard::LogReader reader = guard_->ForLog(*who, "duurzaam.v1.EventStore/ReadAll");
  absl::Status shape_error;
  absl::StatusOr<size_t> max_count = CheckMaxCount(request->max_count());
  if (!max_count.ok()) return ToGrpcStatus(max_count.status());
  eventstore::LogFilter filter = codec::FromProto(request->filter());
  size_t count = 0, bytes = 0;
  auto next = store_->ScanAll(
      request->from_position(), filter, kMaxScannedPerRead, [&](const eventstore::EventView& e) {
        absl::StatusOr<bool> visible = reader.Shape(e, response->mutable_events());
        if (!visible.ok()) {
          shape_error = visible.status();
          return false;
        }
        if (!*visible) return true;
        bytes += EventBytes(e);
        return ++count < *max_count && bytes < kReplyBytes;
      });
  if (!next.ok()) return ToGrpcStatus(next.status());
  if (!shape_error.ok()) return ToGrpcStatus(shape_error);
  if (absl::Status s = reader.Flush(); !s.ok()) return ToGrpcStatus(s);
  // A position past the end reads as the end: resuming from next_position
  // never skips what is written later.
  const uint64_t end = store_->CommittedEnd();
  response->set_next_position(std::min(std::max(*next, request->from_position()), end));
  response->set_end_of_log(response->next_position() >= end);
  return grpc::Status::OK;
}

grpc::Status EventStoreService::Subscribe(grpc::ServerContext* context,
                                          const v1::SubscribeRequest* request,
                                          grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  open_subscriptions_.fetch_add(1);
  struct Closed {
    std::atomic<int>* count;
    ~Closed() { count->fetch_sub(1); }
  } closed{&open_subscriptions_};
  auto who = guard_->Admit(*context, access::Operation::kReadLog);
  if (!who.ok()) return ToGrpcStatus(who.status());
  Guard::LogReader reader = guard_->ForLog(*who, "duurzaam.v1.EventStore/Subscribe");
  switch (request->target_case()) {
    case v1::SubscribeRequest::kAll:
      return SubscribeAll(context, *request, reader, writer);
    case v1::SubscribeRequest::kStream:
      return SubscribeStream(context, *request, reader, writer);
    case v1::SubscribeRequest::TARGET_NOT_SET:
      break;
  }
  return ToGrpcStatus(eventstore::MakeInvalidArgument(
      {"target", "choose what to follow: 'all' (the global log) or 'stream'"}));
}

grpc::Status EventStoreService::SubscribeAll(grpc::ServerContext* context,
                                             const v1::SubscribeRequest& request,
                                             Guard::LogReader& reader,
                                             grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  const eventstore::LogFilter filter = codec::FromProto(request.all().filter());
  const uint64_t checkpoint_interval =
      request.checkpoint_interval() == 0 ? 1000 : request.checkpoint_interval();
  // A position past the end subscribes from the end (nothing is skipped).
  uint64_t position = std::min(request.all().from_position(), store_->CommittedEnd());
  uint64_t last_reported = position;  // last position sent as event or checkpoint
  // A filtering subscription reports progress every checkpoint_interval
  // records scanned, during catch-up as well as live: no scan runs longer.
  const bool filtering = !filter.Empty() || reader.Filters();
  const size_t scan_limit =
      filtering ? static_cast<size_t>(std::min<uint64_t>(kMaxScannedPerRead, checkpoint_interval))
                : kMaxScannedPerRead;

  // The log is read in batches ahead of this thread (eventstore's
  // LogReadAhead, on a thread of its own that touches only the store):
  // reading the log, shaping and sending, and the client's parsing run side
  // by side. Shaping consults the caller's access, here.
  eventstore::LogReadAhead log(store_, position,
                               {.filter = filter,
                                .max_scanned = scan_limit,
                                .max_events = kBatchEvents,
                                .max_bytes = kBatchBytes});
  // Each batch is encoded straight to the wire as the entries of a
  // v1.EventBatch (no message built per event).
  std::string wire;
  // The batch goes out as a v1.SubscribeResponse whose `events` field (an
  // EventBatch) is carried as encoded bytes: the same bytes on the wire as
  // the message with its events set, serialized once.
  v1::SubscribeResponse batch;
  google::protobuf::UnknownFieldSet* carried = batch.GetReflection()->MutableUnknownFields(&batch);

  bool caught_up = false;
  while (true) {
    if (grpc::Status alive = CheckAlive(context); !alive.ok()) return alive;
    const eventstore::LogReadAhead::Batch& read = log.Next();
    if (!read.end.ok()) return ToGrpcStatus(read.end.status());
    const uint64_t next = *read.end;
    const bool more = next < store_->CommittedEnd();
    wire.clear();
    size_t shaped = 0;
    for (size_t i = 0; i < read.records.size(); ++i) {
      const eventstore::EventView e = read.records.at(i);
      absl::StatusOr<bool> visible = reader.ShapeWire(e, v1::EventBatch::kEventsFieldNumber, &wire);
      if (!visible.ok()) return ToGrpcStatus(visible.status());
      if (*visible) {
        ++shaped;
        last_reported = e.position + 1;
      }
    }
    if (absl::Status s = guard_->StillAdmitted(*context, reader.who()); !s.ok()) {
      return ToGrpcStatus(s);
    }
    if (absl::Status s = reader.Flush(); !s.ok()) return ToGrpcStatus(s);
    position = next;
    if (shaped > 0) {
      std::string* events = carried->AddLengthDelimited(v1::SubscribeResponse::kEventsFieldNumber);
      events->swap(wire);
      const bool sent = writer->Write(batch);
      events->swap(wire);
      carried->Clear();
      if (!sent) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    if (filtering && position - last_reported >= checkpoint_interval) {
      v1::SubscribeResponse checkpoint;
      checkpoint.mutable_checkpoint()->set_position(position);
      last_reported = position;
      if (!writer->Write(checkpoint)) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
      }
    }
    if (more) continue;  // more to catch up
    if (!caught_up) {
      caught_up = true;
      v1::SubscribeResponse marker;
      marker.mutable_caught_up()->set_position(position);
      if (!writer->Write(marker)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    store_->WaitForCommit(position, kLiveWaitSlice);
  }
}

grpc::Status EventStoreService::SubscribeStream(grpc::ServerContext* context,
                                                const v1::SubscribeRequest& request,
                                                Guard::LogReader& reader,
                                                grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  const std::string& stream = request.stream().stream();
  if (request.stream().from_revision() > static_cast<uint64_t>(INT64_MAX)) {
    return ToGrpcStatus(
        eventstore::MakeInvalidArgument({"stream.from_revision", "the revision is out of range"}));
  }
  if (absl::Status s = reader.CheckStream(stream, "stream.stream"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto revision = static_cast<eventstore::Revision>(request.stream().from_revision());
  bool caught_up = false;
  v1::SubscribeResponse batch;
  while (true) {
    if (grpc::Status alive = CheckAlive(context); !alive.ok()) return alive;
    // Read the end first: a commit after this point wakes the wait below.
    const uint64_t known_end = store_->CommittedEnd();
    auto events =
        store_->ReadStream(stream, revision, eventstore::Direction::kForwards, kBatchEvents);
    if (!events.ok()) {
      absl::Status s = events.status();
      if (auto v = eventstore::GetFieldViolation(s)) {
        s = eventstore::MakeInvalidArgument({"stream.stream", v->description});
      }
      return ToGrpcStatus(s);
    }
    if (!events->empty()) {
      // Messages stay under kBatchBytes whatever the events' sizes.
      batch.Clear();
      size_t bytes = 0;
      std::vector<v1::SubscribeResponse> ready;
      for (const auto& e : *events) {
        if (batch.events().events_size() > 0 && bytes + EventBytes(e) > kBatchBytes) {
          ready.push_back(std::move(batch));
          batch.Clear();
          bytes = 0;
        }
        v1::RecordedEvent shaped;
        absl::StatusOr<bool> visible = reader.Shape(e, &shaped);
        if (!visible.ok()) return ToGrpcStatus(visible.status());
        if (!*visible) continue;
        bytes += EventBytes(e);
        *batch.mutable_events()->add_events() = std::move(shaped);
      }
      if (batch.events().events_size() > 0) ready.push_back(std::move(batch));
      if (absl::Status s = guard_->StillAdmitted(*context, reader.who()); !s.ok()) {
        return ToGrpcStatus(s);
      }
      // Recorded in the access log before anything is sent.
      if (absl::Status s = reader.Flush(); !s.ok()) return ToGrpcStatus(s);
      for (const auto& message : ready) {
        if (!writer->Write(message)) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
        }
      }
      revision = events->back().revision + 1;
      if (events->size() == kBatchEvents) continue;
    }
    if (absl::Status s = guard_->StillAdmitted(*context, reader.who()); !s.ok()) {
      return ToGrpcStatus(s);
    }
    if (!caught_up) {
      caught_up = true;
      v1::SubscribeResponse marker;
      marker.mutable_caught_up()->set_position(static_cast<uint64_t>(revision));
      if (!writer->Write(marker)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    store_->WaitForCommit(known_end, kLiveWaitSlice);
  }
}

}  // namespace duurzaam::services
