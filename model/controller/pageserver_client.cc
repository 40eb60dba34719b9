// Pageserver calls with upstream's retry budgets (see pageserver_client.h).
#include "model/controller/pageserver_client.h"

#include <string>

#include "model/controller/events.h"

namespace storsim::controller {

using sim::TraceField;

absl::Status HttpError(api::Http http) {
  return absl::InternalError("http " + std::to_string(static_cast<int32_t>(http)));
}

std::optional<api::Http> HttpOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInternal) return std::nullopt;
  const std::string message(status.message());
  if (message.rfind("http ", 0) != 0) return std::nullopt;
  return static_cast<api::Http>(std::stoi(message.substr(5)));
}

namespace {

bool Retryable(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kDeadlineExceeded ||
      status.code() == absl::StatusCode::kUnavailable) {
    return true;
  }
  std::optional<api::Http> http = HttpOf(status);
  return http && (*http == api::Http::kServiceUnavailable || *http == api::Http::kGatewayTimeout ||
                  *http == api::Http::kRequestTimeout);
}

std::vector<CancelToken> Tokens(const NodeRef& node, const CancelToken& cancel) {
  return {node.cancel, cancel};
}

// One call with up to `attempts` tries and upstream's backoff between them. `call` returns the
// status of one try (application failures as HttpError).
template <typename Fn>
absl::Status Retry(sim::Env& env, int attempts, sim::Duration backoff_cap,
                   const std::vector<CancelToken>& tokens, sim::Instant deadline, Fn call) {
  SIM_CHECK(attempts >= 1);
  absl::Status last = absl::UnavailableError("no attempt");
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const sim::Duration backoff = BackoffBeforeAttempt(attempt, backoff_cap);
    if (backoff > sim::Duration::Zero() && !SleepCancellable(env, backoff, tokens)) {
      return absl::CancelledError("cancelled during backoff");
    }
    if (env.scheduler().Now() >= deadline) return absl::DeadlineExceededError("overall deadline");
    last = call(attempt);
    if (last.ok() || !Retryable(last) || last.code() == absl::StatusCode::kCancelled) return last;
  }
  return last;
}

}  // namespace

absl::Status PageserverClient::PutLocationConfig(const NodeRef& node,
                                                 const api::TenantShardId& shard,
                                                 const api::LocationConfig& config,
                                                 sim::Duration flush, const CancelToken& cancel,
                                                 api::Http* http) {
  sim::Env& env = context_.env();
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  absl::Status status = Retry(
      env, context_.timings().location_config_attempts, context_.timings().backoff_cap,
      Tokens(node, cancel), sim::Instant::Max(), [&](int attempt) -> absl::Status {
        context_.Emit(events::kLocationConfigSend,
                      {TraceField::Str("shard", shard.ToString()), TraceField::Int("node", node.id),
                       TraceField::Str("mode", api::LocationModeName(config.mode)),
                       TraceField::Int("generation", GenerationField(config.generation)),
                       TraceField::Int("term", static_cast<int64_t>(config.controller_term)),
                       TraceField::Int("attempt", attempt)});
        api::PutLocationConfigRequest request{shard, config, flush, false};
        auto reply = CallCancellable(env, node.process, api::kPutLocationConfig, request,
                                     context_.timings().location_config_timeout,
                                     Tokens(node, cancel));
        absl::Status result = reply.ok() ? (api::IsSuccess(reply->status) ? absl::OkStatus()
                                                                          : HttpError(reply->status))
                                         : reply.status();
        const char* outcome = result.ok() ? "ok"
                              : reply.ok() ? "http"
                              : result.code() == absl::StatusCode::kCancelled ? "cancelled"
                                                                             : "transport";
        context_.Emit(events::kLocationConfigResult,
                      {TraceField::Str("shard", shard.ToString()), TraceField::Int("node", node.id),
                       TraceField::Str("mode", api::LocationModeName(config.mode)),
                       TraceField::Int("generation", GenerationField(config.generation)),
                       TraceField::Str("result", outcome),
                       TraceField::Int("http", reply.ok() ? static_cast<int64_t>(reply->status)
                                                          : 0)});
        return result;
      });
  if (http != nullptr) {
    std::optional<api::Http> code = HttpOf(status);
    *http = code ? *code : api::Http::kOk;
  }
  return status;
}

absl::StatusOr<api::GetLocationConfigResponse> PageserverClient::GetLocationConfig(
    const NodeRef& node, const api::TenantShardId& shard, const CancelToken& cancel) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  api::GetLocationConfigResponse response;
  absl::Status status = Retry(
      context_.env(), context_.timings().refresh_attempts, context_.timings().backoff_cap,
      Tokens(node, cancel), sim::Instant::Max(), [&](int) -> absl::Status {
        auto reply = CallCancellable(context_.env(), node.process, api::kGetLocationConfig,
                                     api::GetLocationConfigRequest{shard},
                                     context_.timings().refresh_timeout, Tokens(node, cancel));
        if (!reply.ok()) return reply.status();
        if (reply->status != api::Http::kOk && reply->status != api::Http::kNotFound) {
          return HttpError(reply->status);
        }
        response = *reply;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<api::ListLocationConfigsResponse> PageserverClient::ListLocationConfigs(
    const NodeRef& node, sim::Duration timeout, int attempts, sim::Instant deadline,
    const CancelToken& cancel) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  api::ListLocationConfigsResponse response;
  absl::Status status = Retry(
      context_.env(), attempts, context_.timings().backoff_cap, Tokens(node, cancel), deadline,
      [&](int) -> absl::Status {
        auto reply = CallCancellable(context_.env(), node.process, api::kListLocationConfigs,
                                     api::ListLocationConfigsRequest{}, timeout,
                                     Tokens(node, cancel));
        if (!reply.ok()) return reply.status();
        if (!api::IsSuccess(reply->status)) return HttpError(reply->status);
        response = *reply;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<api::UtilizationResponse> PageserverClient::Utilization(const NodeRef& node) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  api::UtilizationResponse response;
  // Not cancelled by the node token: heartbeats are what brings an offline node back.
  absl::Status status = Retry(
      context_.env(), context_.timings().utilization_attempts, context_.timings().backoff_cap, {},
      sim::Instant::Max(), [&](int) -> absl::Status {
        auto reply = context_.env().rpc().Call(node.process, api::kUtilization,
                                               api::UtilizationRequest{},
                                               context_.timings().utilization_timeout);
        if (!reply.ok()) return reply.status();
        if (!api::IsSuccess(reply->status)) return HttpError(reply->status);
        response = *reply;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<api::TimelineLsnsResponse> PageserverClient::TimelineLsns(
    const NodeRef& node, const api::TenantShardId& shard, const CancelToken& cancel) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  auto reply = CallCancellable(context_.env(), node.process, api::kTimelineLsns,
                               api::TimelineLsnsRequest{shard}, context_.timings().lsn_call_timeout,
                               Tokens(node, cancel));
  if (!reply.ok()) return reply.status();
  if (!api::IsSuccess(reply->status)) return HttpError(reply->status);
  return *reply;
}

absl::StatusOr<api::WaitLsnResponse> PageserverClient::WaitLsn(const NodeRef& node,
                                                               const api::WaitLsnRequest& request,
                                                               const CancelToken& cancel) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  auto reply = CallCancellable(context_.env(), node.process, api::kWaitLsn, request,
                               request.timeout + sim::Duration::Seconds(1), Tokens(node, cancel));
  if (!reply.ok()) return reply.status();
  return *reply;
}

absl::StatusOr<api::SecondaryDownloadResponse> PageserverClient::SecondaryDownload(
    const NodeRef& node, const api::TenantShardId& shard, sim::Duration wait,
    const CancelToken& cancel) {
  if (node.process < 0) return absl::UnavailableError("node address unresolved");
  auto reply = CallCancellable(context_.env(), node.process, api::kSecondaryDownload,
                               api::SecondaryDownloadRequest{shard, wait},
                               wait + sim::Duration::Seconds(5), Tokens(node, cancel));
  if (!reply.ok()) return reply.status();
  if (!api::IsSuccess(reply->status)) return HttpError(reply->status);
  return *reply;
}

}  // namespace storsim::controller
