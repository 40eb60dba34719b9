// Scenario "drain-cancel" (SPEC §7, RFC 033, §13 "Pageserver"): node maintenance. The pageserver
// deploy loop (drain, restart, fill per node; deploy::PageserverDeploy) runs with short drain and
// fill timeouts, while the operator drains nodes by hand and cancels half of those drains
// half-way (DELETE drain), moves every shard off a node just before its drain (migrations leaving
// the node while it drains), and the control plane or a pageserver misbehaves during the pass
// (423 storms keep a migration's notify loop busy; a crash mid-drain or mid-fill; a destination
// cut off from the safekeeper so its LSN catch-up stalls).
//
// Targets: #14 ctl-drain-ignores-outgoing-migrations, #11 ctl-notify-ignores-origin-death, #12
// ctl-lsn-wait-ignores-cancel, deploy-no-cancel-on-timeout; checked by L4 (drain/fill end in
// bounded time), D1 (a completed drain leaves nothing movable attached), R1 (a superseded
// reconcile yields), L1 and S12.
#include <algorithm>

#include "model/api/http.h"
#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

sim::FaultPlan DrawDrainCancelPlan(sim::Random& random, StoryContext& context,
                                   sim::Duration phase) {
  const cluster::Cluster& cluster = *context.cluster;
  const auto& pageservers = cluster.pageserver_ids();
  const int64_t nodes = static_cast<int64_t>(pageservers.size());
  sim::FaultPlan plan;
  if (random.Chance(2, 3)) {
    const sim::Duration deploy_at = DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(30));
    plan.faults.push_back(StoryFault(StoryAction::kDeployPass, deploy_at, 0));
    // The controller restarts during the pass: a drain or fill the deployer timed out on (and,
    // with deploy-no-cancel-on-timeout, did not cancel) loses its task with the old process.
    if (random.Chance(1, 2)) {
      plan.faults.push_back(StoryFault(StoryAction::kPodCrash,
                                       deploy_at + DrawSpan(random, sim::Duration::Seconds(5),
                                                            sim::Duration::Seconds(80)),
                                       0));
    } else if (random.Chance(2, 3)) {
      // A slow pass: the control plane answers 423 around the pass's first drain and fill, so
      // their migrations block in the notify loop and the orchestrator times out on them. It
      // must cancel what it gave up on, or its own operation refuses its next drain (412) and
      // that node is restarted undrained (A1; deploy-no-cancel-on-timeout).
      const sim::Duration storm_at =
          deploy_at + DrawSpan(random, sim::Duration::Zero(), sim::Duration::Seconds(20));
      const sim::Duration storm =
          DrawSpan(random, sim::Duration::Seconds(50), sim::Duration::Seconds(120));
      plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, storm_at, 100, storm,
                                       static_cast<int64_t>(api::Http::kLocked)));
    }
  }
  const int drains = static_cast<int>(random.Range(1, 3));
  for (int k = 0; k < drains; ++k) {
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(30));
    const int64_t node = random.Range(0, nodes - 1);
    // Shards already leaving the node when the drain starts.
    if (random.Chance(1, 2)) {
      const sim::Duration lead = DrawSpan(random, sim::Duration::Zero(), sim::Duration::Seconds(3));
      plan.faults.push_back(StoryFault(StoryAction::kMigrateFrom, at > lead ? at - lead : at, node));
    }
    // Half the drains are cancelled half-way; the others finish and are filled again.
    const sim::Duration cancel_after =
        random.Chance(1, 2) ? DrawSpan(random, sim::Duration::Millis(500), sim::Duration::Seconds(20))
                            : sim::Duration::Zero();
    plan.faults.push_back(StoryFault(StoryAction::kDrain, at, node, cancel_after));
  }
  if (random.Chance(1, 3)) {  // the notify loop of the drain's migrations meets a 423 storm
    // Draws first, one per statement, in the order they always ran: the order in which a call's
    // arguments are evaluated is unspecified, and gcc and clang differ.
    const sim::Duration span =
        DrawSpan(random, sim::Duration::Seconds(10), sim::Duration::Seconds(60));
    const sim::Duration at = DrawAt(random, phase);
    plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, at, 100, span,
                                     static_cast<int64_t>(api::Http::kLocked)));
  }
  const int crashes = static_cast<int>(random.Range(0, 2));
  for (int k = 0; k < crashes; ++k) {
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kCrash,
                           pageservers[random.Below(pageservers.size())], -1,
                           DrawSpan(random, sim::Duration::Seconds(2), sim::Duration::Seconds(40)),
                           0});
  }
  if (random.Chance(1, 3)) {  // a destination that cannot catch up (its WAL source is cut off)
    plan.faults.push_back({DrawAt(random, phase), sim::FaultKind::kPartition,
                           pageservers[random.Below(pageservers.size())], cluster.safekeeper_id(),
                           DrawSpan(random, sim::Duration::Seconds(10), sim::Duration::Seconds(60)),
                           0});
  }
  // Stuck migrations that the operator supersedes (drawn last, so the draws above keep their
  // values). A migration whose destination is cut off from the safekeeper stalls in its LSN
  // catch-up and is moved on a few seconds later (PR #9486); a migration whose notification
  // meets a 423 storm is moved back while it retries (PR #9147, issue #8901). Either way the
  // superseded reconcile must yield (R1).
  const int64_t tenants = static_cast<int64_t>(cluster.tenant_ids().size());
  if (random.Chance(1, 2) && tenants > 0) {
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(30));
    const int64_t tenant = random.Range(0, tenants - 1);
    const sim::Duration cut = DrawSpan(random, sim::Duration::Seconds(30), sim::Duration::Seconds(80));
    const int64_t supersede_ms = random.Range(3'000, 12'000);
    plan.faults.push_back(
        StoryFault(StoryAction::kStalledMigration, at, tenant, cut, supersede_ms));
  }
  if (random.Chance(1, 3) && tenants > 0) {
    const sim::Duration at = DrawAt(random, phase - sim::Duration::Seconds(30));
    const sim::Duration storm = DrawSpan(random, sim::Duration::Seconds(30), sim::Duration::Seconds(60));
    const sim::Duration lead = DrawSpan(random, sim::Duration::Millis(500), sim::Duration::Seconds(5));
    const int64_t tenant = random.Range(0, tenants - 1);
    const int64_t back_ms = random.Range(4'000, 15'000);
    plan.faults.push_back(StoryFault(StoryAction::kNotifyStatus, at, 100, storm,
                                     static_cast<int64_t>(api::Http::kLocked)));
    plan.faults.push_back(StoryFault(StoryAction::kMigrateBack, at + lead, tenant,
                                     sim::Duration::Zero(), back_ms));
  }
  return plan;
}

void DrainCancelBody(ScenarioRun& run) {
  std::string swarm;
  cluster::ClusterOptions options = DrawCluster(run, &swarm);
  options.pageservers = std::max(options.pageservers, 2);
  sim::Random random = run.Fork("drain_cancel");
  // RFC 033's timeouts are minutes; shorter ones here so that a slow drain or fill times out.
  const sim::Duration drain_timeout = DrawSpan(random, sim::Duration::Seconds(20), sim::Duration::Seconds(90));
  const sim::Duration fill_timeout = DrawSpan(random, sim::Duration::Seconds(10), sim::Duration::Seconds(60));
  swarm += " drain_timeout=" + drain_timeout.ToString() + " fill_timeout=" + fill_timeout.ToString();
  // One seed in three runs many tenants, so that the fill after a restart has shards to move
  // back: with the plan's 423 storm around the deploy pass, it times out (a slow fill).
  if (random.Chance(1, 3)) {
    options.tenants = std::max(options.tenants, 6);
    swarm += " tenants_final=" + std::to_string(options.tenants);
  }
  StoryShape shape;
  shape.phase = sim::Duration::Seconds(120);
  shape.quiet = sim::Duration::Seconds(60);
  shape.migrate_period = sim::Duration::Seconds(15);
  RunStory(
      run, std::move(options), swarm, shape,
      [phase = shape.phase](sim::Random& plan_random, StoryContext& context) {
        return DrawDrainCancelPlan(plan_random, context, phase);
      },
      [drain_timeout, fill_timeout](ScenarioRun& story_run, StoryContext& context) {
        UsePageserverDeploy(story_run, context, drain_timeout, fill_timeout);
      });
}

}  // namespace

void RegisterDrainCancelScenario(ScenarioRegistry& registry, const std::vector<BugInfo>& bugs) {
  registry.Add({"drain-cancel",
                "pageserver deploy loop (drain, restart, fill) with short timeouts, drains "
                "cancelled half-way, migrations leaving a draining node; L4 L1 S12 checked",
                bugs, DrainCancelBody});
}

}  // namespace storsim::scenarios
