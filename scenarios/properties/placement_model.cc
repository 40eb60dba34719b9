// PlacementModel: the SPEC rules of placement and generations (see placement_model.h).
#include "scenarios/properties/placement_model.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::scenarios::properties {

using api::Http;
using api::NodeSchedulingPolicy;

PlacementModel PlacementModel::FromSnapshot(const controller::ControllerSnapshot& snapshot) {
  PlacementModel model;
  for (const auto& [node_id, node] : snapshot.nodes) model.nodes[node_id] = node.policy;
  for (const auto& [id, shard] : snapshot.shards) {
    SIM_CHECK_MSG(shard.intent.attached.has_value(), "a settled shard has an attached node");
    SIM_CHECK(!shard.generation.is_none());
    model.shards[id] = {*shard.intent.attached, shard.intent.secondary, shard.generation.value()};
  }
  return model;
}

bool PlacementModel::Schedulable(api::NodeId node) const {
  auto it = nodes.find(node);
  return it != nodes.end() &&
         (it->second == NodeSchedulingPolicy::kActive || it->second == NodeSchedulingPolicy::kFilling);
}

std::vector<api::TenantShardId> PlacementModel::ShardIds() const {
  std::vector<api::TenantShardId> ids;
  for (const auto& [id, shard] : shards) ids.push_back(id);
  return ids;
}

std::vector<api::NodeId> PlacementModel::NodeIds() const {
  std::vector<api::NodeId> ids;
  for (const auto& [id, policy] : nodes) ids.push_back(id);
  return ids;
}

Http PlacementModel::Migrate(const api::TenantShardId& shard_id, api::NodeId node) {
  auto it = shards.find(shard_id);
  if (it == shards.end() || !Knows(node)) return Http::kNotFound;
  if (!Schedulable(node)) return Http::kPreconditionFailed;
  ShardModel& shard = it->second;
  if (shard.attached == node) return Http::kOk;  // already there: no new generation
  // Policy Attached(1): the destination stops being a secondary, the origin becomes the one.
  shard.secondaries.clear();
  shard.secondaries.push_back(shard.attached);
  shard.attached = node;
  shard.generation += 1;
  return Http::kOk;
}

Http PlacementModel::Drain(api::NodeId node) {
  if (!Knows(node)) return Http::kNotFound;
  bool other_schedulable = false;
  for (const auto& [id, policy] : nodes) {
    if (id != node && Schedulable(id)) other_schedulable = true;
  }
  if (!other_schedulable) return Http::kPreconditionFailed;
  if (nodes.at(node) == NodeSchedulingPolicy::kDraining) return Http::kConflict;
  if (nodes.at(node) != NodeSchedulingPolicy::kActive) return Http::kPreconditionFailed;
  for (auto& [id, shard] : shards) {
    if (shard.attached != node) continue;
    // The preferred secondary: the (only) secondary, if it can take the attachment.
    std::optional<api::NodeId> target;
    for (api::NodeId secondary : shard.secondaries) {
      if (Schedulable(secondary)) {
        target = secondary;
        break;
      }
    }
    if (!target) continue;  // stays: nowhere to go
    std::erase(shard.secondaries, *target);
    shard.secondaries.push_back(node);
    shard.attached = *target;
    shard.generation += 1;
  }
  nodes[node] = NodeSchedulingPolicy::kPauseForRestart;
  return Http::kAccepted;
}

Http PlacementModel::Configure(api::NodeId node, NodeSchedulingPolicy policy) {
  if (!Knows(node)) return Http::kNotFound;
  nodes[node] = policy;
  return Http::kOk;
}

void PlacementModel::ReAttach(api::NodeId node) {
  SIM_CHECK(Knows(node));
  for (auto& [id, shard] : shards) {
    if (shard.attached == node) shard.generation += 1;
  }
  NodeSchedulingPolicy& policy = nodes[node];
  if (policy == NodeSchedulingPolicy::kDraining || policy == NodeSchedulingPolicy::kFilling ||
      policy == NodeSchedulingPolicy::kPauseForRestart) {
    policy = NodeSchedulingPolicy::kActive;
  }
}

std::optional<bool> PlacementModel::Validate(const api::TenantShardId& shard,
                                             uint32_t generation) const {
  auto it = shards.find(shard);
  if (it == shards.end()) return std::nullopt;
  return it->second.generation == generation;
}

std::string NodesString(const std::vector<api::NodeId>& nodes) {
  std::string out = "[";
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) out += " ";
    out += "n" + std::to_string(nodes[i]);
  }
  return out + "]";
}

std::string PlacementModel::ToString() const {
  std::string out;
  for (const auto& [id, shard] : shards) {
    out += id.ToString() + ": n" + std::to_string(shard.attached) + " " +
           NodesString(shard.secondaries) + " g" + std::to_string(shard.generation) + "; ";
  }
  for (const auto& [id, policy] : nodes) {
    out += "n" + std::to_string(id) + "=" + persistence::NodeSchedulingPolicyName(policy) + " ";
  }
  return out;
}

}  // namespace storsim::scenarios::properties
