// The storage scenarios' shared pieces: bug list, seed-drawn topology, the operator's migrations,
// and the story-fault applier (see story_helpers.h for the encoding of story faults in a plan).
#include "scenarios/storage/story_helpers.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <optional>

#include "model/api/controller_api.h"
#include "model/compute/compute_ctl.h"
#include "model/controller/defects.h"
#include "model/controller/shard_split.h"
#include "model/deploy/defects.h"
#include "model/pageserver/options.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::scenarios {
namespace {

constexpr const char* kActionNames[] = {
    "none",       "notify_status", "notify_slow",  "get_spec_status", "reload_fails",
    "db_down",    "db_slow",       "db_failover",  "roll",            "pod_crash",
    "deploy_pass", "drain",        "fill",         "migrate_from",    "pod_lose_node",
    "pod_crash_old", "split", "crash_attached", "policy_cycle", "migrate_back",
    "crash_secondary", "stalled_migration",
    // New action names go here, in the order of the enum.
};
static_assert(std::size(kActionNames) == static_cast<size_t>(StoryAction::kCount));

// Control-plane notify faults are the sum of two independent story faults (a status storm and a
// slow mode); each change re-sets the combination.
struct NotifyState {
  std::optional<api::Http> status;
  uint32_t percent = 100;
  int64_t delay_ms = 0;
  uint64_t status_epoch = 0;  // an undo only clears the storm that set it
  uint64_t slow_epoch = 0;
};

void PushNotifyFaults(StoryContext& context, const NotifyState& state) {
  control_plane::NotifyFaults faults;
  faults.status = state.status;
  faults.percent = state.percent;
  faults.delay_min = sim::Duration::Millis(state.delay_ms / 2);
  faults.delay_max = sim::Duration::Millis(state.delay_ms);
  context.cluster->control_plane().SetNotifyFaults(faults);
}

// The compute of tenant index `index` (modulo the tenant count); null when there is none.
// Cluster only hands out const computes; the harness switches (SetReloadFails) are meant for
// the harness, and the object itself is not const (owned by the cluster through a unique_ptr).
compute::ComputeCtl* ComputeOf(StoryContext& context, int64_t index) {
  const auto& tenants = context.cluster->tenant_ids();
  if (tenants.empty()) return nullptr;
  const std::string& tenant = tenants[static_cast<size_t>(index) % tenants.size()];
  if (context.cluster->compute_ids().count(tenant) == 0) return nullptr;
  return const_cast<compute::ComputeCtl*>(&context.cluster->compute(tenant));
}

// Ends a reload failure of compute `index`. A compute whose reconfiguration failed meanwhile is
// left Failed, and compute_ctl refuses every later /configure in that status (412), so no
// placement would reach it again; the control plane's remedy is to restart the endpoint, which
// then pulls the current spec at start. The story does that here, as the fault's end.
void EndReloadFailure(StoryContext& context, int64_t index) {
  compute::ComputeCtl* compute = ComputeOf(context, index);
  if (compute == nullptr) return;
  compute->SetReloadFails(false);
  if (compute->Snapshot().status != api::ComputeStatus::kFailed) return;
  const auto& tenants = context.cluster->tenant_ids();
  const std::string& tenant = tenants[static_cast<size_t>(index) % tenants.size()];
  sim::Process& process = context.simulation->process(context.cluster->compute_ids().at(tenant));
  if (!process.up()) return;
  SIM_MARK("story.restart_failed_compute");
  context.simulation->Emit("story.compute_restart", {sim::TraceField::Str("tenant", tenant)});
  process.Restart();
}

api::NodeId NodeOf(StoryContext& context, int64_t index) {
  const size_t count = context.cluster->pageserver_ids().size();
  return context.cluster->NodeIdOf(static_cast<size_t>(index) % count);
}

// Operator script: drain a node; cancel it after `cancel_after` if positive, otherwise wait (for
// a bounded time) until it is drained and fill it again, as a maintenance without restart would.
void DrainScript(cluster::Cluster* cluster, sim::Simulation* simulation, api::NodeId node,
                 sim::Duration cancel_after, sim::Env& env) {
  const auto deadline = [simulation] { return simulation->Now() + sim::Duration::Seconds(30); };
  (void)cluster->CallController(env, api::kNodeDrain, api::NodeRequest{node}, deadline());
  if (cancel_after > sim::Duration::Zero()) {
    env.Sleep(cancel_after);
    (void)cluster->CallController(env, api::kNodeCancelDrain, api::NodeRequest{node}, deadline());
    return;
  }
  for (int poll = 0; poll < 120; ++poll) {
    env.Sleep(sim::Duration::Seconds(1));
    absl::StatusOr<api::NodeStatusResponse> status =
        cluster->CallController(env, api::kNodeStatus, api::NodeRequest{node}, deadline());
    if (!status.ok()) continue;
    if (status->scheduling_policy == persistence::NodeSchedulingPolicy::kPauseForRestart) break;
    if (status->scheduling_policy == persistence::NodeSchedulingPolicy::kActive && poll > 2) return;
  }
  (void)cluster->CallController(env, api::kNodeFill, api::NodeRequest{node}, deadline());
}

void MigrateFromScript(cluster::Cluster* cluster, sim::Simulation* simulation, api::NodeId node,
                       sim::Env& env) {
  const size_t count = cluster->pageserver_ids().size();
  for (const std::string& tenant : cluster->tenant_ids()) {
    absl::StatusOr<api::TenantDescribeResponse> described = cluster->CallController(
        env, api::kTenantDescribe, api::TenantDescribeRequest{tenant},
        simulation->Now() + sim::Duration::Seconds(30));
    if (!described.ok()) continue;
    for (const api::ShardPlacement& shard : described->shards) {
      if (!shard.attached || *shard.attached != node) continue;
      api::NodeId target = shard.secondaries.empty() ? (node % count) + 1 : shard.secondaries[0];
      env.Emit("operator.migrate", {sim::TraceField::Str("shard", shard.shard.ToString()),
                                    sim::TraceField::Int("to", static_cast<int64_t>(target))});
      (void)cluster->CallController(env, api::kTenantShardMigrate,
                                    api::TenantShardMigrateRequest{shard.shard, target},
                                    simulation->Now() + sim::Duration::Seconds(30));
    }
  }
}

// kSplit: the operator reads the tenant's shard count and asks for twice as many (at most
// `max_shards`), as an operator splitting a growing tenant would.
void SplitScript(cluster::Cluster* cluster, sim::Simulation* simulation, const std::string& tenant,
                 int64_t max_shards, sim::Env& env) {
  auto described = cluster->CallController(env, api::kTenantDescribe,
                                           api::TenantDescribeRequest{tenant},
                                           simulation->Now() + sim::Duration::Seconds(30));
  if (!described.ok() || described->status != api::Http::kOk || described->shards.empty()) return;
  const int64_t count = std::max<int64_t>(described->shards.front().shard.shard_count, 1);
  if (count * 2 > max_shards) return;
  controller::TenantShardSplitRequest request{tenant, static_cast<uint8_t>(count * 2)};
  env.Emit("operator.split", {sim::TraceField::Str("tenant", tenant),
                              sim::TraceField::Int("new_count", count * 2)});
  (void)cluster->CallController(env, controller::kTenantShardSplit, request,
                                simulation->Now() + sim::Duration::Seconds(60));
}

// The pageserver (process) of the node `pick` chooses from the leader's intent for tenant index
// `index`'s first shard (nullopt: none); -1 when there is no single leader that knows it.
sim::ProcessId IntendedPageserverOf(
    StoryContext& context, int64_t index,
    const std::function<std::optional<api::NodeId>(const controller::IntentState&)>& pick) {
  cluster::Cluster& cluster = *context.cluster;
  const auto& tenants = cluster.tenant_ids();
  if (tenants.empty()) return -1;
  const std::string& tenant = tenants[static_cast<size_t>(index) % tenants.size()];
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    if (!context.simulation->process(cluster.controller_ids()[slot]).up()) continue;
    const controller::ControllerSnapshot state = cluster.controller(slot).Snapshot();
    if (!state.running || state.status != controller::LeadershipStatus::kLeader) continue;
    for (const auto& [id, shard] : state.shards) {
      const std::optional<api::NodeId> node = pick(shard.intent);
      if (id.tenant_id != tenant || !node) continue;
      for (size_t i = 0; i < cluster.pageserver_ids().size(); ++i) {
        if (cluster.NodeIdOf(i) == *node) return cluster.pageserver_ids()[i];
      }
      return -1;
    }
  }
  return -1;
}

// Where the leader intends the first shard attached, and its first secondary.
sim::ProcessId AttachedPageserverOf(StoryContext& context, int64_t index) {
  return IntendedPageserverOf(context, index, [](const controller::IntentState& intent) {
    return intent.attached;
  });
}

sim::ProcessId SecondaryPageserverOf(StoryContext& context, int64_t index) {
  return IntendedPageserverOf(
      context, index, [](const controller::IntentState& intent) -> std::optional<api::NodeId> {
        if (intent.secondary.empty()) return std::nullopt;
        return intent.secondary.front();
      });
}

// Crashes `pageserver` (if it is up) and restarts it after `duration` (kCrashAttached,
// kCrashSecondary).
void CrashPageserverFor(sim::Simulation* simulation, sim::ProcessId pageserver,
                        sim::Duration duration) {
  if (pageserver < 0 || !simulation->process(pageserver).up()) return;
  sim::Fault crash;
  crash.kind = sim::FaultKind::kCrash;
  crash.a = pageserver;
  crash.duration = duration;
  sim::ApplyFault(*simulation, crash);  // restarts it after the duration
}

// kStalledMigration: the operator migrates the tenant's first shard from A to its secondary B
// (which the story has cut off from the safekeeper: B attaches but cannot reach the origin's
// LSNs), and after `supersede_after` migrates it on to a third node C (back to A with two nodes),
// superseding the stalled migration (PR #9486: the LSN catch-up wait must be cancellable).
void StalledMigrationScript(cluster::Cluster* cluster, sim::Simulation* simulation,
                            const std::string& tenant, sim::Duration supersede_after,
                            sim::Env& env) {
  auto described = cluster->CallController(env, api::kTenantDescribe,
                                           api::TenantDescribeRequest{tenant},
                                           simulation->Now() + sim::Duration::Seconds(30));
  if (!described.ok() || described->shards.empty() || !described->shards[0].attached) return;
  const api::ShardPlacement& shard = described->shards[0];
  const api::NodeId origin = *shard.attached;
  const size_t count = cluster->pageserver_ids().size();
  const api::NodeId stalled =
      shard.secondaries.empty() ? (origin % count) + 1 : shard.secondaries[0];
  if (stalled == origin) return;
  api::NodeId next = origin;
  for (size_t k = 0; k < count; ++k) {
    const api::NodeId candidate = cluster->NodeIdOf(k);
    if (candidate != origin && candidate != stalled) {
      next = candidate;
      break;
    }
  }
  const sim::Instant supersede_at = simulation->Now() + supersede_after;
  for (const api::NodeId to : {stalled, next}) {
    env.Emit("operator.migrate", {sim::TraceField::Str("shard", shard.shard.ToString()),
                                  sim::TraceField::Int("to", static_cast<int64_t>(to))});
    const sim::Instant deadline =
        to == stalled ? supersede_at : simulation->Now() + sim::Duration::Seconds(30);
    (void)cluster->CallController(env, api::kTenantShardMigrate,
                                  api::TenantShardMigrateRequest{shard.shard, to}, deadline);
    if (to == stalled && simulation->Now() < supersede_at) env.Sleep(supersede_at - simulation->Now());
  }
}

// kPolicyCycle: the operator detaches the tenant (placement policy Detached) and, after
// `hold`, attaches it again with one secondary.
void PolicyCycleScript(cluster::Cluster* cluster, sim::Simulation* simulation,
                       const std::string& tenant, sim::Duration hold, sim::Env& env) {
  const auto deadline = [simulation] { return simulation->Now() + sim::Duration::Seconds(60); };
  env.Emit("operator.policy", {sim::TraceField::Str("tenant", tenant),
                               sim::TraceField::Str("policy", "Detached")});
  (void)cluster->CallController(env, api::kTenantPolicy,
                                api::TenantPolicyRequest{tenant, api::PlacementPolicy::Detached()},
                                deadline());
  env.Sleep(hold);
  env.Emit("operator.policy", {sim::TraceField::Str("tenant", tenant),
                               sim::TraceField::Str("policy", "Attached")});
  (void)cluster->CallController(
      env, api::kTenantPolicy, api::TenantPolicyRequest{tenant, api::PlacementPolicy::Attached(1)},
      deadline());
}

// kMigrateBack: the operator migrates the tenant's first shard from A to another node B, and
// `back_after` later (whether or not the first migration finished) back to A.
void MigrateBackScript(cluster::Cluster* cluster, sim::Simulation* simulation,
                       const std::string& tenant, sim::Duration back_after, sim::Env& env) {
  auto described = cluster->CallController(env, api::kTenantDescribe,
                                           api::TenantDescribeRequest{tenant},
                                           simulation->Now() + sim::Duration::Seconds(30));
  if (!described.ok() || described->shards.empty() || !described->shards[0].attached) return;
  const api::ShardPlacement& shard = described->shards[0];
  const api::NodeId origin = *shard.attached;
  const size_t count = cluster->pageserver_ids().size();
  const api::NodeId target =
      shard.secondaries.empty() ? (origin % count) + 1 : shard.secondaries[0];
  if (target == origin) return;
  const sim::Instant back_at = simulation->Now() + back_after;
  for (const api::NodeId to : {target, origin}) {
    env.Emit("operator.migrate", {sim::TraceField::Str("shard", shard.shard.ToString()),
                                  sim::TraceField::Int("to", static_cast<int64_t>(to))});
    // The way out gives up at `back_at`: the way back must not wait for it to finish.
    const sim::Instant deadline =
        to == target ? back_at : simulation->Now() + sim::Duration::Seconds(30);
    (void)cluster->CallController(env, api::kTenantShardMigrate,
                                  api::TenantShardMigrateRequest{shard.shard, to}, deadline);
    if (to == target && simulation->Now() < back_at) env.Sleep(back_at - simulation->Now());
  }
}

// Applies one story fault now; `undo` is set to what ends it (empty for one-shot actions).
void ApplyStory(const std::shared_ptr<StoryContext>& context,
                const std::shared_ptr<NotifyState>& notify, StoryAction action,
                const sim::Fault& fault, std::function<void()>* undo) {
  cluster::Cluster* cluster = context->cluster;
  sim::Simulation* simulation = context->simulation;
  StoryContext* story = context.get();
  switch (action) {
    case StoryAction::kNotifyStatus: {
      notify->status = static_cast<api::Http>(fault.value);
      notify->percent = static_cast<uint32_t>(std::clamp<int64_t>(fault.a, 1, 100));
      const uint64_t epoch = ++notify->status_epoch;
      PushNotifyFaults(*story, *notify);
      *undo = [story, notify, epoch] {
        if (notify->status_epoch != epoch) return;
        notify->status.reset();
        PushNotifyFaults(*story, *notify);
      };
      break;
    }
    case StoryAction::kNotifySlow: {
      notify->delay_ms = std::max<int64_t>(fault.value, 0);
      const uint64_t epoch = ++notify->slow_epoch;
      PushNotifyFaults(*story, *notify);
      *undo = [story, notify, epoch] {
        if (notify->slow_epoch != epoch) return;
        notify->delay_ms = 0;
        PushNotifyFaults(*story, *notify);
      };
      break;
    }
    case StoryAction::kGetSpecStatus:
      cluster->control_plane().SetGetSpecFault(api::Http::kServiceUnavailable);
      *undo = [cluster] { cluster->control_plane().SetGetSpecFault(std::nullopt); };
      break;
    case StoryAction::kReloadFails: {
      compute::ComputeCtl* compute = ComputeOf(*story, fault.a);
      if (compute == nullptr) break;
      // Reload only: Postgres keeps running on its old conninfo (a start failure would leave a
      // compute that only the control plane's restart could repair, which the model lacks).
      compute->SetReloadFails(true);
      *undo = [story, index = fault.a] { EndReloadFailure(*story, index); };
      break;
    }
    case StoryAction::kDbDown:
      cluster->postgres().SetDown(true);
      *undo = [cluster] { cluster->postgres().SetDown(false); };
      break;
    case StoryAction::kDbSlow:
      cluster->postgres().options().extra_latency = sim::Duration::Millis(std::max<int64_t>(fault.value, 0));
      *undo = [cluster] { cluster->postgres().options().extra_latency = sim::Duration::Zero(); };
      break;
    case StoryAction::kDbFailover:
      if (simulation->process(cluster->postgres_id()).up()) cluster->postgres().CrashAndRestart();
      break;
    case StoryAction::kRoll:
      cluster->deployment().TriggerRollout(fault.value == 1 ? deploy::Strategy::kRecreate
                                                            : deploy::Strategy::kRollingUpdate);
      break;
    case StoryAction::kPodCrash: {
      // The pod of slot `a`, or else the first one running (a slot may be empty).
      const auto& pods = cluster->controller_ids();
      for (size_t k = 0; k < pods.size(); ++k) {
        sim::Process& pod = simulation->process(pods[(static_cast<size_t>(fault.a) + k) % pods.size()]);
        if (!pod.up()) continue;
        pod.Crash();
        break;
      }
      break;
    }
    case StoryAction::kDeployPass:
      if (context->deployer) context->deployer->Deploy();
      break;
    case StoryAction::kDrain: {
      const api::NodeId node = NodeOf(*story, fault.a);
      const sim::Duration cancel_after = fault.duration;
      cluster->RunOperatorScript("drain", [cluster, simulation, node, cancel_after](sim::Env& env) {
        DrainScript(cluster, simulation, node, cancel_after, env);
      });
      break;
    }
    case StoryAction::kFill: {
      const api::NodeId node = NodeOf(*story, fault.a);
      cluster->RunOperatorScript("fill", [cluster, simulation, node](sim::Env& env) {
        (void)cluster->CallController(env, api::kNodeFill, api::NodeRequest{node},
                                      simulation->Now() + sim::Duration::Seconds(30));
      });
      break;
    }
    case StoryAction::kMigrateFrom: {
      const api::NodeId node = NodeOf(*story, fault.a);
      cluster->RunOperatorScript("migrate_from", [cluster, simulation, node](sim::Env& env) {
        MigrateFromScript(cluster, simulation, node, env);
      });
      break;
    }
    case StoryAction::kPodLoseNode: {
      const int slot = static_cast<int>(static_cast<size_t>(fault.a) % cluster->controller_ids().size());
      bool running = false;
      for (const deploy::PodStatus& pod : cluster->deployment().Snapshot()) {
        if (pod.slot == slot && pod.phase == deploy::PodPhase::kRunning) running = true;
      }
      if (!running) break;
      cluster->deployment().LoseNode(slot);
      *undo = [cluster, slot] { cluster->deployment().RecoverNode(slot); };
      break;
    }
    case StoryAction::kPodCrashOld: {
      // The old pod of a roll: the running pod of the lowest revision (the first such slot).
      const std::vector<deploy::PodStatus> pods = cluster->deployment().Snapshot();
      const deploy::PodStatus* oldest = nullptr;
      for (const deploy::PodStatus& pod : pods) {
        if (pod.phase != deploy::PodPhase::kRunning || pod.pid < 0) continue;
        if (!simulation->process(pod.pid).up()) continue;
        if (oldest == nullptr || pod.revision < oldest->revision) oldest = &pod;
      }
      if (oldest != nullptr) simulation->process(oldest->pid).Crash();
      break;
    }
    case StoryAction::kSplit: {
      const auto& tenants = cluster->tenant_ids();
      if (tenants.empty()) break;
      const std::string tenant = tenants[static_cast<size_t>(fault.a) % tenants.size()];
      const int64_t max_shards = fault.value > 0 ? fault.value : 8;
      cluster->RunOperatorScript("split", [cluster, simulation, tenant, max_shards](sim::Env& env) {
        SplitScript(cluster, simulation, tenant, max_shards, env);
      });
      break;
    }
    case StoryAction::kCrashAttached:
      CrashPageserverFor(simulation, AttachedPageserverOf(*story, fault.a), fault.duration);
      break;
    case StoryAction::kPolicyCycle: {
      const auto& tenants = cluster->tenant_ids();
      if (tenants.empty()) break;
      const std::string tenant = tenants[static_cast<size_t>(fault.a) % tenants.size()];
      const sim::Duration hold = fault.duration;
      cluster->RunOperatorScript("policy_cycle", [cluster, simulation, tenant, hold](sim::Env& env) {
        PolicyCycleScript(cluster, simulation, tenant, hold, env);
      });
      break;
    }
    case StoryAction::kMigrateBack: {
      const auto& tenants = cluster->tenant_ids();
      if (tenants.empty()) break;
      const std::string tenant = tenants[static_cast<size_t>(fault.a) % tenants.size()];
      const sim::Duration back_after = sim::Duration::Millis(std::max<int64_t>(fault.value, 1));
      cluster->RunOperatorScript("migrate_back",
                                 [cluster, simulation, tenant, back_after](sim::Env& env) {
                                   MigrateBackScript(cluster, simulation, tenant, back_after, env);
                                 });
      break;
    }
    case StoryAction::kCrashSecondary:
      CrashPageserverFor(simulation, SecondaryPageserverOf(*story, fault.a), fault.duration);
      break;
    case StoryAction::kStalledMigration: {
      const auto& tenants = cluster->tenant_ids();
      if (tenants.empty() || fault.duration <= sim::Duration::Zero()) break;
      const std::string tenant = tenants[static_cast<size_t>(fault.a) % tenants.size()];
      // The destination is the shard's secondary (the leader's intent): cut it off first.
      const sim::ProcessId destination = SecondaryPageserverOf(*story, fault.a);
      if (destination < 0 || !simulation->process(destination).up()) break;
      sim::Fault partition;
      partition.kind = sim::FaultKind::kPartition;
      partition.a = destination;
      partition.b = cluster->safekeeper_id();
      partition.duration = fault.duration;
      sim::ApplyFault(*simulation, partition);  // heals itself after the duration
      const sim::Duration supersede_after = sim::Duration::Millis(std::max<int64_t>(fault.value, 1));
      cluster->RunOperatorScript(
          "stalled_migration", [cluster, simulation, tenant, supersede_after](sim::Env& env) {
            StalledMigrationScript(cluster, simulation, tenant, supersede_after, env);
          });
      break;
    }
    case StoryAction::kCount:
      SIM_CHECK_MSG(false, "invalid story action");
  }
}

}  // namespace

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

cluster::ClusterOptions DrawCluster(ScenarioRun& run, std::string* description) {
  sim::Random random = run.Fork("swarm");
  cluster::ClusterOptions options;
  options.pageservers = static_cast<int>(StoryKnob(run, "pageservers", random.Range(2, 4)));
  options.tenants = static_cast<int>(StoryKnob(run, "tenants", random.Range(1, 3)));
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

sim::FaultPlan DrawKernelFaults(sim::Random& random, const std::vector<sim::ProcessId>& targets,
                                sim::Duration phase, int count) {
  SIM_CHECK(!targets.empty());
  const sim::FaultKind kinds[] = {sim::FaultKind::kCrash, sim::FaultKind::kKill,
                                  sim::FaultKind::kPause, sim::FaultKind::kPartition,
                                  sim::FaultKind::kPartitionOneWay, sim::FaultKind::kIsolate,
                                  sim::FaultKind::kClockDrift, sim::FaultKind::kClog,
                                  sim::FaultKind::kLinkDegrade};
  sim::FaultPlan plan;
  for (int k = 0; k < count && k < 1000; ++k) {
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

void SettleControllers(ScenarioRun& run, StorageWorld& world) {
  cluster::Cluster& cluster = world.cluster();
  // The memory of every controller whose process runs (a crashed one schedules nothing).
  auto live_controllers = [&cluster, &world] {
    std::vector<controller::ControllerSnapshot> snapshots;
    const std::vector<sim::ProcessId>& ids = cluster.controller_ids();
    for (size_t slot = 0; slot < ids.size(); ++slot) {
      if (world.simulation().process(ids[slot]).up()) {
        snapshots.push_back(cluster.controller(slot).Snapshot());
      }
    }
    return snapshots;
  };
  auto unsettled = [&cluster, &live_controllers] {
    const std::vector<deploy::PodStatus> pods = cluster.deployment().Snapshot();
    const std::vector<controller::ControllerSnapshot> controllers = live_controllers();
    return std::any_of(pods.begin(), pods.end(),
                       [](const deploy::PodStatus& pod) { return pod.restart_pending; }) ||
           std::any_of(controllers.begin(), controllers.end(),
                       [](const controller::ControllerSnapshot& controller) {
                         return controller.takeover_resync_pending;
                       });
  };
  if (unsettled()) {
    SIM_MARK("story.quiet_waits_for_controllers");
    // Bounded by Kubernetes' largest back-off (300 s) in 5 s steps.
    for (int step = 0; step < 60 && unsettled(); ++step) run.RunFor(sim::Duration::Seconds(5));
    run.RunFor(kControllerSettle);
  }
  // A re-sync that finished shortly before counts as well: what it started needs the settle.
  sim::Instant until = world.simulation().Now();
  for (const controller::ControllerSnapshot& controller : live_controllers()) {
    if (controller.takeover_resync_done_at) {
      until = std::max(until, *controller.takeover_resync_done_at + kControllerSettle);
    }
  }
  if (until > world.simulation().Now()) {
    SIM_MARK("story.quiet_waits_for_resync_settle");
    run.RunFor(until - world.simulation().Now());
  }
}

void Quiet(ScenarioRun& run, StorageWorld& world, sim::Duration quiet) {
  world.Heal();
  run.RunFor(quiet);
  SettleControllers(run, world);
  world.CheckConvergence();
}

const char* StoryActionName(StoryAction action) {
  const auto index = static_cast<size_t>(action);
  return index < std::size(kActionNames) ? kActionNames[index] : "unknown";
}

sim::Fault StoryFault(StoryAction action, sim::Duration at, int64_t subject,
                      sim::Duration duration, int64_t value) {
  SIM_CHECK(action > StoryAction{0} && action < StoryAction::kCount);
  SIM_CHECK(subject >= 0 && subject < 1'000'000);
  sim::Fault fault;
  fault.kind = sim::FaultKind::kHealAll;
  fault.at = at;
  fault.a = static_cast<sim::ProcessId>(subject);
  fault.b = kStoryMarker + static_cast<sim::ProcessId>(action);
  fault.duration = duration;
  fault.value = value;
  return fault;
}

bool IsStoryFault(const sim::Fault& fault, StoryAction* action) {
  if (fault.kind != sim::FaultKind::kHealAll) return false;
  const int64_t code = static_cast<int64_t>(fault.b) - kStoryMarker;
  if (code <= 0 || code >= static_cast<int64_t>(StoryAction::kCount)) return false;
  *action = static_cast<StoryAction>(code);
  return true;
}

std::shared_ptr<StoryContext> MakeStoryContext(ScenarioRun& run, StorageWorld& world) {
  auto context = std::make_shared<StoryContext>();
  context->cluster = &world.cluster();
  context->simulation = &world.simulation();
  run.Keep(context);
  return context;
}

void UsePageserverDeploy(ScenarioRun& run, StoryContext& context, sim::Duration drain_timeout,
                         sim::Duration fill_timeout) {
  SIM_CHECK(context.deployer == nullptr);
  std::vector<deploy::PageserverTarget> targets;
  for (size_t i = 0; i < context.cluster->pageserver_ids().size(); ++i) {
    targets.push_back({context.cluster->NodeIdOf(i),
                       &context.simulation->process(context.cluster->pageserver_ids()[i])});
  }
  deploy::PageserverDeployOptions options;
  options.drain_timeout = drain_timeout;
  options.fill_timeout = fill_timeout;
  context.deployer = std::make_shared<deploy::PageserverDeploy>(
      *context.simulation, context.cluster->controller_service(), std::move(targets), options,
      context.cluster->options().defects);
  run.Keep(context.deployer);
}

void ApplyStoryPlan(std::shared_ptr<StoryContext> context, const sim::FaultPlan& plan) {
  auto notify = std::make_shared<NotifyState>();
  sim::Simulation* simulation = context->simulation;
  simulation->SpawnKernel("story_faults", [context, notify, simulation,
                                           sorted = plan.Sorted()] {
    sim::Scheduler& scheduler = simulation->scheduler();
    const sim::Instant start = scheduler.Now();
    for (const sim::Fault& fault : sorted.faults) {
      scheduler.SleepUntil(start + fault.at);
      if (context->healed) return;  // the fault phase is over: the rest of the plan is moot
      StoryAction action{};
      if (!IsStoryFault(fault, &action)) {
        sim::ApplyFault(*simulation, fault);
        continue;
      }
      simulation->Emit("story.fault", {sim::TraceField::Str("action", StoryActionName(action)),
                                       sim::TraceField::Int("subject", fault.a),
                                       sim::TraceField::Int("duration_ns", fault.duration.nanos()),
                                       sim::TraceField::Int("value", fault.value)});
      ++context->story_faults_applied;
      std::function<void()> undo;
      ApplyStory(context, notify, action, fault, &undo);
      if (!undo || fault.duration <= sim::Duration::Zero()) continue;
      const sim::Duration duration = fault.duration;
      simulation->SpawnKernel("story_undo", [context, simulation, duration, undo] {
        simulation->scheduler().SleepUntil(simulation->scheduler().Now() + duration);
        if (!context->healed) undo();
      });
    }
  });
}

void HealStory(StoryContext& context, StorageWorld& world) {
  context.healed = true;
  cluster::Cluster& cluster = *context.cluster;
  cluster.control_plane().SetNotifyFaults({});
  cluster.control_plane().SetGetSpecFault(std::nullopt);
  for (size_t i = 0; i < cluster.tenant_ids().size(); ++i) {
    if (compute::ComputeCtl* compute = ComputeOf(context, static_cast<int64_t>(i))) {
      compute->SetStartFails(false);
      EndReloadFailure(context, static_cast<int64_t>(i));
    }
  }
  cluster.postgres().options().extra_latency = sim::Duration::Zero();
  cluster.postgres().SetDown(false);
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    cluster.deployment().RecoverNode(static_cast<int>(slot));
  }
  world.Heal();
}

void QuietStory(ScenarioRun& run, StoryContext& context, StorageWorld& world, sim::Duration quiet) {
  HealStory(context, world);
  // A deploy pass is an operation, not a fault: it finishes (bounded by its own timeouts) before
  // the quiet period starts, since the system cannot settle while nodes restart.
  for (int wait = 0; wait < 60 && context.deployer && context.deployer->status().running; ++wait) {
    run.RunFor(sim::Duration::Seconds(10));
  }
  run.RunFor(quiet);
  SettleControllers(run, world);
  world.CheckConvergence();
}

void RunStory(ScenarioRun& run, cluster::ClusterOptions options, const std::string& swarm,
              const StoryShape& shape, const PlanDrawer& draw_plan, const StorySetup& setup) {
  SIM_CHECK(shape.phase > sim::Duration::Zero());
  run.SetSwarm(swarm);
  StorageWorld world(run, std::move(options));
  std::shared_ptr<StoryContext> context = MakeStoryContext(run, world);
  if (setup) setup(run, *context);
  world.Start();
  sim::FaultPlan plan;
  if (run.options().fault_plan) {
    plan = *run.options().fault_plan;
  } else {
    sim::Random random = run.Fork("story_plan");
    plan = draw_plan(random, *context);
  }
  run.SetFaultPlan(plan);
  ApplyStoryPlan(context, plan);
  const sim::Instant phase_end = world.simulation().Now() + shape.phase;
  if (shape.migrate_period > sim::Duration::Zero()) {
    MigrateRepeatedly(world, shape.migrate_period, phase_end);
  }
  run.RunUntil(phase_end);
  QuietStory(run, *context, world, shape.quiet);
}

sim::Duration DrawAt(sim::Random& random, sim::Duration phase) {
  SIM_CHECK(phase > sim::Duration::Zero());
  return sim::Duration::Millis(random.Range(0, phase.millis() - 1));
}

sim::Duration DrawSpan(sim::Random& random, sim::Duration min, sim::Duration max) {
  SIM_CHECK(min <= max);
  return sim::Duration::Millis(random.Range(min.millis(), max.millis()));
}

}  // namespace storsim::scenarios
