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

void ChaosBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  run.SetSwarm(swarm);
  StorageWorld world(run, options);
  world.Start();
  const sim::Duration phase = sim::Duration::Seconds(120);
  const sim::FaultPlan plan = DrawFaults(run, world.FaultTargets(false), phase, 8);
  run.SetFaultPlan(plan);
  sim::ApplyFaultPlan(world.simulation(), plan);
  sim::Random random = run.Fork("rolls");
  if (random.Chance(1, 2)) {
    world.cluster().deployment().ScheduleRollout(
        world.simulation().Now() + random.DurationIn(sim::Duration::Seconds(10), phase),
        deploy::Strategy::kRollingUpdate);
  }
  MigrateRepeatedly(world, sim::Duration::Seconds(12), world.simulation().Now() + phase);
  run.RunFor(phase);
  Quiet(run, world, sim::Duration::Seconds(90));
}

}  // namespace

void RegisterStorageScenarios(ScenarioRegistry& registry) {
  const std::vector<BugInfo> bugs = StorageBugs();
  registry.Add({"live-migration",
                "tenants move between pageservers under write load; SPEC S1-S14 checked",
                bugs, LiveMigrationBody});
  RegisterControllerRollScenario(registry, bugs);
  registry.Add({"chaos",
                "random crashes, partitions, pauses, clock drift and link faults on storage "
                "processes, plus a roll and migrations; S1-S14 checked",
                bugs, ChaosBody});
  RegisterGenerationsScenario(registry, bugs);
  RegisterComputeRefreshScenario(registry, bugs);
  RegisterDrainCancelScenario(registry, bugs);
  RegisterPageserverFailoverScenario(registry, bugs);
  RegisterDbOutageScenario(registry, bugs);
  RegisterClockSkewLeasesScenario(registry, bugs);
  RegisterShardSplitScenario(registry, bugs);
}

}  // namespace storsim::scenarios
