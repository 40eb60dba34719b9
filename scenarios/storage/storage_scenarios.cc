// The storage scenarios: one per story, plus chaos. Each draws its topology and faults from the
// seed (swarm options), runs the story under the SPEC checkers, heals, and leaves a quiet period
// in which the system must keep every invariant.
//
// The story scenarios of SPEC §13 (generations, compute-refresh, drain-cancel,
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

void ControllerRollBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  run.SetSwarm(swarm);
  StorageWorld world(run, options);
  world.Start();
  sim::Random random = run.Fork("rolls");
  const sim::Instant start = world.simulation().Now();
  world.cluster().deployment().ScheduleRollout(
      start + random.DurationIn(sim::Duration::Seconds(5), sim::Duration::Seconds(20)),
      deploy::Strategy::kRollingUpdate);
  world.cluster().deployment().ScheduleRollout(
      start + random.DurationIn(sim::Duration::Seconds(60), sim::Duration::Seconds(90)),
      run.options().protocol == "naive" ? deploy::Strategy::kRecreate
                                        : deploy::Strategy::kRollingUpdate);
  MigrateRepeatedly(world, sim::Duration::Seconds(15), start + sim::Duration::Seconds(120));
  run.RunFor(sim::Duration::Seconds(150));
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
  registry.Add({"controller-roll",
                "two Kubernetes rollouts of the storage controller under load; S1-S14 checked",
                bugs, ControllerRollBody});
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
}

}  // namespace storsim::scenarios
