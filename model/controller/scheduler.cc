// Placement scheduling (see scheduler.h).
#include "model/controller/scheduler.h"

#include <algorithm>
#include <tuple>

#include "sim/check.h"

namespace storsim::controller {
namespace {

using Score = std::tuple<int, uint32_t, uint64_t, uint32_t, NodeId>;

uint32_t Affinity(const TenantShard& shard, NodeId node, const ShardMap& shards) {
  uint32_t count = 0;
  // Shards of one tenant are adjacent in the map (ordered by tenant id first).
  for (auto it = shards.lower_bound(TenantShardId{shard.id.tenant_id, 0, 0});
       it != shards.end() && it->first.tenant_id == shard.id.tenant_id; ++it) {
    if (it->first == shard.id) continue;
    if (it->second.intent.Contains(node)) ++count;
  }
  return count;
}

std::optional<NodeId> Pick(const TenantShard& shard, const NodeMap& nodes, const ShardMap& shards,
                           const std::vector<NodeId>& exclude, bool secondary) {
  const std::map<NodeId, NodeLoad> loads = ComputeNodeLoads(shards);
  std::optional<Score> best;
  for (const auto& [id, node] : nodes) {
    if (!node.schedulable()) continue;
    if (std::find(exclude.begin(), exclude.end(), id) != exclude.end()) continue;
    const bool az_match =
        shard.intent.preferred_az.has_value() && *shard.intent.preferred_az == node.availability_zone;
    int az_rank = 0;
    if (shard.intent.preferred_az.has_value()) az_rank = secondary ? (az_match ? 1 : 0) : (az_match ? 0 : 1);
    auto load = loads.find(id);
    const NodeLoad node_load = load == loads.end() ? NodeLoad{} : load->second;
    Score score{az_rank, Affinity(shard, id, shards), node.utilization_score,
                secondary ? node_load.total : node_load.attached, id};
    if (!best || score < *best) best = score;
  }
  if (!best) return std::nullopt;
  return std::get<4>(*best);
}

}  // namespace

std::map<NodeId, NodeLoad> ComputeNodeLoads(const ShardMap& shards) {
  std::map<NodeId, NodeLoad> loads;
  for (const auto& [id, shard] : shards) {
    if (shard.intent.attached) {
      ++loads[*shard.intent.attached].attached;
      ++loads[*shard.intent.attached].total;
    }
    for (NodeId node : shard.intent.secondary) ++loads[node].total;
  }
  return loads;
}

std::optional<NodeId> PickAttachedNode(const TenantShard& shard, const NodeMap& nodes,
                                       const ShardMap& shards, const std::vector<NodeId>& exclude) {
  return Pick(shard, nodes, shards, exclude, /*secondary=*/false);
}

std::optional<NodeId> PickSecondaryNode(const TenantShard& shard, const NodeMap& nodes,
                                        const ShardMap& shards,
                                        const std::vector<NodeId>& exclude) {
  return Pick(shard, nodes, shards, exclude, /*secondary=*/true);
}

std::optional<NodeId> PreferredSecondary(const TenantShard& shard, const NodeMap& nodes,
                                         const ShardMap& shards) {
  std::vector<NodeId> exclude;
  for (const auto& [id, node] : nodes) {
    if (!shard.intent.Contains(id) || shard.intent.attached == id) exclude.push_back(id);
  }
  return PickAttachedNode(shard, nodes, shards, exclude);
}

ScheduleResult ScheduleShard(TenantShard& shard, const NodeMap& nodes,
                                   const ShardMap& shards) {
  const IntentState before = shard.intent;
  bool unplaceable = false;
  switch (shard.policy.kind) {
    case PlacementPolicy::Kind::kAttached: {
      if (!shard.intent.attached) {
        std::optional<NodeId> node = PreferredSecondary(shard, nodes, shards);
        if (node) {
          shard.intent.RemoveSecondary(*node);
        } else {
          node = PickAttachedNode(shard, nodes, shards, {});
        }
        if (node) {
          shard.intent.attached = node;
        } else {
          unplaceable = true;
        }
      }
      const size_t wanted = shard.policy.secondaries;
      while (shard.intent.secondary.size() > wanted) shard.intent.secondary.pop_back();
      while (shard.intent.secondary.size() < wanted) {
        std::optional<NodeId> node =
            PickSecondaryNode(shard, nodes, shards, shard.intent.AllNodes());
        if (!node) {
          unplaceable = true;
          break;
        }
        shard.intent.secondary.push_back(*node);
      }
      break;
    }
    case PlacementPolicy::Kind::kSecondary: {
      shard.intent.DemoteAttached();
      if (shard.intent.secondary.empty()) {
        std::optional<NodeId> node = PickSecondaryNode(shard, nodes, shards, {});
        if (node) {
          shard.intent.secondary.push_back(*node);
        } else {
          unplaceable = true;
        }
      }
      while (shard.intent.secondary.size() > 1) shard.intent.secondary.pop_back();
      break;
    }
    case PlacementPolicy::Kind::kDetached:
      shard.intent.attached.reset();
      shard.intent.secondary.clear();
      break;
  }
  SIM_CHECK(!shard.intent.attached || std::find(shard.intent.secondary.begin(),
                                                shard.intent.secondary.end(),
                                                *shard.intent.attached) ==
                                          shard.intent.secondary.end());
  return ScheduleResult{.changed = !(before == shard.intent), .placed = !unplaceable};
}

}  // namespace storsim::controller
