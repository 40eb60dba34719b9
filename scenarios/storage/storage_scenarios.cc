// The storage scenarios: one per story, plus chaos. Each draws its topology and faults from the
// seed (swarm options), runs the story under the SPEC checkers, heals, and leaves a quiet period
// in which the system must keep every invariant.
//
// The story scenarios of SPEC §13 (controller-roll, generations, compute-refresh, drain-cancel,
// pageserver-failover, db-outage, clock-skew-leases) live one per file (*_scenario.cc) and share
// story_helpers.h; this file registers them all.
#include <algorithm>
#include <memory>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

void LiveMigrationBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  options.pageservers = std::max(options.pageservers, 2);
  run.SetSwarm(swarm);
  StorageWorld world(run, options);
  world.Start();
  const sim::Duration phase = sim::Duration::Seconds(120);
  MigrateRepeatedly(world, sim::Duration::Seconds(10), world.simulation().Now() + phase);
  run.RunFor(phase);
  Quiet(run, world, sim::Duration::Seconds(60));
}

}  // namespace

void RegisterStorageScenarios(ScenarioRegistry& registry) {
  const std::vector<BugInfo> bugs = StorageBugs();
  registry.Add({"live-migration",
                "tenants move between pageservers under write load; SPEC S1-S14 checked",
                bugs, LiveMigrationBody});
  RegisterControllerRollScenario(registry, bugs);
  RegisterChaosScenario(registry, bugs);
  RegisterGenerationsScenario(registry, bugs);
  RegisterComputeRefreshScenario(registry, bugs);
  RegisterDrainCancelScenario(registry, bugs);
  RegisterPageserverFailoverScenario(registry, bugs);
  RegisterDbOutageScenario(registry, bugs);
  RegisterClockSkewLeasesScenario(registry, bugs);
  RegisterShardSplitScenario(registry, bugs);
}

}  // namespace storsim::scenarios
