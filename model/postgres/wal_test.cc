// WAL records: every mutating operation survives encode/decode unchanged, and recovery replays a
// log into exactly the state that produced it.
#include "model/postgres/wal.h"

#include <gtest/gtest.h>

#include "sim/check.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;

std::vector<Operation> SampleMutations() {
  TenantShardRow row;
  row.id = {"tenant-a", 1, 4};
  row.shard_stripe_size = 2048;
  row.generation = Generation(17);
  row.generation_pageserver = 3;
  row.placement_policy = PlacementPolicy::Attached(2);
  row.splitting = SplitState::kSplitting;
  row.config = "{\"gc\":1}";
  row.preferred_az_id = "az-b";
  TenantShardRow bare;
  bare.id = {"tenant-b", 0, 0};
  NodeRow node;
  node.node_id = 42;
  node.scheduling_policy = NodeSchedulingPolicy::kPauseForRestart;
  node.listen_http_addr = "ps42";
  node.listen_http_port = 9898;
  node.lifecycle = NodeLifecycle::kDeleted;
  return {
      UpdateLeaderOp{std::nullopt, {"a", 1}},
      UpdateLeaderOp{LeaderRow{"a", 1}, {"b", -5}},
      IncrementGenerationOp{{"t", 0, 0}, 9},
      ReAttachOp{4},
      UpdateTenantShardOp{{"t", TenantShardId{"t", 1, 2}},
                          {PlacementPolicy::Secondary(), "{}", Generation::None(), "\"Pause\""}},
      UpdateTenantShardOp{{"t", std::nullopt}, {}},
      DetachOp{{"t", 1, 2}},
      UpdateNodeSchedulingPolicyOp{7, NodeSchedulingPolicy::kDeleting},
      InsertNodeOp{node},
      DeleteNodeOp{42},
      InsertTenantShardsOp{{row, bare}},
      DeleteTenantOp{"t"},
      BeginShardSplitOp{"t", 2, 8},
      CompleteShardSplitOp{"t", 2, 8},
      AbortShardSplitOp{"t", 8},
      SetGenerationOp{{"t", 0, 0}, Generation(5), 2},
      OverwriteLeaderOp{{"c", 3}},
  };
}

TEST(WalTest, EveryMutationRoundTrips) {
  for (const Operation& operation : SampleMutations()) {
    const Operation decoded = DecodeWalRecord(EncodeWalRecord(operation));
    EXPECT_EQ(decoded.index(), operation.index());
    EXPECT_EQ(OperationToString(decoded), OperationToString(operation));
  }
}

TEST(WalTest, RecoveryReplaysTheLog) {
  sim::Disk disk;
  ControllerTables tables;
  TenantShardRow row;
  row.id = {"t", 0, 0};
  row.generation = Generation(1);
  const std::vector<Operation> log = {
      InsertTenantShardsOp{{row}}, IncrementGenerationOp{{"t", 0, 0}, 2},
      BeginShardSplitOp{"t", 0, 4}, UpdateLeaderOp{std::nullopt, {"x", 1}}};
  for (const Operation& operation : log) {
    ASSERT_TRUE(tables.Apply(operation).status.ok()) << OperationToString(operation);
    disk.Append(kWalFile, EncodeWalRecord(operation));
  }
  disk.Sync();
  size_t records = 0;
  EXPECT_TRUE(RecoverTables(disk, &records) == tables);
  EXPECT_EQ(records, log.size());
}

TEST(WalTest, ReadOnlyOperationsAreNotLogged) {
  EXPECT_FALSE(IsMutation(GetLeaderOp{}));
  EXPECT_FALSE(IsMutation(ListTenantShardsOp{}));
  EXPECT_THROW(EncodeWalRecord(ListNodesOp{}), sim::InvariantViolation);
}

}  // namespace
}  // namespace storsim::postgres
