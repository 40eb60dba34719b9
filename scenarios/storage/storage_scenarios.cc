// The storage scenarios: one per story, plus chaos. Each draws its topology and faults from the
// seed (swarm options), runs the story under the SPEC checkers, heals, and leaves a quiet period
// in which the system must keep every invariant.
#include <algorithm>
#include <memory>

#include "model/api/controller_api.h"
#include "model/compute/compute_ctl.h"
#include "model/controller/defects.h"
#include "model/deploy/defects.h"
#include "model/pageserver/options.h"
#include "scenarios/storage/storage_world.h"
#include "sim/env.h"

namespace storsim::scenarios {
namespace {

constexpr const char* kDbNonAtomic = "db-non-atomic-read-then-write";

std::vector<BugInfo> StorageBugs() {
  std::vector<BugInfo> bugs;
  for (const auto& list : {controller::ControllerDefects(), pageserver::PageserverDefects(),
                           compute::ComputeDefects(), deploy::DeployDefects()}) {
    for (const auto& defect : list) {
      bugs.push_back({defect.name, defect.upstream + ": " + defect.summary + " (should trip " +
                                       defect.invariant + ")"});
    }
  }
  bugs.push_back({kDbNonAtomic, "PR #7792: generation increment and leader CAS as read-then-write "
                                "at READ COMMITTED (should trip S1 S4 S6)"});
  return bugs;
}

// Topology and timing drawn from the seed; printed with every run.
cluster::ClusterOptions DrawCluster(ScenarioRun& run, std::string* description) {
  sim::Random random = run.Fork("swarm");
  cluster::ClusterOptions options;
  options.pageservers = static_cast<int>(random.Range(2, 4));
  options.tenants = static_cast<int>(random.Range(1, 3));
  options.secondaries = 1;
  const std::string& protocol = run.options().protocol;
  if (protocol == "naive") {
    options.protocol = controller::LeadershipProtocol::kNaive;
  } else if (protocol == "lease") {
    options.protocol = controller::LeadershipProtocol::kLease;
  } else if (protocol == "lease-fenced") {
    options.protocol = controller::LeadershipProtocol::kLeaseFenced;
    options.pageserver.check_controller_term = true;
  }
  for (const auto& bug : run.options().bugs) options.defects.Enable(bug);
  options.postgres.non_atomic_read_then_write = run.bug(kDbNonAtomic);
  // Shorter housekeeping than upstream so a few simulated minutes exercise compaction, GC and
  // deletions; every other timing constant keeps its upstream default.
  options.pageserver.deletion_flush_period = sim::Duration::Seconds(5);
  options.compute.lakebase_mode = random.Chance(1, 2);
  *description = "pageservers=" + std::to_string(options.pageservers) +
                 " tenants=" + std::to_string(options.tenants) +
                 " protocol=" + (protocol.empty() ? std::string("step-down") : protocol) +
                 " lakebase=" + (options.compute.lakebase_mode ? "1" : "0");
  return options;
}

// The operator migrates a random shard to a random other node every `period` until `until`.
void MigrateRepeatedly(StorageWorld& world, sim::Duration period, sim::Instant until) {
  cluster::Cluster* cluster = &world.cluster();
  sim::Simulation* simulation = &world.simulation();
  world.RunOperator("migrations", [cluster, simulation, period, until](sim::Env& env) {
    for (int round = 0; round < 10'000 && simulation->Now() < until; ++round) {
      env.Sleep(period + env.random().DurationIn(sim::Duration::Zero(), period));
      const auto& tenants = cluster->tenant_ids();
      if (tenants.empty()) return;
      const std::string& tenant = tenants[env.random().Below(tenants.size())];
      absl::StatusOr<api::TenantDescribeResponse> described = cluster->CallController(
          env, api::kTenantDescribe, api::TenantDescribeRequest{tenant},
          simulation->Now() + sim::Duration::Seconds(30));
      if (!described.ok() || described->shards.empty()) continue;
      const api::ShardPlacement& shard = described->shards[env.random().Below(described->shards.size())];
      const size_t count = cluster->pageserver_ids().size();
      api::NodeId target = cluster->NodeIdOf(env.random().Below(count));
      if (shard.attached && *shard.attached == target) {
        target = cluster->NodeIdOf((target % count));  // the next node (ids are 1-based)
      }
      env.Emit("operator.migrate", {sim::TraceField::Str("shard", shard.shard.ToString()),
                                    sim::TraceField::Int("to", static_cast<int64_t>(target))});
      (void)cluster->CallController(env, api::kTenantShardMigrate,
                                    api::TenantShardMigrateRequest{shard.shard, target},
                                    simulation->Now() + sim::Duration::Seconds(30));
    }
  });
}

sim::FaultPlan DrawFaults(ScenarioRun& run, const std::vector<sim::ProcessId>& targets,
                          sim::Duration phase, int faults_max) {
  if (run.options().fault_plan) return *run.options().fault_plan;
  sim::Random random = run.Fork("faults");
  const sim::FaultKind kinds[] = {sim::FaultKind::kCrash, sim::FaultKind::kKill,
                                  sim::FaultKind::kPause, sim::FaultKind::kPartition,
                                  sim::FaultKind::kPartitionOneWay, sim::FaultKind::kIsolate,
                                  sim::FaultKind::kClockDrift, sim::FaultKind::kClog,
                                  sim::FaultKind::kLinkDegrade};
  sim::FaultPlan plan;
  const int count = static_cast<int>(random.Range(0, faults_max));
  for (int k = 0; k < count; ++k) {
    sim::Fault fault;
    fault.kind = kinds[random.Below(std::size(kinds))];
    fault.at = sim::Duration::Millis(random.Range(0, phase.millis()));
    fault.a = targets[random.Below(targets.size())];
    fault.b = targets[random.Below(targets.size())];
    if (fault.b == fault.a) fault.b = targets[(random.Below(targets.size()))];
    fault.duration = sim::Duration::Millis(random.Range(500, 40'000));
    if (fault.kind == sim::FaultKind::kClockDrift) fault.value = random.Range(-50'000'000, 50'000'000);
    if (fault.kind == sim::FaultKind::kLinkDegrade) fault.value = random.Range(10'000, 500'000);
    plan.faults.push_back(fault);
  }
  return plan;
}

void Quiet(ScenarioRun& run, StorageWorld& world, sim::Duration quiet) {
  world.Heal();
  run.RunFor(quiet);
  world.CheckConvergence();
}

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
}

}  // namespace storsim::scenarios
