// Drain, fill and node deletion as background operations (SPEC.md §7.2). At most one runs at a
// time. Cancellation is only checked between shards/batches; moves already made are not rolled
// back. The tasks do not stop on step-down (§3.3 hazard): a stepped-down instance's drain keeps
// looping (no reconciles can spawn) and finally writes a policy to the DB.
#include <algorithm>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

namespace {

const char* OperationName(int kind) { return kind == 0 ? "drain" : kind == 1 ? "fill" : "delete"; }

}  // namespace

void Service::EndOperation(OperationKind kind, NodeId node, const char* result,
                           const std::string& error) {
  if (operation_ && operation_->node == node && operation_->kind == kind) operation_.reset();
  context_.Emit(events::kOperation,
                {TraceField::Str("op", OperationName(static_cast<int>(kind))),
                 TraceField::Int("node", node), TraceField::Str("phase", "end"),
                 TraceField::Str("result", result), TraceField::Str("error", error)});
}

bool Service::AwaitWaiters(std::vector<std::pair<TenantShardId, uint64_t>>& waiters,
                           size_t keep_at_most, const CancelToken& cancel, bool finishing) {
  const sim::Duration poll = finishing ? context_.timings().drain_waiter_poll_finishing
                                       : context_.timings().drain_waiter_poll;
  for (int round = 0; round < 100'000 && waiters.size() > keep_at_most; ++round) {
    std::vector<std::pair<TenantShardId, uint64_t>> remaining;
    for (const auto& [id, sequence] : waiters) {
      auto it = shards_.find(id);
      if (it == shards_.end()) continue;
      if (it->second.waiter >= sequence || it->second.error_waiter >= sequence) continue;
      remaining.push_back({id, sequence});
    }
    waiters = std::move(remaining);
    if (waiters.size() <= keep_at_most) return true;
    if (cancel.cancelled()) return false;
    context_.env().Sleep(poll);
  }
  return waiters.size() <= keep_at_most;
}

absl::Status Service::FinalizeNodePolicy(NodeId node_id, NodeSchedulingPolicy from,
                                         NodeSchedulingPolicy policy, const char* reason) {
  // A database outage at the end of a drain or fill would otherwise leave the node Draining or
  // Filling with no task to end it (L4; upstream gives up at the first error:
  // kDefectOperationFinalizeGivesUp). Bounded: about five minutes of outage.
  constexpr int kAttemptsMax = 32;
  absl::Status status = SetNodePolicy(node_id, policy, reason);
  if (context_.Defect(kDefectOperationFinalizeGivesUp)) return status;
  for (int attempt = 1; attempt < kAttemptsMax && !status.ok(); ++attempt) {
    const bool transient = absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
                           absl::IsAborted(status);
    auto node = nodes_.find(node_id);
    if (!transient || status_ != LeadershipStatus::kLeader || node == nodes_.end() ||
        node->second.policy != from) {
      break;
    }
    SIM_MARK("ctl.operation.finalize_retry");
    context_.env().Sleep(sim::Duration::Seconds(std::min(1 << std::min(attempt, 4), 10)));
    node = nodes_.find(node_id);
    if (status_ != LeadershipStatus::kLeader || node == nodes_.end() ||
        node->second.policy != from) {
      break;
    }
    status = SetNodePolicy(node_id, policy, reason);
  }
  return status;
}

void Service::DrainTask(NodeId node_id, CancelToken cancel) {
  const size_t in_flight_max = static_cast<size_t>(context_.timings().drain_fill_in_flight_max);
  const bool ignore_outgoing = context_.Defect(kDefectDrainIgnoresOutgoing);
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  std::vector<TenantShardId> ids;
  for (const auto& [id, shard] : shards_) ids.push_back(id);
  for (const TenantShardId& id : ids) {
    if (cancel.cancelled()) break;
    auto node = nodes_.find(node_id);
    if (node == nodes_.end() || node->second.policy != NodeSchedulingPolicy::kDraining) {
      EndOperation(OperationKind::kDrain, node_id, "error", "node state changed");
      return;
    }
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    TenantShard& shard = it->second;
    if (shard.intent.attached != node_id) {
      // A migration already leaving this node (e.g. the optimizer's): wait for it (PR #12754).
      auto observed = shard.observed.locations.find(node_id);
      const bool leaving = observed != shard.observed.locations.end() && shard.reconciler &&
                           (!observed->second || api::IsAttached(observed->second->mode));
      if (leaving && !ignore_outgoing) waiters.push_back({id, shard.reconciler->sequence});
      continue;
    }
    if (shard.scheduling_policy == ShardSchedulingPolicy::kPause ||
        shard.scheduling_policy == ShardSchedulingPolicy::kStop) {
      continue;
    }
    std::optional<NodeId> secondary = PreferredSecondary(shard, nodes_, shards_);
    if (!secondary) continue;  // non-HA tenants are not moved
    shard.intent.RemoveSecondary(*secondary);
    shard.intent.attached = *secondary;
    shard.intent.PushSecondary(node_id);
    BumpSequence(shard, "drain");
    std::optional<uint64_t> waiter = MaybeReconcile(id, Priority::kHigh, DrainMigration());
    if (waiter) waiters.push_back({id, *waiter});
    if (waiters.size() >= in_flight_max) AwaitWaiters(waiters, in_flight_max - 1, cancel, false);
  }
  if (!cancel.cancelled()) AwaitWaiters(waiters, 0, cancel, true);
  if (cancel.cancelled()) {
    absl::Status status = FinalizeNodePolicy(node_id, NodeSchedulingPolicy::kDraining,
                                             NodeSchedulingPolicy::kActive, "drain_cancelled");
    EndOperation(OperationKind::kDrain, node_id, status.ok() ? "cancelled" : "error",
                 status.ok() ? "" : "finalize: " + status.ToString());
    return;
  }
  auto node = nodes_.find(node_id);
  if (node == nodes_.end() || node->second.policy != NodeSchedulingPolicy::kDraining) {
    EndOperation(OperationKind::kDrain, node_id, "error", "node state changed");
    return;
  }
  absl::Status status = FinalizeNodePolicy(node_id, NodeSchedulingPolicy::kDraining,
                                           NodeSchedulingPolicy::kPauseForRestart, "drained");
  EndOperation(OperationKind::kDrain, node_id, status.ok() ? "done" : "error",
               status.ok() ? "" : "finalize: " + status.ToString());
}

void Service::FillTask(NodeId node_id, CancelToken cancel) {
  const size_t in_flight_max = static_cast<size_t>(context_.timings().drain_fill_in_flight_max);
  std::vector<TenantShardId> plan;
  const std::string zone = nodes_.count(node_id) ? nodes_.at(node_id).availability_zone : "";
  // 1. Shards that prefer this node's AZ, have a secondary here and are attached elsewhere.
  for (const auto& [id, shard] : shards_) {
    if (!shard.intent.attached || *shard.intent.attached == node_id) continue;
    if (std::find(shard.intent.secondary.begin(), shard.intent.secondary.end(), node_id) ==
        shard.intent.secondary.end()) {
      continue;
    }
    auto attached = nodes_.find(*shard.intent.attached);
    if (shard.intent.preferred_az && *shard.intent.preferred_az == zone &&
        attached != nodes_.end() && attached->second.availability_zone != zone) {
      plan.push_back(id);
    }
  }
  // 2. Up to the cluster average, from the most loaded available nodes, one shard per tenant.
  std::map<NodeId, NodeLoad> loads = ComputeNodeLoads(shards_);
  uint64_t total = 0;
  uint64_t available_nodes = 0;
  for (const auto& [id, node] : nodes_) {
    if (!node.available()) continue;
    ++available_nodes;
    total += loads[id].attached;
  }
  const uint64_t average = available_nodes == 0 ? 0 : total / available_nodes;
  uint64_t mine = loads[node_id].attached + plan.size();
  std::vector<std::pair<uint32_t, NodeId>> donors;
  for (const auto& [id, node] : nodes_) {
    if (id != node_id && node.available()) donors.push_back({loads[id].attached, id});
  }
  std::sort(donors.rbegin(), donors.rend());
  std::set<std::string> tenants;
  for (const auto& [load, donor] : donors) {
    uint64_t donor_load = load;
    for (const auto& [id, shard] : shards_) {
      if (mine >= average || donor_load <= average) break;
      if (shard.intent.attached != donor || tenants.count(id.tenant_id)) continue;
      if (std::find(plan.begin(), plan.end(), id) != plan.end()) continue;
      if (std::find(shard.intent.secondary.begin(), shard.intent.secondary.end(), node_id) ==
          shard.intent.secondary.end()) {
        continue;
      }
      plan.push_back(id);
      tenants.insert(id.tenant_id);
      ++mine;
      --donor_load;
    }
  }
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  for (const TenantShardId& id : plan) {
    if (cancel.cancelled()) break;
    auto node = nodes_.find(node_id);
    if (node == nodes_.end() || node->second.policy != NodeSchedulingPolicy::kFilling) {
      EndOperation(OperationKind::kFill, node_id, "error", "node state changed");
      return;
    }
    auto it = shards_.find(id);
    if (it == shards_.end() || !it->second.intent.attached) continue;
    TenantShard& shard = it->second;
    const NodeId previous = *shard.intent.attached;
    shard.intent.RemoveSecondary(node_id);
    shard.intent.attached = node_id;
    shard.intent.PushSecondary(previous);
    BumpSequence(shard, "fill");
    std::optional<uint64_t> waiter = MaybeReconcile(id, Priority::kHigh, DrainMigration());
    if (waiter) waiters.push_back({id, *waiter});
    if (waiters.size() >= in_flight_max) AwaitWaiters(waiters, in_flight_max - 1, cancel, false);
  }
  if (!cancel.cancelled()) AwaitWaiters(waiters, 0, cancel, true);
  auto node = nodes_.find(node_id);
  if (!cancel.cancelled() &&
      (node == nodes_.end() || node->second.policy != NodeSchedulingPolicy::kFilling)) {
    EndOperation(OperationKind::kFill, node_id, "error", "node state changed");
    return;
  }
  absl::Status status =
      FinalizeNodePolicy(node_id, NodeSchedulingPolicy::kFilling, NodeSchedulingPolicy::kActive,
                         cancel.cancelled() ? "fill_cancelled" : "filled");
  EndOperation(OperationKind::kFill, node_id,
               !status.ok() ? "error" : cancel.cancelled() ? "cancelled" : "done",
               status.ok() ? "" : "finalize: " + status.ToString());
}

void Service::DeleteTask(NodeId node_id, CancelToken cancel) {
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  std::vector<TenantShardId> ids;
  for (const auto& [id, shard] : shards_) {
    if (shard.intent.Contains(node_id)) ids.push_back(id);
  }
  for (const TenantShardId& id : ids) {
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    TenantShard& shard = it->second;
    if (shard.intent.attached == node_id) shard.intent.DemoteAttached();
    shard.intent.RemoveSecondary(node_id);
    BumpSequence(shard, "node_delete");
    Schedule(shard, "node_delete");
    std::optional<uint64_t> waiter = MaybeReconcile(id, Priority::kHigh);
    if (waiter) waiters.push_back({id, *waiter});
  }
  AwaitWaiters(waiters, 0, cancel, true);
  absl::Status status = db_.DeleteNode(node_id);
  if (status.ok()) nodes_.erase(node_id);
  EndOperation(OperationKind::kDelete, node_id, status.ok() ? "done" : "error",
               status.ok() ? "" : status.ToString());
}

}  // namespace storsim::controller
