// L3 restart unavailability (SPEC.md §11), checked from trace events only:
//
//   (a) graceful roll with healthy peers: the 503 window of §3.4 — from the instant the last live
//       Leader sets status SteppedDown until some instance sets status Leader — is at most
//       `graceful_window_max` (B).
//       Precondition (otherwise nothing is reported for that window): the window opened with a
//       ctl.status SteppedDown while a Kubernetes rollout was in progress (k8s.rollout.start seen,
//       its k8s.rollout.end not yet), and no fault of any kind (a "fault" event, k8s.node.lost,
//       k8s.pod.evicted, a story.fault other than an operation) is in force: none since the run's start or the last "heal" event
//       (StorageWorld::Heal), until the window closed or B ran out. A fault anywhere can
//       legitimately lengthen the window (an unresponsive pageserver alone adds up to 6.3 s to the
//       initial heartbeat round; clock drift outlives its event), so "healthy peers" means no
//       fault at all, and every pageserver up and re-attached since its last start when the
//       window opens and until it closes (a deploy pass, an operation, restarts pageservers:
//       chaos 8842, a roll that began while the pass restarted one).
//
//       Not judged either: a window opened by a leader that was running a shard split (ctl.split
//       "begin" without its "done" or "abort"): its step-down waits for the split (PR #11412),
//       so the split, not B, bounds that window; (d) still holds it to account.
//
//   (b) dead old leader: a controller instance that starts while the instance that last held
//       Leader is dead reaches ready (ctl.startup_complete) within `dead_leader_ready_max` of its
//       process start: the step-down budget (≈19.4 s) + the location scan deadline (15 s) + one
//       heartbeat round (4 × 1 s + 2.3 s of backoff) = 40.7 s.
//       Precondition: a Leader existed before (a first-ever start is not a restart); no fault in
//       force (since the run's start or the last "heal") names the new instance's process or the
//       database's ("postgres"), and no story.fault of the database (db_*) is in force, at its start or until it is ready or the bound runs out; it stays
//       alive until then (an instance that exits, e.g. after losing the leader CAS, or that
//       Kubernetes kills, is not judged). Faults elsewhere are what the bound's terms are for.
//
//   (c) restart in place: when the instance that last held Leader dies and its own pod restarts
//       (same pid, next incarnation: the leader row names the restarted pod itself, so there is
//       nobody to step down, SPEC §3.2 step 3), the restarted instance is ready within
//       `in_place_ready_max` of its process start. Precondition: no fault is in force at its start
//       or until it is ready or the bound runs out other than crashes, kills or restarts of
//       controller pods (story pod_crash / pod_crash_old, kernel crash/kill/restart of a pid that
//       ran a controller), and every pageserver is up and has re-attached since its last start
//       (ps.re_attach_done; a pageserver restarted by a heal or a deploy pass answers the location
//       scan only after that): healthy peers and database. Anything that breaks it during the
//       window falls back to (b).
//
//   (d) a step-down hands over, it does not die: a controller instance that began a step-down
//       (ctl.step_down.begin) never exits by itself afterwards (ctl.exit with no process.stop
//       asked of its process since it started). It stays to forward requests to the new leader
//       until Kubernetes stops it; dying instead costs a pod restart, a start-up and a second
//       step-down round, under faults or not (bug #1: the pre-#11703 controller exited when its
//       step-down had not finished in 10 s). Faults that kill it are crashes, not exits.
//       Start-up exits (database unreachable, a lost leader CAS) are not judged: after faults,
//       two pods racing for the row is the protocol working. Reported at the exit.
//
// All report at most once per window/instance, at the instant the bound ran out (detected at
// the first event past it, or in Finish at the end of the run).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "scenarios/invariants/checker.h"
#include "scenarios/metrics/controller_tracker.h"
#include "sim/time.h"

namespace storsim::scenarios::metrics {

struct RestartUnavailabilityOptions {
  // B. Measured with the step-down protocol (storsim compare-protocols --seeds 100): the
  // graceful window of controller-roll is p50 12 ms, p99 15 ms, max 16 ms over 200 windows, and
  // at most 16 ms over the fault-free rolls of 40 seeds of every storage scenario. 1 s is ~60x
  // that, and below what any retry on the hand-over path costs when something is slow (a
  // step-down request times out after 1 s, a heartbeat retry costs 1 s + 1.1 s of backoff).
  sim::Duration graceful_window_max = sim::Duration::Seconds(1);
  // 19.4 s step-down budget + 15 s scan deadline + 6.3 s heartbeat round.
  sim::Duration dead_leader_ready_max = sim::Duration::Millis(40'700);
  // (c): on healthy peers the start-up (DB reads, migrations, location scan, heartbeat round,
  // CAS) takes milliseconds; 5 s is well above that and below what one skipped step costs
  // (asking oneself to step down: 9 attempts answered 503 and 10.4 s of back-off).
  sim::Duration in_place_ready_max = sim::Duration::Seconds(5);
  // The database process, whose faults void precondition (b).
  std::string database_process = "postgres";
};

class RestartUnavailabilityChecker : public invariants::Checker {
 public:
  RestartUnavailabilityChecker(invariants::ViolationSink sink,
                               RestartUnavailabilityOptions options = {});
  void OnEvent(const sim::TraceEvent& event) override;
  void Finish(sim::Instant now) override;
  std::map<std::string, int64_t> Metrics() const override;

 private:
  struct Restart {
    sim::Instant started;
    sim::Instant deadline;
    bool judged = false;  // ready, reported, dead or voided
    bool in_place = false;  // judged by (c), else by (b)
  };
  struct PendingStart {
    sim::Instant at;
    bool leader_dead = false;  // (b) applies
    bool in_place = false;     // (c) applies
  };
  // A fault that is not a controller pod's crash, kill or restart (those are what (c) judges).
  bool IsControllerCrash(const sim::TraceEvent& event) const;
  void VoidInPlace();
  void CheckDeadlines(sim::Instant now);

  RestartUnavailabilityOptions options_;
  ControllerTracker tracker_;
  void Taint(int64_t pid);  // a fault named `pid` (-1: none)
  // True when a fault in force names `pid` or the database: precondition (b) does not hold.
  bool Tainted(int32_t pid) const;

  bool rollout_in_progress_ = false;
  // A fault was in force at some point of the current rollout (a heal mid-roll does not make
  // the rest of it a roll "with healthy peers": requests sent under the fault are still in play).
  bool rollout_disturbed_ = false;
  bool fault_in_force_ = false;  // a fault since the run's start or the last heal
  std::set<int32_t> tainted_;    // pids named by a fault in force
  bool database_fault_in_force_ = false;  // a story.fault db_* since the last heal
  // The graceful window being judged, if the one open now qualifies.
  std::optional<sim::Instant> graceful_since_;
  bool graceful_reported_ = false;
  // Process starts of pids not yet seen emitting (pid -> start instant, and whether the last
  // Leader was dead then), and restarts being judged by instance.
  std::map<int32_t, PendingStart> pending_starts_;
  bool other_fault_in_force_ = false;  // a fault other than a controller crash since the heal
  std::set<int32_t> unsettled_pageservers_;  // down, or started and not re-attached yet
  int64_t in_place_restarts_judged_ = 0;
  std::map<ControllerInstance, Restart> restarts_;
  int64_t graceful_windows_judged_ = 0;
  int64_t graceful_windows_waiting_for_splits_ = 0;  // not judged: (a)'s split exception
  // Shard splits begun and not yet done or aborted, by instance (a step-down waits for them).
  std::map<ControllerInstance, int> splits_in_flight_;
  std::set<int32_t> stop_requested_;  // pids asked to stop since their last start
  // (d): instances that began a step-down (bounded by the number of instances).
  std::set<ControllerInstance> stepping_down_;
  int64_t graceful_window_max_ns_ = 0;  // the longest graceful window that closed
  int64_t restarts_judged_ = 0;
};

}  // namespace storsim::scenarios::metrics
