// The whole topology comes up: a leader is elected, tenants are created and attached, computes
// write through the safekeeper and read their writes back through the pageservers, and every
// shard ends with exactly one AttachedSingle location whose generation is the database's.
#include "model/cluster/cluster.h"

#include <gtest/gtest.h>

#include "sim/env.h"

namespace storsim::cluster {
namespace {

struct Outcome {
  int leaders = 0;
  std::map<std::string, compute::ComputeSnapshot> computes;
  std::map<std::string, std::vector<std::pair<api::NodeId, api::Generation>>> attached_single;
  std::map<std::string, std::optional<int64_t>> db_generations;
  absl::Status create = absl::UnknownError("not run");
  uint64_t fingerprint = 0;
};

Outcome RunCluster(uint64_t seed, sim::Duration duration) {
  sim::Simulation simulation({.seed = seed});
  ClusterOptions options;
  options.pageservers = 3;
  options.tenants = 2;
  auto cluster = std::make_unique<Cluster>(simulation, options);
  cluster->Start();
  Outcome outcome;
  cluster->RunOperatorScript("create_tenants", [&](sim::Env& env) {
    outcome.create = cluster->CreateTenants(env, simulation.Now() + sim::Duration::Seconds(120));
  });
  simulation.RunFor(duration);
  for (int slot = 0; slot < options.controller_slots; ++slot) {
    if (cluster->controller(static_cast<size_t>(slot)).Snapshot().status ==
        controller::LeadershipStatus::kLeader) {
      ++outcome.leaders;
    }
  }
  for (const auto& tenant : cluster->tenant_ids()) {
    outcome.computes[tenant] = cluster->compute(tenant).Snapshot();
  }
  for (size_t i = 0; i < cluster->pageserver_ids().size(); ++i) {
    const pageserver::PageserverSnapshot snapshot = cluster->pageserver(i).Snapshot();
    for (const auto& slot : snapshot.slots) {
      if (slot.mode == api::LocationMode::kAttachedSingle) {
        outcome.attached_single[slot.shard.ToString()].push_back(
            {snapshot.node_id, slot.generation});
      }
    }
  }
  for (const auto& [shard, locations] : outcome.attached_single) {
    outcome.db_generations[shard] = cluster->ShardGenerationGroundTruth(shard);
  }
  outcome.fingerprint = simulation.Fingerprint();
  return outcome;
}

TEST(ClusterTest, ComesUpAttachesTenantsAndServesReadsAndWrites) {
  const Outcome outcome = RunCluster(1, sim::Duration::Seconds(120));
  ASSERT_TRUE(outcome.create.ok()) << outcome.create;
  EXPECT_EQ(outcome.leaders, 1);
  ASSERT_EQ(outcome.computes.size(), 2u);
  for (const auto& [tenant, compute] : outcome.computes) {
    EXPECT_EQ(compute.status, api::ComputeStatus::kRunning) << tenant;
    EXPECT_GT(compute.writes_acked, 10u) << tenant;
    EXPECT_GT(compute.reads_ok, 10u) << tenant;
  }
  ASSERT_EQ(outcome.attached_single.size(), 2u);
  for (const auto& [shard, locations] : outcome.attached_single) {
    ASSERT_EQ(locations.size(), 1u) << shard;
    const std::optional<int64_t> db = outcome.db_generations.at(shard);
    ASSERT_TRUE(db.has_value()) << shard;
    EXPECT_EQ(static_cast<int64_t>(locations[0].second.value()), *db) << shard;
  }
}

TEST(ClusterTest, SameSeedSameRun) {
  EXPECT_EQ(RunCluster(3, sim::Duration::Seconds(40)).fingerprint,
            RunCluster(3, sim::Duration::Seconds(40)).fingerprint);
}

}  // namespace
}  // namespace storsim::cluster
