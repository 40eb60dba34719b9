// L3: the graceful-roll 503 window bound and the dead-old-leader time-to-ready bound.
#include "scenarios/metrics/restart_unavailability_checker.h"

#include <algorithm>
#include <utility>

#include "sim/check.h"

namespace storsim::scenarios::metrics {
namespace {

// Harness-injected faults: the fault plan's own events and Kubernetes node loss.
bool IsFault(std::string_view kind) {
  return kind == "fault" || kind == "k8s.node.lost" || kind == "k8s.pod.evicted";
}

// A story scenario's scripted misbehaviour (scenarios/storage/story_helpers.h: the database down,
// slow or failing over, the control plane answering errors or slowly, a pod crashing or losing
// its node). Any of them voids (a); the database ones ("db_*") also void (b), while a pod crash
// is what makes an old leader dead in (b). The story's operations (rolls, deploy passes, drains,
// fills, migrations) are not faults.
bool IsStoryFault(const sim::TraceEvent& event) {
  if (event.kind != "story.fault") return false;
  const std::string_view action = event.Str("action");
  return action != "roll" && action != "deploy_pass" && action != "drain" && action != "fill" &&
         action != "migrate_from";
}

}  // namespace

RestartUnavailabilityChecker::RestartUnavailabilityChecker(invariants::ViolationSink sink,
                                                           RestartUnavailabilityOptions options)
    : Checker("L3", std::move(sink)), options_(std::move(options)) {
  SIM_CHECK(options_.graceful_window_max > sim::Duration::Zero());
  SIM_CHECK(options_.dead_leader_ready_max > sim::Duration::Zero());
}

void RestartUnavailabilityChecker::CheckDeadlines(sim::Instant now) {
  if (graceful_since_ && !graceful_reported_ &&
      now > *graceful_since_ + options_.graceful_window_max) {
    graceful_reported_ = true;
    const sim::Instant deadline = *graceful_since_ + options_.graceful_window_max;
    Report("L3", deadline,
           "graceful roll with healthy peers: no live Leader since " +
               graceful_since_->ToString() + " (the old leader stepped down), longer than B = " +
               options_.graceful_window_max.ToString());
  }
  for (auto& [instance, restart] : restarts_) {
    if (restart.judged || now <= restart.deadline) continue;
    restart.judged = true;
    if (restart.in_place) {
      Report("L3", restart.deadline,
             "controller " + instance.ToString() + " restarted in place at " +
                 restart.started.ToString() +
                 " (the leader row names its own pod) on healthy peers and is not ready within " +
                 options_.in_place_ready_max.ToString());
      continue;
    }
    Report("L3", restart.deadline,
           "controller " + instance.ToString() + " started at " + restart.started.ToString() +
               " with the old leader dead and is not ready (no ctl.startup_complete) within " +
               options_.dead_leader_ready_max.ToString() +
               " (step-down budget + scan deadline + heartbeat round)");
  }
}

void RestartUnavailabilityChecker::OnEvent(const sim::TraceEvent& event) {
  CheckDeadlines(event.at);
  const std::string_view kind = event.kind;

  const bool controller_crash = IsControllerCrash(event);
  if ((IsFault(kind) || IsStoryFault(event)) && !controller_crash) VoidInPlace();
  if (IsFault(kind) || IsStoryFault(event)) rollout_disturbed_ = true;
  if (IsFault(kind)) {
    fault_in_force_ = true;
    graceful_since_.reset();  // the window no longer qualifies
    Taint(kind == "fault" ? event.Int("a", -1) : event.Int("pid", -1));
    if (kind == "fault") Taint(event.Int("b", -1));
    for (auto& [instance, restart] : restarts_) {
      if (Tainted(instance.pid)) restart.judged = true;  // voided: precondition (b) broken
    }
  } else if (IsStoryFault(event)) {
    fault_in_force_ = true;
    graceful_since_.reset();
    if (event.Str("action").substr(0, 3) == "db_") {
      database_fault_in_force_ = true;
      for (auto& [instance, restart] : restarts_) restart.judged = true;
    }
  } else if (kind == "heal") {
    fault_in_force_ = false;
    other_fault_in_force_ = false;
    database_fault_in_force_ = false;
    tainted_.clear();
  } else if (kind == "k8s.rollout.start") {
    rollout_in_progress_ = true;
    rollout_disturbed_ = fault_in_force_;
  } else if (kind == "k8s.rollout.end") {
    rollout_in_progress_ = false;
  } else if (kind == "process.down") {
    const auto pid = static_cast<int32_t>(event.Int("pid", -1));
    for (auto& [instance, restart] : restarts_) {
      if (instance.pid == pid) restart.judged = true;  // died before the bound: not judged
    }
  }

  const LeadershipChange change = tracker_.Apply(event);
  if (kind == "process.start" || kind == "process.down") {
    const auto pid = static_cast<int32_t>(event.Int("pid", -1));
    if (tracker_.NameOf(pid).substr(0, 10) == "pageserver") {
      unsettled_pageservers_.insert(pid);
      graceful_since_.reset();  // a peer restarting (a deploy pass): not healthy peers
      const bool fault_before = other_fault_in_force_;
      VoidInPlace();
      other_fault_in_force_ = fault_before;  // not a fault: only the window is disturbed
    }
  } else if (kind == "ps.re_attach_done") {
    unsettled_pageservers_.erase(event.process);
  }
  if (kind == "process.start") {
    // After Apply: a start kills the previous incarnation of its pid, which may be the leader.
    const auto pid = static_cast<int32_t>(event.Int("pid", -1));
    const bool leader_dead = tracker_.had_leader() && !tracker_.IsAlive(tracker_.last_leader());
    const bool in_place = leader_dead && tracker_.last_leader().pid == pid &&
                          !other_fault_in_force_ && unsettled_pageservers_.empty();
    pending_starts_[pid] = PendingStart{event.at, leader_dead && !Tainted(pid), in_place};
  }

  if (kind == "process.stop") {
    stop_requested_.insert(static_cast<int32_t>(event.Int("pid", -1)));
  } else if (kind == "process.start") {
    stop_requested_.erase(static_cast<int32_t>(event.Int("pid", -1)));
  }

  if (ControllerTracker::IsControllerEvent(kind) && event.process >= 0) {
    const ControllerInstance instance = ControllerTracker::InstanceOf(event);
    if (kind == "ctl.split") {
      const std::string_view phase = event.Str("phase");
      int& in_flight = splits_in_flight_[instance];
      if (phase == "begin") ++in_flight;
      if ((phase == "done" || phase == "abort") && in_flight > 0) --in_flight;
    }
    if (kind == "ctl.step_down.begin") stepping_down_.insert(instance);
    if (kind == "ctl.exit" && stepping_down_.count(instance) != 0 &&
        stop_requested_.count(instance.pid) == 0) {
      Report("L3", event.at,
             "controller " + instance.ToString() + " exited on its own (\"" +
                 std::string(event.Str("reason")) +
                 "\") after it began a step-down, instead of handing over");
    }
    auto pending = pending_starts_.find(instance.pid);
    if (pending != pending_starts_.end() && restarts_.count(instance) == 0) {
      const PendingStart& start = pending->second;
      if ((start.leader_dead || start.in_place) && tracker_.IsAlive(instance)) {
        restarts_[instance] =
            Restart{start.at,
                    start.at + (start.in_place ? options_.in_place_ready_max
                                               : options_.dead_leader_ready_max),
                    false, start.in_place};
        if (start.in_place) {
          ++in_place_restarts_judged_;
        } else {
          ++restarts_judged_;
        }
      }
      pending_starts_.erase(pending);
    }
    if (kind == "ctl.startup_complete") {
      auto it = restarts_.find(instance);
      if (it != restarts_.end()) it->second.judged = true;  // ready in time
    }
  }

  if (change.leaders_before > 0 && change.leaders_after == 0 && kind == "ctl.status" &&
      event.Str("status") == "SteppedDown" && rollout_in_progress_ && !fault_in_force_ &&
      !rollout_disturbed_ && unsettled_pageservers_.empty()) {
    if (splits_in_flight_[ControllerTracker::InstanceOf(event)] > 0) {
      ++graceful_windows_waiting_for_splits_;
    } else {
      graceful_since_ = event.at;
      graceful_reported_ = false;
      ++graceful_windows_judged_;
    }
  }
  if (change.leaders_after > 0 && graceful_since_) {
    // Closed (within B, or already reported): a measured graceful window.
    graceful_window_max_ns_ = std::max(graceful_window_max_ns_, (event.at - *graceful_since_).nanos());
    graceful_since_.reset();
  }
}

bool RestartUnavailabilityChecker::IsControllerCrash(const sim::TraceEvent& event) const {
  if (event.kind == "story.fault") {
    const std::string_view action = event.Str("action");
    return action == "pod_crash" || action == "pod_crash_old";
  }
  if (event.kind != "fault") return false;
  const std::string_view fault = event.Str("kind");
  if (fault != "crash" && fault != "kill" && fault != "restart") return false;
  const auto pid = static_cast<int32_t>(event.Int("a", -1));
  for (const auto& [instance, state] : tracker_.instances()) {
    if (instance.pid == pid) return true;
  }
  return false;
}

void RestartUnavailabilityChecker::VoidInPlace() {
  other_fault_in_force_ = true;
  for (auto& [pid, start] : pending_starts_) start.in_place = false;
  for (auto& [instance, restart] : restarts_) {
    if (restart.judged || !restart.in_place) continue;
    // Fall back to (b): the dead-leader bound, unless a fault voids that as well.
    restart.in_place = false;
    restart.deadline = restart.started + options_.dead_leader_ready_max;
    if (Tainted(instance.pid)) {
      restart.judged = true;  // (b) is void too: its own crash was a kernel fault
    } else {
      ++restarts_judged_;
    }
  }
}

void RestartUnavailabilityChecker::Taint(int64_t pid) {
  if (pid < 0) return;
  // The set is bounded by the number of processes.
  tainted_.insert(static_cast<int32_t>(pid));
}

bool RestartUnavailabilityChecker::Tainted(int32_t pid) const {
  if (database_fault_in_force_ || tainted_.count(pid) != 0) return true;
  for (int32_t other : tainted_) {
    if (tracker_.NameOf(other) == options_.database_process) return true;
  }
  return false;
}

void RestartUnavailabilityChecker::Finish(sim::Instant now) { CheckDeadlines(now); }

std::map<std::string, int64_t> RestartUnavailabilityChecker::Metrics() const {
  return {{"l3_graceful_window_max_ns", graceful_window_max_ns_},
          {"l3_graceful_windows_judged", graceful_windows_judged_},
          {"l3_graceful_windows_waiting_for_splits", graceful_windows_waiting_for_splits_},
          {"l3_restarts_judged", restarts_judged_},
          {"l3_in_place_restarts_judged", in_place_restarts_judged_}};
}

}  // namespace storsim::scenarios::metrics
