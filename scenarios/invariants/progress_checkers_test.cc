// D1 (a completed drain leaves nothing movable attached) and R1 (a superseded reconcile
// yields): each checker catches a violating history, accepts a legal one and excuses one whose
// premise fails.
#include "scenarios/invariants/progress_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

constexpr int32_t kDatabase = 0;
constexpr int32_t kLeader = 4;
constexpr int32_t kPs1 = 10;  // node 1
constexpr int32_t kPs2 = 11;  // node 2

Topology TestTopology() {
  Topology topology;
  topology.controllers = {kLeader};
  topology.pageservers = {kPs1, kPs2};
  topology.database = kDatabase;
  topology.remote_storage = 1;
  return topology;
}

// ---- D1 ----

// Node 1 holds `held` when asked; node 2 holds nothing.
NodeLocationsView Holding(std::map<std::string, std::string> held) {
  return [held](int64_t node) -> std::optional<std::map<std::string, std::string>> {
    if (node == 1) return held;
    if (node == 2) return std::map<std::string, std::string>{};
    return std::nullopt;
  };
}

std::vector<sim::TraceEvent> DrainPrelude() {
  return {
      Event(0, kLeader, "ctl.status", {{"status", "Leader"}}),
      Event(100, kPs1, "ps.start", {{"node", 1}, {"inc", 1}}),
      Event(100, kPs2, "ps.start", {{"node", 2}, {"inc", 1}}),
      Event(1000, kLeader, "ctl.node.availability", {{"node", 1}, {"from", "Offline"}, {"to", "Active"}}),
      Event(1000, kLeader, "ctl.node.availability", {{"node", 2}, {"from", "Offline"}, {"to", "Active"}}),
      // t1 is leaving node 1 (the operator's migration, just before the drain).
      Event(2000, kLeader, "ctl.intent",
            {{"shard", "t1"}, {"attached", 2}, {"secondaries", "1"}, {"reason", "migrate"}}),
      Event(2000, kLeader, "ctl.reconcile.start", {{"shard", "t1"}, {"sequence", 2}}),
      Event(2100, kLeader, "ctl.operation", {{"op", "drain"}, {"node", 1}, {"phase", "start"}}),
      Event(2100, kLeader, "ctl.node.policy", {{"node", 1}, {"policy", "draining"}}),
  };
}

sim::TraceEvent DrainDone(int64_t at_ms) {
  return Event(at_ms, kLeader, "ctl.operation",
               {{"op", "drain"}, {"node", 1}, {"phase", "end"}, {"result", "done"}});
}

TEST(DrainedNodeCheckerTest, OutgoingShardStillAttachedIsReported) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t1", "AttachedStale"}}));
  Feed(checker, DrainPrelude());
  Feed(checker, {DrainDone(2500)});
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "D1");
  EXPECT_NE(collector.violations[0].detail.find("still held t1 AttachedStale"), std::string::npos);
}

TEST(DrainedNodeCheckerTest, DrainAfterTheMigrationFinishedIsAccepted) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({}));
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(8000, kLeader, "ctl.reconcile.end",
                       {{"shard", "t1"}, {"sequence", 2}, {"result", "ok"}}),
                 DrainDone(9000)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 judged drains"], 1);
}

TEST(DrainedNodeCheckerTest, ShardLeftAttachedWithASchedulableSecondaryIsReported) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t2", "AttachedSingle"}}));
  Feed(checker, {Event(500, kLeader, "ctl.intent",
                       {{"shard", "t2"}, {"attached", 1}, {"secondaries", "2"}, {"reason", "create"}})});
  Feed(checker, DrainPrelude());
  Feed(checker, {DrainDone(2500)});
  ASSERT_FALSE(collector.violations.empty());
  EXPECT_NE(collector.violations[0].detail.find("schedulable secondary on node 2"),
            std::string::npos);
}

TEST(DrainedNodeCheckerTest, ShardWithoutSchedulableSecondaryMayStay) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t2", "AttachedSingle"}}));
  Feed(checker, {Event(500, kLeader, "ctl.intent",
                       {{"shard", "t2"}, {"attached", 1}, {"secondaries", "2"}, {"reason", "create"}}),
                 Event(600, kLeader, "ctl.node.policy", {{"node", 2}, {"policy", "pause"}})});
  Feed(checker, DrainPrelude());
  Feed(checker, {DrainDone(2500)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// drain-cancel 920: node 2 was WarmingUp (restarted) when the drain passed t2, and became Active
// before the drain ended: the drain could not have used it. Active throughout: reported (above).
TEST(DrainedNodeCheckerTest, ASecondaryThatBecameSchedulableMidDrainIsExcused) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t2", "AttachedSingle"}}));
  Feed(checker, {Event(500, kLeader, "ctl.intent",
                       {{"shard", "t2"}, {"attached", 1}, {"secondaries", "2"}, {"reason", "create"}})});
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2050, kLeader, "ctl.node.availability", {{"node", 2}, {"from", "Active"}, {"to", "WarmingUp"}}),
                 Event(2300, kLeader, "ctl.node.availability", {{"node", 2}, {"from", "WarmingUp"}, {"to", "Active"}}),
                 DrainDone(2500)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 excused: the secondary's node changed state during the drain"], 1);
}

TEST(DrainedNodeCheckerTest, OperatorMovingTheShardMidDrainIsExcused) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t1", "AttachedStale"}}));
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2200, kLeader, "ctl.intent",
                       {{"shard", "t1"}, {"attached", 2}, {"secondaries", "1"}, {"reason", "migrate"}}),
                 DrainDone(2500)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 excused: intent changed by another actor during the drain"], 1);
}

TEST(DrainedNodeCheckerTest, ShardWhoseMoveFailedIsExcused) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t1", "AttachedStale"}}));
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2300, kLeader, "ctl.reconcile.end",
                       {{"shard", "t1"}, {"sequence", 4}, {"result", "error"}}),
                 DrainDone(2500)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 excused: a reconcile of the shard failed during the drain"], 1);
}

TEST(DrainedNodeCheckerTest, MigrationIntoTheNodeInFlightIsExcused) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t3", "AttachedMulti"}}));
  Feed(checker, {Event(500, kLeader, "ctl.intent",
                       {{"shard", "t3"}, {"attached", 1}, {"secondaries", "2"}, {"reason", "migrate"}}),
                 Event(500, kLeader, "ctl.reconcile.start", {{"shard", "t3"}, {"sequence", 3}})});
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2100, kLeader, "ctl.intent",
                       {{"shard", "t3"}, {"attached", 2}, {"secondaries", "1"}, {"reason", "drain"}}),
                 DrainDone(2200)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 excused: a migration into the node was in flight when the drain began"], 1);
}

TEST(DrainedNodeCheckerTest, DisturbedDrainedNodeIsExcused) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t1", "AttachedStale"}}));
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2200, -1, "process.pause", {{"pid", kPs1}}),
                 Event(2300, -1, "process.resume", {{"pid", kPs1}}), DrainDone(2500)});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["D1 excused: drained node or control path disturbed"], 1);
}

TEST(DrainedNodeCheckerTest, CancelledDrainIsNotJudged) {
  Collector collector;
  DrainedNodeChecker checker(collector.sink(), TestTopology(), Holding({{"t1", "AttachedStale"}}));
  Feed(checker, DrainPrelude());
  Feed(checker, {Event(2500, kLeader, "ctl.operation",
                       {{"op", "drain"}, {"node", 1}, {"phase", "end"}, {"result", "cancelled"}})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// ---- R1 ----

sim::TraceEvent Start(int64_t at_ms, int64_t sequence) {
  return Event(at_ms, kLeader, "ctl.reconcile.start", {{"shard", "t1"}, {"sequence", sequence}});
}
sim::TraceEvent End(int64_t at_ms, int64_t sequence) {
  return Event(at_ms, kLeader, "ctl.reconcile.end",
               {{"shard", "t1"}, {"sequence", sequence}, {"result", "cancelled"}});
}

TEST(SupersessionCheckerTest, SupersededReconcileThatKeepsRunningIsReported) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}), Start(1000, 1),
                 Start(5000, 2), Event(25'000, -1, "tick", {})});
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "R1");
  EXPECT_NE(collector.violations[0].detail.find("sequence 1"), std::string::npos);
}

TEST(SupersessionCheckerTest, ReconcileThatYieldsIsAccepted) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}), Start(1000, 1),
                 Start(5000, 2), End(5100, 1), Event(60'000, -1, "tick", {})});
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["R1 judged: yielded in time"], 1);
}

TEST(SupersessionCheckerTest, LongReconcileNobodySupersedesIsNotJudged) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Start(1000, 1), Event(100'000, -1, "tick", {}), End(100'500, 1)});
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(200));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(SupersessionCheckerTest, DatabaseDisturbanceExcuses) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}), Start(1000, 1),
                 Event(2000, -1, "story.fault", {{"action", "db_down"}, {"duration_ns", int64_t{10'000'000'000}}}),
                 Start(5000, 2), Event(25'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["R1 excused: disturbed"], 1);
}

TEST(SupersessionCheckerTest, UnreachableControlPlaneExcuses) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}), Start(1000, 1),
                 Start(5000, 2),
                 Event(9000, kLeader, "ctl.notify.result", {{"tenant", "t"}, {"result", "transport"}}),
                 Event(25'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["R1 excused: disturbed"], 1);
}

TEST(SupersessionCheckerTest, DeadInstanceIsExcused) {
  Collector collector;
  SupersessionChecker checker(collector.sink(), TestTopology(), sim::Duration::Seconds(15));
  Feed(checker, {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}), Start(1000, 1),
                 Start(5000, 2), Event(6000, -1, "process.down", {{"pid", kLeader}}),
                 Event(25'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

}  // namespace
}  // namespace storsim::invariants
