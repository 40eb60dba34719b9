// Persistence: the storage controller's database operations (SPEC.md §2), each one serializable
// transaction, with the exact results and errors upstream's persistence.rs gives. Implemented by
// ControllerTables (in memory, the reference semantics), PostgresClient (a simulated client of the
// fake Postgres process) and LibpqPersistence (a real PostgreSQL); the conformance suite holds the
// three to the same answers.
//
// Calls are synchronous: in the simulation they block the calling fiber. No call spans two
// transactions except shard_generations, which runs one transaction per 32 ids as upstream does.
//
// Error codes, the same in every implementation (tests compare codes, not messages):
//   NotFound            the row the operation must change does not exist (increment of a missing
//                       shard, detach of a missing shard, policy of a missing or deleted node,
//                       re_attach of an unknown node, delete of a missing node).
//   FailedPrecondition  the rows exist but the operation refuses: leader CAS mismatch (0 rows
//                       updated), re_attach of a deleted node, increment of a shard whose
//                       generation is NULL, shard split with the wrong parent/child count.
//   AlreadyExists       primary-key conflict on insert (node, shard, leader row, split children).
//   Internal            a logical error in the data: more than one leader row.
//   InvalidArgument     a malformed request, refused before any database work.
//   Aborted             serialization failure after all 128 retries (retryable).
//   ResourceExhausted   connection refused for too many clients.
//   Unavailable         the database is down (connection refused).
//   DeadlineExceeded    no answer in time: the transaction may or may not have committed.
// A failed operation has no effect (the transaction rolled back), except for the last three,
// whose effect is unknown to the caller (ambiguous commit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/persistence/types.h"

namespace storsim::persistence {

// Upstream: TransactionRetryLimit / MAX_RETRIES in persistence.rs.
inline constexpr int kSerializationRetriesMax = 128;
// shard_generations reads this many ids per transaction.
inline constexpr size_t kShardGenerationsChunk = 32;

// The columns update_tenant_shard may set; nullopt = leave unchanged.
struct TenantShardUpdate {
  std::optional<PlacementPolicy> placement_policy;
  std::optional<std::string> config;
  std::optional<Generation> generation;
  std::optional<std::string> scheduling_policy;
  bool operator==(const TenantShardUpdate&) const = default;
};

// Which rows update_tenant_shard touches: one shard, or every shard of a tenant.
struct TenantFilter {
  std::string tenant_id;
  std::optional<TenantShardId> shard;  // set: exactly this shard; unset: all of tenant_id
  bool operator==(const TenantFilter&) const = default;
};

using GenerationMap = std::map<TenantShardId, Generation>;

class Persistence {
 public:
  virtual ~Persistence() = default;

  // All rows of `controllers`: nullopt when empty (or the table does not exist yet); Internal when
  // more than one row.
  virtual absl::StatusOr<std::optional<LeaderRow>> GetLeader() = 0;

  // With `prev`: compare-and-swap of the row equal to prev (address and started_at) to `next`;
  // FailedPrecondition when no row matched. Without: plain INSERT of `next` (no emptiness check,
  // SPEC §3.6 item 4); AlreadyExists when an identical row exists.
  virtual absl::Status UpdateLeader(const std::optional<LeaderRow>& prev,
                                    const LeaderRow& next) = 0;

  // generation := generation + 1, generation_pageserver := node; returns the new generation.
  // NotFound for a missing shard; FailedPrecondition when the generation is NULL (no change).
  virtual absl::StatusOr<Generation> IncrementGeneration(const TenantShardId& shard,
                                                         NodeId node) = 0;

  // SPEC §4.1 / §2: NotFound for an unknown node, FailedPrecondition for a deleted one; otherwise
  // increments the generation of every shard whose generation_pageserver is `node`, rewrites the
  // node's scheduling policy (active/pause_for_restart/draining/filling -> active, pause and
  // deleting -> pause), and returns those shards' new generations.
  virtual absl::StatusOr<GenerationMap> ReAttach(NodeId node) = 0;

  // The generation of each given shard that exists (missing ids are left out), in id order.
  virtual absl::StatusOr<GenerationMap> ShardGenerations(
      const std::vector<TenantShardId>& shards) = 0;

  // Sets the given columns on the filtered rows; a Secondary or Detached placement also clears
  // generation_pageserver. Matching no row is not an error (upstream does not count rows).
  // InvalidArgument when a shard filter names another tenant than filter.tenant_id.
  virtual absl::Status UpdateTenantShard(const TenantFilter& filter,
                                         const TenantShardUpdate& update) = 0;

  // generation_pageserver := NULL, placement := Detached. NotFound unless exactly one row changed.
  virtual absl::Status Detach(const TenantShardId& shard) = 0;

  // NotFound unless exactly one non-deleted node row changed.
  virtual absl::Status UpdateNodeSchedulingPolicy(NodeId node, NodeSchedulingPolicy policy) = 0;

  // INSERT; AlreadyExists when the node id is taken (a tombstone included).
  virtual absl::Status InsertNode(const NodeRow& node) = 0;
  // Non-deleted nodes in id order.
  virtual absl::StatusOr<std::vector<NodeRow>> ListNodes() = 0;
  // Soft delete (lifecycle := deleted). NotFound when no such row.
  virtual absl::Status DeleteNode(NodeId node) = 0;

  // INSERT of every row in one transaction; AlreadyExists (nothing inserted) on any conflict,
  // two given rows with one id included. InvalidArgument (checked before any database work) when
  // a row's shard_number is not below max(shard_count, 1).
  virtual absl::Status InsertTenantShards(const std::vector<TenantShardRow>& shards) = 0;
  // Every shard row in id order.
  virtual absl::StatusOr<std::vector<TenantShardRow>> ListTenantShards() = 0;
  // Deletes every shard of the tenant (none is fine).
  virtual absl::Status DeleteTenant(const std::string& tenant_id) = 0;

  // Marks the tenant's old_count parents splitting and inserts, for each parent, the children
  // shard_number = parent.shard_number + k * old_count (k < new_count / old_count) with
  // shard_count = new_count, copying the parent row (generation included) and splitting = 1.
  // InvalidArgument unless new_count is a multiple >= 2 of max(old_count, 1) and <= 255;
  // FailedPrecondition unless exactly max(old_count, 1) parents exist; AlreadyExists when a child
  // exists already.
  virtual absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                                       uint8_t new_count) = 0;
  // FailedPrecondition unless exactly max(new_count, 1) children exist; otherwise deletes the
  // old_count parents and clears the children's splitting flag.
  virtual absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                          uint8_t new_count) = 0;
  // Clears splitting on rows with shard_count != new_count; none ⇒ kComplete. As many or more
  // such rows than new_count ⇒ FailedPrecondition. Else deletes the children ⇒ kAborted.
  virtual absl::StatusOr<AbortShardSplitStatus> AbortShardSplit(const std::string& tenant_id,
                                                                uint8_t new_count) = 0;
};

}  // namespace storsim::persistence
