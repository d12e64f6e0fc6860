#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace duurzaam::services {
namespace {

[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path,
                                                   const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

[[nodiscard]] absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                                    const ServerDeps& deps) {
  std::unique_ptr<Server> server(new Server());
  eventstore::Store* store = deps.store;
  projections::CaseProjection* projection = deps.projection;
  if (store == nullptr || projection == nullptr || deps.follower == nullptr) {
    return absl::InvalidArgumentError("a server needs a store, a case projection and a follower");
  }

  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Checked here too, not only when flags are parsed: every way of starting
  // a server keeps dev mode on loopback.
  RETURN_IF_ERROR(CheckDevMode(config));
  if (config.dev) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    auto cert = ReadFile(config.tls_cert, "TLS certificate");
    if (!cert.ok()) return cert.status();
    auto key = ReadFile(config.tls_key, "TLS key");
    if (!key.ok()) return key.status();
    auto client_ca = ReadFile(config.tls_client_ca, "client CA certificate");
    if (!client_ca.ok()) return client_ca.status();
    // The handshake asks for a client certificate but completes without
    // one; the Authenticator then refuses every call that has none, or a bad
    // one (chain, expiry, revocation, role), with UNAUTHENTICATED and the
    // reason, instead of a failed handshake the caller cannot tell from a
    // network error. Only the health service answers without a certificate
    // (it reveals nothing but "serving").
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    ssl.pem_root_certs = *client_ca;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }

  auto auth = Authenticator::Create({config.dev, config.tls_client_ca, config.revoked_serials});
  if (!auth.ok()) return auth.status();
  server->auth_ = *std::move(auth);
  if (deps.keys != nullptr) server->sealer_ = std::make_unique<codec::DataKeySealer>(deps.keys);
  server->reader_ =
      std::make_unique<CaseReader>(store, projection, deps.follower, server->sealer_.get());
  if (deps.access_store != nullptr) {
    server->access_log_ = std::make_unique<AccessLog>(deps.access_store, &SystemMicros);
  }
  server->employers_ = std::make_unique<codec::EmployerRegistry>(store);
  server->guard_ = std::make_unique<Guard>(server->auth_.get(), server->reader_.get(),
                                           server->access_log_.get(), server->employers_.get());
  server->event_store_ = std::make_unique<EventStoreService>(store, server->guard_.get());
  server->cases_ =
      std::make_unique<CaseService>(store, projection, server->guard_.get(), server->sealer_.get(),
                                    server->employers_.get(), &SystemMicros);
  if (deps.merkle != nullptr && deps.signing_key != nullptr) {
    server->audit_ = std::make_unique<AuditService>(store, deps.merkle, deps.follower,
                                                    deps.signing_key, server->guard_.get(),
                                                    &SystemMicros, config.checkpoint_origin);
  }
  if (deps.keys != nullptr) {
    server->admin_ = std::make_unique<AdminService>(store, deps.keys, config.master_key_file,
                                                    server->guard_.get(), &SystemMicros);
  }

  grpc::EnableDefaultHealthCheckService(true);
  // Reflection serves without authentication, so only on a dev server; the
  // .proto files are the contract everywhere else.
  if (config.dev) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (deps.call_metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(deps.call_metrics->NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  // No port sharing: with SO_REUSEPORT a second process (even a dev server)
  // could bind this port and answer part of the traffic. A port in use is
  // an error at start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config.listen, credentials, &server->port_);
  builder.RegisterService(server->event_store_.get());
  builder.RegisterService(server->cases_.get());
  if (server->audit_) builder.RegisterService(server->audit_.get());
  if (server->admin_) builder.RegisterService(server->admin_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  // Keep idle threads polling instead of exiting: the default (at most two
  // idle pollers) makes the sync server create and destroy a thread for
  // nearly every call once appends wait on group commit.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              static_cast<int>(std::min<uint64_t>(config.max_threads, 256)));
  grpc::ResourceQuota quota("duurzaamd");
  quota.SetMaxThreads(static_cast<int>(config.max_threads));
  builder.SetResourceQuota(quota);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", config.listen, "' (in use or not a local address?)"));
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  server->address_ = absl::StrCat(host, ":", server->port_);
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  if (health != nullptr) {
    // "" and EventStore: the process serves and its log takes appends. A
    // service that reads a projection reports NOT_SERVING while that
    // projection fails (projections::LogFollower), and SERVING again once
    // it recovers.
    health->SetServingStatus("", true);
    server->services_ = {v1::EventStore::service_full_name(), v1::Cases::service_full_name()};
    if (server->audit_) server->services_.push_back(v1::Audit::service_full_name());
    if (server->admin_) server->services_.push_back(v1::Admin::service_full_name());
    for (const std::string& service : server->services_) health->SetServingStatus(service, true);
    server->follower_ = deps.follower;
    Server* s = server.get();
    server->follower_->SetHealthCallback([s](const std::string& service, bool serving) {
      MutexLock lock(&s->health_mu_);
      if (serving) {
        s->projection_down_.erase(service);
      } else {
        s->projection_down_.insert(service);
      }
      s->ApplyHealth();
    });
  }
  return server;
}

void Server::SetWrites(const absl::Status& writes) {
  MutexLock lock(&health_mu_);
  if (writes.code() == writes_.code() && writes.message() == writes_.message()) return;
  writes_ = writes;
  ApplyHealth();
}

std::vector<std::pair<std::string, std::string>> Server::NotServing() const {
  MutexLock lock(&health_mu_);
  std::vector<std::pair<std::string, std::string>> out(not_serving_.begin(), not_serving_.end());
  std::sort(out.begin(), out.end());
  return out;
}

void Server::ApplyHealth() {
  grpc::HealthCheckServiceInterface* health = server_ ? server_->GetHealthCheckService() : nullptr;
  if (health == nullptr || shut_down_) return;
  for (const std::string& service : services_) {
    std::string why;
    if (projection_down_.contains(service)) {
      why = "a projection it reads is failing (see the ALERT lines of the log follower)";
    } else if (!writes_.ok() && service != v1::Audit::service_full_name()) {
      why = absl::StrCat("appends are refused: ", writes_.message());
    }
    auto it = not_serving_.find(service);
    const std::string before = it == not_serving_.end() ? "" : it->second;
    if (why == before) continue;
    health->SetServingStatus(service, why.empty());
    if (why.empty()) {
      not_serving_.erase(service);
      Log(LogLevel::kInfo, "health: SERVING again", {{"service", service}});
    } else {
      not_serving_[service] = why;
      Log(LogLevel::kWarning, "health: NOT_SERVING", {{"service", service}, {"reason", why}});
    }
  }
}

Server::~Server() {
  Shutdown();
  if (follower_ != nullptr) follower_->SetHealthCallback(nullptr);
}

void Server::Shutdown(absl::Duration grace) {
  if (!server_) return;
  {
    // Under the lock ApplyHealth (the follower's and the monitor's threads)
    // reads it with.
    MutexLock lock(&health_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  }
  event_store_->BeginShutdown();
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
}

void Server::Wait() {
  if (server_) server_->Wait();
}

}  // namespace duurzaam::services
