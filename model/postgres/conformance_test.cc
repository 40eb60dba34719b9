// Conformance, scripted: every Persistence operation's results and errors on the same sequences,
// run against the fake Postgres in the simulation (FakeBackend) and a real PostgreSQL
// (RealBackend). A typed test runs each script on both; any difference fails one of the two.
#include <gtest/gtest.h>

#include "model/postgres/conformance_backends.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;
using Code = absl::StatusCode;

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

template <typename Backend>
class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status status = backend_.Reset(1);
    ASSERT_TRUE(status.ok()) << Backend::kName << " backend: " << status;
  }
  void Run(const Script& script) { backend_.Run(script); }
  Backend backend_;
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
using Backends = ::testing::Types<FakeBackend, RealBackend>;
TYPED_TEST_SUITE(ConformanceTest, Backends, BackendNames);

TYPED_TEST(ConformanceTest, GetLeaderAndUpdateLeader) {
  this->Run([](Persistence& db) {
    EXPECT_EQ(*db.GetLeader(), std::nullopt);
    const LeaderRow a{"a:1", 1'700'000'000'123'456}, b{"b:1", 2}, c{"c:1", -3};
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, a).ok());
    EXPECT_EQ(*db.GetLeader(), a) << "started_at keeps microsecond precision";
    EXPECT_EQ(db.UpdateLeader(c, b).code(), Code::kFailedPrecondition);
    ASSERT_TRUE(db.UpdateLeader(a, b).ok());
    EXPECT_EQ(db.UpdateLeader(a, c).code(), Code::kFailedPrecondition) << "stale prev loses";
    EXPECT_EQ(db.UpdateLeader(std::nullopt, b).code(), Code::kAlreadyExists);
    ASSERT_TRUE(db.UpdateLeader(b, b).ok()) << "CAS to the same row";
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, c).ok()) << "INSERT has no emptiness check";
    EXPECT_EQ(db.GetLeader().status().code(), Code::kInternal) << "two rows: logical error";
    EXPECT_EQ(db.UpdateLeader(b, c).code(), Code::kAlreadyExists);
  });
}

TYPED_TEST(ConformanceTest, IncrementGeneration) {
  this->Run([](Persistence& db) {
    const TenantShardId id{"t", 0, 0};
    EXPECT_EQ(db.IncrementGeneration(id, 1).status().code(), Code::kNotFound);
    ASSERT_TRUE(db.InsertTenantShards({Shard("t", 0, 0, 1, std::nullopt)}).ok());
    EXPECT_EQ(*db.IncrementGeneration(id, 5), Generation(2));
    EXPECT_EQ(*db.IncrementGeneration(id, 6), Generation(3));
    EXPECT_EQ(db.ListTenantShards()->at(0).generation_pageserver, 6u);
    ASSERT_TRUE(db.UpdateTenantShard({"t", id}, {.generation = Generation::None()}).ok());
    EXPECT_EQ(db.IncrementGeneration(id, 7).status().code(), Code::kFailedPrecondition);
    EXPECT_EQ(db.ListTenantShards()->at(0).generation_pageserver, 6u) << "rolled back";
  });
}

TYPED_TEST(ConformanceTest, ReAttach) {
  this->Run([](Persistence& db) {
    EXPECT_EQ(db.ReAttach(1).status().code(), Code::kNotFound);
    ASSERT_TRUE(db.InsertNode(Node(1)).ok());
    ASSERT_TRUE(db.InsertNode(Node(2)).ok());
    TenantShardRow null_generation = Shard("v", 0, 0, 0, 1);
    null_generation.generation = Generation::None();
    ASSERT_TRUE(db.InsertTenantShards({Shard("t", 0, 2, 4, 1), Shard("t", 1, 2, 7, 2),
                                       Shard("u", 0, 0, 1, 1), null_generation})
                    .ok());
    ASSERT_TRUE(db.UpdateNodeSchedulingPolicy(1, NodeSchedulingPolicy::kDraining).ok());
    ASSERT_TRUE(db.UpdateNodeSchedulingPolicy(2, NodeSchedulingPolicy::kDeleting).ok());
    GenerationMap expected{{{"t", 0, 2}, Generation(5)},
                           {{"u", 0, 0}, Generation(2)},
                           {{"v", 0, 0}, Generation::None()}};
    EXPECT_EQ(*db.ReAttach(1), expected);
    EXPECT_EQ(db.ListNodes()->at(0).scheduling_policy, NodeSchedulingPolicy::kActive);
    EXPECT_EQ(*db.ReAttach(2), (GenerationMap{{{"t", 1, 2}, Generation(8)}}));
    EXPECT_EQ(db.ListNodes()->at(1).scheduling_policy, NodeSchedulingPolicy::kPause);
    ASSERT_TRUE(db.DeleteNode(2).ok());
    EXPECT_EQ(db.ReAttach(2).status().code(), Code::kFailedPrecondition);
    EXPECT_EQ(db.ShardGenerations({{"t", 1, 2}})->at({"t", 1, 2}), Generation(8));
  });
}

TYPED_TEST(ConformanceTest, ShardGenerationsChunksAndSkipsMissing) {
  this->Run([](Persistence& db) {
    std::vector<TenantShardRow> rows;
    std::vector<TenantShardId> ids;
    for (int i = 0; i < 70; ++i) {
      rows.push_back(Shard("t" + std::to_string(i), 0, 0, static_cast<uint32_t>(i), 1));
      ids.push_back(rows.back().id);
      ids.push_back({"missing" + std::to_string(i), 0, 0});
    }
    ASSERT_TRUE(db.InsertTenantShards(rows).ok());
    GenerationMap generations = *db.ShardGenerations(ids);
    ASSERT_EQ(generations.size(), 70u);
    EXPECT_EQ(generations.at({"t42", 0, 0}), Generation(42));
    EXPECT_TRUE(db.ShardGenerations({})->empty());
  });
}

TYPED_TEST(ConformanceTest, UpdateTenantShard) {
  this->Run([](Persistence& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard("t", 0, 2, 4, 1), Shard("t", 1, 2, 4, 1),
                                       Shard("u", 0, 0, 4, 1)})
                    .ok());
    ASSERT_TRUE(db.UpdateTenantShard({"t", TenantShardId{"t", 1, 2}},
                                     {.config = "{\"x\":1}", .scheduling_policy = "\"Pause\""})
                    .ok());
    ASSERT_TRUE(db.UpdateTenantShard({"t", std::nullopt},
                                     {.placement_policy = PlacementPolicy::Secondary(),
                                      .generation = Generation(9)})
                    .ok());
    std::vector<TenantShardRow> rows = *db.ListTenantShards();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].config, "{\"x\":1}");
    EXPECT_EQ(rows[1].scheduling_policy, "\"Pause\"");
    EXPECT_EQ(rows[0].generation_pageserver, std::nullopt);
    EXPECT_EQ(rows[1].generation, Generation(9));
    EXPECT_EQ(rows[2].generation_pageserver, 1u) << "other tenant untouched";
    ASSERT_TRUE(db.UpdateTenantShard({"u", std::nullopt},
                                     {.placement_policy = PlacementPolicy::Attached(2)})
                    .ok());
    EXPECT_EQ(db.ListTenantShards()->at(2).generation_pageserver, 1u) << "attached keeps it";
    EXPECT_EQ(db.UpdateTenantShard({"u", TenantShardId{"t", 0, 2}}, {.config = "{}"}).code(),
              Code::kInvalidArgument);
    EXPECT_TRUE(db.UpdateTenantShard({"nobody", std::nullopt}, {.config = "{}"}).ok());
    EXPECT_TRUE(db.UpdateTenantShard({"t", std::nullopt}, {}).ok());
  });
}

TYPED_TEST(ConformanceTest, Detach) {
  this->Run([](Persistence& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard("t", 0, 0, 4, 1)}).ok());
    ASSERT_TRUE(db.Detach({"t", 0, 0}).ok());
    const TenantShardRow row = db.ListTenantShards()->at(0);
    EXPECT_EQ(row.generation_pageserver, std::nullopt);
    EXPECT_EQ(row.placement_policy, PlacementPolicy::Detached());
    EXPECT_EQ(row.generation, Generation(4));
    EXPECT_EQ(db.Detach({"t", 0, 2}).code(), Code::kNotFound);
  });
}

TYPED_TEST(ConformanceTest, UpdateNodeSchedulingPolicy) {
  this->Run([](Persistence& db) {
    EXPECT_EQ(db.UpdateNodeSchedulingPolicy(1, NodeSchedulingPolicy::kPause).code(),
              Code::kNotFound);
    ASSERT_TRUE(db.InsertNode(Node(1)).ok());
    for (int i = 0; i < kNodeSchedulingPolicyCount; ++i) {
      const auto policy = static_cast<NodeSchedulingPolicy>(i);
      ASSERT_TRUE(db.UpdateNodeSchedulingPolicy(1, policy).ok());
      EXPECT_EQ(db.ListNodes()->at(0).scheduling_policy, policy);
    }
    ASSERT_TRUE(db.DeleteNode(1).ok());
    EXPECT_EQ(db.UpdateNodeSchedulingPolicy(1, NodeSchedulingPolicy::kActive).code(),
              Code::kNotFound)
        << "a deleted node is not updated";
  });
}

TYPED_TEST(ConformanceTest, NodeRegisterListDelete) {
  this->Run([](Persistence& db) {
    NodeRow three = Node(3);
    three.scheduling_policy = NodeSchedulingPolicy::kFilling;
    three.availability_zone_id = "az-c";
    ASSERT_TRUE(db.InsertNode(three).ok());
    EXPECT_EQ(db.InsertNode(Node(3)).code(), Code::kAlreadyExists);
    ASSERT_TRUE(db.InsertNode(Node(1)).ok());
    std::vector<NodeRow> nodes = *db.ListNodes();
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0], Node(1));
    EXPECT_EQ(nodes[1], three);
    ASSERT_TRUE(db.DeleteNode(3).ok());
    ASSERT_TRUE(db.DeleteNode(3).ok()) << "a tombstone can be deleted again";
    EXPECT_EQ(db.ListNodes()->size(), 1u);
    EXPECT_EQ(db.InsertNode(Node(3)).code(), Code::kAlreadyExists) << "tombstone keeps the id";
    EXPECT_EQ(db.DeleteNode(9).code(), Code::kNotFound);
  });
}

TYPED_TEST(ConformanceTest, TenantShardInsertListDelete) {
  this->Run([](Persistence& db) {
    TenantShardRow full = Shard("t", 1, 4, 3, std::nullopt);
    full.placement_policy = PlacementPolicy::Detached();
    full.splitting = SplitState::kSplitting;
    full.config = "{\"pitr\":\"7d\"}";
    full.preferred_az_id = "az-b";
    full.shard_stripe_size = 0;
    ASSERT_TRUE(db.InsertTenantShards({full, Shard("a", 0, 0, 1, 2)}).ok());
    EXPECT_EQ(db.InsertTenantShards({Shard("u", 0, 0, 1, 1), full}).code(), Code::kAlreadyExists);
    EXPECT_EQ(db.InsertTenantShards({Shard("v", 0, 0, 1, 1), Shard("v", 0, 0, 2, 1)}).code(),
              Code::kAlreadyExists);
    EXPECT_EQ(db.InsertTenantShards({Shard("w", 2, 2, 1, 1)}).code(), Code::kInvalidArgument);
    std::vector<TenantShardRow> rows = *db.ListTenantShards();
    ASSERT_EQ(rows.size(), 2u) << "failed inserts left nothing";
    EXPECT_EQ(rows[0], Shard("a", 0, 0, 1, 2));
    EXPECT_EQ(rows[1], full);
    ASSERT_TRUE(db.DeleteTenant("t").ok());
    ASSERT_TRUE(db.DeleteTenant("nobody").ok());
    EXPECT_EQ(db.ListTenantShards()->size(), 1u);
  });
}

TYPED_TEST(ConformanceTest, ShardSplitBeginCompleteAbort) {
  this->Run([](Persistence& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard("t", 0, 0, 6, 2)}).ok());
    ASSERT_TRUE(db.BeginShardSplit("t", 0, 4).ok());
    std::vector<TenantShardRow> rows = *db.ListTenantShards();
    ASSERT_EQ(rows.size(), 5u);
    for (const TenantShardRow& row : rows) {
      EXPECT_EQ(row.generation, Generation(6)) << "children copy the parent generation";
      EXPECT_EQ(row.splitting, SplitState::kSplitting);
    }
    EXPECT_EQ(db.BeginShardSplit("t", 0, 4).code(), Code::kAlreadyExists);
    EXPECT_EQ(*db.AbortShardSplit("t", 4), AbortShardSplitStatus::kAborted);
    ASSERT_EQ(db.ListTenantShards()->size(), 1u);
    EXPECT_EQ(db.ListTenantShards()->at(0).splitting, SplitState::kIdle);
    ASSERT_TRUE(db.BeginShardSplit("t", 0, 2).ok());
    EXPECT_EQ(db.CompleteShardSplit("t", 0, 4).code(), Code::kFailedPrecondition)
        << "wrong child count (PR #11256)";
    ASSERT_TRUE(db.CompleteShardSplit("t", 0, 2).ok());
    rows = *db.ListTenantShards();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].id, (TenantShardId{"t", 1, 2}));
    EXPECT_EQ(rows[1].splitting, SplitState::kIdle);
    EXPECT_EQ(*db.AbortShardSplit("t", 2), AbortShardSplitStatus::kComplete);
    EXPECT_EQ(db.BeginShardSplit("t", 0, 2).code(), Code::kFailedPrecondition);
    EXPECT_EQ(db.BeginShardSplit("t", 2, 3).code(), Code::kInvalidArgument);
    ASSERT_TRUE(db.BeginShardSplit("t", 2, 8).ok());
    EXPECT_EQ(db.AbortShardSplit("t", 2).status().code(), Code::kFailedPrecondition)
        << "as many 'parents' as children";
    EXPECT_EQ(db.ListTenantShards()->size(), 10u);
    EXPECT_EQ(db.CompleteShardSplit("t", 2, 8).code(), Code::kOk);
    EXPECT_EQ(db.ShardGenerations({{"t", 7, 8}})->at({"t", 7, 8}), Generation(6));
  });
}

}  // namespace
}  // namespace storsim::postgres
