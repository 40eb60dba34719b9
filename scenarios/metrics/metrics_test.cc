// Run metrics (unavailability and dual-actor windows) and the L3 checker over scripted histories:
// violating histories are caught, legal ones accepted, and the preconditions gate the reports.
#include <optional>

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"
#include "scenarios/metrics/restart_unavailability_checker.h"
#include "scenarios/metrics/run_metrics.h"
#include "sim/check.h"

namespace storsim::scenarios::metrics {
namespace {

using invariants::testing::Collector;
using invariants::testing::Event;
using invariants::testing::F;

constexpr int64_t kMs = 1'000'000;

// ctl.* events carry the instance's incarnation.
sim::TraceEvent Ctl(int64_t at_ms, int32_t pid, std::string_view kind,
                    std::initializer_list<F> fields = {}) {
  sim::TraceEvent event = Event(at_ms, pid, kind, fields);
  event.fields.push_back(sim::TraceField::Int("incarnation", 1));
  event.fields.push_back(sim::TraceField::Str("instance", "ctl-" + std::to_string(pid)));
  return event;
}
sim::TraceEvent Status(int64_t at_ms, int32_t pid, const char* status) {
  return Ctl(at_ms, pid, "ctl.status", {{"status", status}});
}
sim::TraceEvent Start(int64_t at_ms, int32_t pid, const char* name) {
  return Event(at_ms, -1, "process.start", {{"pid", pid}, {"name", name}, {"incarnation", 1}});
}
sim::TraceEvent Down(int64_t at_ms, int32_t pid) {
  return Event(at_ms, -1, "process.down", {{"pid", pid}, {"reason", "kill"}});
}

TEST(MultiOwnerIntervalsTest, CountsOnlyTimeCoveredByTwoOwners) {
  const ControllerInstance a{1, 1}, b{2, 1}, c{3, 1};
  // a: [0,10] and [10,20] (touching epochs); b: [5,12]; c: [18,30].
  const auto intervals = MultiOwnerIntervals(
      {{a, 0, 10}, {a, 10, 20}, {b, 5, 12}, {c, 18, 30}, {b, 25, 25}});
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0], (std::pair<int64_t, int64_t>{5, 12}));
  EXPECT_EQ(intervals[1], (std::pair<int64_t, int64_t>{18, 20}));
  EXPECT_TRUE(MultiOwnerIntervals({{a, 0, 10}, {b, 10, 20}}).empty());  // touching only
  EXPECT_THROW(MultiOwnerIntervals({{a, 0, 10}, {a, 5, 20}}), sim::InvariantViolation);
  // An instant epoch and the next one starting at the same instant touch, in either input order
  // (shard-split 4696).
  EXPECT_TRUE(MultiOwnerIntervals({{a, 10, 20}, {a, 10, 10}}).empty());
  EXPECT_TRUE(MultiOwnerIntervals({{a, 10, 10}, {a, 10, 20}}).empty());
}

TEST(PercentileTest, NearestRank) {
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.5), 3);
  EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.99), 5);
  EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.0), 1);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
}

// A graceful roll: p5 leads, p6 asks it to step down, p6 leads 1.5 s later. p5's location_config
// sent at 9 s is still in flight (a slow pageserver answers at 12.5 s) when p6, now Leader, sends
// its own at 12 s (answered at 12.2 s): 200 ms of dual-actor window.
std::vector<sim::TraceEvent> GracefulRoll() {
  return {
      Start(0, 5, "controller-0"),
      Status(1000, 5, "Leader"),
      Ctl(2000, 5, "ctl.generation", {{"shard", "t1"}, {"generation", 1}}),
      Ctl(2000, 5, "ctl.db_write", {{"op", "increment_generation"}}),
      Ctl(3000, 5, "ctl.location_config.send", {{"shard", "t1"}}),
      Ctl(3100, 5, "ctl.location_config.result", {{"shard", "t1"}}),
      Start(8000, 6, "controller-1"),
      Status(8500, 6, "Candidate"),
      Ctl(9000, 5, "ctl.location_config.send", {{"shard", "t1"}}),
      Status(10000, 5, "SteppedDown"),
      Ctl(10100, 5, "ctl.http_503", {{"reason", "self_leader"}}),
      Ctl(10200, 6, "ctl.db_write", {{"op", "update_leader"}}),
      Status(11500, 6, "Leader"),
      Ctl(12000, 6, "ctl.db_write", {{"op", "increment_generation"}}),
      Ctl(12000, 6, "ctl.generation", {{"shard", "t1"}, {"generation", 2}}),
      Ctl(12000, 6, "ctl.location_config.send", {{"shard", "t1"}}),
      Ctl(12200, 6, "ctl.location_config.result", {{"shard", "t1"}}),
      Ctl(12500, 5, "ctl.location_config.result", {{"shard", "t1"}, {"result", "cancelled"}}),
      Down(13000, 5),
  };
}

TEST(RunMetricsTest, GracefulRollWindows) {
  RunMetricsObserver observer;
  for (const auto& event : GracefulRoll()) observer.OnEvent(event);
  observer.Finish(sim::Instant::Zero() + sim::Duration::Seconds(20));
  const auto metrics = observer.Metrics();
  EXPECT_EQ(metrics.at("events"), 19);
  EXPECT_EQ(metrics.at("sim_ns"), 20'000 * kMs);
  EXPECT_EQ(metrics.at("controller_instances"), 2);
  EXPECT_EQ(metrics.at("unavailable_windows"), 1);
  EXPECT_EQ(metrics.at("unavailable_total_ns"), 1500 * kMs);
  EXPECT_EQ(metrics.at("unavailable_open_at_end"), 0);
  EXPECT_EQ(metrics.at("generations"), 2);
  EXPECT_EQ(metrics.at("http_503"), 1);
  // p5: [2 s, 9 s] as Leader, then [10 s, 12.5 s] carried by the send in flight at the status
  // change. p6: the instant 10.2 s as Candidate (no length), [12 s, 12.2 s] as Leader.
  EXPECT_EQ(metrics.at("dual_actor_windows"), 1);
  EXPECT_EQ(metrics.at("dual_actor_total_ns"), 200 * kMs);
  const auto samples = observer.Samples();
  EXPECT_EQ(samples.at("unavailable_window_ns"), (std::vector<int64_t>{1500 * kMs}));
  EXPECT_EQ(samples.at("dual_actor_window_ns"), (std::vector<int64_t>{200 * kMs}));
}

TEST(RunMetricsTest, TwoLeadersActingAtOnceMakeADualActorWindow) {
  // Naive protocol, RollingUpdate: both instances are Leader and reconcile for a while.
  RunMetricsObserver observer;
  for (const auto& event : std::vector<sim::TraceEvent>{
           Start(0, 5, "controller-0"), Status(100, 5, "Leader"),
           Ctl(1000, 5, "ctl.db_write", {}), Start(2000, 6, "controller-1"),
           Status(2100, 6, "Leader"), Ctl(3000, 6, "ctl.notify.send", {{"tenant", "t"}}),
           Ctl(4000, 5, "ctl.db_write", {}), Ctl(5000, 6, "ctl.notify.result", {{"tenant", "t"}}),
           Ctl(6000, 5, "ctl.location_config.send", {}), Down(7000, 5),
           // A stray result of a dead incarnation is ignored.
           Ctl(7500, 5, "ctl.location_config.result", {})}) {
    observer.OnEvent(event);
  }
  observer.Finish(sim::Instant::Zero() + sim::Duration::Seconds(10));
  const auto metrics = observer.Metrics();
  // p5: [1 s, 6 s]; p6: [3 s, 5 s] -> overlap [3 s, 5 s].
  EXPECT_EQ(metrics.at("dual_actor_windows"), 1);
  EXPECT_EQ(metrics.at("dual_actor_total_ns"), 2000 * kMs);
  EXPECT_EQ(metrics.at("dual_actor_max_ns"), 2000 * kMs);
  // p5's death leaves p6 as Leader: no unavailability.
  EXPECT_EQ(metrics.at("unavailable_windows"), 0);
}

TEST(RunMetricsTest, LeaderDeathOpensAWindowThatMayLastToTheEnd) {
  RunMetricsObserver observer;
  for (const auto& event : std::vector<sim::TraceEvent>{
           Start(0, 5, "controller-0"), Status(100, 5, "Leader"), Down(1000, 5),
           Start(3000, 5, "controller-0")}) {
    observer.OnEvent(event);
  }
  observer.Finish(sim::Instant::Zero() + sim::Duration::Seconds(10));
  const auto metrics = observer.Metrics();
  EXPECT_EQ(metrics.at("unavailable_windows"), 1);
  EXPECT_EQ(metrics.at("unavailable_max_ns"), 9000 * kMs);
  EXPECT_EQ(metrics.at("unavailable_open_at_end"), 1);
}

TEST(RunMetricsTest, NoControllerNoWindows) {
  RunMetricsObserver observer;
  observer.OnEvent(Event(5, 0, "reg.write", {{"value", 1}}));
  observer.Finish(sim::Instant::Zero() + sim::Duration::Seconds(1));
  EXPECT_EQ(observer.Metrics().at("unavailable_windows"), 0);
  EXPECT_EQ(observer.Metrics().at("events"), 1);
}

// ---- L3 ----

std::vector<sim::TraceEvent> Roll(int64_t leader_after_step_down_ms) {
  return {
      Start(0, 1, "postgres"),
      Start(0, 5, "controller-0"),
      Status(1000, 5, "Leader"),
      Event(5000, -1, "k8s.rollout.start", {{"revision", 2}}),
      Start(5100, 6, "controller-1"),
      Status(5200, 6, "Candidate"),
      Status(6000, 5, "SteppedDown"),
      Status(6000 + leader_after_step_down_ms, 6, "Leader"),
      Ctl(6000 + leader_after_step_down_ms, 6, "ctl.startup_complete"),
      Down(7000 + leader_after_step_down_ms, 5),
      Event(8000 + leader_after_step_down_ms, -1, "k8s.rollout.end", {{"revision", 2}}),
  };
}

TEST(RestartUnavailabilityTest, GracefulWindowWithinBoundIsAccepted) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : Roll(900)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_graceful_windows_judged"), 1);
}

TEST(RestartUnavailabilityTest, GracefulWindowBeyondBoundIsCaught) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : Roll(8000)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "L3");
  EXPECT_EQ(collector.violations[0].at.nanos(), 7'000 * kMs);  // 6 s + B = 1 s
}

TEST(RestartUnavailabilityTest, AWindowThatNeverClosesIsCaughtAtTheEnd) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Roll(0);
  events.resize(7);  // stops right after the step-down: nobody ever leads again
  for (const auto& event : events) checker.OnEvent(event);
  EXPECT_TRUE(collector.violations.empty());
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
}

TEST(RestartUnavailabilityTest, AFaultDuringTheRollVoidsThePrecondition) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Roll(8000);
  events.insert(events.begin() + 5,
                Event(5150, -1, "fault", {{"kind", "partition"}, {"a", 3}, {"b", 4}}));
  for (const auto& event : events) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_graceful_windows_judged"), 0);
}

// A leader running a shard split when it steps down waits for the split (PR #11412): the split,
// not B, bounds that window, so it is not judged; one opened after the split's end is.
TEST(RestartUnavailabilityTest, AWindowWaitingForASplitIsNotJudgedByB) {
  for (bool split_done_before : {false, true}) {
    SCOPED_TRACE(split_done_before);
    Collector collector;
    RestartUnavailabilityChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = Roll(8000);
    events.insert(events.begin() + 3, Ctl(4000, 5, "ctl.split", {{"phase", "begin"}}));
    if (split_done_before) {
      events.insert(events.begin() + 4, Ctl(4500, 5, "ctl.split", {{"phase", "done"}}));
    }
    for (const auto& event : events) checker.OnEvent(event);
    checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
    EXPECT_EQ(collector.violations.size(), split_done_before ? 1u : 0u) << collector.Describe();
    EXPECT_EQ(checker.Metrics().at("l3_graceful_windows_judged"), split_done_before ? 1 : 0);
    EXPECT_EQ(checker.Metrics().at("l3_graceful_windows_waiting_for_splits"),
              split_done_before ? 0 : 1);
  }
}

// (d), bug #1: the old leader exits 10 s into its step-down instead of handing over. Caught under
// faults too; an exit after Kubernetes asked the process to stop, or an exit from a start-up
// (a lost CAS), is not.
TEST(RestartUnavailabilityTest, AnInstanceThatExitsAfterItBeganAStepDownIsCaught) {
  auto history = [](bool fault, bool stop_asked, bool stepped_down) {
    std::vector<sim::TraceEvent> events = Roll(15000);
    events.resize(7);  // up to p5's SteppedDown at 6 s
    if (fault) {
      events.insert(events.begin() + 3,
                    Event(2000, -1, "fault", {{"kind", "partition"}, {"a", 3}, {"b", 4}}));
    }
    if (!stepped_down) events.pop_back();
    if (stepped_down) events.push_back(Ctl(6000, 5, "ctl.step_down.begin", {{"from", "ctl-6"}}));
    if (stop_asked) events.push_back(Event(9000, -1, "process.stop", {{"pid", 5}}));
    events.push_back(Ctl(16000, 5, "ctl.exit", {{"reason", "step-down did not finish in 10 s"}}));
    return events;
  };
  struct Case {
    bool fault, stop_asked, stepped_down, caught;
  };
  for (const Case& c : {Case{false, false, true, true}, Case{true, false, true, true},
                        Case{false, true, true, false}, Case{false, false, false, false}}) {
    SCOPED_TRACE(::testing::Message() << c.fault << c.stop_asked << c.stepped_down);
    Collector collector;
    RestartUnavailabilityChecker checker(collector.sink());
    for (const auto& event : history(c.fault, c.stop_asked, c.stepped_down)) {
      checker.OnEvent(event);
    }
    size_t exits = 0;
    for (const auto& violation : collector.violations) {
      if (violation.detail.find("exited on its own") != std::string::npos) {
        ++exits;
        EXPECT_EQ(violation.at.nanos(), 16'000 * kMs);
      }
    }
    EXPECT_EQ(exits, c.caught ? 1u : 0u) << collector.Describe();
  }
}

// chaos 8842: a deploy pass (an operation, not a fault) restarted a pageserver just before the
// roll's step-down; the new instance's heartbeat round waits on it. A pageserver down or not yet
// re-attached when the window opens, or going down while it is open, voids the precondition.
TEST(RestartUnavailabilityTest, APageserverRestartingDuringTheWindowVoidsThePrecondition) {
  for (int64_t down_at : {0, 5150, 6500}) {  // 0: no restart, the window is judged
    SCOPED_TRACE(down_at);
    Collector collector;
    RestartUnavailabilityChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = Roll(8000);
    events.insert(events.begin() + 1, Start(0, 9, "pageserver-1"));
    events.insert(events.begin() + 2, Event(10, 9, "ps.re_attach_done", {}));
    std::vector<sim::TraceEvent> restart = {Down(down_at, 9), Start(down_at + 100, 9, "pageserver-1")};
    if (down_at == 0) restart.clear();
    for (const auto& event : restart) {
      auto at = std::find_if(events.begin(), events.end(),
                             [&](const sim::TraceEvent& e) { return e.at > event.at; });
      events.insert(at, event);
    }
    for (const auto& event : events) checker.OnEvent(event);
    checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
    EXPECT_EQ(collector.violations.size(), down_at == 0 ? 1u : 0u) << collector.Describe();
  }
}

// clock-skew-leases 399: both pods paused during a roll, the phase's heal at 156 s, then the
// new pod's step-down retry (sent before the pause) deposes the old pod's restarted incarnation.
// A heal mid-roll does not make the rest of the roll one "with healthy peers".
TEST(RestartUnavailabilityTest, AHealMidRollDoesNotMakeTheRollHealthy) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = Roll(8000);
  events.insert(events.begin() + 5, Event(5150, -1, "fault", {{"kind", "pause"}, {"a", 6}}));
  events.insert(events.begin() + 6, Event(5180, -1, "heal", {}));
  for (const auto& event : events) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_graceful_windows_judged"), 0);
  // The next roll, entirely after the heal, is judged again.
  Collector next;
  RestartUnavailabilityChecker again(next.sink());
  std::vector<sim::TraceEvent> healed = Roll(8000);
  healed.insert(healed.begin() + 3, Event(4000, -1, "fault", {{"kind", "pause"}, {"a", 6}}));
  healed.insert(healed.begin() + 4, Event(4500, -1, "heal", {}));
  for (const auto& event : healed) again.OnEvent(event);
  again.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_EQ(next.violations.size(), 1u) << next.Describe();
}

TEST(RestartUnavailabilityTest, AStoryFaultVoidsThePreconditionButARollDoesNot) {
  Collector slow;
  RestartUnavailabilityChecker voided(slow.sink());
  std::vector<sim::TraceEvent> events = Roll(8000);
  events.insert(events.begin() + 3, Event(4000, -1, "story.fault", {{"action", "db_slow"}}));
  for (const auto& event : events) voided.OnEvent(event);
  voided.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_TRUE(slow.violations.empty()) << slow.Describe();

  Collector roll;
  RestartUnavailabilityChecker judged(roll.sink());
  events = Roll(8000);
  events.insert(events.begin() + 3, Event(4000, -1, "story.fault", {{"action", "roll"}}));
  for (const auto& event : events) judged.OnEvent(event);
  judged.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_EQ(roll.violations.size(), 1u) << roll.Describe();

  // After a heal the cluster is healthy again: a later roll is judged.
  Collector healed;
  RestartUnavailabilityChecker after_heal(healed.sink());
  events = Roll(8000);
  events.insert(events.begin() + 3, Event(4000, -1, "heal", {}));
  events.insert(events.begin() + 3, Event(3000, -1, "fault", {{"kind", "crash"}, {"a", 9}}));
  for (const auto& event : events) after_heal.OnEvent(event);
  after_heal.Finish(sim::Instant::Zero() + sim::Duration::Seconds(60));
  EXPECT_EQ(healed.violations.size(), 1u) << healed.Describe();
}

// The leader crashes at 2 s; Kubernetes starts a replacement at 4 s, whose start-up completes
// `ready_after_ms` after its process start.
std::vector<sim::TraceEvent> DeadLeader(int64_t ready_after_ms) {
  return {
      Start(0, 1, "postgres"),
      Start(0, 5, "controller-0"),
      Status(1000, 5, "Leader"),
      Ctl(1000, 5, "ctl.startup_complete"),
      Down(2000, 5),
      Start(4000, 6, "controller-1"),
      Status(4100, 6, "Candidate"),
      Status(4000 + ready_after_ms, 6, "Leader"),
      Ctl(4000 + ready_after_ms, 6, "ctl.startup_complete"),
  };
}

TEST(RestartUnavailabilityTest, DeadLeaderReadyWithinBudgetIsAccepted) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : DeadLeader(21'000)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_restarts_judged"), 1);
}

TEST(RestartUnavailabilityTest, DeadLeaderReadyTooLateIsCaught) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : DeadLeader(45'000)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "L3");
  EXPECT_EQ(collector.violations[0].at.nanos(), 44'700 * kMs);  // 4 s + 40.7 s
}

TEST(RestartUnavailabilityTest, DatabaseFaultVoidsTheDeadLeaderBound) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  std::vector<sim::TraceEvent> events = DeadLeader(45'000);
  events.insert(events.begin() + 7,
                Event(10'000, -1, "fault", {{"kind", "pause"}, {"a", 1}, {"b", -1}}));
  for (const auto& event : events) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

TEST(RestartUnavailabilityTest, StoryDatabaseFaultsVoidTheDeadLeaderBoundButPodCrashesDoNot) {
  Collector database;
  RestartUnavailabilityChecker voided(database.sink());
  std::vector<sim::TraceEvent> events = DeadLeader(45'000);
  events.insert(events.begin() + 4, Event(1500, -1, "story.fault", {{"action", "db_down"}}));
  for (const auto& event : events) voided.OnEvent(event);
  voided.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(database.violations.empty()) << database.Describe();

  Collector crash;
  RestartUnavailabilityChecker judged(crash.sink());
  events = DeadLeader(45'000);
  events.insert(events.begin() + 4, Event(1500, -1, "story.fault", {{"action", "pod_crash"}}));
  for (const auto& event : events) judged.OnEvent(event);
  judged.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_EQ(crash.violations.size(), 1u) << crash.Describe();
}

// The leader's pod (p5) crashes at 2 s and restarts in place at 3 s (incarnation 2: the leader
// row names its own address); ready `ready_after_ms` after its start. `fault` (if any) is
// inserted just before the crash.
std::vector<sim::TraceEvent> InPlaceRestart(int64_t ready_after_ms,
                                            std::optional<sim::TraceEvent> fault = std::nullopt) {
  auto second = [](int64_t at_ms, std::string_view kind, std::string status) {
    sim::TraceEvent event = Event(at_ms, 5, kind, {{"incarnation", 2}});
    if (!status.empty()) event.fields.push_back(sim::TraceField::Str("status", status));
    return event;
  };
  std::vector<sim::TraceEvent> events = {
      Start(0, 1, "postgres"),
      Start(0, 5, "controller-0"),
      Status(1000, 5, "Leader"),
      Ctl(1000, 5, "ctl.startup_complete"),
  };
  if (fault) events.push_back(*fault);
  events.push_back(Event(2000, -1, "story.fault", {{"action", "pod_crash"}}));
  events.push_back(Down(2000, 5));
  events.push_back(Event(3000, -1, "process.start", {{"pid", 5}, {"name", "controller-0"}, {"incarnation", 2}}));
  events.push_back(second(3100, "ctl.status", "Candidate"));
  events.push_back(second(3000 + ready_after_ms, "ctl.status", "Leader"));
  events.push_back(second(3000 + ready_after_ms, "ctl.startup_complete", ""));
  return events;
}

TEST(RestartUnavailabilityTest, InPlaceRestartReadyAtOnceIsAccepted) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : InPlaceRestart(200)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_in_place_restarts_judged"), 1);
  EXPECT_EQ(checker.Metrics().at("l3_restarts_judged"), 0);
}

// Asking itself to step down costs ~10.4 s of back-off: beyond the in-place bound.
TEST(RestartUnavailabilityTest, InPlaceRestartThatWaitsIsCaught) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : InPlaceRestart(10'500)) checker.OnEvent(event);
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "L3");
  EXPECT_EQ(collector.violations[0].at.nanos(), 8'000 * kMs);  // 3 s + 5 s
  EXPECT_NE(collector.violations[0].detail.find("in place"), std::string::npos);
}

// An unhealthy peer (a paused pageserver) makes the start-up legitimately slower: the restart
// falls back to the dead-leader bound (b), which 10.5 s meets.
TEST(RestartUnavailabilityTest, InPlaceBoundNeedsHealthyPeers) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event :
       InPlaceRestart(10'500, Event(1500, -1, "fault", {{"kind", "pause"}, {"a", 7}, {"b", -1}}))) {
    checker.OnEvent(event);
  }
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_in_place_restarts_judged"), 0);
  EXPECT_EQ(checker.Metrics().at("l3_restarts_judged"), 1);
}

TEST(RestartUnavailabilityTest, FirstEverStartIsNotARestart) {
  Collector collector;
  RestartUnavailabilityChecker checker(collector.sink());
  for (const auto& event : std::vector<sim::TraceEvent>{
           Start(0, 5, "controller-0"), Status(100, 5, "Candidate")}) {
    checker.OnEvent(event);
  }
  checker.Finish(sim::Instant::Zero() + sim::Duration::Seconds(120));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("l3_restarts_judged"), 0);
}

}  // namespace
}  // namespace storsim::scenarios::metrics
