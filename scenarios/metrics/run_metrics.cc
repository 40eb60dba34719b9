// The run-metrics observer: unavailability windows, the dual-actor window and event counts.
#include "scenarios/metrics/run_metrics.h"

#include <algorithm>
#include <limits>

#include "sim/check.h"

namespace storsim::scenarios::metrics {
namespace {

bool IsSideEffect(std::string_view kind) {
  return kind == "ctl.location_config.send" || kind == "ctl.notify.send" ||
         kind == "ctl.db_write";
}
bool IsRemoteSend(std::string_view kind) {
  return kind == "ctl.location_config.send" || kind == "ctl.notify.send";
}
bool IsRemoteResult(std::string_view kind) {
  return kind == "ctl.location_config.result" || kind == "ctl.notify.result";
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> MultiOwnerIntervals(std::vector<Segment> segments) {
  // One owner's segments must be disjoint (they belong to successive status epochs).
  // Ends break ties: an instant segment [t, t] (an epoch whose only activity was at its status
  // change) and the next one starting at t touch without overlapping (shard-split 4696).
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
    if (a.owner != b.owner) return a.owner < b.owner;
    return a.from_ns != b.from_ns ? a.from_ns < b.from_ns : a.to_ns < b.to_ns;
  });
  for (size_t i = 0; i < segments.size(); ++i) {
    SIM_CHECK_MSG(segments[i].from_ns <= segments[i].to_ns, "a segment ends before it starts");
    if (i > 0 && segments[i].owner == segments[i - 1].owner) {
      SIM_CHECK_MSG(segments[i].from_ns >= segments[i - 1].to_ns,
                    "one instance's activity segments overlap: pid " +
                        std::to_string(segments[i].owner.pid) + " incarnation " +
                        std::to_string(segments[i].owner.incarnation) + " [" +
                        std::to_string(segments[i - 1].from_ns) + ", " +
                        std::to_string(segments[i - 1].to_ns) + "] and [" +
                        std::to_string(segments[i].from_ns) + ", " +
                        std::to_string(segments[i].to_ns) + "]");
    }
  }
  // Sweep: at equal times an end (-1) comes before a start (+1), so touching segments do not
  // count as overlapping.
  std::vector<std::pair<int64_t, int>> points;
  points.reserve(segments.size() * 2);
  for (const Segment& segment : segments) {
    if (segment.to_ns <= segment.from_ns) continue;  // an instant covers no time
    points.push_back({segment.from_ns, +1});
    points.push_back({segment.to_ns, -1});
  }
  std::sort(points.begin(), points.end());
  std::vector<std::pair<int64_t, int64_t>> intervals;
  int active = 0;
  int64_t since = 0;
  for (const auto& [at, delta] : points) {
    const int before = active;
    active += delta;
    SIM_CHECK(active >= 0);
    if (before < 2 && active >= 2) since = at;
    if (before >= 2 && active < 2 && at > since) {
      // One owner handing over to the next at the same instant does not split a window.
      if (!intervals.empty() && intervals.back().second == since) {
        intervals.back().second = at;
      } else {
        intervals.push_back({since, at});
      }
    }
  }
  SIM_CHECK(active == 0);
  return intervals;
}

void RunMetricsObserver::Touch(Activity& activity, int64_t at_ns) {
  if (!activity.segment_from) activity.segment_from = at_ns;
  activity.segment_to = at_ns;
}

void RunMetricsObserver::CloseSegment(const ControllerInstance& instance, Activity& activity) {
  if (!activity.segment_from) return;
  SIM_CHECK_MSG(segments_.size() < kSegmentsMax, "too many activity segments in one run");
  segments_.push_back(Segment{instance, *activity.segment_from, activity.segment_to});
  activity.segment_from.reset();
}

void RunMetricsObserver::OnEvent(const sim::TraceEvent& event) {
  // Teardown after Finish may still emit (processes going down): the numbers are frozen.
  if (finished_) return;
  ++events_;
  const int64_t at = event.at.nanos();
  last_ns_ = std::max(last_ns_, at);

  const LeadershipChange change = tracker_.Apply(event);
  if (change.leaders_before > 0 && change.leaders_after == 0 && tracker_.had_leader() &&
      !unavailable_since_) {
    unavailable_since_ = at;
  }
  if (change.leaders_after > 0 && unavailable_since_) {
    unavailable_windows_.push_back(at - *unavailable_since_);
    unavailable_since_.reset();
  }

  if (event.kind == "process.start" || event.kind == "process.down") {
    const auto pid = static_cast<int32_t>(event.Int("pid", -1));
    for (auto it = activity_.lower_bound(ControllerInstance{pid, std::numeric_limits<int64_t>::min()});
         it != activity_.end() && it->first.pid == pid; ++it) {
      CloseSegment(it->first, it->second);
      it->second.in_flight = 0;  // its fibers are gone
    }
    return;
  }
  if (!ControllerTracker::IsControllerEvent(event.kind) || event.process < 0) return;
  if (event.kind == "ctl.generation") ++generations_;
  if (event.kind == "ctl.http_503") ++http_503_;
  if (event.kind == "ctl.forward") ++forwards_;

  const ControllerInstance instance = ControllerTracker::InstanceOf(event);
  if (!tracker_.IsAlive(instance)) return;  // a stray event of a dead incarnation
  Activity& activity = activity_[instance];
  if (event.kind == "ctl.status") {
    CloseSegment(instance, activity);
    if (activity.in_flight > 0) Touch(activity, at);  // a send in flight crosses the change
  } else if (IsSideEffect(event.kind)) {
    Touch(activity, at);
    if (IsRemoteSend(event.kind)) ++activity.in_flight;
  } else if (IsRemoteResult(event.kind) && activity.in_flight > 0) {
    --activity.in_flight;
    Touch(activity, at);
  }
}

void RunMetricsObserver::Finish(sim::Instant end) {
  SIM_CHECK_MSG(!finished_, "RunMetricsObserver::Finish called twice");
  const int64_t end_ns = std::max(end.nanos(), last_ns_);
  if (unavailable_since_) {
    unavailable_windows_.push_back(end_ns - *unavailable_since_);
    unavailable_since_.reset();
    unavailable_open_at_end_ = true;
  }
  for (auto& [instance, activity] : activity_) CloseSegment(instance, activity);
  dual_windows_ = MultiOwnerIntervals(segments_);
  last_ns_ = end_ns;
  finished_ = true;
}

std::map<std::string, int64_t> RunMetricsObserver::Metrics() const {
  SIM_CHECK_MSG(finished_, "metrics are read after Finish");
  int64_t unavailable_total = 0;
  int64_t unavailable_max = 0;
  for (int64_t window : unavailable_windows_) {
    unavailable_total += window;
    unavailable_max = std::max(unavailable_max, window);
  }
  int64_t dual_total = 0;
  int64_t dual_max = 0;
  for (const auto& [from, to] : dual_windows_) {
    dual_total += to - from;
    dual_max = std::max(dual_max, to - from);
  }
  return {
      {"controller_instances", static_cast<int64_t>(tracker_.instances().size())},
      {"dual_actor_max_ns", dual_max},
      {"dual_actor_total_ns", dual_total},
      {"dual_actor_windows", static_cast<int64_t>(dual_windows_.size())},
      {"events", static_cast<int64_t>(events_)},
      {"forwards", forwards_},
      {"generations", generations_},
      {"http_503", http_503_},
      {"sim_ns", last_ns_},
      {"unavailable_max_ns", unavailable_max},
      {"unavailable_open_at_end", unavailable_open_at_end_ ? 1 : 0},
      {"unavailable_total_ns", unavailable_total},
      {"unavailable_windows", static_cast<int64_t>(unavailable_windows_.size())},
  };
}

std::map<std::string, std::vector<int64_t>> RunMetricsObserver::Samples() const {
  SIM_CHECK_MSG(finished_, "samples are read after Finish");
  std::vector<int64_t> dual;
  dual.reserve(dual_windows_.size());
  for (const auto& [from, to] : dual_windows_) dual.push_back(to - from);
  return {{"dual_actor_window_ns", dual}, {"unavailable_window_ns", unavailable_windows_}};
}

}  // namespace storsim::scenarios::metrics
