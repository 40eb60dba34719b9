// L2, L4, L5, L8: each deadline checker catches a missed obligation, accepts a met one, and
// excuses one whose premise (nothing disturbed) fails.
#include "scenarios/invariants/liveness_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

constexpr int32_t kLeader = 4;
constexpr int32_t kPs1 = 10;  // node 1
constexpr int32_t kPs2 = 11;  // node 2

Topology TestTopology() {
  Topology topology;
  topology.controllers = {kLeader};
  topology.pageservers = {kPs1, kPs2};
  topology.database = 0;
  topology.remote_storage = 1;
  return topology;
}

LivenessBounds TestBounds() {
  LivenessBounds bounds;
  bounds.failover_detect = sim::Duration::Seconds(40);
  bounds.failover_reconcile = sim::Duration::Seconds(30);
  bounds.cancel_bound = sim::Duration::Seconds(10);
  bounds.operation_bound = sim::Duration::Seconds(60);
  bounds.deletion_bound = sim::Duration::Seconds(20);
  bounds.re_attach_bound = sim::Duration::Seconds(15);
  bounds.activation_bound = sim::Duration::Seconds(20);
  return bounds;
}

// A third pageserver, node 3, Active at the leader: a healthy alternative (or a second fault).
constexpr int32_t kPs3 = 12;
Topology ThreeNodeTopology() {
  Topology topology = TestTopology();
  topology.pageservers.insert(kPs3);
  return topology;
}
std::vector<sim::TraceEvent> Node3Active() {
  return {Event(100, kPs3, "ps.start", {{"node", 3}, {"inc", 1}}),
          Event(1000, kLeader, "ctl.node.availability", {{"node", 3}, {"from", "Offline"}, {"to", "Active"}})};
}

// Judged at the end of a two-variant test: with the second fault, excused (counted under
// `excuse`); without it, one L2 violation.
void ExpectExcusedOrMissed(FailoverChecker& checker, const Collector& collector, bool excused,
                           const std::string& excuse) {
  if (excused) {
    EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
    EXPECT_EQ(checker.Metrics()[excuse], 1);
  } else {
    ASSERT_EQ(collector.violations.size(), 1u);
    EXPECT_EQ(collector.violations[0].invariant, "L2");
  }
}

std::vector<sim::TraceEvent> FailoverPrelude() {
  return {
      Event(0, kLeader, "ctl.status", {{"status", "Leader"}}),
      Event(100, kPs1, "ps.start", {{"node", 1}, {"inc", 1}}),
      Event(100, kPs2, "ps.start", {{"node", 2}, {"inc", 1}}),
      Event(1000, kLeader, "ctl.node.availability", {{"node", 1}, {"from", "Offline"}, {"to", "Active"}}),
      Event(1000, kLeader, "ctl.node.availability", {{"node", 2}, {"from", "Offline"}, {"to", "Active"}}),
      Event(1000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", 1}}),
      Event(2000, kPs1, "ps.location_config",
            {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 3}, {"status", 200}}),
      Event(10'000, -1, "process.down", {{"pid", kPs1}, {"reason", "crash"}}),
  };
}

TEST(FailoverCheckerTest, FailoverInTimeIsAccepted) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, FailoverPrelude());
  Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
                 Event(50'000, kPs2, "ps.location_config",
                       {{"node", 2}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 4},
                        {"status", 200}}),
                 Event(90'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["L2 judged"], 1);
}

TEST(FailoverCheckerTest, NoOfflineMarkIsReported) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, FailoverPrelude());
  Feed(checker, {Event(90'000, -1, "tick", {})});
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "L2");
  EXPECT_NE(collector.violations[0].detail.find("not marked Offline"), std::string::npos);
}

TEST(FailoverCheckerTest, ShardLeftOnTheDeadNodeIsReported) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, FailoverPrelude());
  Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
                 Event(90'000, -1, "tick", {})});
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_NE(collector.violations[0].detail.find("t1 was attached on node 1"), std::string::npos);
}

// pageserver-failover 337: a migration away from node 1 attached node 2 at a newer generation and
// failed before demoting node 1 (the intent names node 1 again). When node 1 dies, its stale
// attachment needs no failover: node 2 serves. The same history without node 2's attachment is
// ShardLeftOnTheDeadNodeIsReported.
TEST(FailoverCheckerTest, AnAttachmentAlreadySupersededNeedsNoFailover) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  std::vector<sim::TraceEvent> events = FailoverPrelude();
  events.insert(events.end() - 1,
                Event(5'000, kPs2, "ps.location_config",
                      {{"node", 2}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 4},
                       {"status", 200}}));
  Feed(checker, events);
  Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
                 Event(90'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["L2 excused: the node's attachment was already superseded"], 1);
}

// shard-split 2276: the shard was split on node 1 before node 1 died; the parent's slot is gone
// and its last intent names nothing to fail over. Without the split it is a miss
// (ShardLeftOnTheDeadNodeIsReported).
TEST(FailoverCheckerTest, AShardSplitAwayBeforeTheFailureNeedsNoFailover) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  std::vector<sim::TraceEvent> events = FailoverPrelude();
  events.insert(events.end() - 1,
                Event(5'000, kPs1, "ps.split",
                      {{"node", 1}, {"shard", "t1"}, {"status", 200}, {"result", "split"}}));
  Feed(checker, events);
  Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
                 Event(90'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// compute-refresh 3389: after node 1 was marked Offline the operator set the tenant's placement
// policy to Detached, and the deadline passed while it stayed so. Nothing was to be attached
// anywhere; the same history without the policy change is ShardLeftOnTheDeadNodeIsReported, and
// a detach that is not the policy's (the failover found no node) is still judged.
TEST(FailoverCheckerTest, ATenantDetachedByPolicyNeedsNoFailover) {
  for (const char* reason : {"policy", "schedule"}) {
    SCOPED_TRACE(reason);
    Collector collector;
    FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker,
         {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
          Event(50'000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", -1}, {"reason", reason}}),
          Event(90'000, -1, "tick", {})});
    if (std::string(reason) == "policy") {
      EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
      EXPECT_EQ(checker.Metrics()["L2 excused: the tenant's policy detached the shard"], 1);
    } else {
      ASSERT_EQ(collector.violations.size(), 1u);
      EXPECT_EQ(collector.violations[0].invariant, "L2");
    }
  }
}

// The leader fails over to node 2, which is itself crashed meanwhile (undetected yet): a double
// fault, excused, although node 3 stayed healthy; the same history with node 2 healthy is a miss.
TEST(FailoverCheckerTest, FailoverTargetDisturbedIsExcused) {
  for (bool target_crashes : {true, false}) {
    Collector collector;
    FailoverChecker checker(collector.sink(), ThreeNodeTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker, Node3Active());
    Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}}),
                   Event(45'000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", 2}})});
    if (target_crashes) {
      Feed(checker, {Event(46'000, -1, "process.down", {{"pid", kPs2}, {"reason", "crash"}}),
                     Event(60'000, -1, "process.start", {{"pid", kPs2}, {"incarnation", 2}})});
    }
    Feed(checker, {Event(200'000, -1, "tick", {})});
    ExpectExcusedOrMissed(checker, collector, target_crashes, "L2 excused: failover target disturbed");
  }
}

// pageserver-failover 407: the operator migrated the shard to node 2 after node 1 went
// unreachable but before it was marked Offline; node 2 was cut off too. The move under way at the
// mark names the target: excused when node 2 is disturbed, a miss when it is healthy.
TEST(FailoverCheckerTest, AMoveUnderWayAtTheMarkNamesTheTarget) {
  for (bool target_crashes : {true, false}) {
    Collector collector;
    FailoverChecker checker(collector.sink(), ThreeNodeTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker, Node3Active());
    Feed(checker, {Event(20'000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", 2}})});
    if (target_crashes) {
      // Down from 30 s to 50 s: back before its own detection, but across the failover.
      Feed(checker, {Event(30'000, -1, "process.down", {{"pid", kPs2}, {"reason", "crash"}})});
    }
    Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}})});
    if (target_crashes) {
      Feed(checker, {Event(50'000, -1, "process.start", {{"pid", kPs2}, {"incarnation", 2}})});
    }
    Feed(checker, {Event(200'000, -1, "tick", {})});
    if (target_crashes) {
      EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
      EXPECT_EQ(checker.Metrics()["L2 excused: failover target disturbed"], 1);
    } else {
      ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
      EXPECT_EQ(collector.violations[0].invariant, "L2");
    }
  }
}

// pageserver-failover 8109: at the mark the intent named healthy node 3 (a migration under way),
// then the operator moved the shard to node 2, which crashed meanwhile: excused. The
// same history with node 2 healthy is a miss.
TEST(FailoverCheckerTest, AnOperatorMoveAfterTheMarkToADisturbedNodeIsExcused) {
  for (bool moved_target_cut_off : {true, false}) {  // cut off: crashed for 6 s
    SCOPED_TRACE(moved_target_cut_off);
    Collector collector;
    FailoverChecker checker(collector.sink(), ThreeNodeTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker, Node3Active());
    Feed(checker, {Event(20'000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", 3}}),
                   Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}})});
    if (moved_target_cut_off) {
      Feed(checker, {Event(50'000, -1, "process.down", {{"pid", kPs2}, {"reason", "crash"}}),
                     Event(56'000, -1, "process.start", {{"pid", kPs2}, {"incarnation", 2}})});
    }
    Feed(checker, {Event(55'000, kLeader, "ctl.intent", {{"shard", "t1"}, {"attached", 2}}),
                   Event(200'000, -1, "tick", {})});
    ExpectExcusedOrMissed(checker, collector, moved_target_cut_off, "L2 excused: failover target disturbed");
  }
}

// A paused process that is killed and restarted runs again (the new incarnation is not paused):
// it is back before detection, not cut off (chaos 359: pause forever, then kill).
TEST(FailoverCheckerTest, ARestartEndsAPause) {
  Collector collector;
  FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
  std::vector<sim::TraceEvent> prelude = FailoverPrelude();
  prelude.pop_back();  // its crash
  Feed(checker, prelude);
  Feed(checker, {Event(10'000, -1, "process.pause", {{"pid", kPs1}}),
                 Event(10'000, -1, "process.down", {{"pid", kPs1}, {"reason", "kill"}}),
                 Event(10'001, -1, "process.start", {{"pid", kPs1}, {"incarnation", 2}}),
                 Event(200'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// Node 3 comes back in the same round node 1 is marked Offline and is cut off again while the
// leader re-lists it: the loop is held, node 1's failover waits (pageserver-failover 251). A
// double fault, excused; with node 3 healthy the missed failover is reported.
TEST(FailoverCheckerTest, AnotherNodeDisturbedInTransitionIsExcused) {
  for (bool flapping : {true, false}) {
    Collector collector;
    FailoverChecker checker(collector.sink(), ThreeNodeTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker, Node3Active());
    Feed(checker, {Event(45'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Offline"}})});
    if (flapping) {
      Feed(checker, {Event(44'000, kLeader, "ctl.node.availability", {{"node", 3}, {"from", "Active"}, {"to", "Offline"}}),
                     Event(45'000, kLeader, "ctl.node.availability", {{"node", 3}, {"from", "Offline"}, {"to", "Active"}}),
                     Event(46'000, -1, "process.pause", {{"pid", kPs3}}),
                     Event(60'000, -1, "process.resume", {{"pid", kPs3}})});
    }
    Feed(checker, {Event(200'000, -1, "tick", {})});
    if (flapping) {
      EXPECT_EQ(checker.Metrics()["L2 excused: another node in transition was disturbed"], 1)
          << collector.Describe();
    } else {
      ASSERT_EQ(collector.violations.size(), 1u);
      EXPECT_EQ(collector.violations[0].invariant, "L2");
    }
  }
}

// pageserver-failover 533: node 3 comes back while node 1 is cut off and is cut off again while
// the leader re-lists it; the held loop never judges node 1 Offline. A double fault, excused;
// with node 3 healthy the missing Offline mark is reported.
TEST(FailoverCheckerTest, AnotherNodeDisturbedInTransitionExcusesAMissingOfflineMark) {
  for (bool flapping : {true, false}) {
    Collector collector;
    FailoverChecker checker(collector.sink(), ThreeNodeTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    Feed(checker, Node3Active());
    if (flapping) {
      Feed(checker, {Event(20'000, kLeader, "ctl.node.availability", {{"node", 3}, {"from", "Offline"}, {"to", "Active"}}),
                     Event(21'000, -1, "process.pause", {{"pid", kPs3}}),
                     Event(50'000, -1, "process.resume", {{"pid", kPs3}})});
    }
    Feed(checker, {Event(200'000, -1, "tick", {})});
    if (flapping) {
      EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
      EXPECT_EQ(checker.Metrics()["L2 excused: another node in transition was disturbed"], 1);
    } else {
      ASSERT_EQ(collector.violations.size(), 1u);
      EXPECT_NE(collector.violations[0].detail.find("not marked Offline"), std::string::npos);
    }
  }
}

TEST(FailoverCheckerTest, NoAlternativeOrEarlyReturnIsExcused) {
  for (int variant = 0; variant < 2; ++variant) {
    Collector collector;
    FailoverChecker checker(collector.sink(), TestTopology(), TestBounds());
    Feed(checker, FailoverPrelude());
    if (variant == 0) {
      Feed(checker, {Event(12'000, -1, "process.down", {{"pid", kPs2}, {"reason", "crash"}})});
    } else {
      Feed(checker, {Event(20'000, -1, "process.start", {{"pid", kPs1}, {"incarnation", 2}})});
    }
    Feed(checker, {Event(200'000, -1, "tick", {})});
    EXPECT_TRUE(collector.violations.empty()) << variant << ": " << collector.Describe();
  }
}

TEST(DrainFillCheckerTest, CancelledDrainMustEnd) {
  auto run = [](bool ends, bool disturbed) {
    Collector collector;
    DrainFillChecker checker(collector.sink(), TestTopology(), TestBounds(),
                             [] { return DrainFillSnapshot{}; });
    Feed(checker, {Event(0, -1, "process.start", {{"pid", kPs2}, {"incarnation", 1}}),
                   Event(1000, kLeader, "ctl.operation", {{"op", "drain"}, {"node", 1}, {"phase", "start"}}),
                   Event(10'000, kLeader, "ctl.operation",
                         {{"op", "drain"}, {"node", 1}, {"phase", "cancel_requested"}})});
    if (ends) {
      Feed(checker, {Event(15'000, kLeader, "ctl.operation",
                           {{"op", "drain"}, {"node", 1}, {"phase", "end"}, {"result", "cancelled"}})});
    }
    if (disturbed) Feed(checker, {Event(12'000, -1, "process.pause", {{"pid", kPs2}})});
    Feed(checker, {Event(30'000, -1, "tick", {})});
    return collector.violations;
  };
  EXPECT_TRUE(run(true, false).empty());
  EXPECT_TRUE(run(false, true).empty());
  const std::vector<Violation> missed = run(false, false);
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].invariant, "L4");
  EXPECT_NE(missed[0].detail.find("cancelled at"), std::string::npos);
}

TEST(DrainFillCheckerTest, OperationWithoutEndIsReported) {
  Collector collector;
  DrainFillChecker checker(collector.sink(), TestTopology(), TestBounds(),
                           [] { return DrainFillSnapshot{}; });
  Feed(checker, {Event(1000, kLeader, "ctl.operation", {{"op", "fill"}, {"node", 2}, {"phase", "start"}}),
                 Event(70'000, -1, "tick", {})});
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_NE(collector.violations[0].detail.find("fill of node 2"), std::string::npos);
}

// (b) counts from the control plane's last refusal inside the window: a fill whose migrations
// wait out a 423 storm is judged once the control plane answers again.
TEST(DrainFillCheckerTest, OperationBoundCountsFromTheLastRefusal) {
  auto run = [](int64_t end_ms, int64_t tick_ms) {
    Collector collector;
    DrainFillChecker checker(collector.sink(), TestTopology(), TestBounds(),
                             [] { return DrainFillSnapshot{}; });
    Feed(checker, {Event(1000, kLeader, "ctl.operation", {{"op", "fill"}, {"node", 2}, {"phase", "start"}})});
    // Refusals from 20 s to 50 s (each inside the window the previous one opened).
    for (int64_t at = 20'000; at <= 50'000; at += 10'000) {
      Feed(checker, {Event(at, kLeader, "ctl.notify.result",
                           {{"tenant", "t1"}, {"shards", "0:2"}, {"result", "busy"}, {"http", 423}})});
    }
    // An answered notification does not extend anything.
    Feed(checker, {Event(60'000, kLeader, "ctl.notify.result",
                         {{"tenant", "t1"}, {"shards", "0:2"}, {"result", "ok"}, {"http", 200}})});
    if (end_ms > 0) {
      Feed(checker, {Event(end_ms, kLeader, "ctl.operation",
                           {{"op", "fill"}, {"node", 2}, {"phase", "end"}, {"result", "done"}})});
    }
    Feed(checker, {Event(tick_ms, -1, "tick", {})});
    return collector.violations;
  };
  // Ends at 100 s: past start + 60 s, but within 60 s of the last refusal (50 s): legal.
  EXPECT_TRUE(run(100'000, 120'000).empty());
  // Still running at 111 s, 61 s after the last refusal: reported.
  const std::vector<Violation> missed = run(0, 111'000);
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].invariant, "L4");
}

TEST(DrainFillCheckerTest, NodeStuckDrainingAfterQuietIsReported) {
  for (const std::optional<std::string>& operation :
       {std::optional<std::string>(), std::optional<std::string>("drain 1")}) {
    Collector collector;
    DrainFillChecker checker(collector.sink(), TestTopology(), TestBounds(), [operation] {
      DrainFillSnapshot snapshot;
      snapshot.have_leader = true;
      snapshot.node_policy = {{1, "draining"}, {2, "active"}};
      snapshot.operation = operation;
      return snapshot;
    });
    checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(100));
    EXPECT_EQ(collector.violations.size(), operation ? 0u : 1u) << collector.Describe();
  }
}

std::vector<sim::TraceEvent> Enqueued() {
  return {Event(0, kPs1, "ps.deletion_enqueue",
                {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 3}, {"keys", 2}, {"seq", 7}})};
}

TEST(DeletionProgressCheckerTest, ExecutedInTimeIsAccepted) {
  Collector collector;
  DeletionProgressChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, Enqueued());
  Feed(checker, {Event(6000, kPs1, "ps.deletion_execute",
                       {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 3}, {"seq", 7}}),
                 Event(30'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(DeletionProgressCheckerTest, StuckListIsReported) {
  Collector collector;
  DeletionProgressChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, Enqueued());
  Feed(checker, {Event(30'000, -1, "tick", {})});
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "L5");
}

TEST(DeletionProgressCheckerTest, NewerGenerationOrFaultExcuses) {
  for (int variant = 0; variant < 2; ++variant) {
    Collector collector;
    DeletionProgressChecker checker(collector.sink(), TestTopology(), TestBounds());
    Feed(checker, Enqueued());
    if (variant == 0) {
      Feed(checker, {Event(3000, kLeader, "ctl.generation", {{"shard", "t1"}, {"generation", 4}})});
    } else {
      Feed(checker, {Event(3000, -1, "fault",
                           {{"kind", "partition"}, {"a", 1}, {"b", kPs1}, {"duration_ns", 2'000'000'000}})});
    }
    Feed(checker, {Event(30'000, -1, "tick", {})});
    EXPECT_TRUE(collector.violations.empty()) << variant << ": " << collector.Describe();
  }
}

std::vector<sim::TraceEvent> StartupPrelude() {
  return {Event(0, kLeader, "ctl.status", {{"status", "Leader"}}),
          Event(1000, kLeader, "ctl.startup_complete", {{"shards", 1}, {"nodes", 2}}),
          Event(2000, kPs1, "ps.start", {{"node", 1}, {"inc", 1}})};
}

TEST(StartupCheckerTest, ReAttachAndActivationInTimeAreAccepted) {
  Collector collector;
  StartupChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, StartupPrelude());
  Feed(checker, {Event(3000, kPs1, "ps.re_attach_done", {{"node", 1}, {"inc", 1}}),
                 Event(3000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "WarmingUp"}}),
                 Event(8000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Active"}}),
                 Event(60'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(StartupCheckerTest, MissingReAttachOrActivationIsReported) {
  for (int variant = 0; variant < 2; ++variant) {
    Collector collector;
    StartupChecker checker(collector.sink(), TestTopology(), TestBounds());
    Feed(checker, StartupPrelude());
    if (variant == 1) {
      Feed(checker, {Event(3000, kPs1, "ps.re_attach_done", {{"node", 1}, {"inc", 1}}),
                     Event(3000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "WarmingUp"}})});
    }
    Feed(checker, {Event(60'000, -1, "tick", {})});
    ASSERT_EQ(collector.violations.size(), 1u) << variant;
    EXPECT_EQ(collector.violations[0].invariant, "L8");
  }
}

TEST(StartupCheckerTest, ClockStartsWhenALeaderIsReady) {
  Collector collector;
  StartupChecker checker(collector.sink(), TestTopology(), TestBounds());
  Feed(checker, {Event(2000, kPs1, "ps.start", {{"node", 1}, {"inc", 1}}),
                 Event(50'000, kLeader, "ctl.status", {{"status", "Leader"}}),
                 Event(52'000, kLeader, "ctl.startup_complete", {{"shards", 1}, {"nodes", 2}}),
                 Event(55'000, kPs1, "ps.re_attach_done", {{"node", 1}, {"inc", 1}}),
                 Event(56'000, kLeader, "ctl.node.availability", {{"node", 1}, {"to", "Active"}}),
                 Event(90'000, -1, "tick", {})});
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// ---- L6 ----

sim::TraceEvent NotifyResult(int64_t at_ms, int32_t pid, int64_t incarnation, const char* tenant,
                             const char* result) {
  return Event(at_ms, pid, "ctl.notify.result",
               {{"tenant", tenant}, {"shards", "0:2"}, {"result", result}, {"http", 0},
                {"incarnation", incarnation}});
}

NotificationRetrySnapshot LeaderSnapshot(std::set<std::string> busy = {}) {
  NotificationRetrySnapshot snapshot;
  snapshot.have_leader = true;
  snapshot.leader = Instance{kLeader, 2};
  snapshot.attached_tenants = {"t1", "t2"};
  snapshot.cplane_busy_tenants = std::move(busy);
  return snapshot;
}

TEST(NotificationRetryCheckerTest, FailedNotificationNeverRetriedIsReported) {
  Collector collector;
  NotificationRetryChecker checker(collector.sink(), [] { return LeaderSnapshot(); });
  Feed(checker, {NotifyResult(1000, kLeader, 2, "t1", "ok"),
                 NotifyResult(5000, kLeader, 2, "t2", "ok"),
                 NotifyResult(9000, kLeader, 2, "t1", "busy")});
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(200));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "L6");
  EXPECT_NE(collector.violations[0].detail.find("t1"), std::string::npos);
}

TEST(NotificationRetryCheckerTest, RetriedOrDedupedNotificationIsAccepted) {
  Collector collector;
  NotificationRetryChecker checker(collector.sink(), [] { return LeaderSnapshot(); });
  Feed(checker, {NotifyResult(1000, kLeader, 2, "t1", "busy"),
                 NotifyResult(2000, kLeader, 2, "t1", "transport"),
                 NotifyResult(30000, kLeader, 2, "t1", "ok"),
                 NotifyResult(4000, kLeader, 2, "t2", "cancelled"),
                 NotifyResult(40000, kLeader, 2, "t2", "skipped_dedupe")});
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(200));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(NotificationRetryCheckerTest, OtherInstancesBusyControlPlaneAndDetachedAreExcused) {
  Collector collector;
  NotificationRetryChecker checker(collector.sink(), [] { return LeaderSnapshot({"t2"}); });
  Feed(checker, {NotifyResult(1000, kLeader, 1, "t1", "busy"),  // the previous incarnation
                 NotifyResult(2000, kLeader, 2, "t2", "busy"),  // cplane still busy with t2
                 NotifyResult(3000, kLeader, 2, "t3", "busy")});  // t3 is not attached
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(200));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

}  // namespace
}  // namespace storsim::invariants
