// Scenario "controller-roll" (SPEC §3, §13 "Rolling controller restart with: healthy peer; slow
// step-down; partition between pods; old pod crash + k8s restart of the same pod"): two
// Kubernetes rollouts (one in a third of the runs) of the storage controller under the operator's
// migrations. Each roll draws its own trouble from the seed, as a story fault the shrinker can
// remove:
//   healthy       nothing else happens: the 503 window must stay within L3's bound B;
//   slow          reconciles are in flight when the step-down arrives: the operator moves every
//                 shard off a node just before the roll while the database is slow for a moment
//                 (each generation increment then takes 3-4.8 s, under the client's 5 s
//                 timeout) and that node may freeze (its location calls hang), so the old
//                 leader's step-down waits for them (SPEC §3.3: > 1 s, the request is retried);
//   old crash     the old pod crashes while it steps down, and Kubernetes restarts it in place
//                 (the sequence of PR #11703: the restarted pod may step the new one down);
//   partition     the two pods cannot reach each other at the roll: the step-down request fails
//                 and the new pod proceeds unilaterally (SPEC §3.6 window 1).
// Independently, the leader's pod may crash once between the rolls with nothing else wrong (a
// restart in place: the leader row names the restarted pod itself, so it must not step anyone
// down, L3 (c)).
//
// Targets: the bug #1 family (ctl-no-self-restart-check, ctl-step-down-not-shared,
// ctl-step-down-exits-when-slow, ctl-live-ignores-leadership, k8s-liveness-off) and #4
// ctl-migrations-before-step-down; checked by L3, L1 (a Leader after the quiet period) and S3.
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

enum class RollTrouble { kHealthy, kSlowStepDown, kOldPodCrash, kPartition };

RollTrouble DrawTrouble(sim::Random& random) {
  // Weights 3:3:2:2 — half the rolls are healthy or only slow, so L3's graceful bound is judged.
  const uint64_t draw = random.Below(10);
  if (draw < 3) return RollTrouble::kHealthy;
  if (draw < 6) return RollTrouble::kSlowStepDown;
  if (draw < 8) return RollTrouble::kOldPodCrash;
  return RollTrouble::kPartition;
}

// Draws one roll's trouble and adds it to `plan` unless `apply` is false (the draws are the same
// either way, so every protocol sees the same rolls at the same instants).
void AddRollTrouble(sim::Random& random, StoryContext& context, sim::Duration at, bool apply,
                    sim::FaultPlan& plan_out) {
  sim::FaultPlan scratch;
  sim::FaultPlan& plan = apply ? plan_out : scratch;
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  const auto& pods = cluster.controller_ids();
  switch (DrawTrouble(random)) {
    case RollTrouble::kHealthy:
      break;
    case RollTrouble::kSlowStepDown: {
      // 1 s before the roll shards start leaving a node; their generation increments meet a slow
      // database (3-4.8 s each, under the client's 5 s timeout; slow for 0.8 s only, so the new
      // pod's start-up is not slowed): the old leader's step-down waits 2-4 s for them, longer
      // than the 1 s request timeout plus the first back-off. Half the time the node also
      // freezes as the roll starts, so the migrations' later location calls hang.
      const size_t index = random.Below(pageservers.size());
      const sim::Duration lead = sim::Duration::Seconds(1);
      const sim::Duration start = at > lead ? at - lead : sim::Duration::Zero();
      plan.faults.push_back(
          StoryFault(StoryAction::kMigrateFrom, start, static_cast<int64_t>(index)));
      plan.faults.push_back(StoryFault(StoryAction::kDbSlow, start, 0,
                                       sim::Duration::Millis(800), random.Range(3000, 4800)));
      if (random.Chance(1, 2)) {
        plan.faults.push_back({start + sim::Duration::Millis(800), sim::FaultKind::kPause,
                               pageservers[index], -1,
                               DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(30)),
                               0});
      }
      break;
    }
    case RollTrouble::kOldPodCrash: {
      // The old pod crashes and Kubernetes restarts it in place. 3 times in 4 within 1.5 s of
      // the roll: a healthy hand-over takes milliseconds and the old pod is stopped only once
      // the new one passes its next readiness probe (period 1 s), so in that window the
      // restarted old pod finds the new one leading and steps it down (PR #11703's sequence).
      // Otherwise up to 15 s in, while a slow or failing step-down may still be retried.
      const sim::Duration latest =
          random.Chance(3, 4) ? sim::Duration::Millis(1500) : sim::Duration::Seconds(15);
      plan.faults.push_back(StoryFault(StoryAction::kPodCrashOld,
                                       at + DrawSpan(random, sim::Duration::Millis(20), latest), 0));
      break;
    }
    case RollTrouble::kPartition:
      if (pods.size() < 2) break;
      plan.faults.push_back({at, sim::FaultKind::kPartition, pods[0], pods[1],
                             DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(40)),
                             0});
      break;
  }
}

sim::FaultPlan DrawControllerRollPlan(sim::Random& random, StoryContext& context, bool naive) {
  sim::FaultPlan plan;
  const sim::Duration first = DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(20));
  const sim::Duration second = DrawSpan(random, sim::Duration::Seconds(60), sim::Duration::Seconds(90));
  // The naive protocol assumes Recreate (SPEC §3.5); its first roll stays a RollingUpdate to show
  // the dual actors that strategy gives it, and stays free of trouble: two Leaders acting on the
  // same migrating shard at once is that misconfiguration's known damage (SPEC §3.5), not a
  // finding.
  plan.faults.push_back(StoryFault(StoryAction::kRoll, first, 0));
  AddRollTrouble(random, context, first, !naive, plan);
  sim::FaultPlan second_roll;
  second_roll.faults.push_back(
      StoryFault(StoryAction::kRoll, second, 0, sim::Duration::Zero(), naive ? 1 : 0));
  AddRollTrouble(random, context, second, true, second_roll);
  // A restart of the leader in place, alone, well between the rolls.
  if (random.Chance(1, 3)) {
    plan.faults.push_back(StoryFault(StoryAction::kPodCrash,
                                     first + DrawSpan(random, sim::Duration::Seconds(25),
                                                      sim::Duration::Seconds(30)),
                                     0));
  }
  // A third of the runs roll only once: a later roll would replace a pod that the first one
  // left stuck (a stepped-down instance that Kubernetes never restarts), hiding it.
  if (random.Chance(2, 3)) {
    plan.faults.insert(plan.faults.end(), second_roll.faults.begin(), second_roll.faults.end());
  }
  return plan;
}

void ControllerRollBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  const bool naive = run.options().protocol == "naive";
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(15);
  RunStory(run, std::move(options), swarm, shape,
           [naive](sim::Random& random, StoryContext& context) {
             return DrawControllerRollPlan(random, context, naive);
           });
}

}  // namespace

void RegisterControllerRollScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"controller-roll",
                "two Kubernetes rollouts of the storage controller under load, each healthy, "
                "with a slow step-down, the old pod crashing, or the pods partitioned; "
                "S1-S14 L3 L1 checked",
                bugs, ControllerRollBody});
}

}  // namespace storsim::scenarios
