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
//   4. shard_index_ holds exactly one entry per row of shards_, keyed by a view of that row's key
//      and pointing at that row (std::map nodes never move, so the views and pointers stay valid
//      until the row is erased, which erases its index entry first). It serves point lookups
//      only: every iteration, and so every order that reaches a result, the WAL or the trace,
//      is the std::map's key order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

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
  // A copy rebuilds the shard index over its own rows; a move keeps the rows' nodes (and so the
  // index) as they are.
  ControllerTables(const ControllerTables& other);
  ControllerTables& operator=(const ControllerTables& other);
  ControllerTables(ControllerTables&& other) noexcept = default;
  ControllerTables& operator=(ControllerTables&& other) noexcept = default;
  ~ControllerTables() override = default;

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
  using ShardMap = std::map<TenantShardId, TenantShardRow>;
  // A shard id by view: the tenant id's bytes (owned by a shards_ key, or by the caller's id
  // during a lookup) and the shard number and count.
  struct ShardKey {
    std::string_view tenant_id;
    uint8_t shard_number = 0;
    uint8_t shard_count = 0;

    explicit ShardKey(const TenantShardId& id)
        : tenant_id(id.tenant_id), shard_number(id.shard_number), shard_count(id.shard_count) {}
    bool operator==(const ShardKey& other) const {
      return shard_number == other.shard_number && shard_count == other.shard_count &&
             tenant_id == other.tenant_id;
    }
    template <typename H>
    friend H AbslHashValue(H state, const ShardKey& key) {
      return H::combine(std::move(state),
                        absl::string_view(key.tenant_id.data(), key.tenant_id.size()),
                        static_cast<uint16_t>((key.shard_number << 8) | key.shard_count));
    }
  };
  // The row of `id`, or null. O(1): the index, not a walk of the ordered map.
  TenantShardRow* FindShard(const TenantShardId& id);
  bool HasShard(const TenantShardId& id) const { return shard_index_.contains(ShardKey(id)); }
  // Inserts a row whose id is absent (SIM_CHECK), in the map and the index.
  void InsertShard(TenantShardRow row);
  // Erases a row from the index, then the map; returns the next row in key order.
  ShardMap::iterator EraseShard(ShardMap::iterator it);
  void RebuildShardIndex();

  std::set<LeaderRow> leaders_;
  std::map<NodeId, NodeRow> nodes_;
  ShardMap shards_;
  // Invariant 4. Point lookups only, never iterated.
  absl::flat_hash_map<ShardKey, TenantShardRow*> shard_index_;  // determinism: ok (never iterated)
};

}  // namespace storsim::persistence
