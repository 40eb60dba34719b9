// S1, S2, S3 checkers fire on violating histories and accept legal ones.
#include "scenarios/invariants/leadership_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

// A scripted leader table: tests set rows between events.
struct FakeTable {
  std::vector<std::pair<std::string, int64_t>> rows;
  DbView View() {
    DbView view;
    view.leader_rows = [this] { return rows.size(); };
    view.leader = [this]() -> std::optional<std::pair<std::string, int64_t>> {
      if (rows.size() != 1) return std::nullopt;
      return rows[0];
    };
    return view;
  }
};

TEST(LeaderRowCheckerTest, TwoRowsAreAViolation) {
  FakeTable table;
  Collector collector;
  LeaderRowChecker checker(collector.sink(), table.View());
  table.rows = {{"a", 1}};
  checker.OnEvent(Event(1, 0, "ctl.status", {}));
  EXPECT_TRUE(collector.violations.empty());
  table.rows = {{"a", 1}, {"b", 2}};
  checker.OnEvent(Event(2, 1, "ctl.status", {}));
  checker.OnEvent(Event(3, 1, "ctl.status", {}));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "S1");
}

TEST(LeaderRowCheckerTest, CasFromAStalePrevIsAViolation) {
  FakeTable table;
  Collector collector;
  LeaderRowChecker checker(collector.sink(), table.View());
  table.rows = {{"old", 1}};
  checker.OnEvent(Event(1, 0, "ctl.leader_read", {}));
  // A takes over from old: legal.
  table.rows = {{"a", 10}};
  checker.OnEvent(Event(2, 1, "ctl.leader_cas", {{"instance", "a"}, {"prev_address", "old"},
                                                  {"prev_started_at", 1}, {"started_at", 10},
                                                  {"result", "ok"}}));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // B also "succeeds" from the same prev: the row it replaced was A's.
  table.rows = {{"b", 20}};
  checker.OnEvent(Event(3, 2, "ctl.leader_cas", {{"instance", "b"}, {"prev_address", "old"},
                                                  {"prev_started_at", 1}, {"started_at", 20},
                                                  {"result", "ok"}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_NE(collector.violations[0].detail.find("(a, 10)"), std::string::npos);
}

TEST(SingleLeaderCheckerTest, TwoLiveLeadersOfTheRowAreAViolationAndDualActorTimeIsMeasured) {
  FakeTable table;
  table.rows = {{"ctl", 5}};
  Collector collector;
  SingleLeaderChecker checker(collector.sink(), table.View());
  // Two instances with the same address (a restarted pod that kept its address) both Leader.
  Feed(checker, {
      Event(0, 1, "ctl.leader_cas", {{"instance", "ctl"}, {"incarnation", 1}, {"started_at", 5}, {"result", "ok"}}),
      Event(1, 1, "ctl.status", {{"instance", "ctl"}, {"incarnation", 1}, {"status", "Leader"}}),
      Event(100, 1, "ctl.db_write", {{"instance", "ctl"}, {"incarnation", 1}, {"op", "detach"}}),
      Event(200, 2, "ctl.db_write", {{"instance", "other"}, {"incarnation", 1}, {"op", "detach"}}),
      Event(300, 1, "ctl.db_write", {{"instance", "ctl"}, {"incarnation", 1}, {"op", "detach"}}),
      Event(400, 2, "ctl.db_write", {{"instance", "other"}, {"incarnation", 1}, {"op", "detach"}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["dual_actor_ns"], sim::Duration::Millis(100).nanos());
  Feed(checker, {
      Event(500, 3, "ctl.leader_cas", {{"instance", "ctl"}, {"incarnation", 1}, {"started_at", 5}, {"result", "ok"}}),
      Event(501, 3, "ctl.status", {{"instance", "ctl"}, {"incarnation", 1}, {"status", "Leader"}}),
  });
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S2");
}

TEST(SingleLeaderCheckerTest, ADeadLeaderDoesNotCount) {
  FakeTable table;
  table.rows = {{"ctl", 5}};
  Collector collector;
  SingleLeaderChecker checker(collector.sink(), table.View());
  Feed(checker, {
      Event(0, 1, "ctl.leader_cas", {{"instance", "ctl"}, {"incarnation", 1}, {"started_at", 5}, {"result", "ok"}}),
      Event(1, 1, "ctl.status", {{"instance", "ctl"}, {"incarnation", 1}, {"status", "Leader"}}),
      Event(2, -1, "process.down", {{"pid", 1}}),
      Event(3, 1, "ctl.leader_cas", {{"instance", "ctl"}, {"incarnation", 2}, {"started_at", 5}, {"result", "ok"}}),
      Event(4, 1, "ctl.status", {{"instance", "ctl"}, {"incarnation", 2}, {"status", "Leader"}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(SteppedDownSilenceCheckerTest, SideEffectAfterStepDownIsAViolation) {
  Collector collector;
  SteppedDownSilenceChecker checker(collector.sink(), /*strict=*/false);
  Feed(checker, {
      Event(0, 1, "ctl.location_config.send", {{"instance", "a"}, {"incarnation", 1}, {"shard", "t1"}, {"node", 1}, {"mode", "AttachedSingle"}}),
      Event(1, 1, "ctl.step_down.served", {{"instance", "a"}, {"incarnation", 1}}),
  });
  EXPECT_TRUE(collector.violations.empty());
  checker.OnEvent(Event(2, 1, "ctl.notify.send", {{"instance", "a"}, {"incarnation", 1}, {"tenant", "t1"}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S3");
}

TEST(SteppedDownSilenceCheckerTest, KnownHazardsAreCountedUnlessStrict) {
  for (bool strict : {false, true}) {
    Collector collector;
    SteppedDownSilenceChecker checker(collector.sink(), strict);
    Feed(checker, {
        Event(1, 1, "ctl.step_down.served", {{"instance", "a"}, {"incarnation", 1}}),
        Event(2, 1, "ctl.location.detach_unknown", {{"instance", "a"}, {"incarnation", 1}, {"shard", "t9"}, {"node", 2}}),
        Event(3, 1, "ctl.location_config.send", {{"instance", "a"}, {"incarnation", 1}, {"shard", "t9"}, {"node", 2}, {"mode", "Detached"}}),
        Event(4, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 1}, {"op", "update_node_scheduling_policy"}}),
        // Another instance of the same process is not silenced.
        Event(5, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 2}, {"op", "detach"}}),
    });
    EXPECT_EQ(collector.violations.size(), strict ? 2u : 0u) << collector.Describe();
    EXPECT_EQ(checker.Metrics()["s3_known_hazards"], strict ? 0 : 2);
  }
}

// Bug #4's shape: B read the row naming A, ran migrations before stepping A down, and A (alive,
// still Leader) wrote to the database afterwards: a write against a schema A was not built for.
TEST(SteppedDownSilenceCheckerTest, WriteAfterTheSuccessorMigratedIsAViolation) {
  Collector collector;
  SteppedDownSilenceChecker checker(collector.sink(), /*strict=*/false);
  Feed(checker, {
      Event(0, 1, "ctl.status", {{"instance", "a"}, {"incarnation", 1}, {"status", "Leader"}, {"protocol", "step-down"}}),
      Event(1, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 1}, {"op", "increment_generation"}}),
      Event(2, 2, "ctl.status", {{"instance", "b"}, {"incarnation", 1}, {"status", "Candidate"}, {"protocol", "step-down"}}),
      Event(3, 2, "ctl.leader_read", {{"instance", "b"}, {"incarnation", 1}, {"result", "ok"}, {"leader", "a"}}),
      Event(4, 2, "ctl.migrations", {{"instance", "b"}, {"incarnation", 1}}),
      // The drain hazard stays a hazard.
      Event(5, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 1}, {"op", "update_node_scheduling_policy"}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(6, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 1}, {"op", "increment_generation"}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S3");
  EXPECT_NE(collector.violations[0].detail.find("changed the schema"), std::string::npos);
}

// Legal histories: migrations after a successful step-down (A silent afterwards, its restarted
// pod is a new instance); after a failed one (unilateral: counted); a restart in place (the row
// names the migrating pod itself); and another protocol.
TEST(SteppedDownSilenceCheckerTest, MigrationsAfterTheHandOverAreLegal) {
  Collector collector;
  SteppedDownSilenceChecker checker(collector.sink(), /*strict=*/false);
  Feed(checker, {
      Event(0, 1, "ctl.status", {{"instance", "a"}, {"incarnation", 1}, {"status", "Leader"}, {"protocol", "step-down"}}),
      Event(1, 2, "ctl.status", {{"instance", "b"}, {"incarnation", 1}, {"status", "Candidate"}, {"protocol", "step-down"}}),
      Event(2, 2, "ctl.leader_read", {{"instance", "b"}, {"incarnation", 1}, {"result", "ok"}, {"leader", "a"}}),
      Event(3, 2, "ctl.step_down.send", {{"instance", "b"}, {"incarnation", 1}, {"attempt", 0}}),
      Event(4, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 1}, {"op", "increment_generation"}}),
      Event(5, 1, "ctl.step_down.served", {{"instance", "a"}, {"incarnation", 1}}),
      Event(6, 2, "ctl.step_down.reply", {{"instance", "b"}, {"incarnation", 1}, {"result", "ok"}}),
      Event(7, 2, "ctl.migrations", {{"instance", "b"}, {"incarnation", 1}}),
      Event(8, 2, "ctl.db_write", {{"instance", "b"}, {"incarnation", 1}, {"op", "update_leader"}}),
      // A's pod restarts (a new instance of pid 1) and writes after its own start: not silenced.
      Event(9, 1, "ctl.status", {{"instance", "a"}, {"incarnation", 2}, {"status", "Candidate"}, {"protocol", "step-down"}}),
      Event(10, 1, "ctl.db_write", {{"instance", "a"}, {"incarnation", 2}, {"op", "update_leader"}}),
      // C cannot reach B: every attempt fails, it migrates unilaterally; B keeps writing.
      Event(11, 3, "ctl.status", {{"instance", "c"}, {"incarnation", 1}, {"status", "Candidate"}, {"protocol", "step-down"}}),
      Event(12, 3, "ctl.leader_read", {{"instance", "c"}, {"incarnation", 1}, {"result", "ok"}, {"leader", "b"}}),
      Event(13, 3, "ctl.step_down.send", {{"instance", "c"}, {"incarnation", 1}, {"attempt", 0}}),
      Event(14, 3, "ctl.step_down.reply", {{"instance", "c"}, {"incarnation", 1}, {"result", "transport"}}),
      Event(15, 3, "ctl.migrations", {{"instance", "c"}, {"incarnation", 1}}),
      Event(16, 2, "ctl.db_write", {{"instance", "b"}, {"incarnation", 1}, {"op", "increment_generation"}}),
      // C restarts in place: its row names itself; B (never stepped down) is not its predecessor.
      Event(17, 3, "ctl.status", {{"instance", "c"}, {"incarnation", 2}, {"status", "Candidate"}, {"protocol", "step-down"}}),
      Event(18, 3, "ctl.leader_read", {{"instance", "c"}, {"incarnation", 2}, {"result", "ok"}, {"leader", "c"}}),
      Event(19, 3, "ctl.migrations", {{"instance", "c"}, {"incarnation", 2}}),
      Event(20, 2, "ctl.db_write", {{"instance", "b"}, {"incarnation", 1}, {"op", "increment_generation"}}),
      // Lease protocol instances: no step-down handover to judge.
      Event(21, 4, "ctl.status", {{"instance", "d"}, {"incarnation", 1}, {"status", "Candidate"}, {"protocol", "lease"}}),
      Event(22, 4, "ctl.leader_read", {{"instance", "d"}, {"incarnation", 1}, {"result", "ok"}, {"leader", "b"}}),
      Event(23, 4, "ctl.migrations", {{"instance", "d"}, {"incarnation", 1}}),
      Event(24, 2, "ctl.db_write", {{"instance", "b"}, {"incarnation", 1}, {"op", "increment_generation"}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["s3_unilateral_migrations"], 1);
}

}  // namespace
}  // namespace storsim::invariants
