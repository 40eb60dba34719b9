// Scenario "db-outage" (SPEC §2, §3, §13 "Rolling controller restart"): the controller's database
// misbehaves during rolls and migrations. The database goes down for seconds, gets slow (every
// transaction 0.5–3 s: step-downs and startups slow down), fails over (crash and WAL recovery);
// rolls of the controller run meanwhile, with a partition between the two pods at the roll (the
// step-down request cannot reach the old leader: a dual-leader window), the old pod crashing and
// being restarted by Kubernetes mid-roll, and pageservers paused or restarted so that reconciles
// are in flight (slow) when the step-down comes.
//
// Targets: #4 ctl-migrations-before-step-down (S3), #5 db-non-atomic-read-then-write (S1 S4 S6),
// and the #1 family — ctl-step-down-exits-when-slow, ctl-no-self-restart-check,
// ctl-live-ignores-leadership, ctl-step-down-not-shared, k8s-liveness-off (L3, S2, S3).
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawDbOutagePlan(sim::Random& random, StoryContext& context, sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  const auto& pods = cluster.controller_ids();
  auto pageserver = [&] { return pageservers[random.Below(pageservers.size())]; };
  sim::FaultPlan plan;
  // Database faults.
  const int outages = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < outages; ++k) {
    // Draws first, one per statement, in the order they always ran: the order in which a call's
    // arguments are evaluated is unspecified, and gcc and clang differ.
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(20));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kDbDown, at, 0, span));
  }
  if (random.Chance(1, 2)) {
    const int64_t extra_ms = random.Range(500, 3000);
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(40));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kDbSlow, at, 0, span, extra_ms));
  }
  const int failovers = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < failovers; ++k) {
    plan.faults.push_back(StoryFault(StoryAction::kDbFailover, DrawAt(random, phase), 0));
  }
  // One or two rolls, each with its own trouble.
  const int rolls = static_cast<int>(random.Range(1, 2));
  for (int k = 0; k < rolls; ++k) {
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(20));
    plan.faults.push_back(StoryFault(StoryAction::kRoll, at, 0));
    // Reconciles in flight at the step-down (a slow step-down): shards are moved off a node
    // that freezes as the migrations start, so their location calls hang (up to 25 s each).
    if (random.Chance(2, 3)) {
      const size_t index = random.Below(pageservers.size());
      const sim::Duration start = at + DrawSpan(random, sim::Duration::Zero(), sim::Duration::Seconds(2));
      plan.faults.push_back(StoryFault(StoryAction::kMigrateFrom, start, static_cast<int64_t>(index)));
      plan.faults.push_back({start + sim::Duration::Millis(random.Range(0, 300)),
                             sim::FaultKind::kPause, pageservers[index], -1,
                             DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(30)),
                             0});
    }
    if (random.Chance(1, 2)) {  // the DB slow right through the hand-over
      const int64_t extra_ms = random.Range(300, 2000);
      const sim::Duration span =
          DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(30));
      plan.faults.push_back(StoryFault(StoryAction::kDbSlow, at, 0, span, extra_ms));
    }
    // The pods cannot reach each other: the step-down request fails, both may act.
    if (random.Chance(1, 2) && pods.size() >= 2) {
      plan.faults.push_back({at, sim::FaultKind::kPartition, pods[0], pods[1],
                             DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(40)),
                             0});
      // Re-attaches during the window: both controllers increment generations.
      if (random.Chance(1, 2)) {
        plan.faults.push_back({at + DrawSpan(random, sim::Duration::Seconds(5),
                                             sim::Duration::Seconds(20)),
                               sim::FaultKind::kRestart, pageserver(), -1, sim::Duration::Zero(), 0});
      }
    }
    // The old pod crashes mid-roll and Kubernetes restarts it (bug #1's sequence).
    if (random.Chance(1, 2)) {
      const auto pod = static_cast<int64_t>(random.Below(pods.size()));
      const sim::Duration after =
          DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(15));
      plan.faults.push_back(StoryFault(StoryAction::kPodCrash, at + after, pod));
    }
  }
  return plan;
}

void DbOutageBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(10);
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase](sim::Random& random, StoryContext& context) {
             return DrawDbOutagePlan(random, context, phase);
           });
}

}  // namespace

void RegisterDbOutageScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"db-outage",
                "controller database down, slow and failing over during rolls and migrations, "
                "pods partitioned or crashing mid-roll; S1-S4 L3 L1 checked",
                bugs, DbOutageBody});
}

}  // namespace storsim::scenarios
