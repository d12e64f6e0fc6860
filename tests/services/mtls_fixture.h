// A real duurzaam server on 127.0.0.1:0 speaking mutual TLS, with a
// deployment CA and client certificates made by deploy/duurzaam-pki (once
// per test suite), over fresh stores in a temp dir.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "codec/sealing.h"
#include "crypto/data_keys.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/store.h"
#include "projections/case_projection.h"
#include "projections/merkle_projection.h"
#include "server/stack.h"
#include "services/server.h"
#include "tests/support/temp_dir.h"
#include "transparency/checkpoint.h"

namespace duurzaam::testing {

// The whole file's bytes ("" when unreadable).
std::string Slurp(const std::string& path);
// Runs deploy/duurzaam-pki with `args`; a failure fails the test.
void RunPki(const std::string& args);

class MtlsServerTest : public ::testing::Test {
 protected:
  // Creates the suite's CA and one client certificate per entry of
  // `issues` ("ROLE NAME [options]", as `duurzaam-pki issue` takes them).
  static void MakePki(const std::vector<std::string>& issues);
  static void DeletePki();
  // A file of the suite's CA folder ("ca.pem", "clients/x.pem", ...).
  static std::string Pki(const std::string& file);

  struct Options {
    bool seed = true;             // the demo data set
    std::string revoked_serials;  // the server's deny list file
    bool audit = false;           // Merkle projection, signing key, Audit service
    // Projections fed beside the built-in ones, and the follower's retry
    // settings (server::StackOptions).
    std::vector<server::StackOptions::Plugin> plugins;
    projections::LogFollower::Options follower;
  };
  // Opens the stores under dir_ (personal data sealed with per-case keys
  // under the master key file MasterKeyFile(), created on first start),
  // starts the projections and the server.
  void StartAll(const Options& options);
  // Stops and closes everything StartAll opened (the signing key stays).
  void StopAll();
  void TearDown() override { StopAll(); }

  // A fresh connection presenting `name`'s certificate from `pki_dir`
  // (default: the suite's CA folder); no certificate when `name` is empty.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name, const std::string& pki_dir = "");
  static void Deadline(grpc::ClientContext* context, int seconds = 10);

  // An event that occurred today (the body still to be set).
  static v1::PlacementEvent Today();
  static v1::PlacementEvent PrivateLife(const std::string& details);
  // The case stream's current revision (-1 when it has none).
  int64_t Revision(const std::string& case_id);
  // Cases.RecordCaseEvent as `who` with a fresh event id and the current
  // revision.
  grpc::Status Record(const std::string& who, const std::string& case_id,
                      const v1::PlacementEvent& event);
  // Admin.EraseCase as `who` (the case must be closed); its answer in `out`.
  grpc::Status EraseCase(const std::string& who, const std::string& case_id,
                         const std::string& reason = "verzoek betrokkene",
                         v1::EraseCaseResponse* out = nullptr);
  // Outside the data folder, as the server requires.
  std::string MasterKeyFile() { return key_dir_.Sub("master.keys"); }

  static TempDir* pki_dir_;
  TempDir dir_;  // the data folder
  TempDir key_dir_;
  // The production stack (server/stack.h); the pointers below are its
  // parts, valid while it runs. The signing key is <data>/checkpoint.key,
  // so it stays the same across StopAll/StartAll.
  std::unique_ptr<server::ServerStack> stack_;
  const transparency::SigningKey* key_ = nullptr;
  eventstore::Store* store_ = nullptr;
  eventstore::Store* access_store_ = nullptr;
  projections::CaseProjection* projection_ = nullptr;
  projections::MerkleProjection* merkle_ = nullptr;
  crypto::DataKeyStore* keys_ = nullptr;
  services::Server* server_ = nullptr;
};

}  // namespace duurzaam::testing
