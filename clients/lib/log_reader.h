// Reads a duurzaam.v1.EventStore/Subscribe stream fast: the messages of a
// catch-up carry thousands of events each, and parsing every one into a new
// SubscribeResponse (whose `events` is a oneof, freed and rebuilt per
// message) costs the client more than the server spends reading its log.
// LogReader parses each batch into one EventBatch it keeps, so its events
// and their strings are reused from message to message.
//
// Same contract as the generated stub's ClientReader: one subscription per
// reader, Next() until it returns false, then Finish() for the status.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "duurzaam/v1/eventstore.pb.h"

namespace duurzaam::client {

class LogReader {
 public:
  // Starts the subscription on `channel` (the context must outlive the
  // reader; set its deadline and metadata first).
  LogReader(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* context,
            const v1::SubscribeRequest& request);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // What Next() read.
  enum class Kind { kEvents, kCaughtUp, kCheckpoint };
  // Waits for the next message; false when the stream has ended (then call
  // Finish). A message the reader cannot parse ends the stream too, with
  // Finish() saying so.
  bool Next();
  Kind kind() const { return kind_; }
  // Valid after Next() returned kEvents, until the next call.
  const v1::EventBatch& events() const { return batch_; }
  // After kCaughtUp or kCheckpoint: the position it names.
  uint64_t position() const { return position_; }

  grpc::Status Finish();

 private:
  bool Wait();  // the next completion; false if the operation failed
  bool Parse(const grpc::ByteBuffer& message);

  grpc::ClientContext* context_;
  bool finished_ = false;
  grpc::CompletionQueue cq_;
  grpc::GenericStub stub_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool started_ = false;
  grpc::Status parse_error_;
  std::vector<grpc::Slice> slices_;  // a message's slices, reused
  std::string bytes_;
  v1::EventBatch batch_;
  v1::SubscribeResponse control_;
  Kind kind_ = Kind::kEvents;
  uint64_t position_ = 0;
};

}  // namespace duurzaam::client
