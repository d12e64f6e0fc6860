// Where the services meet the trust layer: every RPC is admitted here
// (authentication by the Authenticator, the operation by access::policy),
// every read of case content is checked and recorded in the access log
// here, and every record a log read or subscription would send is shaped
// here to what the caller may see (dropped, redacted, or as stored).
#pragma once

#include <grpcpp/server_context.h>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "access/policy.h"
#include "duurzaam/v1/eventstore.pb.h"
#include "codec/employer_registry.h"
#include "services/access_log.h"
#include "services/case_reader.h"
#include "services/principal.h"

namespace duurzaam::services {

class Guard {
 public:
  // Borrows all four; `access_log` may be null (nothing recorded: tools),
  // `employers` too (then no service may act for a principal: a call from
  // the portal is refused).
  Guard(Authenticator* auth, CaseReader* cases, AccessLog* access_log,
        codec::EmployerRegistry* employers = nullptr)
      : auth_(auth), cases_(cases), access_log_(access_log), employers_(employers) {}

  // The caller, if they may ask for `op` at all: UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise. A principal a service acts for (the
  // portal's employer users) must belong to a registered employer
  // (PERMISSION_DENIED otherwise; UNAVAILABLE when the registry cannot be
  // read: never admitted by default). In dev mode a call without principal
  // metadata to the generic EventStore acts as "dev:local", an auditor that
  // may also append raw events (local tooling).
  [[nodiscard]] absl::StatusOr<domain::Principal> Admit(const grpc::ServerContextBase& context,
                                                        access::Operation op);

  // For calls that stay open (subscriptions): OK while the certificate that
  // admitted `who` still authenticates them; UNAUTHENTICATED once it is
  // revoked or has expired. Subscriptions ask before every message they
  // send and at least every wait slice, so a revocation ends them within
  // about a second and nothing is sent after it takes effect.
  [[nodiscard]] absl::Status StillAdmitted(const grpc::ServerContextBase& context,
                                           const domain::Principal& who);

  // Checks that `who` may read case `case_id`, records the read in the
  // access log (durably, before anything is served) and returns the view.
  [[nodiscard]] absl::StatusOr<access::View> ReadCase(const domain::Principal& who,
                                                      const std::string& case_id,
                                                      std::string_view view,
                                                      std::string_view method);
  // The same when the caller has already read the case's facts.
  [[nodiscard]] absl::StatusOr<access::View> ReadCase(const domain::Principal& who,
                                                      const std::string& case_id,
                                                      const access::CaseFacts& facts,
                                                      std::string_view view,
                                                      std::string_view method);

  // Shapes log records for one caller (one per RPC).
  class LogReader {
   public:
    // Fills `out` with `record` as the caller may see it; false when they
    // may not see it at all.
    [[nodiscard]] absl::StatusOr<bool> Shape(const eventstore::RecordedEvent& record,
                                             v1::RecordedEvent* out);
    // The same for a record viewed in place: appends it to `out` if visible.
    [[nodiscard]] absl::StatusOr<bool> Shape(
        const eventstore::EventView& record,
        google::protobuf::RepeatedPtrField<v1::RecordedEvent>* out);
    // The same, appending the record's wire encoding to `wire` as field
    // `number` of the enclosing message (no message is built).
    [[nodiscard]] absl::StatusOr<bool> ShapeWire(const eventstore::EventView& record, int number,
                                                 std::string* wire);
    // Before reading one stream: PERMISSION_DENIED unless the caller may read
    // some of it (the same answer whether or not it exists; `field` names
    // the request field).
    [[nodiscard]] absl::Status CheckStream(const std::string& stream, std::string_view field);
    // True when some records may be withheld from this caller (so a
    // subscription sends checkpoints over what it skipped).
    bool Filters() const;
    // Records, in the access log, the cases whose content was shaped since
    // the last call. Call before sending what was shaped; fails closed.
    [[nodiscard]] absl::Status Flush();
    const domain::Principal& who() const { return who_; }

   private:
    friend class Guard;
    LogReader(Guard* guard, domain::Principal who, std::string method)
        : guard_(guard), who_(std::move(who)), method_(std::move(method)) {}
    // The view of a record of `stream` at `position`; notes case reads.
    [[nodiscard]] absl::StatusOr<access::View> ViewOf(std::string_view stream, uint64_t position,
                                                      std::string_view type);
    // Passes a visible record to `as_stored` when the caller sees it as
    // stored, else its shaped view to `shaped`; false when not visible.
    [[nodiscard]] absl::StatusOr<bool> ShapeInPlace(
        const eventstore::EventView& record,
        const std::function<void(const eventstore::EventView&)>& as_stored,
        const std::function<void(const v1::RecordedEvent&)>& shaped);
    // The employer view of a record; false when an employer may not see it.
    [[nodiscard]] static absl::StatusOr<bool> ShapeForEmployer(
        const eventstore::RecordedEvent& record, v1::RecordedEvent* out);

    Guard* guard_;
    domain::Principal who_;
    std::string method_;
    // Facts per case, refreshed after each Flush (team changes apply to
    // the next batch of a long subscription).
    absl::flat_hash_map<std::string, access::CaseFacts> facts_;
    absl::flat_hash_set<std::string> unrecorded_, recorded_;
    // The stream of the last record ViewOf judged, and its view.
    std::string last_stream_;
    access::View last_view_ = access::View::kNone;
    bool last_valid_ = false;
  };
  LogReader ForLog(const domain::Principal& who, std::string method) {
    return LogReader(this, who, std::move(method));
  }

  CaseReader* cases() { return cases_; }
  static bool IsDevLocal(const domain::Principal& who);
  AccessLog* access_log() { return access_log_; }

 private:
  Authenticator* auth_;
  CaseReader* cases_;
  AccessLog* access_log_;
  codec::EmployerRegistry* employers_;
};

}  // namespace duurzaam::services
