// duurzaam.v1.Admin over gRPC: erasure of a case's personal data
// (crypto-shredding its data key) and master-key rotation. Administrators
// only (access::policy); they read no case content here. Thread-safe;
// borrows everything, which must outlive it.
#pragma once

#include <functional>
#include <string>

#include "crypto/data_keys.h"
#include "domain/stream_names.h"
#include "duurzaam/v1/audit.grpc.pb.h"
#include "eventstore/store.h"
#include "services/guard.h"

namespace duurzaam::services {

// The stream that records every erasure (one "CaseErasure" per case).
using domain::kErasuresStream;  // domain/stream_names.h

class AdminService final : public v1::Admin::Service {
 public:
  // `master_key_file` is the keyring file re-read by RotateMasterKey.
  AdminService(eventstore::Store* store, crypto::DataKeyStore* keys, std::string master_key_file,
               Guard* guard, std::function<int64_t()> now_micros);

  grpc::Status EraseCase(grpc::ServerContext* context, const v1::EraseCaseRequest* request,
                         v1::EraseCaseResponse* response) override;
  grpc::Status RotateMasterKey(grpc::ServerContext* context,
                               const v1::RotateMasterKeyRequest* request,
                               v1::RotateMasterKeyResponse* response) override;
  grpc::Status RegisterEmployer(grpc::ServerContext* context,
                                const v1::RegisterEmployerRequest* request,
                                v1::RegisterEmployerResponse* response) override;

 private:
  [[nodiscard]] absl::StatusOr<bool> Erase(const domain::Principal& who, const std::string& case_id,
                                           const std::string& reason, int64_t* erased_at);

  eventstore::Store* store_;
  crypto::DataKeyStore* keys_;
  const std::string master_key_file_;
  Guard* guard_;
  std::function<int64_t()> now_micros_;
};

}  // namespace duurzaam::services
