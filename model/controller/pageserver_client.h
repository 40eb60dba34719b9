// The controller's calls to pageservers (SPEC.md §5.3, §6.3, §6.6, §13.1), with upstream's
// timeouts, retry budgets and backoff, and cancellation by the node's availability token and
// the caller's token. Every location_config call is traced (send and result) with the issuing
// instance, because checkers (S2, S3, S12) count side effects per instance.
//
// Error mapping: transport failures are DeadlineExceeded/Unavailable (as the RPC layer gives
// them); a cancelled call is Cancelled; an application answer other than success is returned as
// an HttpError (absl code Internal, message "http <code>") with the code in *http when asked.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/api/pageserver_api.h"
#include "model/controller/context.h"

namespace storsim::controller {

class PageserverClient {
 public:
  explicit PageserverClient(Context& context) : context_(context) {}

  // PUT location_config: 25 s per try, up to 4 tries, retrying only transport errors and
  // 503/504/408. Success: the pageserver holds `config`.
  absl::Status PutLocationConfig(const NodeRef& node, const api::TenantShardId& shard,
                                 const api::LocationConfig& config, sim::Duration flush,
                                 const CancelToken& cancel, api::Http* http = nullptr);
  // GET one shard's location_config: 5 s, 2 tries. nullopt value = 404 (no slot); a present
  // slot mid-transition is returned as NotFound-free but with config nullopt in *mid_transition.
  absl::StatusOr<api::GetLocationConfigResponse> GetLocationConfig(
      const NodeRef& node, const api::TenantShardId& shard, const CancelToken& cancel);
  // GET /v1/location_config with the given per-try timeout and tries, within `deadline` (true
  // time; Instant::Max for none).
  absl::StatusOr<api::ListLocationConfigsResponse> ListLocationConfigs(
      const NodeRef& node, sim::Duration timeout, int attempts, sim::Instant deadline,
      const CancelToken& cancel);
  // GET /v1/utilization: 1 s per try, 4 tries (heartbeats).
  absl::StatusOr<api::UtilizationResponse> Utilization(const NodeRef& node);
  absl::StatusOr<api::TimelineLsnsResponse> TimelineLsns(const NodeRef& node,
                                                         const api::TenantShardId& shard,
                                                         const CancelToken& cancel);
  absl::StatusOr<api::WaitLsnResponse> WaitLsn(const NodeRef& node, const api::WaitLsnRequest& req,
                                               const CancelToken& cancel);
  absl::StatusOr<api::SecondaryDownloadResponse> SecondaryDownload(
      const NodeRef& node, const api::TenantShardId& shard, sim::Duration wait,
      const CancelToken& cancel);

 private:
  Context& context_;
};

// The absl status for an application-level HTTP failure, and its inverse.
absl::Status HttpError(api::Http http);
std::optional<api::Http> HttpOf(const absl::Status& status);

}  // namespace storsim::controller
