// The controller's handle on its database: forwards each call to the Persistence it was given
// (ControllerTables in unit tests, the simulated PostgresClient in scenarios) and emits a
// ctl.db_write trace event for every write, with its result, so checkers can see which instance
// wrote what and when (S2, S3, S4). Reads are not traced except get_leader.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/controller/context.h"
#include "model/persistence/persistence.h"

namespace storsim::controller {

class Db {
 public:
  Db(Context& context, std::unique_ptr<persistence::Persistence> persistence)
      : context_(context), persistence_(std::move(persistence)) {}

  absl::StatusOr<std::optional<persistence::LeaderRow>> GetLeader();
  absl::Status UpdateLeader(const std::optional<persistence::LeaderRow>& prev,
                            const persistence::LeaderRow& next);
  // Also emits ctl.generation (via = `via`) on success.
  absl::StatusOr<persistence::Generation> IncrementGeneration(
      const persistence::TenantShardId& shard, persistence::NodeId node, const char* via);
  absl::StatusOr<persistence::GenerationMap> ReAttach(persistence::NodeId node);
  absl::StatusOr<persistence::GenerationMap> ShardGenerations(
      const std::vector<persistence::TenantShardId>& shards);
  absl::Status UpdateTenantShard(const persistence::TenantFilter& filter,
                                 const persistence::TenantShardUpdate& update);
  absl::Status Detach(const persistence::TenantShardId& shard);
  absl::Status UpdateNodeSchedulingPolicy(persistence::NodeId node,
                                          persistence::NodeSchedulingPolicy policy);
  absl::Status InsertNode(const persistence::NodeRow& node);
  absl::StatusOr<std::vector<persistence::NodeRow>> ListNodes();
  absl::Status DeleteNode(persistence::NodeId node);
  absl::Status InsertTenantShards(const std::vector<persistence::TenantShardRow>& shards);
  absl::StatusOr<std::vector<persistence::TenantShardRow>> ListTenantShards();
  absl::Status DeleteTenant(const std::string& tenant_id);
  absl::StatusOr<persistence::AbortShardSplitStatus> AbortShardSplit(const std::string& tenant_id,
                                                                     uint8_t new_count);
  // Shard split (shard_split.cc), traced as ctl.db_write op begin_shard_split /
  // complete_shard_split with tenant, old_count, new_count.
  absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count, uint8_t new_count);
  absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                  uint8_t new_count);
  // Upstream's complete_shard_split before PR #11256 (bug #2): delete the parents and clear the
  // flag without checking that the children still exist. Emulated on the current operations:
  // the checked complete, and when it refuses because no child row is left (an abort deleted
  // them), the tenant's remaining rows — all parents then — are deleted, which is what the
  // unchecked DELETE would have done. Traced as one complete_shard_split write with unchecked=1.
  absl::Status CompleteShardSplitUnchecked(const std::string& tenant_id, uint8_t old_count,
                                           uint8_t new_count);

 private:
  void Write(const char* op, const absl::Status& status, std::vector<sim::TraceField> fields);

  Context& context_;
  std::unique_ptr<persistence::Persistence> persistence_;
};

}  // namespace storsim::controller
