// The storage controller's HTTP API as the model needs it (SPEC.md §3.3, §3.4, §4.1, §6, §7):
// tenant and node operations, drain/fill/cancel, probes, and the peer step-down call. Every
// response carries an Http status; 503 comes from a candidate or from a stepped-down instance
// that cannot forward, 408 from a leader still starting up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "model/api/upcall_api.h"
#include "sim/rpc.h"

namespace storsim::api {

struct TenantCreateRequest {
  std::string tenant_id;
  uint8_t shard_count = 0;  // 0 = unsharded
  uint32_t stripe_size = 0;
  PlacementPolicy placement = PlacementPolicy::Attached(1);
  std::optional<std::string> preferred_az;
};
struct ShardPlacement {
  TenantShardId shard;
  std::optional<NodeId> attached;
  std::vector<NodeId> secondaries;
  Generation generation;
};
struct TenantCreateResponse {
  Http status = Http::kOk;  // 201-like success is 200 here; 409 when the tenant exists
  std::vector<ShardPlacement> shards;
};

struct TenantDeleteRequest {
  std::string tenant_id;
};
struct TenantShardMigrateRequest {
  TenantShardId shard;
  NodeId node_id = 0;
};
struct TenantPolicyRequest {
  std::string tenant_id;
  PlacementPolicy placement;
};
struct TenantDescribeRequest {
  std::string tenant_id;
};
struct TenantDescribeResponse {
  Http status = Http::kOk;
  std::vector<ShardPlacement> shards;
};

// Node availability as the controller sees it (SPEC §6.6); not persisted.
enum class NodeAvailability : uint8_t { kOffline, kWarmingUp, kActive };
const char* NodeAvailabilityName(NodeAvailability availability);

struct NodeConfigureRequest {
  NodeId node_id = 0;
  std::optional<NodeSchedulingPolicy> scheduling_policy;
};
struct NodeRequest {  // drain, fill, cancel drain, cancel fill, delete, status
  NodeId node_id = 0;
};
struct NodeStatusResponse {
  Http status = Http::kOk;
  NodeSchedulingPolicy scheduling_policy = NodeSchedulingPolicy::kActive;
  NodeAvailability availability = NodeAvailability::kOffline;
  uint32_t attached_shards = 0;
};

// A bare status answer (most mutating calls, probes).
struct StatusResponse {
  Http status = Http::kOk;
};

enum class Probe : uint8_t { kStatus, kReady, kLive };
struct ProbeRequest {
  Probe probe = Probe::kReady;
};

// PUT /control/v1/step_down (peer scope): the old leader's observed state, handed over.
struct ObservedLocation {
  NodeId node_id = 0;
  std::optional<LocationConfig> config;  // nullopt = unknown (something may exist)
};
struct ObservedShard {
  TenantShardId shard;
  std::vector<ObservedLocation> locations;
};
struct StepDownRequest {
  std::string from_address;
};
struct StepDownResponse {
  Http status = Http::kOk;
  std::vector<ObservedShard> observed;
};

inline constexpr sim::RpcMethod<TenantCreateRequest, TenantCreateResponse> kTenantCreate{
    "ctl.tenant.create"};
inline constexpr sim::RpcMethod<TenantDeleteRequest, StatusResponse> kTenantDelete{
    "ctl.tenant.delete"};
inline constexpr sim::RpcMethod<TenantShardMigrateRequest, StatusResponse> kTenantShardMigrate{
    "ctl.tenant.migrate"};
inline constexpr sim::RpcMethod<TenantPolicyRequest, StatusResponse> kTenantPolicy{
    "ctl.tenant.policy"};
inline constexpr sim::RpcMethod<TenantDescribeRequest, TenantDescribeResponse> kTenantDescribe{
    "ctl.tenant.describe"};
inline constexpr sim::RpcMethod<NodeRegisterRequest, StatusResponse> kNodeRegister{
    "ctl.node.register"};
inline constexpr sim::RpcMethod<NodeConfigureRequest, StatusResponse> kNodeConfigure{
    "ctl.node.configure"};
inline constexpr sim::RpcMethod<NodeRequest, StatusResponse> kNodeDrain{"ctl.node.drain"};
inline constexpr sim::RpcMethod<NodeRequest, StatusResponse> kNodeFill{"ctl.node.fill"};
inline constexpr sim::RpcMethod<NodeRequest, StatusResponse> kNodeCancelDrain{
    "ctl.node.cancel_drain"};
inline constexpr sim::RpcMethod<NodeRequest, StatusResponse> kNodeCancelFill{
    "ctl.node.cancel_fill"};
inline constexpr sim::RpcMethod<NodeRequest, StatusResponse> kNodeDelete{"ctl.node.delete"};
inline constexpr sim::RpcMethod<NodeRequest, NodeStatusResponse> kNodeStatus{"ctl.node.status"};
inline constexpr sim::RpcMethod<ProbeRequest, StatusResponse> kProbe{"ctl.probe"};
inline constexpr sim::RpcMethod<StepDownRequest, StepDownResponse> kStepDown{"ctl.step_down"};

}  // namespace storsim::api
