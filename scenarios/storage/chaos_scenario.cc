// The chaos scenario: everything on. Kernel faults on every storage process (crashes, kills,
// pauses, partitions one- and two-way, isolation, clock drift, clogged and lossy links), a
// controller roll half the time, the operator migrating shards, and story faults of every family
// the swarm switches on: control-plane storms and slow answers, compute reload failures, database
// outages, slowness and failovers, controller pod crashes and lost nodes, pageserver deploys,
// drains (some cancelled), fills, migrations off a node and back, placement-policy cycles,
// crashes of attached pageservers. Which families are on is drawn from the seed (swarm testing:
// a run with few kinds of fault goes deeper into each) and printed with the run.
//
// Shard splits are not drawn here: the shard-split scenario covers them, and with a controller
// roll they need `stop_heartbeats_on_step_down` (SPEC §3.3 hazard, see shard_split_scenario.cc).
#include <string>
#include <vector>

#include "scenarios/storage/story_helpers.h"
#include "sim/check.h"

namespace storsim::scenarios {
namespace {

constexpr sim::Duration kPhase = sim::Duration::Seconds(120);

// The story-fault families a run may switch on.
enum Family : int { kControlPlane, kDatabase, kControllerPods, kOperations, kFamilyCount };
constexpr const char* kFamilyNames[kFamilyCount] = {"cplane", "db", "pods", "operations"};

// One story fault of `family`, at a time and with parameters drawn from `random`.
sim::Fault DrawStoryFault(sim::Random& random, Family family, int pageservers, int tenants) {
  const sim::Duration at = DrawAt(random, kPhase);
  const sim::Duration span = DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(30));
  const int64_t pageserver = static_cast<int64_t>(random.Below(static_cast<uint64_t>(pageservers)));
  const int64_t tenant = static_cast<int64_t>(random.Below(static_cast<uint64_t>(tenants)));
  switch (family) {
    case kControlPlane: {
      const int64_t pick = static_cast<int64_t>(random.Below(4));
      if (pick == 0) {
        constexpr int64_t kStatuses[] = {423, 429, 503, 500};
        const int64_t status = kStatuses[random.Below(std::size(kStatuses))];
        const int64_t percent = random.Range(30, 100);
        return StoryFault(StoryAction::kNotifyStatus, at, percent, span, status);
      }
      if (pick == 1) return StoryFault(StoryAction::kNotifySlow, at, 0, span, random.Range(500, 10'000));
      if (pick == 2) return StoryFault(StoryAction::kGetSpecStatus, at, 0, span);
      return StoryFault(StoryAction::kReloadFails, at, tenant, span);
    }
    case kDatabase: {
      const int64_t pick = static_cast<int64_t>(random.Below(3));
      if (pick == 0) return StoryFault(StoryAction::kDbDown, at, 0, span);
      if (pick == 1) return StoryFault(StoryAction::kDbSlow, at, 0, span, random.Range(50, 3'000));
      return StoryFault(StoryAction::kDbFailover, at, 0);
    }
    case kControllerPods: {
      const int64_t pick = static_cast<int64_t>(random.Below(3));
      const int64_t slot = static_cast<int64_t>(random.Below(2));
      if (pick == 0) return StoryFault(StoryAction::kPodCrash, at, slot);
      if (pick == 1) return StoryFault(StoryAction::kPodLoseNode, at, slot, span);
      return StoryFault(StoryAction::kPodCrashOld, at, 0);
    }
    case kOperations:
    case kFamilyCount:
      break;
  }
  SIM_CHECK(family == kOperations);
  switch (random.Below(7)) {
    case 0:
      return StoryFault(StoryAction::kDeployPass, at, 0);
    case 1: {
      const sim::Duration cancel_after = random.Chance(1, 2) ? span : sim::Duration::Zero();
      return StoryFault(StoryAction::kDrain, at, pageserver, cancel_after);
    }
    case 2:
      return StoryFault(StoryAction::kFill, at, pageserver);
    case 3:
      return StoryFault(StoryAction::kMigrateFrom, at, pageserver);
    case 4:
      return StoryFault(StoryAction::kMigrateBack, at, tenant, sim::Duration::Zero(),
                        random.Range(100, 20'000));
    case 5:
      return StoryFault(StoryAction::kPolicyCycle, at, tenant, span);
    default:
      return StoryFault(StoryAction::kCrashAttached, at, tenant, span);
  }
}

// The chaos plan: kernel faults, a roll half the time, then story faults of the switched-on
// families. `families_on[f]`: family f may be drawn.
sim::FaultPlan DrawChaosPlan(ScenarioRun& run, sim::Random& random, StoryContext& context,
                             const std::vector<bool>& families_on) {
  const cluster::Cluster& cluster = *context.cluster;
  std::vector<sim::ProcessId> targets = {cluster.postgres_id(), cluster.s3_id(),
                                         cluster.safekeeper_id(), cluster.control_plane_id()};
  for (sim::ProcessId id : cluster.pageserver_ids()) targets.push_back(id);
  const int kernel_faults = static_cast<int>(StoryKnob(run, "faults", random.Range(0, 8)));
  sim::FaultPlan plan = DrawKernelFaults(random, targets, kPhase, kernel_faults);
  if (random.Chance(1, 2)) {
    const sim::Duration at = DrawSpan(random, sim::Duration::Seconds(10), kPhase);
    plan.faults.push_back(StoryFault(StoryAction::kRoll, at, 0));
  }
  std::vector<Family> on;
  for (int f = 0; f < kFamilyCount; ++f) {
    if (families_on[static_cast<size_t>(f)]) on.push_back(static_cast<Family>(f));
  }
  if (on.empty()) return plan;
  const int pageservers = static_cast<int>(cluster.pageserver_ids().size());
  const int tenants = std::max<int>(1, static_cast<int>(cluster.tenant_ids().size()));
  const int story_faults = static_cast<int>(StoryKnob(run, "story_faults", random.Range(0, 5)));
  for (int k = 0; k < story_faults; ++k) {
    const Family family = on[random.Below(on.size())];
    plan.faults.push_back(DrawStoryFault(random, family, pageservers, tenants));
  }
  return plan;
}

void ChaosBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  options.pageservers = std::max(options.pageservers, 2);
  sim::Random random = run.Fork("chaos_swarm");
  std::vector<bool> families_on(kFamilyCount);
  swarm += " stories=";
  bool any = false;
  for (int f = 0; f < kFamilyCount; ++f) {
    const bool on = random.Chance(1, 2);
    families_on[static_cast<size_t>(f)] = on;
    if (!on) continue;
    swarm += std::string(any ? "," : "") + kFamilyNames[f];
    any = true;
  }
  if (!any) swarm += "none";
  // RFC 033's timeouts are minutes; shorter ones so a slow drain or fill can time out.
  const sim::Duration drain_timeout = DrawSpan(random, sim::Duration::Seconds(20), sim::Duration::Seconds(90));
  const sim::Duration fill_timeout = DrawSpan(random, sim::Duration::Seconds(10), sim::Duration::Seconds(60));
  StoryShape shape;
  shape.phase = kPhase;
  shape.quiet = sim::Duration::Seconds(90);
  shape.migrate_period = sim::Duration::Seconds(12);
  RunStory(
      run, std::move(options), swarm, shape,
      [&run, families_on](sim::Random& plan_random, StoryContext& context) {
        return DrawChaosPlan(run, plan_random, context, families_on);
      },
      [drain_timeout, fill_timeout](ScenarioRun& story_run, StoryContext& context) {
        UsePageserverDeploy(story_run, context, drain_timeout, fill_timeout);
      });
}

}  // namespace

void RegisterChaosScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"chaos",
                "everything on: kernel faults on every storage process, a roll, migrations, and "
                "the story faults (cplane, database, pods, drains/fills/deploys) the swarm draws; "
                "every checker",
                bugs, ChaosBody});
}

}  // namespace storsim::scenarios
