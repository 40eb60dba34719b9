// Heartbeats, the availability FSM and failover (SPEC.md §6.6). Every 5 s all nodes are asked
// for utilisation in parallel; all availability updates of a round are applied first, then the
// transitions are handled (PR #9281; defect ctl-availability-transitions-per-node handles each
// node right after its own update). The loop runs on the process lifetime, not the reconcilers'
// token, so a stepped-down instance keeps heartbeating and activating nodes (§3.3 hazard).
#include <string>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

NodeRef Service::RefFor(NodeId node) const {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return NodeRef{node, -1, CancelToken()};
  return NodeRef{node, context_.Resolve(it->second.address), it->second.cancel};
}

void Service::SetAvailability(NodeState& node, api::NodeAvailability availability) {
  if (node.availability == availability) return;
  context_.Emit(events::kNodeAvailability,
                {TraceField::Int("node", node.id),
                 TraceField::Str("from", api::NodeAvailabilityName(node.availability)),
                 TraceField::Str("to", api::NodeAvailabilityName(availability))});
  node.availability = availability;
}

void Service::HeartbeatLoop() {
  for (uint64_t round = 0; round < (uint64_t{1} << 40); ++round) {
    context_.env().Sleep(context_.timings().heartbeat_interval);
    if (HeartbeatsStopped()) return;
    HeartbeatRound(/*initial=*/false);
  }
}

void Service::HeartbeatRound(bool initial, const std::set<NodeId>* scanned) {
  using Reply = absl::StatusOr<api::UtilizationResponse>;
  std::vector<std::pair<NodeId, sim::Future<Reply>>> calls;
  for (const auto& [id, node] : nodes_) {
    sim::Promise<Reply> promise(context_.env().scheduler());
    calls.push_back({id, promise.GetFuture()});
    NodeRef ref{id, context_.Resolve(node.address), CancelToken()};
    context_.env().Spawn("ctl.heartbeat.call", [this, ref, promise]() mutable {
      promise.Set(pageservers_.Utilization(ref));
    });
  }
  // Decide every node's new availability first.
  std::vector<std::pair<NodeId, api::NodeAvailability>> updates;
  for (auto& [id, future] : calls) {
    std::optional<Reply> reply = future.Wait();
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !reply) continue;
    NodeState& node = it->second;
    const sim::Instant now = context_.env().Now();
    api::NodeAvailability next = node.availability;
    if (reply->ok()) {
      node.last_heartbeat_success = now;
      node.utilization_score = (*reply)->utilization_score;
      next = api::NodeAvailability::kActive;
    } else if (node.availability == api::NodeAvailability::kActive) {
      if (!node.last_heartbeat_success ||
          now - *node.last_heartbeat_success >= context_.timings().max_offline_interval) {
        next = api::NodeAvailability::kOffline;
      }
    } else if (node.availability == api::NodeAvailability::kWarmingUp) {
      if (now - node.warming_up_since >= context_.timings().max_warming_up_interval) {
        next = api::NodeAvailability::kOffline;
      }
    }
    updates.push_back({id, next});
  }
  // The round's verdict, before any of it is applied: what this instance now knows of every node
  // that answered or failed (checker F1 holds placements to it).
  std::string down;
  std::string up;
  for (const auto& [id, next] : updates) {
    if (next == api::NodeAvailability::kWarmingUp) continue;
    std::string& list = next == api::NodeAvailability::kOffline ? down : up;
    list += (list.empty() ? "" : ",") + std::to_string(id);
  }
  context_.Emit(events::kHeartbeatVerdict,
                {TraceField::Str("down", down), TraceField::Str("up", up)});
  if (initial) {
    // Start-up: responders become Active directly, without activation reconciles. One the scan
    // did not list would hold locations nobody knows of (a shard the DB no longer places there is
    // never detached, L1); it is left Offline for the loop to activate with a listing
    // (upstream heartbeats every node here: kDefectStartupActivatesUnscannedNodes).
    const bool activate_unscanned = context_.Defect(kDefectStartupActivatesUnscannedNodes);
    for (auto [id, next] : updates) {
      NodeState& node = nodes_.at(id);
      if (scanned != nullptr && !activate_unscanned && next == api::NodeAvailability::kActive &&
          scanned->count(id) == 0) {
        SIM_MARK("ctl.startup.unscanned_node_left_offline");
        next = node.availability;
      }
      if (next == api::NodeAvailability::kActive && !node.available()) {
        node.cancel = CancelToken(context_.env().scheduler());
      }
      SetAvailability(node, next);
    }
    return;
  }
  // A step-down that landed while the round waited for its replies stops it here too: its
  // transitions would detach, on a node coming back, the shards a new leader created meanwhile
  // (S12 at shard-split 2251: the round began before the step-down, its activation came after).
  if (HeartbeatsStopped()) return;
  const bool per_node = context_.Defect(kDefectTransitionsPerNode);
  std::vector<std::pair<NodeId, AvailabilityTransition>> transitions;
  for (const auto& [id, next] : updates) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;
    const AvailabilityTransition transition = ClassifyTransition(it->second.availability, next);
    SetAvailability(it->second, next);
    if (transition == AvailabilityTransition::kUnchanged) continue;
    if (per_node) {
      HandleTransition(id, transition);
    } else {
      transitions.push_back({id, transition});
    }
  }
  for (const auto& [id, transition] : transitions) HandleTransition(id, transition);
}

void Service::HandleTransition(NodeId node, AvailabilityTransition transition) {
  switch (transition) {
    case AvailabilityTransition::kToOffline: NodeToOffline(node); break;
    case AvailabilityTransition::kToActive: NodeToActive(node); break;
    case AvailabilityTransition::kToWarmingUp:
    case AvailabilityTransition::kUnchanged: break;
  }
}

void Service::NodeToOffline(NodeId node_id) {
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) return;
  node->second.cancel.Cancel();  // abort in-flight calls to it
  for (auto& [id, shard] : shards_) {
    auto it = shard.observed.locations.find(node_id);
    if (it != shard.observed.locations.end()) it->second = std::nullopt;
    if (shard.intent.attached != node_id) continue;
    // Fail over only if some other node can take it.
    bool alternative = false;
    for (const auto& [other_id, other] : nodes_) {
      if (other_id != node_id && other.schedulable()) alternative = true;
    }
    if (!alternative) continue;
    shard.intent.DemoteAttached();
    BumpSequence(shard, "node_offline");
    Schedule(shard, "node_offline");
    MaybeReconcile(id, Priority::kNormal);
  }
}

void Service::NodeToActive(NodeId node_id) {
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) return;
  node->second.cancel = CancelToken(context_.env().scheduler());
  absl::Status status = NodeActivateReconcile(node_id);
  node = nodes_.find(node_id);
  if (node == nodes_.end()) return;
  if (!status.ok()) {
    // Activation refused: back to Offline; the next heartbeat tries again.
    SetAvailability(node->second, api::NodeAvailability::kOffline);
    node->second.cancel.Cancel();
    return;
  }
  std::vector<TenantShardId> unknown_here;
  for (const auto& [id, shard] : shards_) {
    auto it = shard.observed.locations.find(node_id);
    if (it != shard.observed.locations.end() && !it->second.has_value() && !shard.reconciler) {
      unknown_here.push_back(id);
    }
  }
  for (const TenantShardId& id : unknown_here) MaybeReconcile(id, Priority::kNormal);
}

absl::Status Service::NodeActivateReconcile(NodeId node_id) {
  const NodeRef ref = RefFor(node_id);
  auto listed = pageservers_.ListLocationConfigs(ref, context_.timings().activation_list_timeout,
                                                 context_.timings().activation_list_attempts,
                                                 sim::Instant::Max(), CancelToken());
  if (!listed.ok()) return listed.status();
  const bool in_place = context_.Defect(kDefectActivationEditsObservedInPlace);
  std::vector<TenantShardId> unknown;
  for (const auto& [shard_id, config] : listed->shards) {
    auto shard = shards_.find(shard_id);
    if (shard == shards_.end()) {
      unknown.push_back(shard_id);
      continue;
    }
    auto& locations = shard->second.observed.locations;
    if (in_place) {
      locations[node_id] = config;  // pre-fix: overwrite, racing with in-flight results
      continue;
    }
    auto it = locations.find(node_id);
    if (it == locations.end() || it->second != config) locations[node_id] = std::nullopt;
  }
  // Shards unknown to this (possibly stale) instance are detached at once (§3.3 hazard).
  for (const TenantShardId& shard_id : unknown) {
    if (shards_.count(shard_id)) continue;
    if (HeartbeatsStopped()) break;  // stepped down during the listing or a detach
    api::LocationConfig detach;
    detach.mode = api::LocationMode::kDetached;
    detach.controller_term = context_.term();
    context_.Emit(events::kDetachUnknown,
                  {TraceField::Str("shard", shard_id.ToString()), TraceField::Int("node", node_id)});
    absl::Status status = pageservers_.PutLocationConfig(ref, shard_id, detach,
                                                         sim::Duration::Zero(), CancelToken());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace storsim::controller
