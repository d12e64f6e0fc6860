#include "clients/audit/log_check.h"

#include "absl/strings/str_cat.h"
#include "clients/lib/log_reader.h"
#include "codec/eventstore_codec.h"
#include "eventstore/types.h"

namespace duurzaam::audit {

absl::Status VerifyLogUpTo(const std::shared_ptr<grpc::Channel>& channel,
                           grpc::ClientContext* context, uint64_t tree_size,
                           verify::LogVerifier* verifier,
                           const std::function<void(uint64_t)>& progress) {
  if (verifier->size() >= tree_size) return absl::OkStatus();
  v1::SubscribeRequest request;
  request.mutable_all()->set_from_position(verifier->size());
  client::LogReader reader(channel, context, request);
  absl::Status result = absl::OkStatus();
  std::string id_bytes;
  bool done = false;
  while (!done && reader.Next()) {
    if (reader.kind() == client::LogReader::Kind::kCaughtUp) {
      result = absl::OutOfRangeError(absl::StrCat("the log ends at ", verifier->size(),
                                                  " records; the checkpoint says ", tree_size));
      break;
    }
    if (reader.kind() != client::LogReader::Kind::kEvents) continue;
    for (const v1::RecordedEvent& e : reader.events().events()) {
      absl::StatusOr<eventstore::EventId> id = eventstore::EventId::Parse(e.event_id());
      if (!id.ok()) {
        result = absl::DataLossError(
            absl::StrCat("the record at position ", e.position(), " has no valid event id"));
        done = true;
        break;
      }
      id_bytes = id->Bytes();
      const eventstore::EventView view{
          e.stream(),     static_cast<eventstore::Revision>(e.revision()),
          e.position(),   id_bytes,
          e.event_type(), codec::FromTimestamp(e.recorded_at()),
          e.data(),       e.metadata(),
          e.hash()};
      if (absl::Status s = verifier->Add(view); !s.ok()) {
        result = s;
        done = true;
        break;
      }
      if (verifier->size() == tree_size) {
        done = true;
        break;
      }
    }
    if (progress) progress(verifier->size());
  }
  context->TryCancel();
  grpc::Status finished = reader.Finish();
  if (!result.ok() || done) return result;
  if (!finished.ok() && finished.error_code() != grpc::StatusCode::CANCELLED) {
    return absl::UnavailableError(
        absl::StrCat("the log could not be read: ", finished.error_message()));
  }
  return absl::OutOfRangeError(absl::StrCat("the log ends at ", verifier->size(),
                                            " records; the checkpoint says ", tree_size));
}

}  // namespace duurzaam::audit
