// Operations as values: one struct per Persistence call, a variant of them (Operation), and a
// variant of their results (OpResult). The simulated Postgres carries an Operation per RPC and
// logs committed ones to its WAL; the conformance suite generates random Operations and runs the
// same sequence against the fake and a real database, comparing OpResults with SameAs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "model/persistence/persistence.h"
#include "model/persistence/types.h"

namespace storsim::persistence {

struct GetLeaderOp {};
struct UpdateLeaderOp {
  std::optional<LeaderRow> prev;
  LeaderRow next;
};
struct IncrementGenerationOp {
  TenantShardId shard;
  NodeId node = 0;
};
struct ReAttachOp {
  NodeId node = 0;
};
struct ShardGenerationsOp {
  std::vector<TenantShardId> shards;
};
struct UpdateTenantShardOp {
  TenantFilter filter;
  TenantShardUpdate update;
};
struct DetachOp {
  TenantShardId shard;
};
struct UpdateNodeSchedulingPolicyOp {
  NodeId node = 0;
  NodeSchedulingPolicy policy = NodeSchedulingPolicy::kActive;
};
struct InsertNodeOp {
  NodeRow node;
};
struct ListNodesOp {};
struct DeleteNodeOp {
  NodeId node = 0;
};
struct InsertTenantShardsOp {
  std::vector<TenantShardRow> shards;
};
struct ListTenantShardsOp {};
struct DeleteTenantOp {
  std::string tenant_id;
};
struct BeginShardSplitOp {
  std::string tenant_id;
  uint8_t old_count = 0;
  uint8_t new_count = 0;
};
struct CompleteShardSplitOp {
  std::string tenant_id;
  uint8_t old_count = 0;
  uint8_t new_count = 0;
};
struct AbortShardSplitOp {
  std::string tenant_id;
  uint8_t new_count = 0;
};
// The write halves of the non-atomic (bug #5, READ COMMITTED read-then-write) increment and leader
// CAS. Never issued by a correct client; they exist so the defect's writes reach the WAL.
struct SetGenerationOp {  // UPDATE .. SET generation = value, generation_pageserver = node
  TenantShardId shard;
  Generation generation;
  NodeId node = 0;
};
struct OverwriteLeaderOp {  // DELETE FROM controllers; INSERT next
  LeaderRow next;
};

using Operation =
    std::variant<GetLeaderOp, UpdateLeaderOp, IncrementGenerationOp, ReAttachOp, ShardGenerationsOp,
                 UpdateTenantShardOp, DetachOp, UpdateNodeSchedulingPolicyOp, InsertNodeOp,
                 ListNodesOp, DeleteNodeOp, InsertTenantShardsOp, ListTenantShardsOp,
                 DeleteTenantOp, BeginShardSplitOp, CompleteShardSplitOp, AbortShardSplitOp,
                 SetGenerationOp, OverwriteLeaderOp>;

// The op's name as a string literal ("increment_generation"), for trace events and messages.
const char* OperationName(const Operation& operation);
// Whether a committed operation can change the tables (and so is written to the WAL).
bool IsMutation(const Operation& operation);
std::string OperationToString(const Operation& operation);

using OpValue = std::variant<std::monostate, std::optional<LeaderRow>, Generation, GenerationMap,
                             std::vector<NodeRow>, std::vector<TenantShardRow>,
                             AbortShardSplitStatus>;

struct OpResult {
  absl::Status status;
  OpValue value;  // monostate when the status is an error or the op returns nothing

  // Same status code and same value (messages may differ between implementations).
  bool SameAs(const OpResult& other) const;
  std::string ToString() const;
};

// Runs one operation through the Persistence interface. SetGenerationOp and OverwriteLeaderOp are
// not part of the interface: Execute refuses them (InvalidArgument); ControllerTables::Apply runs
// them.
OpResult Execute(Persistence& persistence, const Operation& operation);

}  // namespace storsim::persistence
