// The control plane and compute_ctl (SPEC.md §8): the controller's notify-attach hook, the spec
// store computes pull from, and compute_ctl's /configure, /refresh_configuration and /status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "sim/rpc.h"

namespace storsim::api {

struct ShardLocation {
  NodeId node_id = 0;
  uint8_t shard_number = 0;
  bool operator==(const ShardLocation&) const = default;
  auto operator<=>(const ShardLocation&) const = default;
};

// PUT {control_plane}/notify-attach. The receiver reconfigures the compute and only then answers
// 2xx; 423 Locked, 429, 503 and slow answers are injectable.
struct NotifyAttachRequest {
  std::string tenant_id;
  std::optional<std::string> preferred_az;
  std::optional<uint32_t> stripe_size;  // none for unsharded tenants
  std::vector<ShardLocation> shards;
  bool operator==(const NotifyAttachRequest&) const = default;
};
struct NotifyAttachResponse {
  Http status = Http::kOk;
};

// What a compute needs to connect: one pageserver per shard.
struct ComputeSpec {
  std::string tenant_id;
  uint8_t shard_count = 0;
  uint32_t stripe_size = 0;
  std::vector<ShardLocation> shards;
  uint64_t version = 0;  // bumped by the control plane on every change
  bool operator==(const ComputeSpec&) const = default;
};

// compute_ctl -> control plane: the current spec (404 when the compute is no longer attached).
struct GetSpecRequest {
  std::string tenant_id;
};
struct GetSpecResponse {
  Http status = Http::kOk;
  std::optional<ComputeSpec> spec;
};

// compute_ctl states (SPEC §8.2).
enum class ComputeStatus : uint8_t {
  kEmpty,
  kConfigurationPending,
  kInit,
  kRunning,
  kConfiguration,
  kFailed,
  kTerminationPendingFast,
  kTerminationPendingImmediate,
  kTerminated,
  kRefreshConfigurationPending,
  kRefreshConfiguration,
};
const char* ComputeStatusName(ComputeStatus status);

// control plane -> compute_ctl: POST /configure (412 unless Empty or Running).
struct ConfigureRequest {
  ComputeSpec spec;
};
struct ConfigureResponse {
  Http status = Http::kOk;
};

// POST /refresh_configuration (internal port): 200 from Running, Failed,
// RefreshConfigurationPending (-> RefreshConfigurationPending) and Init (no-op); 500 otherwise.
struct RefreshConfigurationRequest {};
struct RefreshConfigurationResponse {
  Http status = Http::kOk;
};

struct ComputeStatusRequest {};
struct ComputeStatusResponse {
  Http status = Http::kOk;
  ComputeStatus compute_status = ComputeStatus::kEmpty;
  std::optional<ComputeSpec> spec;
};

inline constexpr sim::RpcMethod<NotifyAttachRequest, NotifyAttachResponse> kNotifyAttach{
    "cplane.notify_attach"};
inline constexpr sim::RpcMethod<GetSpecRequest, GetSpecResponse> kGetSpec{"cplane.get_spec"};
inline constexpr sim::RpcMethod<ConfigureRequest, ConfigureResponse> kConfigure{
    "compute.configure"};
inline constexpr sim::RpcMethod<RefreshConfigurationRequest, RefreshConfigurationResponse>
    kRefreshConfiguration{"compute.refresh_configuration"};
inline constexpr sim::RpcMethod<ComputeStatusRequest, ComputeStatusResponse> kComputeStatus{
    "compute.status"};

}  // namespace storsim::api
