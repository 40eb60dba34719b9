// Scenario "pageserver-failover" (SPEC §5.4, §6.6, §13 "Pageserver"): attached nodes stop
// answering. A node is cut off from the controller for less than max_offline (30 s: it must not
// be failed over) or for longer (it must be: L2); two nodes go down in the same heartbeat round
// (the failover must not pick the other dying node); a node flaps — offline long enough to be
// marked Offline, back for a few seconds (activation), offline again; pageservers crash and
// restart in the middle of the operator's migrations.
//
// Targets: #13 ctl-availability-transitions-per-node (L2), #17
// ctl-activation-edits-observed-in-place (L1), #11 ctl-notify-ignores-origin-death; checked by
// L2, L1, S12.
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

// The node `node` loses the controller (every pod) for `span` from `at`.
void CutFromController(const cluster::Cluster& cluster, sim::ProcessId node, sim::Duration at,
                       sim::Duration span, sim::FaultPlan& plan) {
  for (sim::ProcessId pod : cluster.controller_ids()) {
    plan.faults.push_back({at, sim::FaultKind::kPartition, node, pod, span, 0});
  }
}

sim::FaultPlan DrawFailoverPlan(sim::Random& random, StoryContext& context, sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  auto pageserver = [&] { return pageservers[random.Below(pageservers.size())]; };
  sim::FaultPlan plan;
  // One partition from the controller, shorter or longer than max_offline.
  {
    const bool long_outage = random.Chance(1, 2);
    const sim::Duration span =
        long_outage ? DrawSpan(random, sim::Duration::Seconds(35), sim::Duration::Seconds(70))
                    : DrawSpan(random, sim::Duration::Seconds(3), sim::Duration::Seconds(25));
    // One draw per statement, in the order they always ran (a call's arguments are evaluated in
    // an unspecified order; clang and gcc differ).
    const sim::Duration at = DrawAt(random, phase / 2);
    CutFromController(cluster, pageserver(), at, span, plan);
  }
  // Two nodes down in the same heartbeat round (needs a third to fail over to).
  if (pageservers.size() >= 3 && random.Chance(1, 2)) {
    const sim::Duration at = DrawAt(random, phase / 2);
    const size_t first = random.Below(pageservers.size());
    const size_t second = (first + 1 + random.Below(pageservers.size() - 1)) % pageservers.size();
    const sim::Duration span = DrawSpan(random, sim::Duration::Seconds(40), sim::Duration::Seconds(70));
    plan.faults.push_back({at, sim::FaultKind::kCrash, pageservers[first], -1, span, 0});
    plan.faults.push_back({at + sim::Duration::Millis(random.Range(0, 2000)),
                           sim::FaultKind::kCrash, pageservers[second], -1, span, 0});
  }
  // A flapping node: offline past max_offline, back briefly (activation), offline again.
  if (random.Chance(1, 2)) {
    const sim::ProcessId node = pageserver();
    sim::Duration at = DrawAt(random, phase / 3);
    const int flaps = static_cast<int>(random.Range(2, 3));
    for (int k = 0; k < flaps; ++k) {
      const sim::Duration down = DrawSpan(random, sim::Duration::Seconds(31), sim::Duration::Seconds(40));
      CutFromController(cluster, node, at, down, plan);
      at = at + down + DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(8));
    }
  }
  // Crashes and restarts during migrations.
  const int crashes = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < crashes; ++k) {
    sim::Fault fault{DrawAt(random, phase), sim::FaultKind::kCrash, pageserver(), -1,
                     DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(40)), 0};
    if (random.Chance(1, 3)) {
      fault.kind = sim::FaultKind::kRestart;
      fault.duration = sim::Duration::Zero();
    }
    plan.faults.push_back(fault);
  }
  if (random.Chance(1, 4)) {  // isolated from everyone (safekeeper, computes, storage too)
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kIsolate, pageserver(), -1,
                           DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(50)),
                           0});
  }
  return plan;
}

void PageserverFailoverBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  options.pageservers = std::max(options.pageservers, 2);
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(12);
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase](sim::Random& random, StoryContext& context) {
             return DrawFailoverPlan(random, context, phase);
           });
}

}  // namespace

void RegisterPageserverFailoverScenario(ScenarioRegistry& registry,
                                        const std::vector<BugInfo>& bugs) {
  registry.Add({"pageserver-failover",
                "attached pageservers cut off for < and > 30 s, two failing at once, flapping, "
                "crashing mid-migration; L2 L1 S12 checked",
                bugs, PageserverFailoverBody});
}

}  // namespace storsim::scenarios
