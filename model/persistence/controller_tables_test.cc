// ControllerTables alone: each operation's result, error and rollback, and the value types' text
// forms. The same scripts run against the fake process and a real PostgreSQL in
// model/postgres/conformance_test.cc.
#include "model/persistence/controller_tables.h"

#include <gtest/gtest.h>

namespace storsim::persistence {
namespace {

TenantShardRow Shard(std::string tenant, uint8_t number, uint8_t count, uint32_t generation,
                     std::optional<NodeId> node) {
  TenantShardRow row;
  row.id = TenantShardId{std::move(tenant), number, count};
  row.shard_stripe_size = 32768;
  row.generation = Generation(generation);
  row.generation_pageserver = node;
  row.placement_policy = PlacementPolicy::Attached(1);
  return row;
}

NodeRow Node(NodeId id) {
  NodeRow node;
  node.node_id = id;
  node.listen_http_addr = "ps-" + std::to_string(id);
  node.listen_http_port = 9898;
  node.listen_pg_addr = "ps-" + std::to_string(id);
  node.listen_pg_port = 6400;
  node.availability_zone_id = "az-a";
  return node;
}

TEST(TypesTest, TextFormsRoundTrip) {
  for (const PlacementPolicy& policy : {PlacementPolicy::Attached(0), PlacementPolicy::Attached(3),
                                        PlacementPolicy::Secondary(), PlacementPolicy::Detached()}) {
    auto parsed = PlacementPolicy::FromJson(policy.ToJson());
    ASSERT_TRUE(parsed.has_value()) << policy.ToJson();
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_FALSE(PlacementPolicy::FromJson("{\"Attached\":x}").has_value());
  for (int i = 0; i < kNodeSchedulingPolicyCount; ++i) {
    const auto policy = static_cast<NodeSchedulingPolicy>(i);
    EXPECT_EQ(ParseNodeSchedulingPolicy(NodeSchedulingPolicyName(policy)), policy);
  }
  EXPECT_EQ(ParseNodeLifecycle("deleted"), NodeLifecycle::kDeleted);
  EXPECT_EQ((TenantShardId{"t1", 1, 4}.ToString()), "t1-0104");
  EXPECT_LT(Generation::None(), Generation(0));
  EXPECT_LT((TenantShardId{"a", 9, 9}), (TenantShardId{"b", 0, 0}));
}

TEST(ControllerTablesTest, LeaderInsertCasAndDoubleInsert) {
  ControllerTables tables;
  EXPECT_EQ(*tables.GetLeader(), std::nullopt);
  const LeaderRow a{"a", 1}, b{"b", 2}, c{"c", 3};
  ASSERT_TRUE(tables.UpdateLeader(std::nullopt, a).ok());
  EXPECT_EQ(*tables.GetLeader(), a);
  EXPECT_EQ(tables.UpdateLeader(c, b).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(tables.UpdateLeader(a, b).ok());
  // A second CAS from the same prev loses.
  EXPECT_EQ(tables.UpdateLeader(a, c).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tables.UpdateLeader(std::nullopt, b).code(), absl::StatusCode::kAlreadyExists);
  // Plain insert has no emptiness check: two rows, and get_leader fails from now on.
  ASSERT_TRUE(tables.UpdateLeader(std::nullopt, c).ok());
  EXPECT_EQ(tables.GetLeader().status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(tables.UpdateLeader(b, c).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tables.leaders().size(), 2u);
}

TEST(ControllerTablesTest, IncrementGeneration) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t", 0, 0, 1, std::nullopt)}).ok());
  const TenantShardId id{"t", 0, 0};
  EXPECT_EQ(*tables.IncrementGeneration(id, 5), Generation(2));
  EXPECT_EQ(*tables.IncrementGeneration(id, 6), Generation(3));
  EXPECT_EQ(tables.shards().at(id).generation_pageserver, 6u);
  EXPECT_EQ(tables.IncrementGeneration({"u", 0, 0}, 5).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(tables.UpdateTenantShard({"t", id}, {.generation = Generation::None()}).ok());
  EXPECT_EQ(tables.IncrementGeneration(id, 7).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tables.shards().at(id).generation_pageserver, 6u) << "failed op changed nothing";
}

TEST(ControllerTablesTest, ReAttachIncrementsAndRewritesPolicy) {
  ControllerTables tables;
  EXPECT_EQ(tables.ReAttach(1).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(tables.InsertNode(Node(1)).ok());
  ASSERT_TRUE(tables.InsertNode(Node(2)).ok());
  ASSERT_TRUE(tables
                  .InsertTenantShards({Shard("t", 0, 2, 4, 1), Shard("t", 1, 2, 7, 2),
                                       Shard("u", 0, 0, 1, 1)})
                  .ok());
  ASSERT_TRUE(tables.UpdateNodeSchedulingPolicy(1, NodeSchedulingPolicy::kDraining).ok());
  ASSERT_TRUE(tables.UpdateNodeSchedulingPolicy(2, NodeSchedulingPolicy::kDeleting).ok());
  GenerationMap expected{{{"t", 0, 2}, Generation(5)}, {{"u", 0, 0}, Generation(2)}};
  EXPECT_EQ(*tables.ReAttach(1), expected);
  EXPECT_EQ(tables.nodes().at(1).scheduling_policy, NodeSchedulingPolicy::kActive);
  EXPECT_EQ(*tables.ReAttach(2), (GenerationMap{{{"t", 1, 2}, Generation(8)}}));
  EXPECT_EQ(tables.nodes().at(2).scheduling_policy, NodeSchedulingPolicy::kPause);
  ASSERT_TRUE(tables.DeleteNode(2).ok());
  EXPECT_EQ(tables.ReAttach(2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tables.shards().at({"t", 1, 2}).generation, Generation(8));
}

TEST(ControllerTablesTest, DetachAndPlacementClearGenerationPageserver) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t", 0, 2, 4, 1), Shard("t", 1, 2, 4, 1)}).ok());
  ASSERT_TRUE(tables.Detach({"t", 0, 2}).ok());
  EXPECT_EQ(tables.shards().at({"t", 0, 2}).generation_pageserver, std::nullopt);
  EXPECT_EQ(tables.shards().at({"t", 0, 2}).placement_policy, PlacementPolicy::Detached());
  EXPECT_EQ(tables.Detach({"t", 0, 4}).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(tables.UpdateTenantShard({"t", std::nullopt},
                                       {.placement_policy = PlacementPolicy::Secondary(),
                                        .config = "{\"x\":1}"})
                  .ok());
  EXPECT_EQ(tables.shards().at({"t", 1, 2}).generation_pageserver, std::nullopt);
  EXPECT_EQ(tables.shards().at({"t", 1, 2}).config, "{\"x\":1}");
  EXPECT_EQ(tables.UpdateTenantShard({"u", TenantShardId{"t", 0, 2}}, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(tables.UpdateTenantShard({"nobody", std::nullopt}, {.config = "{}"}).ok());
}

TEST(ControllerTablesTest, NodesSoftDelete) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertNode(Node(3)).ok());
  EXPECT_EQ(tables.InsertNode(Node(3)).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(tables.InsertNode(Node(1)).ok());
  ASSERT_TRUE(tables.DeleteNode(3).ok());
  EXPECT_EQ(tables.ListNodes()->size(), 1u);
  EXPECT_EQ(tables.nodes().at(3).lifecycle, NodeLifecycle::kDeleted);
  EXPECT_EQ(tables.UpdateNodeSchedulingPolicy(3, NodeSchedulingPolicy::kPause).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(tables.InsertNode(Node(3)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tables.DeleteNode(9).code(), absl::StatusCode::kNotFound);
}

TEST(ControllerTablesTest, InsertShardsIsAllOrNothing) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t", 0, 0, 1, 1)}).ok());
  EXPECT_EQ(tables.InsertTenantShards({Shard("u", 0, 0, 1, 1), Shard("t", 0, 0, 1, 1)}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tables.InsertTenantShards({Shard("v", 0, 0, 1, 1), Shard("v", 0, 0, 2, 1)}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tables.InsertTenantShards({Shard("w", 2, 2, 1, 1)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tables.shards().size(), 1u);
  ASSERT_TRUE(tables.DeleteTenant("t").ok());
  EXPECT_TRUE(tables.shards().empty());
}

TEST(ControllerTablesTest, ShardSplitBeginCompleteAbort) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t", 0, 0, 6, 2)}).ok());
  EXPECT_EQ(tables.BeginShardSplit("t", 0, 3).code(), absl::StatusCode::kOk);
  EXPECT_EQ(tables.shards().size(), 4u);
  EXPECT_EQ(tables.shards().at({"t", 2, 3}).generation, Generation(6));
  EXPECT_EQ(tables.shards().at({"t", 2, 3}).splitting, SplitState::kSplitting);
  EXPECT_EQ(tables.shards().at({"t", 0, 0}).splitting, SplitState::kSplitting);
  // Abort keeps the parent and drops the children.
  EXPECT_EQ(*tables.AbortShardSplit("t", 3), AbortShardSplitStatus::kAborted);
  EXPECT_EQ(tables.shards().size(), 1u);
  EXPECT_EQ(tables.shards().at({"t", 0, 0}).splitting, SplitState::kIdle);
  ASSERT_TRUE(tables.BeginShardSplit("t", 0, 2).ok());
  // Complete refuses a wrong child count (PR #11256) and changes nothing.
  EXPECT_EQ(tables.CompleteShardSplit("t", 0, 4).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tables.shards().size(), 3u);
  ASSERT_TRUE(tables.CompleteShardSplit("t", 0, 2).ok());
  EXPECT_EQ(tables.shards().size(), 2u);
  EXPECT_EQ(tables.shards().at({"t", 1, 2}).splitting, SplitState::kIdle);
  EXPECT_EQ(*tables.AbortShardSplit("t", 2), AbortShardSplitStatus::kComplete);
  EXPECT_EQ(tables.BeginShardSplit("t", 0, 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tables.BeginShardSplit("t", 2, 3).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(tables.BeginShardSplit("t", 2, 4).ok());
  EXPECT_EQ(tables.shards().size(), 6u);
  EXPECT_EQ(tables.shards().at({"t", 3, 4}).generation, Generation(6));
}

// The shard index (invariant 4) must follow every insert and erase, and a copy must index its own
// rows: a stale index would find erased rows or write through to another object's rows.
TEST(ControllerTablesTest, ShardIndexFollowsInsertsErasesAndCopies) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t1", 0, 0, 1, 1), Shard("t2", 0, 0, 5, 1)}).ok());
  ASSERT_TRUE(tables.BeginShardSplit("t1", 0, 2).ok());
  ASSERT_TRUE(tables.CompleteShardSplit("t1", 0, 2).ok());
  // The parent is gone from the index, the children are in it.
  EXPECT_EQ(tables.IncrementGeneration({"t1", 0, 0}, 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*tables.IncrementGeneration({"t1", 1, 2}, 2), Generation(2));
  ASSERT_TRUE(tables.BeginShardSplit("t1", 2, 4).ok());
  ASSERT_TRUE(tables.AbortShardSplit("t1", 4).ok());
  EXPECT_EQ(tables.Detach({"t1", 3, 4}).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(tables.Detach({"t1", 0, 2}).ok());

  ControllerTables copy = tables;
  EXPECT_EQ(*copy.IncrementGeneration({"t2", 0, 0}, 3), Generation(6));
  EXPECT_EQ(tables.shards().at({"t2", 0, 0}).generation, Generation(5));  // not written through
  ControllerTables assigned;
  assigned = copy;
  copy = ControllerTables();  // the source's rows are gone; `assigned` must not point at them
  EXPECT_EQ(*assigned.IncrementGeneration({"t2", 0, 0}, 3), Generation(7));
  ControllerTables moved = std::move(assigned);
  EXPECT_EQ(*moved.IncrementGeneration({"t1", 1, 2}, 2), Generation(3));

  ASSERT_TRUE(moved.DeleteTenant("t1").ok());
  auto generations = moved.ShardGenerations({{"t1", 0, 2}, {"t1", 1, 2}, {"t2", 0, 0}});
  ASSERT_TRUE(generations.ok());
  EXPECT_EQ(generations->size(), 1u);
  EXPECT_EQ(generations->at({"t2", 0, 0}), Generation(7));
  // Re-inserting an erased id works (its old index entry is gone) and is found again.
  ASSERT_TRUE(moved.InsertTenantShards({Shard("t1", 0, 0, 9, 1)}).ok());
  EXPECT_EQ(*moved.IncrementGeneration({"t1", 0, 0}, 1), Generation(10));
  EXPECT_EQ(moved.InsertTenantShards({Shard("t1", 0, 0, 1, 1)}).code(),
            absl::StatusCode::kAlreadyExists);
}

// Lookups compare the whole id: same tenant with another number or count, or a tenant id that
// is a prefix of another, is a different row.
TEST(ControllerTablesTest, ShardLookupsMatchTheWholeId) {
  ControllerTables tables;
  ASSERT_TRUE(tables
                  .InsertTenantShards({Shard("tenant", 0, 2, 1, 1), Shard("tenant", 1, 2, 10, 1),
                                       Shard("tenant-x", 0, 0, 20, 1)})
                  .ok());
  EXPECT_EQ(*tables.IncrementGeneration({"tenant", 1, 2}, 1), Generation(11));
  EXPECT_EQ(*tables.IncrementGeneration({"tenant", 0, 2}, 1), Generation(2));
  EXPECT_EQ(*tables.IncrementGeneration({"tenant-x", 0, 0}, 1), Generation(21));
  EXPECT_EQ(tables.IncrementGeneration({"tenant", 0, 0}, 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(tables.IncrementGeneration({"tenant-", 0, 0}, 1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ControllerTablesTest, ApplyRunsWriteHalves) {
  ControllerTables tables;
  ASSERT_TRUE(tables.InsertTenantShards({Shard("t", 0, 0, 1, 1)}).ok());
  EXPECT_TRUE(tables.Apply(SetGenerationOp{{"t", 0, 0}, Generation(9), 4}).status.ok());
  EXPECT_EQ(tables.shards().at({"t", 0, 0}).generation, Generation(9));
  EXPECT_EQ(tables.Apply(OverwriteLeaderOp{{"a", 1}}).status.code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(tables.UpdateLeader(std::nullopt, {"a", 1}).ok());
  EXPECT_TRUE(tables.Apply(OverwriteLeaderOp{{"b", 2}}).status.ok());
  EXPECT_EQ(*tables.GetLeader(), (LeaderRow{"b", 2}));
  // Execute refuses the write halves: they are not Persistence calls.
  EXPECT_EQ(Execute(tables, SetGenerationOp{}).status.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace storsim::persistence
