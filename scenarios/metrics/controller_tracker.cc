// Rebuilding controller instances' liveness and leadership status from the trace.
#include "scenarios/metrics/controller_tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/check.h"

namespace storsim::scenarios::metrics {

LeadershipChange ControllerTracker::Apply(const sim::TraceEvent& event) {
  LeadershipChange change{leaders_, leaders_};
  if (event.kind == "process.start") {
    const auto pid = static_cast<int32_t>(event.Int("pid", -1));
    names_[pid] = std::string(event.Str("name"));
    MarkPidDown(pid);  // the previous incarnation is gone
  } else if (event.kind == "process.down") {
    MarkPidDown(static_cast<int32_t>(event.Int("pid", -1)));
  } else if (IsControllerEvent(event.kind) && event.process >= 0) {
    const ControllerInstance instance = InstanceOf(event);
    auto it = instances_.find(instance);
    if (it == instances_.end()) {
      SIM_CHECK_MSG(instances_.size() < kInstancesMax, "too many controller instances in a trace");
      it = instances_.emplace(instance, ControllerInstanceState{"", true, event.at}).first;
    }
    if (event.kind == "ctl.status" && it->second.alive) {
      it->second.status = std::string(event.Str("status"));
      if (it->second.status == "Leader") {
        had_leader_ = true;
        last_leader_ = instance;
      }
    }
  } else {
    return change;
  }
  leaders_ = CountLeaders();
  change.leaders_after = leaders_;
  return change;
}

void ControllerTracker::MarkPidDown(int32_t pid) {
  // Instances of one pid are few (one per incarnation): scan the range of that pid.
  for (auto it = instances_.lower_bound(ControllerInstance{pid, std::numeric_limits<int64_t>::min()});
       it != instances_.end() && it->first.pid == pid; ++it) {
    it->second.alive = false;
  }
}

int64_t ControllerTracker::CountLeaders() const {
  int64_t leaders = 0;
  for (const auto& [instance, state] : instances_) {
    if (state.alive && state.status == "Leader") ++leaders;
  }
  return leaders;
}

bool ControllerTracker::IsAlive(const ControllerInstance& instance) const {
  auto it = instances_.find(instance);
  return it != instances_.end() && it->second.alive;
}

std::string_view ControllerTracker::NameOf(int32_t pid) const {
  auto it = names_.find(pid);
  return it == names_.end() ? std::string_view() : std::string_view(it->second);
}

int64_t Percentile(std::vector<int64_t> samples, double q) {
  SIM_CHECK(q >= 0.0 && q <= 1.0);
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: ceil(q * n), at least 1.
  const auto n = static_cast<double>(samples.size());
  size_t rank = static_cast<size_t>(std::ceil(q * n));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

}  // namespace storsim::scenarios::metrics
