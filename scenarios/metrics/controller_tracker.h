// Which storage-controller instances are alive and what leadership status each holds, rebuilt
// from trace events alone (SPEC.md §3.1; event vocabulary in model/controller/events.h). Both the
// run metrics (unavailability windows, dual-actor window) and the L3 checker read it.
//
// An instance is a (pid, incarnation) pair, as every ctl.* event names it (its "incarnation"
// field is the process incarnation). It is alive from its first ctl.* event until a
// process.down or process.start event for its pid (a new incarnation replaces it). Its status is
// the last ctl.status it emitted ("" before the first). A paused or partitioned instance is still
// alive: the tracker sees only what the server side did, not what a client could reach.
//
// Events it does not know are ignored, so it can observe any scenario's trace.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/time.h"
#include "sim/trace.h"

namespace storsim::scenarios::metrics {

struct ControllerInstance {
  int32_t pid = -1;
  int64_t incarnation = 0;
  auto operator<=>(const ControllerInstance&) const = default;
  std::string ToString() const {
    return "p" + std::to_string(pid) + "#" + std::to_string(incarnation);
  }
};

struct ControllerInstanceState {
  std::string status;  // last ctl.status value, "" before the first
  bool alive = true;
  sim::Instant first_seen;
};

// What an event did to the set of live Leaders.
struct LeadershipChange {
  int64_t leaders_before = 0;
  int64_t leaders_after = 0;
};

class ControllerTracker {
 public:
  // Applies `event` and returns the number of live Leaders before and after it.
  LeadershipChange Apply(const sim::TraceEvent& event);

  int64_t live_leaders() const { return leaders_; }
  // True once any instance has been Leader (the unavailability windows start counting then).
  bool had_leader() const { return had_leader_; }
  // The instance that most recently became Leader, if any; with its liveness.
  bool has_last_leader() const { return last_leader_.pid >= 0; }
  const ControllerInstance& last_leader() const { return last_leader_; }
  bool IsAlive(const ControllerInstance& instance) const;
  const std::map<ControllerInstance, ControllerInstanceState>& instances() const {
    return instances_;
  }
  // Process names from process.start events (pid -> name), for checkers that need to tell the
  // database or the controller pods apart.
  std::string_view NameOf(int32_t pid) const;

  // True for kinds the controller emits (ctl.*).
  static bool IsControllerEvent(std::string_view kind) { return kind.substr(0, 4) == "ctl."; }
  // The instance a ctl.* event came from.
  static ControllerInstance InstanceOf(const sim::TraceEvent& event) {
    return ControllerInstance{event.process, event.Int("incarnation")};
  }

  // Bound on distinct instances kept (restarts are bounded by the run's time limit; this only
  // guards against a runaway trace).
  static constexpr size_t kInstancesMax = 100'000;

 private:
  void MarkPidDown(int32_t pid);
  int64_t CountLeaders() const;

  std::map<ControllerInstance, ControllerInstanceState> instances_;
  std::map<int32_t, std::string> names_;
  int64_t leaders_ = 0;
  bool had_leader_ = false;
  ControllerInstance last_leader_;
};

// The value at quantile q (0..1) of `samples` by the nearest-rank method (the smallest sample
// with at least q of the samples at or below it); 0 for no samples. Sorts a copy.
int64_t Percentile(std::vector<int64_t> samples, double q);

}  // namespace storsim::scenarios::metrics
