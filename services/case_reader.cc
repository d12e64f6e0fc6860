#include "services/case_reader.h"

#include "absl/strings/str_cat.h"
#include "codec/eventstore_codec.h"
#include "codec/placement_codec.h"
#include "common/field_violation.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "domain/validation.h"
#include "duurzaam/v1/cases.grpc.pb.h"

namespace duurzaam::services {

[[nodiscard]] absl::Status CheckId(const std::string& id, const std::string& field) {
  if (!domain::IsId(id)) return MakeInvalidArgument({field, "1 to 64 of a-z, 0-9 and -"});
  return absl::OkStatus();
}

[[nodiscard]] absl::Status AddRecord(eventstore::RecordedEvent record, DecodedStream* stream,
                                     const codec::Sealer* sealer) {
  absl::StatusOr<domain::Event> decoded = codec::Decode(record, sealer);
  if (absl::IsDataLoss(decoded.status())) {
    LogLine(absl::StrCat("ALERT: quarantined the record at position ", record.position, " (",
                         record.stream, " revision ", record.revision, ", ", record.type,
                         "): ", decoded.status().message()));
    stream->quarantined.push_back({record.stream, record.position, record.revision, record.type,
                                   std::string(decoded.status().message())});
    stream->revision = record.revision;
    return absl::OkStatus();
  }
  if (!decoded.ok()) return decoded.status();
  domain::Event event = *std::move(decoded);
  domain::ApplyTo(&stream->state, event);
  stream->events.push_back(std::move(event));
  stream->revision = record.revision;
  stream->records.push_back(std::move(record));
  return absl::OkStatus();
}

[[nodiscard]] absl::StatusOr<access::CaseFacts> FactsOf(const DecodedStream& stream) {
  for (const Quarantined& q : stream.quarantined) {
    if (codec::DecidesAccess(q.type)) {
      return absl::DataLossError(absl::StrCat(
          "who may access this case cannot be decided: its ", q.type, " record at position ",
          q.position, " cannot be read (", q.reason, "); an administrator must repair it"));
    }
  }
  return access::CaseFacts{!stream.events.empty(), stream.state.employer_id, stream.state.team};
}

[[nodiscard]] absl::Status CaseReader::CatchUp() { return CatchUpTo(store_->CommittedEnd()); }

[[nodiscard]] absl::Status CaseReader::CatchUpTo(uint64_t position) {
  // Every projection the case queries read (the case projection and any
  // registered for the Cases service); a failing one answers UNAVAILABLE
  // with its reason at once.
  return follower_->WaitFor(std::string(v1::Cases::service_full_name()), position,
                            absl::Seconds(5));
}

[[nodiscard]] absl::StatusOr<std::shared_ptr<const DecodedStream>> CaseReader::Stream(
    const std::string& stream) {
  std::shared_ptr<const DecodedStream> cached;
  uint64_t generation = 0;
  {
    MutexLock lock(&cache_mu_);
    generation = generation_;
    if (auto it = cache_.find(stream); it != cache_.end()) cached = it->second;
  }
  // Projected streams only grow: decode just what is new since the cache,
  // and copy the cached stream only when there is something new.
  // The revision counts quarantined records too; records.size() does not.
  const eventstore::Revision known = cached ? cached->revision : eventstore::kNoStream;
  ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> projected,
                   projection_->StreamEvents(stream, static_cast<uint64_t>(known + 1)));
  if (cached && projected.empty()) return cached;
  auto fresh = std::make_shared<DecodedStream>(cached ? *cached : DecodedStream{});
  for (eventstore::RecordedEvent& record : projected) {
    RETURN_IF_ERROR(AddRecord(std::move(record), fresh.get(), sealer_));
  }
  MutexLock lock(&cache_mu_);
  // Decoded before an invalidation (an erasure): serve it this once, but
  // never put it back in the cache.
  if (generation != generation_) return std::shared_ptr<const DecodedStream>(fresh);
  const size_t records = fresh->records.size();
  if (cache_.size() >= kMaxCachedStreams || cached_records_ + records > kMaxCachedRecords) {
    cache_.clear();
    cached_records_ = 0;
  }
  auto& slot = cache_[stream];
  if (!slot || slot->revision < fresh->revision) {
    cached_records_ = cached_records_ - (slot ? slot->records.size() : 0) + records;
    slot = fresh;
  }
  return std::shared_ptr<const DecodedStream>(fresh);
}

[[nodiscard]] absl::StatusOr<CaseView> CaseReader::Load(const std::string& case_id) {
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  ASSIGN_OR_RETURN(auto own, Stream(domain::CaseStream(case_id)));
  return WithEmployer(case_id, std::move(own));
}

[[nodiscard]] absl::StatusOr<CaseView> CaseReader::WithEmployer(
    const std::string& case_id, std::shared_ptr<const DecodedStream> own) {
  if (own->events.empty()) {
    return absl::NotFoundError(absl::StrCat("case '", case_id, "' has no events"));
  }
  CaseView view;
  view.own = std::move(own);
  view.employer = std::make_shared<const DecodedStream>();
  const std::string& employer = view.own->state.employer_id;
  if (!employer.empty()) {
    if (!CheckId(employer, "employer_id").ok()) {
      return absl::DataLossError(
          absl::StrCat("a case names an invalid employer id ('", employer, "')"));
    }
    ASSIGN_OR_RETURN(view.employer, Stream(domain::EmployerStream(employer)));
  }
  return view;
}

[[nodiscard]] absl::StatusOr<access::CaseFacts> CaseReader::Facts(const std::string& case_id) {
  RETURN_IF_ERROR(CheckId(case_id, "case_id"));
  ASSIGN_OR_RETURN(auto own, Stream(domain::CaseStream(case_id)));
  return FactsOf(*own);
}

void CaseReader::Invalidate(const std::string& stream) {
  MutexLock lock(&cache_mu_);
  ++generation_;
  if (auto it = cache_.find(stream); it != cache_.end()) {
    cached_records_ -= it->second->records.size();
    cache_.erase(it);
  }
}

}  // namespace duurzaam::services
