// Run metrics: numbers every run reports (RunResult::metrics and RunResult::metric_samples),
// measured by a trace observer that ScenarioRun attaches to every simulation. It only reads
// events and ignores the kinds it does not know, so it works for every scenario; scenarios
// without a storage controller simply report zero windows.
//
// Metric names (durations in simulated nanoseconds):
//   events                    trace events observed
//   sim_ns                    simulated time at the end of the run
//   controller_instances      distinct controller (pid, incarnation) instances seen
//   unavailable_windows       count of unavailability windows
//   unavailable_total_ns      their total length; unavailable_max_ns the longest
//   unavailable_open_at_end   1 when the run ended inside a window (closed at the run's end)
//   dual_actor_windows        count of maximal dual-actor intervals
//   dual_actor_total_ns       their total length; dual_actor_max_ns the longest
//   generations               ctl.generation events (generations handed out by the database)
//   http_503                  ctl.http_503 events (API requests answered 503)
//   forwards                  ctl.forward events (requests a stepped-down instance proxied)
// Samples: unavailable_window_ns and dual_actor_window_ns, one entry per window, in time order.
//
// Unavailability window (server side; SPEC §3.4's 503 window generalised to every protocol): a
// maximal interval, after the first instant any instance became Leader, during which no live
// controller instance has status Leader (ControllerTracker). It opens when the last live Leader
// steps down or dies, and closes when an instance sets status Leader.
//
// Dual-actor window (SPEC §10 S2): the measure of the instants covered by the activity segments
// of two or more distinct controller instances. An instance's activity segment in one status
// epoch (the time between two of its ctl.status events, or between one and its death) is
// [first activity, last activity], where an activity is a side effect it issued
// (ctl.location_config.send, ctl.notify.send, ctl.db_write) or the result of one of its sends
// (ctl.location_config.result, ctl.notify.result: the remote side may act until then). A send
// still in flight at a status change carries the activity into the next epoch, whose segment
// then starts at the change. Splitting at status changes keeps a Leader's quiet time before it
// stepped down from overlapping its successor; a stepped-down instance's stray side effects
// (SPEC §3.3 hazards) form their own segments. Windows of ≥ 2 actors are the maximal intervals
// of the union; touching segments do not overlap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/metrics/controller_tracker.h"
#include "sim/trace.h"

namespace storsim::scenarios::metrics {

// The intervals (in ns) covered by at least two of `segments`' distinct owners. Each segment is
// (owner, from_ns, to_ns) with from ≤ to; one owner's segments must not overlap each other
// (SIM_CHECK). Result: maximal intervals in time order.
struct Segment {
  ControllerInstance owner;
  int64_t from_ns = 0;
  int64_t to_ns = 0;
};
std::vector<std::pair<int64_t, int64_t>> MultiOwnerIntervals(std::vector<Segment> segments);

class RunMetricsObserver : public sim::TraceObserver {
 public:
  void OnEvent(const sim::TraceEvent& event) override;
  // Closes what is still open at `end` (the run's last instant) and freezes the numbers.
  // Precondition: called once, with `end` no earlier than the last event.
  void Finish(sim::Instant end);
  bool finished() const { return finished_; }

  // Precondition: Finish was called.
  std::map<std::string, int64_t> Metrics() const;
  std::map<std::string, std::vector<int64_t>> Samples() const;

  const ControllerTracker& tracker() const { return tracker_; }

  // Bound on activity segments kept (each needs a status change or a restart).
  static constexpr size_t kSegmentsMax = 1'000'000;

 private:
  struct Activity {
    std::optional<int64_t> segment_from;  // open segment, if any
    int64_t segment_to = 0;
    int64_t in_flight = 0;  // sends without their result yet
  };
  void CloseSegment(const ControllerInstance& instance, Activity& activity);
  void Touch(Activity& activity, int64_t at_ns);

  ControllerTracker tracker_;
  std::map<ControllerInstance, Activity> activity_;
  std::vector<Segment> segments_;
  uint64_t events_ = 0;
  int64_t last_ns_ = 0;
  int64_t generations_ = 0;
  int64_t http_503_ = 0;
  int64_t forwards_ = 0;
  std::optional<int64_t> unavailable_since_;
  std::vector<int64_t> unavailable_windows_;
  bool unavailable_open_at_end_ = false;
  std::vector<std::pair<int64_t, int64_t>> dual_windows_;
  bool finished_ = false;
};

}  // namespace storsim::scenarios::metrics
