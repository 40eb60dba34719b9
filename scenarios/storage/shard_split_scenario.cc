// Scenario "shard-split" (SPEC §2 split rows, §3.2 step 5, §3.3, §13 "concurrent shard split
// (bug #2)"): the operator splits tenants (1 → 2 → 4 → 8 shards) through the controller API
// while controllers roll, pods crash, pageservers restart and shards migrate. Half of the splits
// race a controller roll on purpose: the roll starts within a split's duration of it, so that
// the new pod's step-down request reaches the old leader while the split is in flight. A third
// of the runs split large tenants (11-16 s on the pageserver); knob split_restarts=1 aims
// pageserver restarts at splits in flight.
//
// With no defect every checker must hold on the children shards (S1–S15, L1 and the rest); with
// #2 ctl-step-down-ignores-splits the step-down answers mid-split, the new leader aborts the
// split at start-up while the old one completes it, and the tenant's rows vanish (S15; the old
// leader's complete is also a DB write after its step-down, S3).
#include <algorithm>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawShardSplitPlan(sim::Random& random, StoryContext& context, sim::Duration phase,
                                  sim::Duration split_prepare, bool restarts_mid_split) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  const int64_t tenants = static_cast<int64_t>(std::max<size_t>(cluster.tenant_ids().size(), 1));
  sim::FaultPlan plan;
  // Splits, each of a random tenant; a tenant split twice doubles twice.
  const int splits = static_cast<int>(random.Range(1, 4));
  for (int k = 0; k < splits; ++k) {
    const sim::Duration at =
        DrawSpan(random, sim::Duration::Seconds(2), phase - sim::Duration::Seconds(20));
    plan.faults.push_back(StoryFault(StoryAction::kSplit, at, random.Range(0, tenants - 1)));
    if (random.Chance(1, 2)) {
      // A roll whose step-down lands while this split runs. A small tenant's split takes ~0.1 s
      // (begin, the pageserver's flush and index copies, complete) and a new pod asks for the
      // step-down a few ms after the roll starts, so the roll starts within [-50 ms, +150 ms] of
      // the split (a large tenant's split lasts its split_prepare longer).
      const sim::Duration offset =
          DrawSpan(random, sim::Duration::Zero(), sim::Duration::Millis(200));
      const sim::Duration early = sim::Duration::Millis(50);
      plan.faults.push_back(
          StoryFault(StoryAction::kRoll,
                     at + offset > early ? at + offset - early : sim::Duration::Zero(), 0));
    }
    if (restarts_mid_split && random.Chance(1, 3)) {
      // A pageserver restart while this split runs: on the node a call is running on, or on one
      // that has already split its parent while another node's split still runs (a large
      // tenant's split lasts seconds; a small one's ~0.1 s). Knob split_restarts (default 0):
      // the split-outlives-its-controller family it finds is not closed yet (BUGZOO.md).
      sim::Fault restart;
      restart.kind = sim::FaultKind::kRestart;
      restart.at = at + DrawSpan(random, sim::Duration::Zero(),
                                 std::max(split_prepare, sim::Duration::Millis(200)));
      restart.a = pageservers[random.Below(pageservers.size())];
      plan.faults.push_back(restart);
    }
  }
  if (random.Chance(1, 3)) {  // an unrelated roll or pod crash
    plan.faults.push_back(random.Chance(1, 2)
                              ? StoryFault(StoryAction::kRoll, DrawAt(random, phase), 0)
                              : StoryFault(StoryAction::kPodCrash, DrawAt(random, phase), 0));
  }
  // Pageserver restarts: a split meets a re-attach, or a node that is down.
  const int restarts = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < restarts; ++k) {
    sim::Fault fault;
    fault.at = DrawAt(random, phase);
    fault.a = pageservers[random.Below(pageservers.size())];
    if (random.Chance(1, 2)) {
      fault.kind = sim::FaultKind::kRestart;
    } else {
      fault.kind = sim::FaultKind::kCrash;
      fault.duration = DrawSpan(random, sim::Duration::Seconds(1), sim::Duration::Seconds(30));
    }
    plan.faults.push_back(fault);
  }
  std::sort(plan.faults.begin(), plan.faults.end(),
            [](const sim::Fault& x, const sim::Fault& y) { return x.at < y.at; });
  return plan;
}

void ShardSplitBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  options.pageservers = std::max(options.pageservers, 2);
  // SPEC §3.3 hazard (upstream behaviour, not a zoo switch): a stepped-down instance keeps
  // heartbeating and detaches, on a node it sees come back, every shard it does not know — and
  // the children a new leader's split created are such shards (S12 at shard-split seed 111).
  // This scenario runs the obvious fix so that its sweep judges splits; the hazard is reported.
  options.controller.stop_heartbeats_on_step_down = true;
  // Large tenants: in a third of the runs a split spends 11-16 s preparing the children on the
  // pageserver (knob split_prepare_ms overrides; 0 is a small tenant), so a step-down that waits
  // for it (PR #11412) outlasts the 10 s after which the pre-#11703 controller exited (bug #1,
  // ctl-step-down-exits-when-slow), and pageserver restarts and rolls land mid-split.
  sim::Random large = run.Fork("shard_split_large");
  const int64_t drawn_ms = large.Chance(1, 3) ? large.Range(11'000, 16'000) : 0;
  const int64_t prepare_ms = StoryKnob(run, "split_prepare_ms", drawn_ms);
  options.pageserver.split_prepare = sim::Duration::Millis(std::max<int64_t>(prepare_ms, 0));
  if (prepare_ms > 0) swarm += " split_prepare=" + std::to_string(prepare_ms) + "ms";
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(90);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(20);
  const sim::Duration prepare = options.pageserver.split_prepare;
  const bool restarts_mid_split = StoryKnob(run, "split_restarts", 0) > 0;
  if (restarts_mid_split) swarm += " split_restarts=1";
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase, prepare, restarts_mid_split](sim::Random& plan_random,
                                                              StoryContext& context) {
             return DrawShardSplitPlan(plan_random, context, phase, prepare, restarts_mid_split);
           });
}

}  // namespace

void RegisterShardSplitScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"shard-split",
                "tenants split 1->2->4->8 shards through the controller while controllers roll "
                "(half the splits race a step-down), pods crash, pageservers restart and shards "
                "migrate; S15 and every other checker on the children",
                bugs, ShardSplitBody});
}

}  // namespace storsim::scenarios
