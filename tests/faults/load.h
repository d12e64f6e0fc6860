// What the fault campaigns (tests/faults) send: shared by the soak and the
// crash campaigns.
#pragma once

#include <cstdint>
#include <string>

#include "duurzaam/v1/cases.pb.h"

namespace duurzaam::faults {

// A case command on case `case_id` at `expected_revision`: the case's
// opening (by the caller, an expert, at employer acme) when it is -1, else
// a phone contact with `summary`. Occurs on a day in November 2026 that
// `n` picks.
inline v1::RecordCaseEventRequest CaseCommand(const std::string& case_id,
                                              const std::string& event_id,
                                              int64_t expected_revision, uint64_t n,
                                              const std::string& summary) {
  v1::RecordCaseEventRequest request;
  request.set_case_id(case_id);
  request.set_event_id(event_id);
  request.set_expected_revision(expected_revision);
  auto* day = request.mutable_event()->mutable_occurred_on();
  day->set_year(2026);
  day->set_month(11);
  day->set_day(1 + static_cast<int>(n % 28));
  if (expected_revision == -1) {
    auto* o = request.mutable_event()->mutable_case_opened();
    o->set_worker_ref("worker of " + case_id);
    o->set_employer_id("acme");
    o->set_region("Twente");
    o->set_target_group("Wajong");
  } else {
    auto* contact = request.mutable_event()->mutable_contact_moment();
    contact->set_kind(v1::CONTACT_KIND_PHONE);
    contact->set_summary(summary);
  }
  return request;
}

}  // namespace duurzaam::faults
