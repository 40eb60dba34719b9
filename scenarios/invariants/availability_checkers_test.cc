// Tests of A1 (PlannedRestartChecker): a restart with no drain after a quiet prologue, blocked
// by the orchestrator's own fill of the previous node, must be caught; restarts whose drain
// began, that a fault or someone else's operation excuses, or of a node with nothing movable on
// it, are legal.
#include "scenarios/invariants/availability_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

constexpr int32_t kController = 1;
constexpr int32_t kDatabase = 5;
constexpr int32_t kPageserver1 = 11;
constexpr int32_t kPageserver2 = 12;

Topology MakeTopology() {
  Topology topology;
  topology.controllers = {kController};
  topology.pageservers = {kPageserver1, kPageserver2};
  topology.database = kDatabase;
  return topology;
}

sim::TraceEvent Policy(int64_t at, int64_t node, const char* policy) {
  return Event(at, kController, "ctl.node.policy",
               {{"node", node}, {"policy", policy}, {"where", "db+memory"}});
}
sim::TraceEvent Operation(int64_t at, const char* op, int64_t node, const char* phase) {
  return Event(at, kController, "ctl.operation", {{"op", op}, {"node", node}, {"phase", phase}});
}
sim::TraceEvent Deploy(int64_t at, const char* kind, int64_t node) {
  return Event(at, -1, kind, {{"pass", int64_t{1}}, {"node_id", node}});
}
sim::TraceEvent Stop(int64_t at, int64_t node) {
  return Event(at, -1, "deploy.restart",
               {{"pass", int64_t{1}}, {"node_id", node}, {"phase", "stop"}});
}

// A leader with nodes 1 and 2 active and available; shard t1 attached on node 2 (its slot there
// AttachedSingle) with a secondary on node 1. The orchestrator has done node 1: its fill started at 150 and it gave up at 200.
std::vector<sim::TraceEvent> Background() {
  return {Event(0, kController, "ctl.status", {{"status", "Leader"}}),
          Event(1, kController, "ctl.node.loaded", {{"node", int64_t{1}}, {"policy", "active"}}),
          Event(1, kController, "ctl.node.loaded", {{"node", int64_t{2}}, {"policy", "active"}}),
          Event(2, kController, "ctl.node.availability",
                {{"node", int64_t{1}}, {"from", "Offline"}, {"to", "Active"}}),
          Event(2, kController, "ctl.node.availability",
                {{"node", int64_t{2}}, {"from", "Offline"}, {"to", "Active"}}),
          Event(3, kController, "ctl.intent",
                {{"shard", "t1"}, {"attached", int64_t{2}}, {"secondaries", "1"}}),
          Event(4, kPageserver2, "ps.location_config",
                {{"node", int64_t{2}}, {"shard", "t1"}, {"mode", "AttachedSingle"},
                 {"status", int64_t{200}}}),
          Deploy(100, "deploy.node.start", 1),
          Operation(150, "fill", 1, "start"),
          Policy(150, 1, "filling"),
          Deploy(200, "deploy.node.end", 1),
          Deploy(210, "deploy.node.start", 2)};
}

TEST(PlannedRestartChecker, CatchesARestartBlockedByTheOrchestratorsOwnFill) {
  Collector collector;
  PlannedRestartChecker checker(collector.sink(), MakeTopology());
  std::vector<sim::TraceEvent> events = Background();
  events.push_back(Stop(300, 2));  // every drain of node 2 answered 412: the fill still runs
  Feed(checker, events);
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "A1");
}

TEST(PlannedRestartChecker, AcceptsARestartWhoseDrainBegan) {
  Collector collector;
  PlannedRestartChecker checker(collector.sink(), MakeTopology());
  std::vector<sim::TraceEvent> events = Background();
  events.push_back(Operation(205, "fill", 1, "end"));  // cancelled when the orchestrator gave up
  events.push_back(Policy(205, 1, "active"));
  events.push_back(Operation(220, "drain", 2, "start"));
  events.push_back(Policy(220, 2, "draining"));
  events.push_back(Stop(300, 2));  // the drain timed out: legal (RFC 033)
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("drain_accepted"), 1);
}

TEST(PlannedRestartChecker, ExcusesFaultsAndOthersOperations) {
  {
    Collector collector;
    PlannedRestartChecker checker(collector.sink(), MakeTopology());
    std::vector<sim::TraceEvent> events = Background();
    events.push_back(Event(250, -1, "process.down", {{"pid", int64_t{kPageserver1}}}));
    events.push_back(Stop(300, 2));
    Feed(checker, events);
    EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
    EXPECT_EQ(checker.Metrics().at("excused_fault"), 1);
  }
  {
    Collector collector;
    PlannedRestartChecker checker(collector.sink(), MakeTopology());
    std::vector<sim::TraceEvent> events = Background();
    events.push_back(Operation(205, "fill", 1, "end"));
    events.push_back(Operation(206, "drain", 1, "start"));  // an operator's drain of node 1
    events.push_back(Stop(300, 2));
    Feed(checker, events);
    EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
    EXPECT_EQ(checker.Metrics().at("excused_foreign_operation"), 1);
  }
}

TEST(PlannedRestartChecker, JudgesTheSlotNotTheIntent) {
  // The intent moved t1 to node 1 (a migration waiting in its notify loop): node 2 still serves
  // it AttachedStale, so restarting node 2 undrained is caught; once demoted it is legal.
  for (const char* mode : {"AttachedStale", "Secondary"}) {
    Collector collector;
    PlannedRestartChecker checker(collector.sink(), MakeTopology());
    std::vector<sim::TraceEvent> events = Background();
    events.push_back(Event(220, kController, "ctl.intent",
                           {{"shard", "t1"}, {"attached", int64_t{1}}, {"secondaries", "2"}}));
    events.push_back(Event(221, kPageserver2, "ps.location_config",
                           {{"node", int64_t{2}}, {"shard", "t1"}, {"mode", mode},
                            {"status", int64_t{200}}}));
    events.push_back(Stop(300, 2));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), std::string(mode) == "Secondary" ? 0u : 1u)
        << mode << ": " << collector.Describe();
  }
}

TEST(PlannedRestartChecker, ExcusesAnOperationTheOrchestratorCouldNotSee) {
  // Node 1's re-attach set it Active while its fill still ran: the orchestrator saw it end.
  Collector collector;
  PlannedRestartChecker checker(collector.sink(), MakeTopology());
  std::vector<sim::TraceEvent> events = Background();
  events.push_back(Policy(190, 1, "active"));
  events.push_back(Stop(300, 2));
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("excused_foreign_operation"), 1);
}

TEST(PlannedRestartChecker, AcceptsANodeWithNothingMovable) {
  Collector collector;
  PlannedRestartChecker checker(collector.sink(), MakeTopology());
  std::vector<sim::TraceEvent> events = Background();
  // The only secondary's node went offline in the prologue: nowhere to move t1.
  events.push_back(Event(230, kController, "ctl.node.availability",
                         {{"node", int64_t{1}}, {"from", "Active"}, {"to", "Offline"}}));
  events.push_back(Stop(300, 2));
  Feed(checker, events);
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("no_alternative"), 1);
}

}  // namespace
}  // namespace storsim::invariants
