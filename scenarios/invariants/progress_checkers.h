// Progress checkers of the live-migration and drain family (scenarios/README.md, ids D1 and R1),
// beside L5 and L8 whose classes live in liveness_checkers.h (their code is in
// progress_checkers.cc too).
//
// D1 DrainedNodeChecker — a drain that completes leaves nothing attached that could have moved:
//    when a controller instance C ends a drain of node N with result "done" (ctl.operation;
//    C has just set N PauseForRestart, and the deploy will now restart N), then
//      (a) C's intent attaches on N no shard that had a schedulable alternative: a secondary on
//          a node M != N that C holds Active (ctl.node.availability) with scheduling policy
//          active or filling (ctl.node.policy);
//      (b) N's pageserver holds no attached location (AttachedSingle, AttachedMulti,
//          AttachedStale: each still serves reads to computes that were not re-pointed) of a
//          shard that C intends attached on another node M and is still migrating there (a
//          reconcile of it in flight at C: the drain finished while a move off N was running).
//    Premise (else the shard is excused and counted): N, M and the control path undisturbed
//    over the drain (FaultTimeline), the shard's intent at C not changed during the drain by
//    anything but the drain itself (an operator migrating a shard onto or off N mid-drain
//    races the drain by design), and no reconcile of the shard at C ended in error during the
//    drain (a move that failed, e.g. its notification refused by the control plane, is a
//    failure the drain saw and passed over, as upstream's does), and the shard was not being
//    migrated *into* N when the drain began (intent attached on N with a reconcile in flight:
//    the drain swaps the intent back, but the in-memory observed state still matches it, so
//    no reconcile is spawned and the incoming one is not cancelled — upstream's
//    get_reconcile_needed does the same; a hazard, counted). The pageserver side is a const
//    snapshot taken at the event.
//
// R1 SupersessionChecker — a superseded reconcile yields: when controller instance C spawns a
//    reconcile for a shard whose previous reconcile at C has not ended (ctl.reconcile.start
//    while an earlier sequence is open), the earlier one ends (ctl.reconcile.end) within
//    `bound` (SPEC §6.2: the new task cancels and joins the previous one; §5.3 step 6 and 7:
//    the LSN catch-up and notification waits are cancellable). The bound is one
//    non-cancellable step: a database transaction plus one in-flight notification. Premise:
//    C stays up and the control path (controller pods, database, rollouts, leadership) is
//    undisturbed over the window; story faults that slow or stop the database
//    (story.fault db_down / db_slow / db_failover) count as control-path disturbances, and so
//    does an unreachable control plane (a transport failure of C's notify-attach in the window
//    or one bound before it: another notification of the tenant retrying against it holds the
//    tenant's send lock, which a reconciler waits for without cancellation in the model).
//    Pageserver faults do not excuse: every pageserver call a reconciler makes is cancellable.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/invariants/checker.h"
#include "scenarios/invariants/fault_timeline.h"

namespace storsim::invariants {

// The attached-mode slots (shard -> mode name) the live pageserver of a node holds now;
// nullopt if the node is unknown or its pageserver is down.
using NodeLocationsView = std::function<std::optional<std::map<std::string, std::string>>(
    int64_t node)>;

class DrainedNodeChecker : public Checker {
 public:
  DrainedNodeChecker(ViolationSink sink, Topology topology, NodeLocationsView locations)
      : Checker("D1", std::move(sink)), timeline_(std::move(topology)),
        locations_(std::move(locations)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override { return counts_; }

 private:
  struct Intent {
    int64_t attached = -1;
    std::vector<int64_t> secondaries;
    sim::Instant changed;
    std::string reason;
  };
  struct Controller {
    std::map<std::string, Intent> intents;       // shard -> intent
    std::map<int64_t, std::string> availability;  // node -> Active|Offline|WarmingUp
    std::map<int64_t, std::string> policy;        // node -> active|draining|...
    // node -> when its availability or policy last changed: a secondary that became schedulable
    // only while the drain ran (WarmingUp -> Active) was not one the drain could use when it
    // passed the shard (drain-cancel 920).
    std::map<int64_t, sim::Instant> schedulability_changed;
    std::map<int64_t, sim::Instant> drain_started;
    std::map<std::string, sim::Instant> last_failed_reconcile;  // shard -> its end
    std::map<std::string, int64_t> running;  // shard -> sequence of the reconcile in flight
    std::map<std::string, int64_t> running_target;  // shard -> its intent's node at spawn
    // node -> shards intended attached on it with a reconcile in flight when its drain began.
    std::map<int64_t, std::set<std::string>> incoming_at_drain;
  };
  void JudgeDrain(int32_t pid, int64_t node, sim::Instant at);
  // Whether the pageserver of `node` was disturbed in [from, to] (unknown pid: yes).
  bool NodeDisturbed(int64_t node, sim::Instant from, sim::Instant to) const;
  bool Schedulable(const Controller& controller, int64_t node) const;
  void Count(const std::string& name) { ++counts_[name]; }

  FaultTimeline timeline_;
  NodeLocationsView locations_;
  std::map<int32_t, Controller> controllers_;
  std::map<int64_t, int32_t> pid_of_node_;
  std::map<std::string, int64_t> counts_;
};

class SupersessionChecker : public Checker {
 public:
  SupersessionChecker(ViolationSink sink, Topology topology, sim::Duration bound)
      : Checker("R1", std::move(sink)), timeline_(std::move(topology)), bound_(bound) {}
  void OnEvent(const sim::TraceEvent& event) override;
  void Finish(sim::Instant now) override { Judge(now, /*final=*/true); }
  std::map<std::string, int64_t> Metrics() const override { return counts_; }

 private:
  struct Open {
    int32_t pid = -1;
    std::string shard;
    int64_t sequence = 0;
    std::optional<sim::Instant> superseded;  // when a newer reconcile of the shard started
    bool ended = false;
    sim::Instant ended_at;
    bool died = false;
  };
  void Judge(sim::Instant now, bool final);
  bool DatabaseStoryAt(sim::Instant from, sim::Instant to) const;
  void Count(const std::string& name) { ++counts_[name]; }

  FaultTimeline timeline_;
  sim::Duration bound_;
  std::vector<Open> open_;
  // Database story faults: [start, end] (end Max until healed).
  std::vector<std::pair<sim::Instant, sim::Instant>> database_faults_;
  // Per instance: when a notification failed in transport (control plane unreachable).
  std::map<int32_t, std::vector<sim::Instant>> unreachable_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace storsim::invariants
