#include "codec/employer_registry.h"

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "domain/validation.h"
#include "duurzaam/v1/audit.pb.h"

namespace duurzaam::codec {
namespace {

constexpr char kRegisteredType[] = "EmployerRegistered";
constexpr size_t kMaxNameBytes = 200;

}  // namespace

[[nodiscard]] absl::StatusOr<bool> RegisterEmployer(eventstore::Store* store,
                                                    const std::string& employer_id,
                                                    const std::string& name,
                                                    const std::string& registered_by,
                                                    int64_t at_micros) {
  if (!domain::IsId(employer_id)) {
    return MakeInvalidArgument({"employer_id", "1 to 64 of a-z, 0-9 and '-'"});
  }
  if (name.empty() || name.size() > kMaxNameBytes) {
    return MakeInvalidArgument(
        {"name", absl::StrCat("the employer's name, 1 to ", kMaxNameBytes, " bytes")});
  }
  v1::EmployerRegistration record;
  record.set_employer_id(employer_id);
  record.set_name(name);
  record.set_registered_by(registered_by);
  ToTimestamp(at_micros, record.mutable_registered_at());
  eventstore::ProposedEvent event{
      eventstore::EventId::FromName(absl::StrCat("duurzaam-employer/", employer_id)),
      kRegisteredType, record.SerializeAsString(), ""};
  absl::StatusOr<eventstore::AppendResult> appended = store->Append(
      {std::string(kEmployersStream), eventstore::Expectation::Any(), {std::move(event)}});
  // The id derives from the employer: ALREADY_EXISTS means registered before
  // (with other wording or by someone else).
  if (absl::IsAlreadyExists(appended.status())) return false;
  if (!appended.ok()) return appended.status();
  return !appended->replayed;
}

[[nodiscard]] absl::Status EmployerRegistry::CheckRegistered(const std::string& employer_id) {
  MutexLock lock(&mu_);
  if (!known_.contains(employer_id)) {
    // Read what was registered since the last look.
    while (true) {
      ASSIGN_OR_RETURN(auto records,
                       store_->ReadStream(std::string(kEmployersStream), read_through_ + 1,
                                          eventstore::Direction::kForwards, 1000));
      for (const auto& r : records) {
        v1::EmployerRegistration registration;
        if (r.type != kRegisteredType || !registration.ParseFromString(r.data)) {
          return absl::DataLossError(absl::StrCat("the employer registry's record at position ",
                                                  r.position, " cannot be read"));
        }
        known_.insert(registration.employer_id());
        read_through_ = r.revision;
      }
      if (records.size() < 1000) break;
    }
  }
  if (known_.contains(employer_id)) return absl::OkStatus();
  return MakeRuleViolation("EMPLOYER_NOT_REGISTERED",
                           absl::StrCat("employer '", employer_id,
                                        "' is not registered: an administrator registers employers "
                                        "(Admin.RegisterEmployer, duurzaamctl register-employer)"));
}

}  // namespace duurzaam::codec
