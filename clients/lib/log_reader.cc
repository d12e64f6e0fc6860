#include "clients/lib/log_reader.h"

#include <google/protobuf/io/coded_stream.h>

namespace duurzaam::client {
namespace {

constexpr char kMethod[] = "/duurzaam.v1.EventStore/Subscribe";

void* Tag(int n) { return reinterpret_cast<void*>(static_cast<intptr_t>(n)); }

}  // namespace

LogReader::LogReader(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* context,
                     const v1::SubscribeRequest& request)
    : context_(context), stub_(channel) {
  call_ = stub_.PrepareCall(context, kMethod, &cq_);
  call_->StartCall(Tag(1));
  if (!Wait()) return;
  std::string serialized = request.SerializeAsString();
  grpc::Slice slice(serialized);
  grpc::ByteBuffer message(&slice, 1);
  call_->Write(message, Tag(2));
  if (!Wait()) return;
  call_->WritesDone(Tag(3));
  started_ = Wait();
}

LogReader::~LogReader() {
  if (!finished_) {
    context_->TryCancel();
    Finish().IgnoreError();
  }
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
}

bool LogReader::Wait() {
  void* tag = nullptr;
  bool ok = false;
  return cq_.Next(&tag, &ok) && ok;
}

bool LogReader::Next() {
  if (!started_ || !parse_error_.ok()) return false;
  grpc::ByteBuffer message;
  call_->Read(&message, Tag(4));
  if (!Wait()) return false;
  if (!Parse(message)) {
    parse_error_ = grpc::Status(grpc::StatusCode::INTERNAL,
                                "a Subscribe message from the server does not parse");
    context_->TryCancel();  // a live subscription would never finish by itself
    return false;
  }
  return true;
}

bool LogReader::Parse(const grpc::ByteBuffer& message) {
  bytes_.clear();
  slices_.clear();
  if (!message.Dump(&slices_).ok()) return false;
  for (const grpc::Slice& s : slices_) {
    bytes_.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // A SubscribeResponse is one field of its oneof: peel the tag and length
  // of an `events` batch and parse the batch into the kept EventBatch
  // (Clear keeps its events for reuse); anything else is small.
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes_.data()),
                                            static_cast<int>(bytes_.size()));
  const uint32_t tag = in.ReadTag();
  uint32_t length = 0;
  if (tag == (v1::SubscribeResponse::kEventsFieldNumber << 3 | 2) && in.ReadVarint32(&length) &&
      static_cast<size_t>(in.CurrentPosition()) + length == bytes_.size()) {
    kind_ = Kind::kEvents;
    return batch_.ParseFromArray(bytes_.data() + in.CurrentPosition(), static_cast<int>(length));
  }
  if (!control_.ParseFromString(bytes_)) return false;
  switch (control_.content_case()) {
    case v1::SubscribeResponse::kEvents:
      kind_ = Kind::kEvents;
      batch_ = control_.events();
      return true;
    case v1::SubscribeResponse::kCaughtUp:
      kind_ = Kind::kCaughtUp;
      position_ = control_.caught_up().position();
      return true;
    case v1::SubscribeResponse::kCheckpoint:
      kind_ = Kind::kCheckpoint;
      position_ = control_.checkpoint().position();
      return true;
    case v1::SubscribeResponse::CONTENT_NOT_SET:
      return false;
  }
  return false;
}

grpc::Status LogReader::Finish() {
  if (finished_) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "already finished");
  finished_ = true;
  grpc::Status status;
  call_->Finish(&status, Tag(5));
  if (!Wait()) return grpc::Status(grpc::StatusCode::UNKNOWN, "the call could not be finished");
  return parse_error_.ok() ? status : parse_error_;
}

}  // namespace duurzaam::client
