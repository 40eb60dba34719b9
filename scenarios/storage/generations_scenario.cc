// Scenario "generations" (SPEC §4, §5.3–5.4, §13): the generation protocol under pageserver
// restarts. Pageservers crash, are killed or restart at once (each restart is a re-attach that
// takes a new generation), are cut off from the controller, while the operator keeps migrating
// shards — so /validate runs mid-migration while the origin compacts and deletes — and the
// controller itself restarts while nodes are offline (the new leader starts with unknown
// observed state for them) or the database fails over under it.
//
// Targets of the bug zoo: #3 ctl-validate-trusts-memory (memory lags the DB after a controller
// restart: S8/S9), #6 ctl-no-refresh-unknown-observed (controller restart with offline nodes: L1),
// #15 ctl-reconcile-aborts-on-first-error (a node that fails its location calls: L1), #16
// upload-barrier-missing (a restart with layers flushed but never indexed: S8), and the canary.
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawGenerationsPlan(sim::Random& random, StoryContext& context,
                                   sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  const auto& pods = cluster.controller_ids();
  sim::FaultPlan plan;
  auto pageserver = [&] { return pageservers[random.Below(pageservers.size())]; };
  // Pageserver restarts of every kind: each one is a re-attach at a new generation.
  const int restarts = static_cast<int>(random.Range(1, 4));
  for (int k = 0; k < restarts; ++k) {
    sim::Fault fault;
    fault.at = DrawAt(random, phase);
    fault.a = pageserver();
    switch (random.Below(3)) {
      case 0:
        fault.kind = sim::FaultKind::kRestart;
        break;
      case 1:
        fault.kind = sim::FaultKind::kCrash;
        fault.duration = DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(40));
        break;
      default:
        fault.kind = sim::FaultKind::kKill;
        fault.duration = DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(20));
        break;
    }
    plan.faults.push_back(fault);
  }
  // A node that cannot reach the controller (its location calls fail, it looks offline).
  if (random.Chance(1, 2)) {
    const sim::ProcessId node = pageserver();
    const sim::Duration at = DrawAt(random, phase);
    const sim::Duration span = DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(45));
    for (sim::ProcessId pod : pods) {
      plan.faults.push_back({at, sim::FaultKind::kPartition, node, pod, span, 0});
    }
  }
  // The controller restarts while a node is offline (or just restarts), so its new incarnation
  // starts with unknown observed state and memory that must be reloaded from the database.
  const int controller_restarts = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < controller_restarts; ++k) {
    const sim::Duration at = DrawAt(random, phase);
    if (random.Chance(2, 3)) {
      sim::Fault down{at, sim::FaultKind::kCrash, pageserver(), -1,
                      DrawSpan(random, sim::Duration::Seconds(20), sim::Duration::Seconds(60)), 0};
      plan.faults.push_back(down);
    }
    // Draws first, one per statement, in the order they always ran: the order in which a call's
    // arguments are evaluated is unspecified, and gcc and clang differ.
    const auto pod = static_cast<int64_t>(random.Below(pods.size()));
    const sim::Duration after =
        DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(10));
    plan.faults.push_back(StoryFault(StoryAction::kPodCrash, at + after, pod));
  }
  if (random.Chance(1, 3)) {
    plan.faults.push_back(StoryFault(StoryAction::kRoll, DrawAt(random, phase), 0));
  }
  if (random.Chance(1, 3)) {
    plan.faults.push_back(StoryFault(StoryAction::kDbFailover, DrawAt(random, phase), 0));
  }
  if (random.Chance(1, 3)) {
    const int64_t extra_ms = random.Range(200, 2000);
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(20));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kDbSlow, at, 0, span, extra_ms));
  }
  // (Drawn after everything above, so the plans of the stories above are unchanged.)
  // The leader restarts while a node is cut off from every pod (alive, still attached): the new
  // instance's start-up scan misses the node, so its observed state is unknown until the node
  // answers heartbeats again and is activated (PR #7027, issue #7006).
  if (random.Chance(1, 2)) {
    const sim::ProcessId node = pageserver();
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(30));
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(20), sim::Duration::Seconds(60));
    const sim::Duration crash_after =
        DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(8));
    for (sim::ProcessId pod : pods) {
      plan.faults.push_back({at, sim::FaultKind::kPartition, node, pod, span, 0});
    }
    plan.faults.push_back(StoryFault(StoryAction::kPodCrash, at + crash_after, 0));
  }
  // The control plane detaches a tenant and attaches it again while the node with its secondary
  // fails every call (crashed, but not long enough to be marked offline), late in the phase so no
  // later migration re-issues the generation (PR #12745).
  if (random.Chance(1, 2)) {
    const int64_t tenant = random.Range(0, 2);
    const sim::Duration at =
        phase - sim::Duration::Seconds(40) + DrawAt(random, sim::Duration::Seconds(20));
    const sim::Duration down =
        DrawSpan(random, sim::Duration::Seconds(20), sim::Duration::Seconds(28));
    const sim::Duration hold =
        DrawSpan(random, sim::Duration::Seconds(6), sim::Duration::Seconds(15));
    plan.faults.push_back(StoryFault(StoryAction::kCrashSecondary, at, tenant, down));
    plan.faults.push_back(
        StoryFault(StoryAction::kPolicyCycle, at + sim::Duration::Seconds(1), tenant, hold));
  }
  return plan;
}

void GenerationsBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  // Flushes by size only, and a short checkpoint, so restarts find layers flushed but not yet
  // indexed (future layers) and compaction deletes while migrations validate.
  options.pageserver.checkpoint_records = 32;
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(8);
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase](sim::Random& random, StoryContext& context) {
             return DrawGenerationsPlan(random, context, phase);
           });
}

}  // namespace

void RegisterGenerationsScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"generations",
                "pageserver restarts and re-attaches, validation mid-migration, controller "
                "restarts with nodes offline; S4-S10 and L1 checked",
                bugs, GenerationsBody});
}

}  // namespace storsim::scenarios
