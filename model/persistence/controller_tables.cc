// The reference semantics of every controller database operation (SPEC.md §2), transcribed from
// upstream's persistence.rs. Each operation validates first and mutates last, so an error leaves
// the tables unchanged, like a rolled-back transaction.
#include "model/persistence/controller_tables.h"

#include <utility>

#include "sim/check.h"

namespace storsim::persistence {

absl::Status ValidateSplitCounts(uint8_t old_count, uint8_t new_count) {
  const uint8_t parents = EffectiveShardCount(old_count);
  if (new_count < 2 * parents || new_count % parents != 0) {
    return absl::InvalidArgumentError("split from " + std::to_string(old_count) + " to " +
                                      std::to_string(new_count) + " shards");
  }
  return absl::OkStatus();
}

absl::Status ValidateShardRows(const std::vector<TenantShardRow>& shards) {
  for (const TenantShardRow& row : shards) {
    if (row.id.shard_number >= EffectiveShardCount(row.id.shard_count)) {
      return absl::InvalidArgumentError("shard number out of range: " + row.id.ToString());
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTenantFilter(const TenantFilter& filter) {
  if (filter.shard && filter.shard->tenant_id != filter.tenant_id) {
    return absl::InvalidArgumentError("shard filter " + filter.shard->ToString() +
                                      " outside tenant " + filter.tenant_id);
  }
  return absl::OkStatus();
}

ControllerTables::ControllerTables(const ControllerTables& other)
    : Persistence(other), leaders_(other.leaders_), nodes_(other.nodes_), shards_(other.shards_) {
  RebuildShardIndex();
}

ControllerTables& ControllerTables::operator=(const ControllerTables& other) {
  if (this == &other) return *this;
  leaders_ = other.leaders_;
  nodes_ = other.nodes_;
  shards_ = other.shards_;
  RebuildShardIndex();
  return *this;
}

void ControllerTables::RebuildShardIndex() {
  shard_index_.clear();
  shard_index_.reserve(shards_.size());
  for (auto& [id, row] : shards_) {
    SIM_CHECK(shard_index_.emplace(ShardKey(id), &row).second);
  }
}

TenantShardRow* ControllerTables::FindShard(const TenantShardId& id) {
  auto it = shard_index_.find(ShardKey(id));
  return it == shard_index_.end() ? nullptr : it->second;
}

void ControllerTables::InsertShard(TenantShardRow row) {
  TenantShardId id = row.id;
  auto [it, inserted] = shards_.emplace(std::move(id), std::move(row));
  SIM_CHECK_MSG(inserted, "shard row inserted twice");
  // The index's key views the map's own key, which lives as long as the row.
  SIM_CHECK(shard_index_.emplace(ShardKey(it->first), &it->second).second);
}

ControllerTables::ShardMap::iterator ControllerTables::EraseShard(ShardMap::iterator it) {
  SIM_CHECK(it != shards_.end());
  SIM_CHECK(shard_index_.erase(ShardKey(it->first)) == 1);
  return shards_.erase(it);
}

absl::StatusOr<std::optional<LeaderRow>> ControllerTables::GetLeader() {
  if (leaders_.size() > 1) {
    return absl::InternalError("more than one row in controllers: " +
                               std::to_string(leaders_.size()));
  }
  if (leaders_.empty()) return std::optional<LeaderRow>();
  return std::optional<LeaderRow>(*leaders_.begin());
}

absl::Status ControllerTables::UpdateLeader(const std::optional<LeaderRow>& prev,
                                            const LeaderRow& next) {
  if (!prev) {
    if (leaders_.count(next) > 0) return absl::AlreadyExistsError("leader row exists");
    leaders_.insert(next);
    return absl::OkStatus();
  }
  if (leaders_.count(*prev) == 0) {
    return absl::FailedPreconditionError("leader CAS failed: no row " + prev->ToString());
  }
  if (next != *prev && leaders_.count(next) > 0) {
    return absl::AlreadyExistsError("leader row exists");
  }
  leaders_.erase(*prev);
  leaders_.insert(next);
  return absl::OkStatus();
}

absl::StatusOr<Generation> ControllerTables::IncrementGeneration(const TenantShardId& shard,
                                                                 NodeId node) {
  TenantShardRow* found = FindShard(shard);
  if (found == nullptr) return absl::NotFoundError("no shard " + shard.ToString());
  TenantShardRow& row = *found;
  if (row.generation.is_none()) {
    return absl::FailedPreconditionError("generation is NULL for " + shard.ToString());
  }
  row.generation = row.generation.Next();
  row.generation_pageserver = node;
  return row.generation;
}

absl::StatusOr<GenerationMap> ControllerTables::ReAttach(NodeId node) {
  auto node_it = nodes_.find(node);
  if (node_it == nodes_.end()) return absl::NotFoundError("no node " + std::to_string(node));
  NodeRow& node_row = node_it->second;
  if (node_row.lifecycle == NodeLifecycle::kDeleted) {
    return absl::FailedPreconditionError("re-attach of deleted node " + std::to_string(node));
  }
  GenerationMap generations;
  for (auto& [id, row] : shards_) {
    if (row.generation_pageserver != node) continue;
    if (!row.generation.is_none()) row.generation = row.generation.Next();  // NULL + 1 = NULL
    generations[id] = row.generation;
  }
  switch (node_row.scheduling_policy) {
    case NodeSchedulingPolicy::kActive:
    case NodeSchedulingPolicy::kPauseForRestart:
    case NodeSchedulingPolicy::kDraining:
    case NodeSchedulingPolicy::kFilling:
      node_row.scheduling_policy = NodeSchedulingPolicy::kActive;
      break;
    case NodeSchedulingPolicy::kPause:
    case NodeSchedulingPolicy::kDeleting:
      node_row.scheduling_policy = NodeSchedulingPolicy::kPause;
      break;
  }
  return generations;
}

absl::StatusOr<GenerationMap> ControllerTables::ShardGenerations(
    const std::vector<TenantShardId>& shards) {
  GenerationMap generations;
  for (const TenantShardId& shard : shards) {
    if (const TenantShardRow* row = FindShard(shard)) generations[shard] = row->generation;
  }
  return generations;
}

absl::Status ControllerTables::UpdateTenantShard(const TenantFilter& filter,
                                                 const TenantShardUpdate& update) {
  if (absl::Status valid = ValidateTenantFilter(filter); !valid.ok()) return valid;
  auto apply = [&update](TenantShardRow& row) {
    if (update.placement_policy) {
      row.placement_policy = *update.placement_policy;
      if (update.placement_policy->kind != PlacementPolicy::Kind::kAttached) {
        row.generation_pageserver.reset();
      }
    }
    if (update.config) row.config = *update.config;
    if (update.generation) row.generation = *update.generation;
    if (update.scheduling_policy) row.scheduling_policy = *update.scheduling_policy;
  };
  if (filter.shard) {
    if (TenantShardRow* row = FindShard(*filter.shard)) apply(*row);
    return absl::OkStatus();
  }
  for (auto it = shards_.lower_bound(TenantShardId{filter.tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == filter.tenant_id; ++it) {
    apply(it->second);
  }
  return absl::OkStatus();
}

absl::Status ControllerTables::Detach(const TenantShardId& shard) {
  TenantShardRow* row = FindShard(shard);
  if (row == nullptr) return absl::NotFoundError("detach: no shard " + shard.ToString());
  row->generation_pageserver.reset();
  row->placement_policy = PlacementPolicy::Detached();
  return absl::OkStatus();
}

absl::Status ControllerTables::UpdateNodeSchedulingPolicy(NodeId node,
                                                          NodeSchedulingPolicy policy) {
  auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.lifecycle == NodeLifecycle::kDeleted) {
    return absl::NotFoundError("no live node " + std::to_string(node));
  }
  it->second.scheduling_policy = policy;
  return absl::OkStatus();
}

absl::Status ControllerTables::InsertNode(const NodeRow& node) {
  if (nodes_.count(node.node_id) > 0) {
    return absl::AlreadyExistsError("node " + std::to_string(node.node_id) + " exists");
  }
  nodes_.emplace(node.node_id, node);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NodeRow>> ControllerTables::ListNodes() {
  std::vector<NodeRow> nodes;
  for (const auto& [id, row] : nodes_) {
    if (row.lifecycle != NodeLifecycle::kDeleted) nodes.push_back(row);
  }
  return nodes;
}

absl::Status ControllerTables::DeleteNode(NodeId node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return absl::NotFoundError("no node " + std::to_string(node));
  it->second.lifecycle = NodeLifecycle::kDeleted;
  return absl::OkStatus();
}

absl::Status ControllerTables::InsertTenantShards(const std::vector<TenantShardRow>& shards) {
  if (absl::Status valid = ValidateShardRows(shards); !valid.ok()) return valid;
  std::set<TenantShardId> batch;
  for (const TenantShardRow& row : shards) {
    if (HasShard(row.id) || !batch.insert(row.id).second) {
      return absl::AlreadyExistsError("shard " + row.id.ToString() + " exists");
    }
  }
  for (const TenantShardRow& row : shards) InsertShard(row);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TenantShardRow>> ControllerTables::ListTenantShards() {
  std::vector<TenantShardRow> rows;
  rows.reserve(shards_.size());
  for (const auto& [id, row] : shards_) rows.push_back(row);
  return rows;
}

absl::Status ControllerTables::DeleteTenant(const std::string& tenant_id) {
  auto it = shards_.lower_bound(TenantShardId{tenant_id, 0, 0});
  while (it != shards_.end() && it->first.tenant_id == tenant_id) it = EraseShard(it);
  return absl::OkStatus();
}

absl::Status ControllerTables::BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                                               uint8_t new_count) {
  if (absl::Status valid = ValidateSplitCounts(old_count, new_count); !valid.ok()) return valid;
  const uint8_t parents = EffectiveShardCount(old_count);
  const uint8_t factor = new_count / parents;
  std::vector<TenantShardId> parent_ids;
  for (auto it = shards_.lower_bound(TenantShardId{tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == tenant_id; ++it) {
    if (it->first.shard_count == old_count) parent_ids.push_back(it->first);
  }
  if (parent_ids.size() != parents) {
    return absl::FailedPreconditionError("unexpected existing shard count " +
                                         std::to_string(parent_ids.size()) +
                                         " when preparing tenant for split");
  }
  std::vector<TenantShardRow> children;
  for (const TenantShardId& parent_id : parent_ids) {
    const TenantShardRow& parent = shards_.at(parent_id);
    for (uint8_t k = 0; k < factor; ++k) {
      TenantShardRow child = parent;
      child.id.shard_number = static_cast<uint8_t>(parent_id.shard_number + k * parents);
      child.id.shard_count = new_count;
      child.splitting = SplitState::kSplitting;
      if (HasShard(child.id)) {
        return absl::AlreadyExistsError("child shard " + child.id.ToString() + " exists");
      }
      children.push_back(std::move(child));
    }
  }
  SIM_CHECK(children.size() == new_count);
  for (const TenantShardId& parent_id : parent_ids) {
    shards_.at(parent_id).splitting = SplitState::kSplitting;
  }
  for (TenantShardRow& child : children) InsertShard(std::move(child));
  return absl::OkStatus();
}

absl::Status ControllerTables::CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                                  uint8_t new_count) {
  if (absl::Status valid = ValidateSplitCounts(old_count, new_count); !valid.ok()) return valid;
  std::vector<TenantShardId> parents;
  std::vector<TenantShardId> children;
  for (auto it = shards_.lower_bound(TenantShardId{tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == tenant_id; ++it) {
    if (it->first.shard_count == old_count) parents.push_back(it->first);
    if (it->first.shard_count == new_count) children.push_back(it->first);
  }
  if (children.size() != EffectiveShardCount(new_count)) {
    return absl::FailedPreconditionError("unexpected child shard count " +
                                         std::to_string(children.size()) +
                                         " while completing split");
  }
  for (const TenantShardId& parent : parents) EraseShard(shards_.find(parent));
  for (const TenantShardId& child : children) shards_.at(child).splitting = SplitState::kIdle;
  return absl::OkStatus();
}

absl::StatusOr<AbortShardSplitStatus> ControllerTables::AbortShardSplit(
    const std::string& tenant_id, uint8_t new_count) {
  std::vector<TenantShardId> parents;
  std::vector<TenantShardId> children;
  for (auto it = shards_.lower_bound(TenantShardId{tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == tenant_id; ++it) {
    (it->first.shard_count == new_count ? children : parents).push_back(it->first);
  }
  if (parents.empty()) return AbortShardSplitStatus::kComplete;
  if (parents.size() >= EffectiveShardCount(new_count)) {
    return absl::FailedPreconditionError("unexpected parent shard count " +
                                         std::to_string(parents.size()) + " aborting split");
  }
  for (const TenantShardId& parent : parents) shards_.at(parent).splitting = SplitState::kIdle;
  for (const TenantShardId& child : children) EraseShard(shards_.find(child));
  return AbortShardSplitStatus::kAborted;
}

absl::Status ControllerTables::SetGeneration(const TenantShardId& shard, Generation generation,
                                             NodeId node) {
  TenantShardRow* row = FindShard(shard);
  if (row == nullptr) return absl::NotFoundError("no shard " + shard.ToString());
  row->generation = generation;
  row->generation_pageserver = node;
  return absl::OkStatus();
}

absl::Status ControllerTables::OverwriteLeader(const LeaderRow& next) {
  // UPDATE controllers SET (address, started_at) = next, with no WHERE clause.
  if (leaders_.empty()) return absl::FailedPreconditionError("leader overwrite: 0 rows updated");
  if (leaders_.size() > 1) return absl::AlreadyExistsError("leader overwrite: duplicate key");
  leaders_.clear();
  leaders_.insert(next);
  return absl::OkStatus();
}

OpResult ControllerTables::Apply(const Operation& operation) {
  if (const auto* set = std::get_if<SetGenerationOp>(&operation)) {
    return OpResult{SetGeneration(set->shard, set->generation, set->node), {}};
  }
  if (const auto* overwrite = std::get_if<OverwriteLeaderOp>(&operation)) {
    return OpResult{OverwriteLeader(overwrite->next), {}};
  }
  return Execute(*this, operation);
}

bool ControllerTables::operator==(const ControllerTables& other) const {
  return leaders_ == other.leaders_ && nodes_ == other.nodes_ && shards_ == other.shards_;
}

std::string ControllerTables::Dump() const {
  std::string out;
  for (const LeaderRow& leader : leaders_) out += "leader " + leader.ToString() + "\n";
  for (const auto& [id, node] : nodes_) out += node.ToString() + "\n";
  for (const auto& [id, shard] : shards_) out += shard.ToString() + "\n";
  return out;
}

}  // namespace storsim::persistence
