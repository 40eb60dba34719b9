// Liveness checkers (SPEC.md §11 L2, L4, L5, L6, L8). L2, L4, L5 and L8 turn a trigger in the
// trace into an obligation with a deadline computed from component options (LivenessBounds, filled
// by StorageWorld from the cluster's options, so no bound is a literal here), and judges it when
// the trace has passed the deadline (on the next event after it) or at Finish. An obligation whose
// premise fails — the processes it depends on were disturbed during its window (FaultTimeline) —
// is excused and counted (Metrics), not judged: a liveness bound says nothing while faults run.
//
// L2 FailoverChecker: a pageserver P cut off from the single leader L (P down, paused, isolated
//    or partitioned from L) at t0 and still cut off at t0 + detect, with L's control path and at
//    least one other pageserver (Active and Active/Filling at L) undisturbed over
//    [t0, t0 + detect + reconcile]:
//      (a) L marks P Offline by t0 + detect;
//      (b) if L marked P Offline at t_off, every shard that L intended attached on P at t0 and
//          that P held AttachedSingle at g is accepted AttachedSingle at a generation > g by
//          t_off + reconcile — on another node, or on P itself once it is back — unless the
//          tenant's placement policy detached the shard before then (nothing is to be attached).
// L4 DrainFillChecker: for every drain/fill a controller instance starts (ctl.operation):
//      (a) a cancel request is followed by the operation's end within cancel_bound;
//      (b) the operation ends (done, cancelled or error) within operation_bound of its start, or
//          of the last instant inside that window at which the control plane refused or did
//          not answer a notification (its migrations wait in their notify loop meanwhile);
//    both while the instance stays up and nothing in the cluster is disturbed; and
//      (c) at Finish (after heal and quiet) the leader has no node Draining/Filling without an
//          operation of that kind running on it (snapshot).
// L5 DeletionProgressChecker: a deletion list enqueued on node N for shard S at generation g,
//    with N, S3 and the control path undisturbed and S staying AttachedSingle at g on N (no
//    location change there, no newer generation anywhere) through the window, is executed
//    (ps.deletion_execute) — or dropped/blocked, which the premise would have excluded — within
//    deletion_bound.
// L8 StartupChecker: (a) a pageserver that starts while, or before, a single leader is up re-
//    attaches (ps.re_attach_done) within re_attach_bound of max(start, leader since), with the
//    pageserver and control path undisturbed; (b) after re-attach the leader has the node Active
//    within activation_bound.
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

struct LivenessBounds {
  sim::Duration failover_detect;     // L2 (a): max_offline + heartbeat + 2 heartbeat rounds
  sim::Duration failover_reconcile;  // L2 (b): one reconcile after detection
  sim::Duration cancel_bound;        // L4 (a)
  sim::Duration operation_bound;     // L4 (b)
  sim::Duration deletion_bound;      // L5
  sim::Duration re_attach_bound;     // L8 (a)
  sim::Duration activation_bound;    // L8 (b)
};

// Base of the deadline checkers: keeps the timeline current and judges due obligations.
class DeadlineChecker : public Checker {
 public:
  DeadlineChecker(std::string invariants, ViolationSink sink, Topology topology,
                  LivenessBounds bounds)
      : Checker(std::move(invariants), std::move(sink)), timeline_(std::move(topology)),
        bounds_(bounds) {}
  void OnEvent(const sim::TraceEvent& event) final;
  void Finish(sim::Instant now) override { Judge(now, /*final=*/true); }
  std::map<std::string, int64_t> Metrics() const override { return counts_; }

 protected:
  virtual void Handle(const sim::TraceEvent& event) = 0;
  // Judges every obligation whose deadline is before `now` (at Finish: at or before).
  virtual void Judge(sim::Instant now, bool final) = 0;
  void Count(const std::string& name) { ++counts_[name]; }
  const FaultTimeline& timeline() const { return timeline_; }
  const LivenessBounds& bounds() const { return bounds_; }

 private:
  FaultTimeline timeline_;
  LivenessBounds bounds_;
  std::map<std::string, int64_t> counts_;
};

class FailoverChecker : public DeadlineChecker {
 public:
  FailoverChecker(ViolationSink sink, Topology topology, LivenessBounds bounds)
      : DeadlineChecker("L2", std::move(sink), std::move(topology), bounds) {}

 private:
  struct Trigger {
    int32_t pid = -1;  // the pageserver
    sim::Instant at;
  };
  struct Attachment {
    std::string mode;
    int64_t generation = 0;
  };
  void Handle(const sim::TraceEvent& event) override;
  void Judge(sim::Instant now, bool final) override;
  void JudgeOne(const Trigger& trigger);
  // Whether the pageserver of node id `node` (as the intent names it) was faulted in [from, to].
  bool TargetDisturbed(const std::string& node, sim::Instant from, sim::Instant to) const;
  bool AnotherTransitionDisturbed(int32_t trigger_pid, int32_t leader, sim::Instant from,
                                  sim::Instant to) const;

  std::vector<Trigger> triggers_;
  std::map<int32_t, int64_t> node_of_;  // pageserver pid -> node id
  // Per controller process: shard -> intended attached node, node -> (availability, policy),
  // each with the instant it took that value.
  struct Valued {
    sim::Instant at;
    std::string value;
  };
  std::map<int32_t, std::map<std::string, std::vector<Valued>>> intent_;
  std::map<int32_t, std::map<int64_t, std::vector<Valued>>> availability_;
  std::map<int32_t, std::map<int64_t, std::vector<Valued>>> policy_;
  // Per controller process: shard -> instants its tenant's placement policy detached it.
  std::map<int32_t, std::map<std::string, std::vector<sim::Instant>>> policy_detached_;
  // Accepted AttachedSingle configs: (at, node, shard, generation).
  struct Attached {
    sim::Instant at;
    int64_t node = 0;
    std::string shard;
    int64_t generation = 0;
  };
  std::vector<Attached> attached_single_;
  std::map<std::pair<int64_t, std::string>, std::vector<std::pair<sim::Instant, Attachment>>>
      history_;  // (node, shard) -> accepted configs over time

  static std::optional<std::string> ValueAt(const std::vector<Valued>& values, sim::Instant at);
};

// A const end-of-run view of the leader for L4 (c).
struct DrainFillSnapshot {
  bool have_leader = false;
  std::map<int64_t, std::string> node_policy;  // node -> policy name (e.g. "Draining")
  std::optional<std::string> operation;        // "drain 3", "fill 2", "delete 1"
};

class DrainFillChecker : public DeadlineChecker {
 public:
  DrainFillChecker(ViolationSink sink, Topology topology, LivenessBounds bounds,
                   std::function<DrainFillSnapshot()> take_snapshot)
      : DeadlineChecker("L4", std::move(sink), std::move(topology), bounds),
        take_snapshot_(std::move(take_snapshot)) {}
  void Finish(sim::Instant now) override;

 private:
  struct Operation {
    int32_t pid = -1;
    std::string op;
    int64_t node = 0;
    sim::Instant started;
    std::optional<sim::Instant> cancel_requested;
    std::optional<sim::Instant> ended;
    bool died = false;  // the instance went down first
    bool judged[2] = {false, false};  // (a) cancel -> end, (b) start -> end
  };
  void Handle(const sim::TraceEvent& event) override;
  void Judge(sim::Instant now, bool final) override;
  bool ClusterDisturbed(sim::Instant from, sim::Instant to) const;

  std::function<DrainFillSnapshot()> take_snapshot_;
  std::vector<Operation> operations_;
  std::set<int32_t> all_pids_;
  // Instants at which the control plane refused or did not answer a notification
  // (ctl.notify.result other than ok / skipped_dedupe), in order: (b)'s bound counts from the
  // last of them inside the window, since a drain's or fill's migrations wait in their notify
  // loop for as long as the control plane refuses (SPEC §5.3 step 7).
  std::vector<sim::Instant> refusals_;
  // The deadline of (b) for an operation started at `from`, extended past refusals.
  sim::Instant OperationDeadline(sim::Instant from) const;
};

class DeletionProgressChecker : public DeadlineChecker {
 public:
  DeletionProgressChecker(ViolationSink sink, Topology topology, LivenessBounds bounds)
      : DeadlineChecker("L5", std::move(sink), std::move(topology), bounds) {}

 private:
  struct List {
    int32_t pid = -1;
    int64_t node = 0;
    int64_t incarnation = 0;
    std::string shard;
    int64_t generation = 0;
    int64_t sequence = 0;
    sim::Instant enqueued;
    bool settled = false;   // executed, dropped or blocked
    sim::Instant settled_at;
    bool excused = false;   // the premise broke (location or generation changed)
  };
  void Handle(const sim::TraceEvent& event) override;
  void Judge(sim::Instant now, bool final) override;

  std::vector<List> lists_;
  std::map<std::pair<int64_t, std::string>, std::string> mode_;  // (node, shard) -> mode
};

class StartupChecker : public DeadlineChecker {
 public:
  StartupChecker(ViolationSink sink, Topology topology, LivenessBounds bounds)
      : DeadlineChecker("L8", std::move(sink), std::move(topology), bounds) {}

 private:
  struct Start {
    int32_t pid = -1;
    int64_t node = 0;
    int64_t incarnation = 0;
    sim::Instant started;
    std::optional<sim::Instant> re_attached;
    bool judged_re_attach = false;
    bool judged_active = false;
  };
  void Handle(const sim::TraceEvent& event) override;
  void Judge(sim::Instant now, bool final) override;
  void JudgeReAttach(Start& start, sim::Instant now, bool final);
  void JudgeActive(Start& start, sim::Instant now, bool final);
  // The first instant at or after `from` at which a single leader exists that has completed its
  // start-up (nullopt: none up to `until`).
  std::optional<sim::Instant> LeaderReady(sim::Instant from, sim::Instant until) const;

  std::vector<Start> starts_;
  // Availability events: (at, controller pid, node, to).
  struct Availability {
    sim::Instant at;
    int32_t pid = -1;
    int64_t node = 0;
    std::string to;
  };
  std::vector<Availability> availability_;
  std::vector<std::pair<sim::Instant, int32_t>> startup_complete_;  // (at, controller pid)
};

// L6 NotificationRetryChecker: at Finish (after heal and the quiet period), for the single
//    leader instance L and every tenant T whose shards all have an intended attached node and
//    whose control-plane record is not busy (premise: the control plane answers notify-attach
//    with 2xx again): if L ever sent a notify-attach for T, the last ctl.notify.result of L for
//    T is a success ("ok", or "skipped_dedupe": the same request was applied before). A failed
//    notification (busy, transport, fatal, unexpected, cancelled) must be retried until one
//    succeeds, whatever else the reconciles of T's shards met meanwhile (offline secondaries).
struct NotificationRetrySnapshot {
  bool have_leader = false;
  Instance leader;                           // pid and incarnation of the single leader
  std::set<std::string> attached_tenants;    // every shard has an intended attached node
  std::set<std::string> cplane_busy_tenants;  // the control plane is still applying a placement
};

class NotificationRetryChecker : public Checker {
 public:
  NotificationRetryChecker(ViolationSink sink,
                           std::function<NotificationRetrySnapshot()> take_snapshot)
      : Checker("L6", std::move(sink)), take_snapshot_(std::move(take_snapshot)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  void Finish(sim::Instant now) override;

 private:
  struct Last {
    sim::Instant at;
    std::string result;
    std::string shards;
  };
  std::function<NotificationRetrySnapshot()> take_snapshot_;
  std::map<std::pair<Instance, std::string>, Last> last_;  // (controller, tenant) -> last result
};

}  // namespace storsim::invariants
