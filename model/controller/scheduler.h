// Placement scheduling (upstream scheduler.rs and TenantShard::schedule; SPEC.md §6.5): which
// node gets a shard's attachment and its secondaries. Stateless: node loads are computed from the
// intents of all shards on each call, so there are no refcounts to drift.
//
// A node is eligible iff availability Active and scheduling policy Active or Filling. Attachment
// score (lower is better, compared in order): preferred-AZ mismatch, affinity (shards of the same
// tenant already on the node), utilisation score, attached-shard count, node id. Secondary score:
// preferred-AZ *match* (secondaries prefer other AZs), affinity, utilisation, shard count, id.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "model/controller/node_state.h"
#include "model/controller/tenant_shard.h"

namespace storsim::controller {

using ShardMap = std::map<TenantShardId, TenantShard>;
using NodeMap = std::map<NodeId, NodeState>;

struct NodeLoad {
  uint32_t attached = 0;
  uint32_t total = 0;  // attached + secondary
};
std::map<NodeId, NodeLoad> ComputeNodeLoads(const ShardMap& shards);

// The best eligible node for an attachment / a secondary of `shard`, excluding `exclude`;
// nullopt when none is eligible.
std::optional<NodeId> PickAttachedNode(const TenantShard& shard, const NodeMap& nodes,
                                       const ShardMap& shards, const std::vector<NodeId>& exclude);
std::optional<NodeId> PickSecondaryNode(const TenantShard& shard, const NodeMap& nodes,
                                        const ShardMap& shards,
                                        const std::vector<NodeId>& exclude);

// The secondary the scheduler would promote: the best-scoring schedulable one.
std::optional<NodeId> PreferredSecondary(const TenantShard& shard, const NodeMap& nodes,
                                         const ShardMap& shards);

// TenantShard::schedule: Attached(k) keeps the attachment, else promotes the preferred
// secondary, else picks a node; then adds secondaries up to k and drops extras. Secondary
// demotes the attachment and keeps one secondary. Detached clears the intent. Returns whether the
// intent changed (the caller bumps the sequence) and whether every needed placement was found
// (what could be placed stays placed when not).
struct ScheduleResult {
  bool changed = false;
  bool placed = true;
};
ScheduleResult ScheduleShard(TenantShard& shard, const NodeMap& nodes,
                                   const ShardMap& shards);

}  // namespace storsim::controller
