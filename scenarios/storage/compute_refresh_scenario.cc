// Scenario "compute-refresh" (SPEC §8, §13 "Control plane"): the compute notification path under
// a misbehaving control plane. The control plane answers notify-attach with 423/429/503/500 storms
// and takes 10 s per notification for a while; the compute's own spec fetch fails with 503; a
// compute's Postgres reload fails (status Failed). Meanwhile the operator migrates shards back
// and forth (so A -> B is refused and B -> A follows), pageservers restart (refresh of observed
// state after re-attach), and half the seeds run computes in lakebase mode, where libpagestore
// asks compute_ctl to refresh its configuration when it cannot reach its pageserver — racing the
// control plane's push.
//
// Targets: #7 ctl-skip-notify-after-refresh, #8 ctl-pending-notify-dropped, #9
// ctl-dedupe-ignores-applied, #10 ctl-detach-keeps-compute-cache (sharded tenants), #17
// ctl-activation-edits-observed-in-place, configurator-exits-on-failed; checked by S12, S14, L1,
// L6, L7.
#include <algorithm>

#include "model/api/http.h"
#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawComputeRefreshPlan(sim::Random& random, StoryContext& context,
                                      sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  sim::FaultPlan plan;
  const api::Http statuses[] = {api::Http::kLocked, api::Http::kLocked,
                                api::Http::kTooManyRequests, api::Http::kServiceUnavailable,
                                api::Http::kInternalError};
  const int64_t percents[] = {100, 100, 60, 30};
  const int storms = static_cast<int>(random.Range(1, 3));
  for (int k = 0; k < storms; ++k) {
    plan.faults.push_back(StoryFault(
        StoryAction::kNotifyStatus, DrawAt(random, phase),
        percents[random.Below(std::size(percents))],
        DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(45)),
        static_cast<int64_t>(statuses[random.Below(std::size(statuses))])));
  }
  if (random.Chance(1, 2)) {  // slow 10 s answers
    plan.faults.push_back(StoryFault(StoryAction::kNotifySlow, DrawAt(random, phase), 0,
                                     DrawSpan(random, sim::Duration::Seconds(10),
                                              sim::Duration::Seconds(40)),
                                     random.Range(5'000, 12'000)));
  }
  if (random.Chance(1, 3)) {
    plan.faults.push_back(StoryFault(StoryAction::kGetSpecStatus, DrawAt(random, phase), 0,
                                     DrawSpan(random, sim::Duration::Seconds(5),
                                              sim::Duration::Seconds(30))));
  }
  // A failed reload leaves the compute Failed; only lakebase mode's refresh path brings it back
  // (upstream the control plane would restart it, which the model does not do), so failures are
  // drawn in lakebase mode only — where the configurator must service Failed -> refresh.
  const int reload_failures =
      cluster.options().compute.lakebase_mode ? static_cast<int>(random.Range(0, 2)) : 0;
  for (int k = 0; k < reload_failures; ++k) {
    plan.faults.push_back(StoryFault(
        StoryAction::kReloadFails, DrawAt(random, phase),
        static_cast<int64_t>(random.Below(std::max<size_t>(cluster.tenant_ids().size(), 1))),
        DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(20))));
  }
  // Pageserver restarts and short outages: re-attach, refresh of observed state, activation,
  // and computes that lose their pageserver (lakebase refresh).
  const int restarts = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < restarts; ++k) {
    sim::Fault fault;
    fault.at = DrawAt(random, phase);
    fault.a = pageservers[random.Below(pageservers.size())];
    fault.kind = random.Chance(1, 2) ? sim::FaultKind::kRestart : sim::FaultKind::kCrash;
    if (fault.kind == sim::FaultKind::kCrash) {
      fault.duration = DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(40));
    }
    plan.faults.push_back(fault);
  }
  if (random.Chance(1, 3)) {  // the controller restarts mid-storm (observed state refreshed)
    plan.faults.push_back(StoryFault(StoryAction::kPodCrash, DrawAt(random, phase), 0));
  }
  return plan;
}

void ComputeRefreshBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  sim::Random random = run.Fork("compute_refresh");
  // Two pageservers make the operator's migrations go back and forth (A -> B, then B -> A).
  if (random.Chance(1, 2)) options.pageservers = 2;
  // Sharded tenants let a shard be detached while its siblings stay (the compute hook's cache).
  if (random.Chance(1, 3)) options.shard_count = 2;
  swarm += " pageservers_final=" + std::to_string(options.pageservers) +
           " shard_count=" + std::to_string(options.shard_count);
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(150);
  shape.quiet = sim::Duration::Seconds(90);  // compute back-offs (5 s) and hook retries (10 s)
  shape.migrate_period = sim::Duration::Seconds(8);
  RunStory(run, std::move(options), swarm, shape,
           [phase = shape.phase](sim::Random& plan_random, StoryContext& context) {
             return DrawComputeRefreshPlan(plan_random, context, phase);
           });
}

}  // namespace

void RegisterComputeRefreshScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"compute-refresh",
                "control-plane 423/429/503 storms and 10 s answers, failed reloads, migrations "
                "back and forth, lakebase refresh racing the push; S12 S14 L1 L6 L7 checked",
                bugs, ComputeRefreshBody});
}

}  // namespace storsim::scenarios
