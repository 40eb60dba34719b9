// Tenant API handlers: create, delete, shard migrate, placement policy, describe. Each persists
// first, then changes memory, then reconciles and waits (30 s) for the reconciles it spawned;
// create answers success even when the wait times out (upstream).
#include <algorithm>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

api::ShardPlacement Service::Placement(const TenantShard& shard) const {
  return api::ShardPlacement{shard.id, shard.intent.attached, shard.intent.secondary,
                             shard.generation};
}

api::TenantCreateResponse Service::HandleTenantCreate(const api::TenantCreateRequest& request) {
  api::TenantCreateResponse response;
  auto existing = shards_.lower_bound(TenantShardId{request.tenant_id, 0, 0});
  if (existing != shards_.end() && existing->first.tenant_id == request.tenant_id) {
    response.status = api::Http::kConflict;
    return response;
  }
  const uint8_t count = request.shard_count;
  const int numbers = count == 0 ? 1 : count;
  std::vector<persistence::TenantShardRow> rows;
  for (int number = 0; number < numbers; ++number) {
    persistence::TenantShardRow row;
    row.id = TenantShardId{request.tenant_id, static_cast<uint8_t>(number), count};
    row.shard_stripe_size = request.stripe_size;
    row.generation = Generation(0);  // the first attach increments to 1
    row.placement_policy = request.placement;
    row.preferred_az_id = request.preferred_az;
    rows.push_back(row);
  }
  absl::Status status = db_.InsertTenantShards(rows);
  if (!status.ok()) {
    response.status = status.code() == absl::StatusCode::kAlreadyExists ? api::Http::kConflict
                                                                         : api::Http::kInternalError;
    return response;
  }
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  for (const persistence::TenantShardRow& row : rows) {
    TenantShard shard;
    shard.id = row.id;
    shard.stripe_size = row.shard_stripe_size;
    shard.policy = row.placement_policy;
    shard.generation = row.generation;
    shard.intent.preferred_az = row.preferred_az_id;
    shard.progress = std::make_shared<sim::Event>(context_.env().scheduler());
    TenantShard& stored = shards_[row.id] = std::move(shard);
    Schedule(stored, "create");
    std::optional<uint64_t> waiter = MaybeReconcile(row.id, Priority::kHigh);
    if (waiter) waiters.push_back({row.id, *waiter});
  }
  for (const auto& [id, sequence] : waiters) {
    (void)WaitForSequence(id, sequence, context_.timings().reconcile_wait);
  }
  for (const persistence::TenantShardRow& row : rows) {
    auto it = shards_.find(row.id);
    if (it != shards_.end()) response.shards.push_back(Placement(it->second));
  }
  return response;
}

api::StatusResponse Service::HandleTenantDelete(const api::TenantDeleteRequest& request) {
  std::vector<TenantShardId> ids;
  for (auto it = shards_.lower_bound(TenantShardId{request.tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == request.tenant_id; ++it) {
    ids.push_back(it->first);
  }
  if (ids.empty()) return {api::Http::kNotFound};
  // Detach every location first (policy Detached, then reconcile and wait).
  absl::Status status = db_.UpdateTenantShard(persistence::TenantFilter{request.tenant_id, std::nullopt},
                                              {PlacementPolicy::Detached(), {}, {}, {}});
  if (!status.ok()) return {api::Http::kInternalError};
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  for (const TenantShardId& id : ids) {
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    it->second.policy = PlacementPolicy::Detached();
    Schedule(it->second, "delete");
    std::optional<uint64_t> waiter = MaybeReconcile(id, Priority::kHigh);
    if (waiter) waiters.push_back({id, *waiter});
  }
  for (const auto& [id, sequence] : waiters) {
    absl::Status waited = WaitForSequence(id, sequence, context_.timings().reconcile_wait);
    if (!waited.ok()) return {api::Http::kServiceUnavailable};
  }
  status = db_.DeleteTenant(request.tenant_id);
  if (!status.ok()) return {api::Http::kInternalError};
  for (const TenantShardId& id : ids) shards_.erase(id);
  compute_hook_.DropTenant(request.tenant_id);
  return {api::Http::kOk};
}

api::StatusResponse Service::HandleTenantMigrate(const api::TenantShardMigrateRequest& request) {
  auto it = shards_.find(request.shard);
  if (it == shards_.end()) return {api::Http::kNotFound};
  auto node = nodes_.find(request.node_id);
  if (node == nodes_.end()) return {api::Http::kNotFound};
  if (!node->second.schedulable()) return {api::Http::kPreconditionFailed};
  TenantShard& shard = it->second;
  if (shard.policy.kind != PlacementPolicy::Kind::kAttached) return {api::Http::kPreconditionFailed};
  if (shard.intent.attached == request.node_id) return {api::Http::kOk};
  // The new attached node stops being a secondary; the old one becomes a secondary if the
  // policy wants any (dropping others to make room).
  shard.intent.RemoveSecondary(request.node_id);
  if (shard.intent.attached && shard.policy.secondaries > 0) {
    while (shard.intent.secondary.size() >= shard.policy.secondaries) shard.intent.secondary.pop_back();
    shard.intent.secondary.push_back(*shard.intent.attached);
  }
  shard.intent.attached = request.node_id;
  BumpSequence(shard, "migrate");
  std::optional<uint64_t> waiter = MaybeReconcile(request.shard, Priority::kHigh);
  if (waiter) {
    absl::Status waited = WaitForSequence(request.shard, *waiter, context_.timings().reconcile_wait);
    if (!waited.ok()) return {api::Http::kServiceUnavailable};
  }
  return {api::Http::kOk};
}

api::StatusResponse Service::HandleTenantPolicy(const api::TenantPolicyRequest& request) {
  std::vector<TenantShardId> ids;
  for (auto it = shards_.lower_bound(TenantShardId{request.tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == request.tenant_id; ++it) {
    ids.push_back(it->first);
  }
  if (ids.empty()) return {api::Http::kNotFound};
  absl::Status status = db_.UpdateTenantShard(persistence::TenantFilter{request.tenant_id, std::nullopt},
                                              {request.placement, {}, {}, {}});
  if (!status.ok()) {
    // The write may have committed all the same (a timeout: chaos 8737, the database paused):
    // then the database names no pageserver for these shards, and an attach afterwards must
    // name one again, as after a write that succeeded. Counting a write that did not commit as
    // one that did costs one generation at the next attach.
    if (request.placement.kind != PlacementPolicy::Kind::kAttached &&
        !KeepsNullGenerationPageserver()) {
      for (const TenantShardId& id : ids) {
        auto it = shards_.find(id);
        if (it == shards_.end()) continue;
        it->second.generation_pageserver_null = true;
        // Reconciles spawned from now on count (SpawnReconciler's sequences exceed any in
        // flight), and so does an increment of one in flight that returns after now: the
        // database applies transactions in order (chaos 8737: a reconcile's increment during the
        // database's pause named the node again after the write).
        it->second.generation_pageserver_cleared_sequence = it->second.sequence + 1;
        it->second.generation_pageserver_maybe_cleared_at = context_.env().scheduler().Now();
      }
    }
    return {api::Http::kInternalError};
  }
  std::vector<std::pair<TenantShardId, uint64_t>> waiters;
  for (const TenantShardId& id : ids) {
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    it->second.policy = request.placement;
    // The write cleared generation_pageserver unless the policy is Attached.
    if (request.placement.kind != PlacementPolicy::Kind::kAttached &&
        !KeepsNullGenerationPageserver()) {
      it->second.generation_pageserver_null = true;
    }
    Schedule(it->second, "policy");
    if (it->second.generation_pageserver_null) {
      it->second.generation_pageserver_maybe_cleared_at.reset();  // this write did clear it
      it->second.generation_pageserver_cleared_sequence = it->second.sequence;
    }
    std::optional<uint64_t> waiter = MaybeReconcile(id, Priority::kHigh);
    if (waiter) waiters.push_back({id, *waiter});
  }
  for (const auto& [id, sequence] : waiters) {
    (void)WaitForSequence(id, sequence, context_.timings().reconcile_wait);
  }
  return {api::Http::kOk};
}

api::TenantDescribeResponse Service::HandleTenantDescribe(const api::TenantDescribeRequest& request) {
  api::TenantDescribeResponse response;
  for (auto it = shards_.lower_bound(TenantShardId{request.tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == request.tenant_id; ++it) {
    response.shards.push_back(Placement(it->second));
  }
  if (response.shards.empty()) response.status = api::Http::kNotFound;
  return response;
}

}  // namespace storsim::controller
