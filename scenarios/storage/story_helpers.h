// Shared pieces of the storage scenarios (storage_scenarios.cc and scenarios/storage/*_scenario.cc):
// the bug list, the seed-drawn topology, the operator's migrations, and "story faults".
//
// Story faults are the harness actions a story injects that are not kernel faults: control-plane
// 423/429/503 storms and slow answers, the controller database down / slow / failing over, a
// controller pod crash, a roll, a pageserver deploy pass, a drain cancelled half-way, a compute
// whose reload fails. They travel in the run's sim::FaultPlan next to the kernel faults, so a
// token replays them and `storsim shrink` removes or shortens them like any other fault. A story
// fault is encoded as a FaultKind::kHealAll entry whose `b` is kStoryMarker + the StoryAction;
// `a` is the action's subject (a slot, a pageserver index, a tenant index, ...), `duration` how
// long it lasts (0: a one-shot action) and `value` its parameter (an HTTP status, a delay in ms).
// Only ApplyStoryPlan understands them: never hand a plan holding story faults to
// sim::ApplyFaultPlan (the kernel would read each as a plain heal-all).
//
// Lifetime: everything a fiber captures lives in a StoryContext that the run keeps (Keep), never
// in the body's locals (RunStopped unwinds the body before the simulation is destroyed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/cluster/cluster.h"
#include "model/deploy/pageserver_deploy.h"
#include "scenarios/run_context.h"
#include "scenarios/scenario.h"
#include "scenarios/storage/storage_world.h"
#include "sim/fault_plan.h"

namespace storsim::scenarios {

// Every defect the storage scenarios know: the controller's, pageserver's, compute's and deploy
// orchestrators' switches, plus the database's read-then-write (bug #5).
std::vector<BugInfo> StorageBugs();
inline constexpr const char* kDbNonAtomic = "db-non-atomic-read-then-write";

// A size drawn from the seed, routed through ScenarioRun::Knob when the runner has it (a token
// may then override it and the value is recorded); otherwise the drawn value.
template <typename Run>
int64_t StoryKnob(Run& run, std::string_view name, int64_t drawn) {
  if constexpr (requires { run.Knob(name, drawn); }) {
    return run.Knob(name, drawn);
  } else {
    (void)run;
    (void)name;
    return drawn;
  }
}

// Topology and timing drawn from the seed (pageservers 2-4, tenants 1-3, lakebase mode half the
// time) with the run's protocol and defects; `description` gets the printable summary.
cluster::ClusterOptions DrawCluster(ScenarioRun& run, std::string* description);

// The operator migrates a random shard to a random other node every `period` (plus up to one
// more period of jitter) until `until`.
void MigrateRepeatedly(StorageWorld& world, sim::Duration period, sim::Instant until);

// `count` random kernel faults (crash, kill, pause, partitions, clock drift, clog, link loss) over
// `targets` within `phase`.
sim::FaultPlan DrawKernelFaults(sim::Random& random, const std::vector<sim::ProcessId>& targets,
                                sim::Duration phase, int count);

// Heals, runs the quiet period and checks convergence (L1 and the checks StorageWorld adds).
void Quiet(ScenarioRun& run, StorageWorld& world, sim::Duration quiet);
// Two recoveries the system schedules itself can outlast the quiet period, and convergence is
// judged only after them:
// - Kubernetes remembers a crash loop after the heal: a controller pod in restart back-off
//   cannot act until its restart comes (up to 300 s later; db-outage 9762: a pod killed by
//   liveness after the heal was restarted 40 s later, past the quiet period).
// - A live controller's unfenced-takeover re-sync runs 45 s after its takeover; until then the
//   start-up notifications wait and a sharded tenant's migration waits in its notify loop
//   (shard-split 7155: a takeover 9 s after the heal).
// When the quiet period ends with either pending, the run goes on until neither is, then for
// kControllerSettle (a start-up with a full step-down budget, ~19.4 s, plus loading; or a
// notify retry, at most 10 s, and the 20 s reconcile loop). It does nothing when neither is
// pending. Both Quiet and QuietStory call it.
inline constexpr sim::Duration kControllerSettle = sim::Duration::Seconds(40);
void SettleControllers(ScenarioRun& run, StorageWorld& world);

enum class StoryAction : int64_t {
  kNotifyStatus = 1,   // cplane answers notify-attach with HTTP `value` (423/429/503/500)
  kNotifySlow = 2,     // cplane takes `value` ms to apply each notification
  kGetSpecStatus = 3,  // cplane answers the compute's spec fetch with 503
  kReloadFails = 4,    // tenant index `a`: the compute's Postgres reload fails (-> Failed)
  kDbDown = 5,         // the controller database is down
  kDbSlow = 6,         // every transaction takes `value` ms more
  kDbFailover = 7,     // the database crashes and recovers from its WAL at once
  kRoll = 8,           // a controller rollout: value 0 RollingUpdate, 1 Recreate
  kPodCrash = 9,       // controller pod slot `a` (else the next running one) crashes; k8s restarts it
  kDeployPass = 10,    // one pageserver deploy pass (drain, restart, fill per node)
  kDrain = 11,         // drain pageserver index `a`; cancelled (DELETE) after `duration` if > 0
  kFill = 12,          // fill pageserver index `a`
  kMigrateFrom = 13,   // migrate every shard attached on pageserver index `a` to another node
  kPodLoseNode = 14,   // controller pod slot `a`'s node stops reporting to Kubernetes
  kPodCrashOld = 15,   // the running controller pod of the oldest revision crashes; k8s restarts it
  kSplit = 16,         // tenant index `a` is split to twice its shard count (none beyond `value`,
                       // default 8 shards) through the controller API (shard_split.h)
  kCrashAttached = 17,  // the pageserver the leader has tenant index `a`'s shard 0 attached on
                       // crashes for `duration` (failover while a notification is failing)
  kPolicyCycle = 18,   // tenant index `a` gets placement policy Detached, then Attached(1) after
                       // `duration` (the compute hook's cache across a detach, PR #9045)
  kMigrateBack = 19,   // tenant index `a`'s shard 0 is migrated away, then back to where it was
                       // after `value` ms (A -> B -> A, PR #9435)
  kCrashSecondary = 20,  // the pageserver holding tenant index `a`'s shard 0 secondary (the
                         // leader's intent) crashes for `duration` (a node whose calls fail
                         // while the controller still counts it available, PR #12745)
  kStalledMigration = 21,  // tenant index `a`'s shard 0 is migrated to a node cut off from the
                           // safekeeper for `duration` (its LSN catch-up stalls), and `value` ms
                           // later migrated on to another node (superseding it, PR #9486)
  // New actions go here, just above kCount (and their name at the end of kActionNames).
  kCount,
};
inline constexpr sim::ProcessId kStoryMarker = 700'000;
const char* StoryActionName(StoryAction action);

sim::Fault StoryFault(StoryAction action, sim::Duration at, int64_t subject,
                      sim::Duration duration = sim::Duration::Zero(), int64_t value = 0);
// True for a fault of the plan that is a story action (sets *action).
bool IsStoryFault(const sim::Fault& fault, StoryAction* action);

// State the story fibers share; kept alive by the run.
struct StoryContext {
  cluster::Cluster* cluster = nullptr;
  sim::Simulation* simulation = nullptr;
  std::shared_ptr<deploy::PageserverDeploy> deployer;  // set by UsePageserverDeploy
  bool healed = false;  // story faults after the heal are skipped
  int story_faults_applied = 0;
};

// Creates the context (kept by the run).
std::shared_ptr<StoryContext> MakeStoryContext(ScenarioRun& run, StorageWorld& world);
// Adds the pageserver deploy orchestrator (its own "deployer" process) for kDeployPass.
// `fill_timeout`: the epilogue's timeout (RFC 033's minutes, shorter to make time-outs happen).
void UsePageserverDeploy(ScenarioRun& run, StoryContext& context, sim::Duration drain_timeout,
                         sim::Duration fill_timeout);

// Applies `plan` from now: kernel faults through sim::ApplyFault, story faults here (each traced
// as "story.fault" {action, subject, duration_ns, value}). Undo of a timed story fault runs after
// its duration unless the story was healed first.
void ApplyStoryPlan(std::shared_ptr<StoryContext> context, const sim::FaultPlan& plan);
// Ends every story fault (cplane faults off, database up and fast, computes reload again) and
// every kernel fault (StorageWorld::Heal); later story faults of the plan are skipped.
void HealStory(StoryContext& context, StorageWorld& world);
// HealStory, then the quiet period and the convergence check.
void QuietStory(ScenarioRun& run, StoryContext& context, StorageWorld& world, sim::Duration quiet);

// Draw helpers for plans: a time within [0, phase), a duration in [min, max].
sim::Duration DrawAt(sim::Random& random, sim::Duration phase);
sim::Duration DrawSpan(sim::Random& random, sim::Duration min, sim::Duration max);

// The skeleton every story scenario shares: records the swarm, builds the world (then `setup`,
// e.g. UsePageserverDeploy), starts it, takes the run's fault plan or draws one with `draw_plan`
// (from the stream "story_plan"), records and applies it, lets the operator migrate every
// `migrate_period` (none if zero) during the fault phase, then heals and runs the quiet period.
struct StoryShape {
  sim::Duration phase = sim::Duration::Seconds(120);
  sim::Duration quiet = sim::Duration::Seconds(60);
  sim::Duration migrate_period = sim::Duration::Zero();
};
using PlanDrawer = std::function<sim::FaultPlan(sim::Random&, StoryContext&)>;
using StorySetup = std::function<void(ScenarioRun&, StoryContext&)>;
void RunStory(ScenarioRun& run, cluster::ClusterOptions options, const std::string& swarm,
              const StoryShape& shape, const PlanDrawer& draw_plan, const StorySetup& setup = {});

// Registration of the story scenarios, one per file.
void RegisterGenerationsScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterComputeRefreshScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterDrainCancelScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterPageserverFailoverScenario(ScenarioRegistry& registry,
                                        const std::vector<BugInfo>& bugs);
void RegisterDbOutageScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterClockSkewLeasesScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterShardSplitScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterChaosScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);
void RegisterControllerRollScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs);

}  // namespace storsim::scenarios
