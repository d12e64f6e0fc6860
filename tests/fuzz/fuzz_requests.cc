// The API's request messages as a client could send them: parsed, mapped
// and validated exactly as the services do (codec/eventstore_codec,
// codec/placement_codec, eventstore validation), and the auditor's
// evidence bundle file. The first byte picks the message.
#include "clients/audit/evidence.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "duurzaam/v1/cases.pb.h"
#include "duurzaam/v1/eventstore.pb.h"
#include "eventstore/options.h"
#include "eventstore/validation.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace duurzaam;

void Validate(const std::vector<eventstore::StreamAppend>& appends, bool multi) {
  static const eventstore::Options options;
  (void)eventstore::internal::ValidateAppends(appends, options, multi);
}

void Event(const v1::PlacementEvent& event, const std::string& id) {
  (void)codec::FromProto(event, id, domain::Date(2026, 12, 6),
                         domain::Principal{"expert:fuzz", domain::Role::kExpert});
  (void)codec::FromRecorded(event, id, 1765000000000000);
}

}  // namespace

// Protobuf logs every string field that is not UTF-8: not a finding.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t which = in.Byte() % 6;
  const std::string bytes(in.Rest());
  switch (which) {
    case 0: {
      v1::AppendRequest request;
      if (!request.ParseFromString(bytes)) return 0;
      auto append = codec::FromProto(request);
      if (append.ok()) Validate({*append}, false);
      break;
    }
    case 1: {
      v1::AppendMultiStreamRequest request;
      if (!request.ParseFromString(bytes)) return 0;
      std::vector<eventstore::StreamAppend> appends;
      for (int i = 0; i < request.appends_size(); ++i) {
        auto append = codec::FromProto(request.appends(i), "appends[0].");
        if (!append.ok()) return 0;
        appends.push_back(*std::move(append));
      }
      Validate(appends, true);
      break;
    }
    case 2: {
      v1::RecordCaseEventRequest request;
      if (!request.ParseFromString(bytes)) return 0;
      Event(request.event(), request.event_id());
      break;
    }
    case 3: {
      v1::PushIntentsRequest request;
      if (!request.ParseFromString(bytes)) return 0;
      for (const v1::Intent& intent : request.intents()) Event(intent.event(), intent.event_id());
      break;
    }
    case 4: {
      v1::SubscribeRequest request;
      if (!request.ParseFromString(bytes)) return 0;
      (void)codec::FromProto(request.all().filter());
      break;
    }
    case 5:
      (void)audit::ReadBundle(bytes);
      break;
  }
  return 0;
}
