// ControllerTables: the storage controller's three tables in memory and every Persistence
// operation as one atomic step — the reference semantics of SPEC.md §2. The simulated Postgres
// process holds one (rebuilt from its WAL on start); tests use it directly. Each operation either
// fully applies or, on error, changes nothing (it validates before it mutates), which is what a
// rolled-back serializable transaction gives.
//
// Invariants:
//   1. leaders_ is a set: no two identical (address, started_at) rows; it may hold several
//      distinct rows (the double first-ever INSERT of SPEC §3.6 item 4).
//   2. Every shard row's key equals its id; every node row's key equals its node_id.
//   3. A failed operation leaves all three tables unchanged.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/persistence/operation.h"
#include "model/persistence/persistence.h"

namespace storsim::persistence {

// Request checks shared by every implementation (done before any database work).
// new_count must be a multiple >= 2 of max(old_count, 1).
absl::Status ValidateSplitCounts(uint8_t old_count, uint8_t new_count);
// Each row's shard_number must be below max(shard_count, 1).
absl::Status ValidateShardRows(const std::vector<TenantShardRow>& shards);
// A shard filter must name the filter's tenant.
absl::Status ValidateTenantFilter(const TenantFilter& filter);
// The parent count of a split from old_count shards: max(old_count, 1).
inline uint8_t EffectiveShardCount(uint8_t count) { return count == 0 ? 1 : count; }

class ControllerTables : public Persistence {
 public:
  ControllerTables() = default;

  absl::StatusOr<std::optional<LeaderRow>> GetLeader() override;
  absl::Status UpdateLeader(const std::optional<LeaderRow>& prev, const LeaderRow& next) override;
  absl::StatusOr<Generation> IncrementGeneration(const TenantShardId& shard, NodeId node) override;
  absl::StatusOr<GenerationMap> ReAttach(NodeId node) override;
  absl::StatusOr<GenerationMap> ShardGenerations(
      const std::vector<TenantShardId>& shards) override;
  absl::Status UpdateTenantShard(const TenantFilter& filter,
                                 const TenantShardUpdate& update) override;
  absl::Status Detach(const TenantShardId& shard) override;
  absl::Status UpdateNodeSchedulingPolicy(NodeId node, NodeSchedulingPolicy policy) override;
  absl::Status InsertNode(const NodeRow& node) override;
  absl::StatusOr<std::vector<NodeRow>> ListNodes() override;
  absl::Status DeleteNode(NodeId node) override;
  absl::Status InsertTenantShards(const std::vector<TenantShardRow>& shards) override;
  absl::StatusOr<std::vector<TenantShardRow>> ListTenantShards() override;
  absl::Status DeleteTenant(const std::string& tenant_id) override;
  absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                               uint8_t new_count) override;
  absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                  uint8_t new_count) override;
  absl::StatusOr<AbortShardSplitStatus> AbortShardSplit(const std::string& tenant_id,
                                                        uint8_t new_count) override;

  // The write halves of bug #5's read-then-write (see SetGenerationOp, OverwriteLeaderOp).
  // SetGeneration: NotFound for a missing shard. OverwriteLeader (UPDATE of every row, no WHERE):
  // FailedPrecondition on an empty table, AlreadyExists when it holds two rows or more.
  absl::Status SetGeneration(const TenantShardId& shard, Generation generation, NodeId node);
  absl::Status OverwriteLeader(const LeaderRow& next);

  // Any operation, the two write halves included, as one atomic step.
  OpResult Apply(const Operation& operation);

  // Read-only views for checkers and tests.
  const std::set<LeaderRow>& leaders() const { return leaders_; }
  const std::map<NodeId, NodeRow>& nodes() const { return nodes_; }
  const std::map<TenantShardId, TenantShardRow>& shards() const { return shards_; }
  bool operator==(const ControllerTables& other) const;
  // Every row, one per line, in key order: for failure messages and state comparisons.
  std::string Dump() const;

 private:
  std::set<LeaderRow> leaders_;
  std::map<NodeId, NodeRow> nodes_;
  std::map<TenantShardId, TenantShardRow> shards_;
};

}  // namespace storsim::persistence
