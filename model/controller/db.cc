// Traced database access (see db.h) and the context helpers.
#include "model/controller/db.h"

#include <utility>

#include "model/controller/events.h"

namespace storsim::controller {

using sim::TraceField;

int64_t GenerationField(const persistence::Generation& generation) {
  return generation.is_none() ? -1 : static_cast<int64_t>(generation.value());
}

void Context::Emit(std::string_view kind, std::vector<sim::TraceField> fields) {
  fields.push_back(TraceField::Str("instance", options_.address));
  fields.push_back(TraceField::Int("incarnation", static_cast<int64_t>(env_.incarnation())));
  env_.Emit(kind, std::move(fields));
}

sim::ProcessId Context::Resolve(const std::string& address) const {
  if (options_.directory == nullptr) return -1;
  std::optional<sim::ProcessId> process = options_.directory->Resolve(address);
  return process ? *process : -1;
}

void Db::Write(const char* op, const absl::Status& status, std::vector<TraceField> fields) {
  fields.push_back(TraceField::Str("op", op));
  fields.push_back(TraceField::Str("result", status.ok() ? "ok" : "error"));
  if (!status.ok()) fields.push_back(TraceField::Str("error", status.ToString()));
  context_.Emit(events::kDbWrite, std::move(fields));
}

absl::StatusOr<std::optional<persistence::LeaderRow>> Db::GetLeader() {
  auto leader = persistence_->GetLeader();
  std::vector<TraceField> fields{TraceField::Str("result", leader.ok() ? "ok" : "error")};
  if (leader.ok() && leader->has_value()) {
    fields.push_back(TraceField::Str("leader", (*leader)->address));
    fields.push_back(TraceField::Int("started_at", (*leader)->started_at));
  } else {
    fields.push_back(TraceField::Str("leader", ""));
  }
  context_.Emit(events::kLeaderRead, std::move(fields));
  return leader;
}

absl::Status Db::UpdateLeader(const std::optional<persistence::LeaderRow>& prev,
                              const persistence::LeaderRow& next) {
  absl::Status status = persistence_->UpdateLeader(prev, next);
  Write("update_leader", status,
        {TraceField::Str("prev_address", prev ? prev->address : ""),
         TraceField::Int("prev_started_at", prev ? prev->started_at : -1),
         TraceField::Str("address", next.address), TraceField::Int("started_at", next.started_at)});
  return status;
}

absl::StatusOr<persistence::Generation> Db::IncrementGeneration(
    const persistence::TenantShardId& shard, persistence::NodeId node, const char* via) {
  auto generation = persistence_->IncrementGeneration(shard, node);
  Write("increment_generation", generation.status(),
        {TraceField::Str("shard", shard.ToString()), TraceField::Int("node", node),
         TraceField::Int("generation", generation.ok() ? GenerationField(*generation) : -1)});
  if (generation.ok()) {
    context_.Emit(events::kGeneration,
                  {TraceField::Str("shard", shard.ToString()),
                   TraceField::Int("generation", GenerationField(*generation)),
                   TraceField::Int("node", node), TraceField::Str("via", via)});
  }
  return generation;
}

absl::StatusOr<persistence::GenerationMap> Db::ReAttach(persistence::NodeId node) {
  auto generations = persistence_->ReAttach(node);
  Write("re_attach", generations.status(),
        {TraceField::Int("node", node),
         TraceField::Int("shards", generations.ok() ? static_cast<int64_t>(generations->size())
                                                    : 0)});
  if (generations.ok()) {
    for (const auto& [shard, generation] : *generations) {
      context_.Emit(events::kGeneration,
                    {TraceField::Str("shard", shard.ToString()),
                     TraceField::Int("generation", GenerationField(generation)),
                     TraceField::Int("node", node), TraceField::Str("via", "re_attach")});
    }
  }
  return generations;
}

absl::StatusOr<persistence::GenerationMap> Db::ShardGenerations(
    const std::vector<persistence::TenantShardId>& shards) {
  return persistence_->ShardGenerations(shards);
}

absl::Status Db::UpdateTenantShard(const persistence::TenantFilter& filter,
                                   const persistence::TenantShardUpdate& update) {
  absl::Status status = persistence_->UpdateTenantShard(filter, update);
  Write("update_tenant_shard", status,
        {TraceField::Str("tenant", filter.tenant_id),
         TraceField::Str("shard", filter.shard ? filter.shard->ToString() : ""),
         TraceField::Str("placement",
                         update.placement_policy ? update.placement_policy->ToJson() : "")});
  return status;
}

absl::Status Db::Detach(const persistence::TenantShardId& shard) {
  absl::Status status = persistence_->Detach(shard);
  Write("detach", status, {TraceField::Str("shard", shard.ToString())});
  return status;
}

absl::Status Db::UpdateNodeSchedulingPolicy(persistence::NodeId node,
                                            persistence::NodeSchedulingPolicy policy) {
  absl::Status status = persistence_->UpdateNodeSchedulingPolicy(node, policy);
  Write("update_node_scheduling_policy", status,
        {TraceField::Int("node", node),
         TraceField::Str("policy", persistence::NodeSchedulingPolicyName(policy))});
  return status;
}

absl::Status Db::InsertNode(const persistence::NodeRow& node) {
  absl::Status status = persistence_->InsertNode(node);
  Write("insert_node", status, {TraceField::Int("node", node.node_id)});
  return status;
}

absl::StatusOr<std::vector<persistence::NodeRow>> Db::ListNodes() {
  return persistence_->ListNodes();
}

absl::Status Db::DeleteNode(persistence::NodeId node) {
  absl::Status status = persistence_->DeleteNode(node);
  Write("delete_node", status, {TraceField::Int("node", node)});
  return status;
}

absl::Status Db::InsertTenantShards(const std::vector<persistence::TenantShardRow>& shards) {
  absl::Status status = persistence_->InsertTenantShards(shards);
  Write("insert_tenant_shards", status,
        {TraceField::Str("tenant", shards.empty() ? "" : shards.front().id.tenant_id),
         TraceField::Int("shards", static_cast<int64_t>(shards.size()))});
  return status;
}

absl::StatusOr<std::vector<persistence::TenantShardRow>> Db::ListTenantShards() {
  return persistence_->ListTenantShards();
}

absl::Status Db::DeleteTenant(const std::string& tenant_id) {
  absl::Status status = persistence_->DeleteTenant(tenant_id);
  Write("delete_tenant", status, {TraceField::Str("tenant", tenant_id)});
  return status;
}

absl::StatusOr<persistence::AbortShardSplitStatus> Db::AbortShardSplit(
    const std::string& tenant_id, uint8_t new_count) {
  auto result = persistence_->AbortShardSplit(tenant_id, new_count);
  Write("abort_shard_split", result.status(),
        {TraceField::Str("tenant", tenant_id), TraceField::Int("new_count", new_count)});
  return result;
}

absl::Status Db::BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                                 uint8_t new_count) {
  absl::Status status = persistence_->BeginShardSplit(tenant_id, old_count, new_count);
  Write("begin_shard_split", status,
        {TraceField::Str("tenant", tenant_id), TraceField::Int("old_count", old_count),
         TraceField::Int("new_count", new_count)});
  return status;
}

absl::Status Db::CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                    uint8_t new_count) {
  absl::Status status = persistence_->CompleteShardSplit(tenant_id, old_count, new_count);
  Write("complete_shard_split", status,
        {TraceField::Str("tenant", tenant_id), TraceField::Int("old_count", old_count),
         TraceField::Int("new_count", new_count), TraceField::Int("unchecked", 0)});
  return status;
}

absl::Status Db::CompleteShardSplitUnchecked(const std::string& tenant_id, uint8_t old_count,
                                             uint8_t new_count) {
  absl::Status status = persistence_->CompleteShardSplit(tenant_id, old_count, new_count);
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    auto rows = persistence_->ListTenantShards();
    status = rows.status();
    if (rows.ok()) {
      bool only_parents = true;
      for (const persistence::TenantShardRow& row : *rows) {
        if (row.id.tenant_id == tenant_id && row.id.shard_count != old_count) only_parents = false;
      }
      // Children left (a partial set): the unchecked statements would keep them; leave as is.
      status = only_parents ? persistence_->DeleteTenant(tenant_id) : absl::OkStatus();
    }
  }
  Write("complete_shard_split", status,
        {TraceField::Str("tenant", tenant_id), TraceField::Int("old_count", old_count),
         TraceField::Int("new_count", new_count), TraceField::Int("unchecked", 1)});
  return status;
}

}  // namespace storsim::controller
