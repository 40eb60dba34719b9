// TenantShard: wanted configs, the reconcile-needed rule and intent-from-observed (see
// tenant_shard.h).
#include "model/controller/tenant_shard.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::controller {

AvailabilityTransition ClassifyTransition(api::NodeAvailability from, api::NodeAvailability to) {
  using A = api::NodeAvailability;
  if (from == to) return AvailabilityTransition::kUnchanged;
  if (to == A::kActive) return AvailabilityTransition::kToActive;
  if (to == A::kOffline) return AvailabilityTransition::kToOffline;
  return AvailabilityTransition::kToWarmingUp;
}

bool IntentState::Contains(NodeId node) const {
  if (attached == node) return true;
  return std::find(secondary.begin(), secondary.end(), node) != secondary.end();
}

void IntentState::RemoveSecondary(NodeId node) {
  secondary.erase(std::remove(secondary.begin(), secondary.end(), node), secondary.end());
}

void IntentState::PushSecondary(NodeId node) {
  if (attached == node) return;
  if (std::find(secondary.begin(), secondary.end(), node) != secondary.end()) return;
  secondary.push_back(node);
}

void IntentState::DemoteAttached() {
  if (!attached) return;
  const NodeId node = *attached;
  attached.reset();
  PushSecondary(node);
}

std::vector<NodeId> IntentState::AllNodes() const {
  std::vector<NodeId> nodes;
  if (attached) nodes.push_back(*attached);
  nodes.insert(nodes.end(), secondary.begin(), secondary.end());
  return nodes;
}

std::string IntentState::SecondariesString() const {
  std::string out;
  for (NodeId node : secondary) {
    if (!out.empty()) out += ",";
    out += std::to_string(node);
  }
  return out;
}

api::LocationConfig TenantShard::BaseConfig(api::LocationMode mode, uint64_t term) const {
  api::LocationConfig config;
  config.mode = mode;
  config.shard_number = id.shard_number;
  config.shard_count = id.shard_count;
  config.stripe_size = stripe_size;
  // The controller sets a heatmap period iff the shard has secondaries (SPEC §5.1).
  config.tenant_conf.heatmap_period_set = !intent.secondary.empty();
  config.controller_term = term;
  return config;
}

api::LocationConfig TenantShard::AttachedConfig(uint64_t term) const {
  api::LocationConfig config = BaseConfig(api::LocationMode::kAttachedSingle, term);
  config.generation = generation;
  return config;
}

api::LocationConfig TenantShard::SecondaryConfig(uint64_t term) const {
  api::LocationConfig config = BaseConfig(api::LocationMode::kSecondary, term);
  config.secondary_warm = true;
  return config;
}

std::vector<NodeId> TenantShard::DetachList() const {
  std::vector<NodeId> detach;
  for (const auto& [node, config] : observed.locations) {
    if (!intent.Contains(node)) detach.push_back(node);
  }
  return detach;
}

ReconcileNeeded TenantShard::GetReconcileNeeded(const std::map<NodeId, NodeState>& nodes,
                                                uint64_t term) const {
  auto available = [&nodes](NodeId node) {
    auto it = nodes.find(node);
    return it != nodes.end() && it->second.available();
  };
  bool dirty = false;
  if (intent.attached && available(*intent.attached)) {
    auto it = observed.locations.find(*intent.attached);
    if (it == observed.locations.end() || it->second != AttachedConfig(term)) dirty = true;
    if (generation_pageserver_null) dirty = true;  // the DB must name the attached node
  }
  for (NodeId node : intent.secondary) {
    if (!available(node)) continue;
    auto it = observed.locations.find(node);
    if (it == observed.locations.end() || it->second != SecondaryConfig(term)) dirty = true;
  }
  for (const auto& [node, config] : observed.locations) {
    if (!available(node)) continue;
    if (!intent.Contains(node)) dirty = true;  // needs a detach
    if (!config.has_value()) dirty = true;     // unknown on an available node
  }
  if (!dirty && !pending_compute_notification) return ReconcileNeeded::kNo;
  if (splitting) return ReconcileNeeded::kNo;
  if (reconciler && reconciler->sequence == sequence) return ReconcileNeeded::kWaitExisting;
  if (scheduling_policy == ShardSchedulingPolicy::kStop) return ReconcileNeeded::kNo;
  return ReconcileNeeded::kYes;
}

void TenantShard::IntentFromObserved() {
  std::optional<std::pair<Generation, NodeId>> best;
  for (const auto& [node, config] : observed.locations) {
    if (!config || !api::IsAttached(config->mode)) continue;
    // Highest generation wins; among equal generations the highest node id, as a stable sort
    // by generation keeps map (node) order and takes the last.
    if (!best || config->generation >= best->first) best = {config->generation, node};
  }
  if (best) {
    intent.RemoveSecondary(best->second);
    intent.attached = best->second;
  }
  if (policy.kind == PlacementPolicy::Kind::kAttached) {
    for (const auto& [node, config] : observed.locations) {
      if (intent.attached != node) intent.PushSecondary(node);
    }
  }
  SIM_CHECK(!intent.attached ||
            std::find(intent.secondary.begin(), intent.secondary.end(), *intent.attached) ==
                intent.secondary.end());
}

void TenantShard::AdvanceWaiter(uint64_t sequence_done, bool success, sim::Scheduler& scheduler) {
  if (success) {
    waiter = std::max(waiter, sequence_done);
  } else {
    error_waiter = std::max(error_waiter, sequence_done);
  }
  if (progress) progress->Set();
  progress = std::make_shared<sim::Event>(scheduler);
}

}  // namespace storsim::controller
