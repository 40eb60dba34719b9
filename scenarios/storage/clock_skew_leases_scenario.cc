// Scenario "clock-skew-leases" (SPEC §3.6–3.7): the leadership protocols when controller pods'
// clocks lie. Pods run fast or slow (drift up to ±20 %), their wall clocks jump by up to a
// minute, and a pod freezes (a GC pause or a stopped VM) for longer than a lease — all around
// rolls of the controller, while the operator migrates shards. The protocol is the run's
// (`--protocol step-down|naive|lease|lease-fenced`): step-down does not depend on clocks and
// lease-fenced is fenced by terms at the pageservers, so both must stay clean; naive and an
// unfenced lease are expected to fail (two leaders acting), which is what
// `storsim compare-protocols` shows.
//
// Checked by S2 (single leader), S3, S4, S5, L1, L3.
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawClockSkewPlan(sim::Random& random, StoryContext& context, sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pods = cluster.controller_ids();
  auto pod = [&] { return pods[random.Below(pods.size())]; };
  sim::FaultPlan plan;
  // Clock drift on the pods (ppb: 1e8 is 10 %).
  const int drifts = static_cast<int>(random.Range(1, 3));
  for (int k = 0; k < drifts; ++k) {
    int64_t ppb = random.Range(10'000'000, 200'000'000);
    if (random.Chance(1, 2)) ppb = -ppb;
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kClockDrift, pod(), -1,
                           sim::Duration::Zero(), ppb});
  }
  // Wall-clock steps (NTP corrections) of up to a minute.
  const int steps = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < steps; ++k) {
    int64_t step = random.Range(1, 60) * sim::Duration::Seconds(1).nanos();
    if (random.Chance(1, 2)) step = -step;
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kClockStep, pod(), -1,
                           sim::Duration::Zero(), step});
  }
  // Rolls, with a frozen pod around each (longer than the 15 s lease half the time).
  const int rolls = static_cast<int>(random.Range(1, 2));
  for (int k = 0; k < rolls; ++k) {
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(20));
    plan.faults.push_back(StoryFault(StoryAction::kRoll, at, 0));
    if (random.Chance(2, 3)) {
      plan.faults.push_back({at + DrawSpan(random, sim::Duration::Zero(), sim::Duration::Seconds(10)),
                             sim::FaultKind::kPause, pod(), -1,
                             DrawSpan(random, sim::Duration::Seconds(3), sim::Duration::Seconds(30)),
                             0});
    }
  }
  if (random.Chance(1, 3)) {  // a freeze outside any roll
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kPause, pod(), -1,
                           DrawSpan(random, sim::Duration::Seconds(3), sim::Duration::Seconds(30)),
                           0});
  }
  if (random.Chance(1, 3) && pods.size() >= 2) {  // the pods cannot see each other
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kPartition, pods[0], pods[1],
                           DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(30)),
                           0});
  }
  return plan;
}

void ClockSkewLeasesBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(12);
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase](sim::Random& random, StoryContext& context) {
             return DrawClockSkewPlan(random, context, phase);
           });
}

}  // namespace

void RegisterClockSkewLeasesScenario(ScenarioRegistry& registry,
                                     const std::vector<BugInfo>& bugs) {
  registry.Add({"clock-skew-leases",
                "controller pods with clock drift, wall steps and freezes during rolls, for the "
                "leadership protocols (--protocol); S2-S5 L1 L3 checked",
                bugs, ClockSkewLeasesBody});
}

}  // namespace storsim::scenarios
