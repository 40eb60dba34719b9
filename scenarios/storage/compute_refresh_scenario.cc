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
// ctl-activation-edits-observed-in-place, configurator-exits-on-failed; checked by S12, S14, N1
// (a notification never names a location the controller itself demoted), L1, L6, L7. Three
// compound stories aim at #8, #9 and #10: a tenant's attached pageserver crashes
// for longer than max_offline inside a 503 storm (a failover whose notification fails, then
// reconciles with the old node offline as a secondary); a migration A -> B -> A inside a 423
// storm; a tenant detached and re-attached through its placement policy.
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
    // Draws first, one per statement, in the order they always ran: the order in which a call's
    // arguments are evaluated is unspecified, and gcc and clang differ.
    const auto status = static_cast<int64_t>(statuses[random.Below(std::size(statuses))]);
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(45));
    const int64_t percent = percents[random.Below(std::size(percents))];
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, at, percent, span, status));
  }
  if (random.Chance(1, 2)) {  // slow 10 s answers
    const int64_t delay_ms = random.Range(5'000, 12'000);
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(10), sim::Duration::Seconds(40));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kNotifySlow, at, 0, span, delay_ms));
  }
  if (random.Chance(1, 3)) {
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(5), sim::Duration::Seconds(30));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kGetSpecStatus, at, 0, span));
  }
  // A failed reload leaves the compute Failed; only lakebase mode's refresh path brings it back
  // (upstream the control plane would restart it, which the model does not do), so failures are
  // drawn in lakebase mode only — where the configurator must service Failed -> refresh.
  const int reload_failures =
      cluster.options().compute.lakebase_mode ? static_cast<int>(random.Range(0, 2)) : 0;
  for (int k = 0; k < reload_failures; ++k) {
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(20));
    const auto tenant =
        static_cast<int64_t>(random.Below(std::max<size_t>(cluster.tenant_ids().size(), 1)));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kReloadFails, at, tenant, span));
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
  const bool pod_crash = random.Chance(1, 3);
  if (pod_crash) {  // the controller restarts mid-storm (observed state refreshed)
    plan.faults.push_back(StoryFault(StoryAction::kPodCrash, DrawAt(random, phase), 0));
  }
  // Failover under a storm (PR #10352): a tenant's attached pageserver dies for longer than
  // max_offline while the control plane refuses every notification, so the failover's
  // notification fails (pending flag) and the next reconciles run with the old node offline
  // and now a secondary; then the control plane recovers and the notification must follow.
  const int64_t tenants = static_cast<int64_t>(std::max<size_t>(cluster.tenant_ids().size(), 1));
  // 503, not 423: a 423 is persisted and applied later, which repairs the placement anyway.
  // Late in the phase, so that the operator's migrations (which notify) are mostly over.
  // Not combined with a controller crash: a new leader that finds a migration's notification
  // still failing demotes the origin first (S12; the start-up path's own signature, reported).
  if (random.Chance(1, 3) && !pod_crash && phase > sim::Duration::Seconds(100)) {
    const sim::Duration at = phase - sim::Duration::Seconds(95) +
                             DrawAt(random, sim::Duration::Seconds(35));
    const sim::Duration outage = DrawSpan(random, sim::Duration::Seconds(60),
                                          sim::Duration::Seconds(80));
    plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, at - sim::Duration::Seconds(1),
                                     100, outage + sim::Duration::Seconds(6),
                                     static_cast<int64_t>(api::Http::kServiceUnavailable)));
    plan.faults.push_back(StoryFault(StoryAction::kCrashAttached, at,
                                     static_cast<int64_t>(random.Below(tenants)), outage));
  }
  // A -> B -> A while the control plane answers 423 (persisted, not applied): the way back
  // must be notified although A is what the control plane was told last before (PR #9435).
  if (random.Chance(1, 3)) {
    const sim::Duration at = sim::Duration::Seconds(1) +
                             DrawAt(random, phase - sim::Duration::Seconds(20));
    plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, at - sim::Duration::Millis(500),
                                     100, DrawSpan(random, sim::Duration::Seconds(10),
                                                   sim::Duration::Seconds(30)),
                                     static_cast<int64_t>(api::Http::kLocked)));
    const int64_t back_after_ms = random.Range(1'000, 8'000);
    const auto tenant = static_cast<int64_t>(random.Below(tenants));
    plan.faults.push_back(
        StoryFault(StoryAction::kMigrateBack, at, tenant, sim::Duration::Zero(), back_after_ms));
  }
  // Detach and re-attach a tenant (placement policy Detached, then Attached): the compute
  // hook's cache must forget the detached shards (PR #9045). Only a sharded tenant can show a
  // stale entry (a sibling's notification repeats it; N1), so those draw it more often.
  if (random.Chance(cluster.options().shard_count > 1 ? 2 : 1, 3)) {
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(30));
    const auto tenant = static_cast<int64_t>(random.Below(tenants));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kPolicyCycle, at, tenant, span));
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
                "back and forth, lakebase refresh racing the push; S12 S14 N1 L1 L6 L7 checked",
                bugs, ComputeRefreshBody});
}

}  // namespace storsim::scenarios
