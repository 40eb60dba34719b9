// S11, S12, S14 checkers fire on violating histories and accept legal ones.
#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"
#include "scenarios/invariants/data_checkers.h"
#include "scenarios/invariants/placement_checkers.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

sim::TraceEvent Read(int64_t at, int64_t key, int64_t request_lsn, int found, int64_t value_lsn,
                     const char* value) {
  return Event(at, 7, "compute.read", {{"tenant", "t1"}, {"key", key}, {"request_lsn", request_lsn},
                                       {"found", found}, {"value_lsn", value_lsn}, {"value", value},
                                       {"outcome", "ok"}, {"node_id", 1}});
}

TEST(AcknowledgedWriteCheckerTest, StaleLostAndCorruptReadsAreViolations) {
  Collector collector;
  AcknowledgedWriteChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 7, "compute.write_acked", {{"tenant", "t1"}, {"key", 1}, {"value", "a"}, {"lsn", 10}}),
      Event(2, 7, "compute.write_acked", {{"tenant", "t1"}, {"key", 1}, {"value", "b"}, {"lsn", 20}}),
      Read(3, 1, 10, 1, 10, "a"),   // at 10 the write at 10 is enough
      Read(4, 1, 25, 1, 20, "b"),
      Read(5, 1, 25, 1, 22, "c"),   // an unacknowledged later write may be visible
      Read(6, 2, 25, 0, 0, ""),     // never written
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Read(7, 1, 25, 1, 10, "a"));  // stale
  checker.OnEvent(Read(8, 1, 25, 0, 0, ""));    // lost
  checker.OnEvent(Read(9, 1, 25, 1, 20, "x"));  // corrupt
  EXPECT_EQ(collector.violations.size(), 3u) << collector.Describe();
}

std::vector<sim::TraceEvent> MigrationPrefix() {
  return {
      Event(1, 1, "ctl.intent", {{"shard", "t1"}, {"attached", 2}}),
      Event(2, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 1}, {"node", 1}}),
      Event(3, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(4, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"gen", 1}, {"status", 200}}),
      Event(5, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 2}, {"node", 2}}),
      Event(6, 6, "ps.location_config", {{"node", 2}, {"shard", "t1"}, {"mode", "AttachedMulti"}, {"gen", 2}, {"status", 200}}),
  };
}

TEST(AttachBeforeDetachCheckerTest, OriginDemotedAfterTheComputeRunsTheNewPlacementIsLegal) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, MigrationPrefix());
  Feed(checker, {
      Event(7, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(7, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(8, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(AttachBeforeDetachCheckerTest, OriginDemotedBeforeTheControlPlaneKnowsTheNewPlacementIsAViolation) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, MigrationPrefix());
  checker.OnEvent(Event(8, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S12");
}

// db-outage 8297: the demotion of OriginDemotedBeforeTheControlPlaneKnowsTheNewPlacementIsAViolation
// sent by a Leader while another instance leads too (a successor that took over unilaterally)
// is counted, not judged; sent by the single Leader it is still a violation.
TEST(AttachBeforeDetachCheckerTest, ADemotionSentWhileTwoInstancesLeadIsCounted) {
  for (bool two_leaders : {true, false}) {
    SCOPED_TRACE(two_leaders);
    Collector collector;
    AttachBeforeDetachChecker checker(collector.sink());
    Feed(checker, MigrationPrefix());
    checker.OnEvent(Event(7, 3, "ctl.status", {{"status", "Leader"}}));
    if (two_leaders) checker.OnEvent(Event(7, 4, "ctl.status", {{"status", "Leader"}}));
    checker.OnEvent(Event(7, 3, "ctl.location_config.send", {{"shard", "t1"}, {"node", 1}, {"mode", "Secondary"}}));
    checker.OnEvent(Event(8, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}));
    EXPECT_EQ(collector.violations.size(), two_leaders ? 0u : 1u) << collector.Describe();
    EXPECT_EQ(checker.Metrics()["s12_split_brain_demotion"], two_leaders ? 1 : 0);
  }
}

TEST(AttachBeforeDetachCheckerTest, DemotingTheDestinationOfAnAbandonedMigrationIsLegal) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.intent", {{"shard", "t1"}, {"attached", 1}}),
      Event(2, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(3, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@1"}}),
      Event(3, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@1"}}),
      // Migration to node 2 starts, then is cancelled before any notification names node 2.
      Event(4, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"gen", 1}, {"status", 200}}),
      Event(5, 6, "ps.location_config", {{"node", 2}, {"shard", "t1"}, {"mode", "AttachedMulti"}, {"gen", 2}, {"status", 200}}),
      Event(6, 6, "ps.location_config", {{"node", 2}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // The origin, which the compute still reads from, may not follow it.
  checker.OnEvent(Event(7, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S12");
}

// shard-split 372/395: an aborted split's children on the parent's node are detached. The
// placement the computes run names shard 0 of the 2-shard tenant, not shard 0 of 4.
TEST(AttachBeforeDetachCheckerTest, AChildOfAnAbortedSplitIsNotTheAppliedShardOfItsNumber) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.intent", {{"shard", "t1-0002"}, {"attached", 1}}),
      Event(2, 5, "ps.location_config", {{"node", 1}, {"shard", "t1-0002"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(3, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"version", 1}, {"shard_count", 2}, {"shards", "0@1,1@2"}}),
      Event(3, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"version", 1}, {"shards", "0@1,1@2"}}),
      // The split attaches the children beside the parent, then aborts and detaches them.
      Event(4, 5, "ps.location_config", {{"node", 1}, {"shard", "t1-0004"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(5, 5, "ps.location_config", {{"node", 1}, {"shard", "t1-0004"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // The parent itself is what the computes read: detaching it is still a violation.
  checker.OnEvent(Event(6, 5, "ps.location_config", {{"node", 1}, {"shard", "t1-0002"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S12");
}

TEST(AttachBeforeDetachCheckerTest, AnAttachmentFromReAttachCountsAsTheNewerOne) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.intent", {{"shard", "t1"}, {"attached", 2}}),
      Event(2, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"gen", 3}, {"status", 200}}),
      Event(3, 6, "ps.start", {{"node", 2}}),
      Event(4, 6, "ps.attach", {{"node", 2}, {"shard", "t1"}, {"gen", 5}, {"mode", "AttachedSingle"}}),
      Event(5, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(5, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(6, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(AttachBeforeDetachCheckerTest, DetachingAShardWithNoAttachedIntentIsLegal) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(2, 1, "ctl.intent", {{"shard", "t1"}, {"attached", -1}}),
      Event(3, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// generations 941: a detach sent while the policy placed the shard nowhere lands after the policy
// placed it again; the request was on its way. A detach sent after the re-placement is judged.
TEST(AttachBeforeDetachCheckerTest, ADetachSentWhileUnplacedMayLandLater) {
  for (bool sent_while_unplaced : {true, false}) {
    Collector collector;
    AttachBeforeDetachChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = {
        Event(1, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
        Event(2, 1, "ctl.intent", {{"shard", "t1"}, {"attached", -1}}),
    };
    const sim::TraceEvent send = Event(3, 1, "ctl.location_config.send", {{"shard", "t1"}, {"node", 1}, {"mode", "Detached"}});
    if (sent_while_unplaced) events.push_back(send);
    events.push_back(Event(4, 1, "ctl.intent", {{"shard", "t1"}, {"attached", 2}}));
    if (!sent_while_unplaced) events.push_back(send);
    events.push_back(Event(5, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), sent_while_unplaced ? 0u : 1u) << collector.Describe();
  }
}

// generations 20: the leader detaches a shard whose policy became Detached while a second
// instance starting up still reads the old attachment; the leader's intent decides.
TEST(AttachBeforeDetachCheckerTest, ADetachByAnInstanceThatUnplacedTheShardIsLegal) {
  for (bool leader_unplaced : {true, false}) {
    Collector collector;
    AttachBeforeDetachChecker checker(collector.sink());
    Feed(checker, {
        Event(1, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
        Event(2, 1, "ctl.intent", {{"shard", "t1"}, {"attached", leader_unplaced ? -1 : 1}}),
        Event(3, 2, "ctl.intent", {{"shard", "t1"}, {"attached", 1}}),
        Event(4, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}),
    });
    EXPECT_EQ(collector.violations.empty(), leader_unplaced) << collector.Describe();
  }
}

// A 423 (locked) persists the new placement without applying it: computes reach it by the
// control plane's applier or by pulling it on refresh once the origin is gone, so the origin may
// go. A spec naming an older placement does not cover it.
TEST(AttachBeforeDetachCheckerTest, OriginDemotedAfterTheSpecIsStoredButNotAppliedIsLegal) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@1"}}),
      Event(1, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@1"}}),
  });
  Feed(checker, MigrationPrefix());
  checker.OnEvent(Event(7, 8, "cplane.notify_answered", {{"tenant", "t1"}, {"shards", "0@2"}, {"outcome", "applied"}}));
  checker.OnEvent(Event(8, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}));
  ASSERT_EQ(collector.violations.size(), 1u) << "an answer alone, with the spec still naming node 1";
  Collector later;
  AttachBeforeDetachChecker stored(later.sink());
  Feed(stored, {
      Event(1, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@1"}}),
      Event(1, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@1"}}),
  });
  Feed(stored, MigrationPrefix());
  Feed(stored, {
      Event(7, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(8, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Detached"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(later.violations.empty()) << later.Describe();
}

// Once computes run a placement naming node 2, node 3 (their earlier origin) is no longer read
// from: demoting it while node 2 restarts (no newer attachment exists for a moment) is legal.
TEST(AttachBeforeDetachCheckerTest, AnOriginTheComputesLeftMayBeDemoted) {
  Collector collector;
  AttachBeforeDetachChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@3"}}),
      Event(2, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@3"}}),
      Event(3, 1, "ctl.intent", {{"shard", "t1"}, {"attached", 2}}),
      Event(4, 7, "ps.location_config", {{"node", 3}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 1}, {"status", 200}}),
      Event(5, 7, "ps.location_config", {{"node", 3}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"gen", 1}, {"status", 200}}),
      Event(6, 6, "ps.location_config", {{"node", 2}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 2}, {"status", 200}}),
      Event(7, 8, "cplane.spec_changed", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(8, 8, "cplane.spec_applied", {{"tenant", "t1"}, {"shards", "0@2"}}),
      Event(9, 6, "ps.start", {{"node", 2}}),
      Event(10, 7, "ps.location_config", {{"node", 3}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(NotificationOrderCheckerTest, OverlappingSendsAndRevertedPlacementsAreViolations) {
  Collector collector;
  NotificationOrderChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 1}, {"node", 1}}),
      Event(2, 1, "ctl.notify.send", {{"tenant", "t1"}, {"incarnation", 1}}),
      Event(3, 8, "cplane.notify_answered", {{"tenant", "t1"}, {"shards", "0@1"}, {"outcome", "applied"}}),
      Event(4, 1, "ctl.notify.result", {{"tenant", "t1"}, {"incarnation", 1}}),
      Event(5, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 2}, {"node", 2}}),
      Event(6, 1, "ctl.notify.send", {{"tenant", "t1"}, {"incarnation", 1}}),
      Event(7, 8, "cplane.notify_answered", {{"tenant", "t1"}, {"shards", "0@2"}, {"outcome", "applied"}}),
      Event(8, 1, "ctl.notify.result", {{"tenant", "t1"}, {"incarnation", 1}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  Feed(checker, {
      Event(9, 1, "ctl.notify.send", {{"tenant", "t1"}, {"incarnation", 1}}),
      Event(10, 1, "ctl.notify.send", {{"tenant", "t1"}, {"incarnation", 1}}),
      Event(11, 8, "cplane.notify_answered", {{"tenant", "t1"}, {"shards", "0@1"}, {"outcome", "applied"}}),
  });
  EXPECT_EQ(collector.violations.size(), 2u) << collector.Describe();
}

// t1's placement `shards` applied by the control plane (pid 8) from controller `from`, and a
// notify send and its result by controller `pid`.
sim::TraceEvent Applied(int64_t at, int32_t from, const char* shards) {
  return Event(at, 8, "cplane.notify_answered",
               {{"tenant", "t1"}, {"shards", shards}, {"outcome", "applied"}, {"from", from}});
}
sim::TraceEvent NotifySend(int64_t at, int32_t pid) {
  return Event(at, pid, "ctl.notify.send", {{"tenant", "t1"}, {"incarnation", 1}});
}
sim::TraceEvent NotifyResult(int64_t at, int32_t pid) {
  return Event(at, pid, "ctl.notify.result", {{"tenant", "t1"}, {"incarnation", 1}});
}

TEST(NotificationOrderCheckerTest, SplitBrainPlacementsAreCountedNotJudged) {
  // db-outage seed 759: the successor (p2) took over unilaterally while the old leader (p1),
  // never told, still migrated; p2's start-up notification named the node its stale scan saw.
  Collector collector;
  NotificationOrderChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.status", {{"status", "Leader"}}),
      Event(2, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 1}, {"node", 1}}),
      Event(3, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 2}, {"node", 2}}),
      NotifySend(4, 1), Applied(5, 1, "0@2"), NotifyResult(6, 1),
      Event(7, 2, "ctl.status", {{"status", "Leader"}}),  // two Leaders: split brain
      NotifySend(8, 2), Applied(9, 2, "0@1"), NotifyResult(10, 2),     // back to generation 1: not judged
      Event(11, -1, "process.down", {{"pid", 1}}),
      NotifySend(12, 2), Applied(13, 2, "0@2"), NotifyResult(14, 2),   // the single leader again: judged
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["s14_split_brain_applied"], 1);
  // The same reversion by the single leader is a violation.
  Feed(checker, {NotifySend(15, 2), Applied(16, 2, "0@1"), NotifyResult(17, 2)});
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "S14");
}

TEST(NotificationOrderCheckerTest, AStaleSuccessorsPlacementIsCountedUntilItsResync) {
  // db-outage 4529: p2 began loading (its step-down request never arrived); p1, still the single
  // leader, moved t1 to node 1 at generation 2 and had it applied; p1's pod stopped, p2 led and
  // its start-up notification named node 2 (generation 1), which it had loaded.
  Collector collector;
  NotificationOrderChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 1, "ctl.status", {{"status", "Leader"}}),
      Event(2, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 1}, {"node", 2}}),
      Event(3, 2, "ctl.migrations", {{"incarnation", 1}}),
      Event(4, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 2}, {"node", 1}}),
      NotifySend(5, 1), Applied(6, 1, "0@1"), NotifyResult(7, 1),
      Event(8, -1, "process.down", {{"pid", 1}}),
      Event(9, 2, "ctl.status", {{"status", "Leader"}}),
      NotifySend(10, 2), Applied(11, 2, "0@2"), NotifyResult(12, 2),  // stale: counted, not judged
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["s14_stale_successor_applied"], 1);
  // After its re-sync it knows generation 2: going back to generation 1 is a violation.
  Feed(checker, {NotifySend(13, 2), Applied(14, 2, "0@1"), NotifyResult(15, 2),
                 Event(16, 2, "ctl.takeover_resync", {{"result", "ok"}, {"incarnation", 1}}),
                 NotifySend(17, 2), Applied(18, 2, "0@2"), NotifyResult(19, 2)});
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "S14");
}

}  // namespace
}  // namespace storsim::invariants
