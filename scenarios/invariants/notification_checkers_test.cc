// Tests of N1 (NotificationTargetChecker): hand-built histories that must be caught (a
// notification naming a location the controller detached or made secondary) and legal ones it
// must accept (a sibling mid-migration, a node restarted since, re-attached, retries, a
// non-leader sender).
#include "scenarios/invariants/notification_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

constexpr int32_t kLeader = 1;
constexpr int32_t kOther = 2;

sim::TraceEvent Status(int64_t at, int32_t pid, const char* status) {
  return Event(at, pid, "ctl.status", {{"status", status}});
}
sim::TraceEvent Config(int64_t at, const char* shard, int64_t node, const char* mode,
                       int64_t status = 200) {
  return Event(at, 100 + static_cast<int32_t>(node), "ps.location_config",
               {{"node", node}, {"shard", shard}, {"mode", mode}, {"status", status}});
}
sim::TraceEvent Send(int64_t at, int32_t pid, const char* tenant, const char* shards,
                     int64_t attempt = 0) {
  return Event(at, pid, "ctl.notify.send",
               {{"tenant", tenant}, {"shards", shards}, {"attempt", attempt}});
}

// Two shards of t1 attached on nodes 1 and 2, p1 the leader.
std::vector<sim::TraceEvent> Placed() {
  return {Status(0, kLeader, "Leader"), Config(10, "t1-0002", 1, "AttachedSingle"),
          Config(11, "t1-0102", 2, "AttachedSingle")};
}

TEST(NotificationTargetChecker, CatchesADetachedSiblingInTheCache) {
  // PR #9045: the tenant was detached (both shards), then shard 0 re-attached on node 3; the
  // hook's stale cache still names shard 1 on node 2, which no longer has it.
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Placed();
  events.push_back(Config(20, "t1-0002", 1, "Detached"));
  events.push_back(Config(21, "t1-0102", 2, "Detached"));
  events.push_back(Config(30, "t1-0002", 3, "AttachedSingle"));
  events.push_back(Send(31, kLeader, "t1", "0:3,1:2"));
  Feed(checker, events);
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "N1");
}

// db-outage 1823: p2 leads; p1 begins loading the database, then p2 moves t2 off node 1 (p1's
// step-down request never reached it); p1 takes over unilaterally and its start-up notification
// names node 1. Not judged until p1 re-read the placements (its takeover re-sync); judged after.
TEST(NotificationTargetChecker, ADemotionByThePredecessorAfterTheLoadIsNotJudgedUntilTheResync) {
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  Feed(checker, {
      Event(0, kOther, "ctl.status", {{"status", "Leader"}, {"incarnation", 1}}),
      Event(1, kOther, "ctl.location_config.send", {{"shard", "t2"}, {"node", 1}, {"mode", "AttachedSingle"}, {"incarnation", 1}}),
      Config(2, "t2", 1, "AttachedSingle"),
      Event(3, kLeader, "ctl.migrations", {{"incarnation", 1}}),
      Event(4, kOther, "ctl.location_config.send", {{"shard", "t2"}, {"node", 1}, {"mode", "Secondary"}, {"incarnation", 1}}),
      Config(5, "t2", 1, "Secondary"),
      Event(6, -1, "process.down", {{"pid", kOther}}),
      Event(7, kLeader, "ctl.status", {{"status", "Leader"}, {"incarnation", 1}}),
      Event(8, kLeader, "ctl.notify.send", {{"tenant", "t2"}, {"shards", "0:1"}, {"attempt", 0}, {"incarnation", 1}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(9, kLeader, "ctl.takeover_resync", {{"result", "ok"}, {"incarnation", 1}}));
  checker.OnEvent(Event(10, kLeader, "ctl.notify.send", {{"tenant", "t2"}, {"shards", "0:1"}, {"attempt", 0}, {"incarnation", 1}}));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "N1");
}

TEST(NotificationTargetChecker, CatchesASecondaryNamedForAnUnshardedTenant) {
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  Feed(checker, {Status(0, kLeader, "Leader"), Config(10, "t2", 1, "AttachedSingle"),
                 Config(20, "t2", 1, "Secondary"), Send(30, kLeader, "t2", "0:1")});
  EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
}

TEST(NotificationTargetChecker, AcceptsASiblingMidMigration) {
  // Shard 1 is moving from node 2 to node 3: node 2 is AttachedStale and still serves; a
  // notification for shard 0 repeats shard 1's last placement, node 2.
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Placed();
  events.push_back(Config(20, "t1-0102", 2, "AttachedStale"));
  events.push_back(Config(21, "t1-0102", 3, "AttachedMulti"));
  events.push_back(Config(22, "t1-0002", 3, "AttachedSingle"));
  events.push_back(Send(23, kLeader, "t1", "0:3,1:2"));
  // Then shard 1's own notification, and only then the origin's demotion.
  events.push_back(Send(24, kLeader, "t1", "0:3,1:3"));
  events.push_back(Config(25, "t1-0102", 2, "Secondary"));
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(NotificationTargetChecker, AcceptsReattachedAndRestartedNodes) {
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Placed();
  // Shard 1 demoted on node 2, then attached there again: legal.
  events.push_back(Config(20, "t1-0102", 2, "Secondary"));
  events.push_back(Config(21, "t1-0102", 2, "AttachedSingle"));
  events.push_back(Send(22, kLeader, "t1", "0:1,1:2"));
  // Shard 0 detached on node 1, but node 1 restarted since: its slots follow the re-attach.
  events.push_back(Config(30, "t1-0002", 1, "Detached"));
  events.push_back(Event(31, 101, "ps.start", {{"node", int64_t{1}}}));
  events.push_back(Send(32, kLeader, "t1", "0:1,1:2"));
  // A refused demotion changes nothing.
  events.push_back(Config(40, "t1-0102", 2, "Detached", 400));
  events.push_back(Send(41, kLeader, "t1", "0:1,1:2"));
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(NotificationTargetChecker, JudgesOnlyFirstAttemptsOfTheSingleLeader) {
  Collector collector;
  NotificationTargetChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Placed();
  events.push_back(Config(20, "t1-0102", 2, "Detached"));
  events.push_back(Send(21, kLeader, "t1", "0:1,1:2", /*attempt=*/2));   // a retry
  events.push_back(Status(22, kOther, "Leader"));                          // two leaders
  events.push_back(Send(23, kLeader, "t1", "0:1,1:2"));
  events.push_back(Status(24, kLeader, "SteppedDown"));
  events.push_back(Event(25, -1, "process.down", {{"pid", int64_t{kOther}}}));
  events.push_back(Send(26, kOther, "t1", "0:1,1:2"));  // dead: not a leader any more
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // The same send by the single leader is caught.
  Feed(checker, {Status(30, kLeader, "Leader"), Send(31, kLeader, "t1", "0:1,1:2")});
  EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
}

sim::TraceEvent ConfigSend(int64_t at, int32_t pid, const char* shard, int64_t node,
                           const char* mode) {
  return Event(at, pid, "ctl.location_config.send",
               {{"shard", shard}, {"node", node}, {"mode", mode}});
}

TEST(NotificationTargetChecker, AcceptsADemotionSentDuringSplitBrain) {
  // db-outage seed 432: the new leader (kOther) took over unilaterally and attached t2 on node 2
  // while the old leader (kLeader), which never got the step-down, still led and finished its
  // migration by making node 2 Secondary. Once the old leader is gone, the new one notifies
  // node 2: it never learnt of the demotion, which was not the single leader's doing.
  auto history = [](int32_t demoter_status_pid) {
    std::vector<sim::TraceEvent> events = {
        Status(0, kLeader, "Leader"), Config(10, "t2", 1, "AttachedSingle"),
        Status(20, kOther, "Leader"),  // two Leaders now
        ConfigSend(21, kOther, "t2", 2, "AttachedSingle"), Config(22, "t2", 2, "AttachedSingle")};
    if (demoter_status_pid == kLeader) {
      events.push_back(ConfigSend(30, kLeader, "t2", 2, "Secondary"));
      events.push_back(Config(31, "t2", 2, "Secondary"));
      events.push_back(Event(40, -1, "process.down", {{"pid", int64_t{kLeader}}}));
    } else {
      // The same demotion sent by the single leader itself is judged.
      events.push_back(Event(29, -1, "process.down", {{"pid", int64_t{kLeader}}}));
      events.push_back(ConfigSend(30, kOther, "t2", 2, "Secondary"));
      events.push_back(Config(31, "t2", 2, "Secondary"));
    }
    events.push_back(Send(50, kOther, "t2", "0:2"));
    return events;
  };
  Collector legal;
  NotificationTargetChecker accepting(legal.sink());
  Feed(accepting, history(kLeader));
  EXPECT_TRUE(legal.violations.empty()) << legal.Describe();
  EXPECT_EQ(accepting.Metrics()["demotions_by_non_single_leader"], 1);
  Collector caught;
  NotificationTargetChecker judging(caught.sink());
  Feed(judging, history(kOther));
  ASSERT_EQ(caught.violations.size(), 1u) << caught.Describe();
  EXPECT_EQ(caught.violations[0].invariant, "N1");
}

TEST(ParseNotifyShards, ReadsTheHookFormat) {
  EXPECT_EQ(ParseNotifyShards("0:3,1:5"), (std::map<int64_t, int64_t>{{0, 3}, {1, 5}}));
  EXPECT_EQ(ParseNotifyShards("0:3,bad,2:"), (std::map<int64_t, int64_t>{{0, 3}}));
  EXPECT_TRUE(ParseNotifyShards("").empty());
}

}  // namespace
}  // namespace storsim::invariants
