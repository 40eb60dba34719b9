// The disturbance intervals of each process, built from trace events.
#include "scenarios/invariants/fault_timeline.h"

#include <algorithm>

namespace storsim::invariants {
namespace {

bool IsNetworkPairFault(std::string_view kind) {
  return kind == "partition" || kind == "partition_one_way" || kind == "clog" ||
         kind == "link_degrade";
}
bool CutsLink(std::string_view kind) {
  return kind == "partition" || kind == "partition_one_way" || kind == "clog";
}

}  // namespace

bool FaultTimeline::Overlaps(const std::vector<Interval>& intervals, sim::Instant from,
                             sim::Instant to, int32_t ignore_partner) {
  return std::any_of(intervals.begin(), intervals.end(), [&](const Interval& interval) {
    if (ignore_partner >= 0 && interval.partner == ignore_partner) return false;
    return interval.start <= to && interval.end >= from;
  });
}

void FaultTimeline::Open(std::vector<Interval>& list, sim::Instant start, sim::Instant end,
                         Cause cause, int32_t partner) {
  SIM_CHECK_MSG(list.size() < 1'000'000, "fault timeline grew without bound");
  list.push_back(Interval{start, end, cause, partner});
}

void FaultTimeline::Close(std::vector<Interval>& list, sim::Instant at, Cause cause) {
  for (Interval& interval : list) {
    if (interval.cause == cause && interval.end > at && interval.start <= at) interval.end = at;
  }
}

void FaultTimeline::SetLeader(int32_t pid, bool leader, sim::Instant at) {
  const bool was = current_leaders_.count(pid) != 0;
  if (was == leader) return;
  if (leader) {
    current_leaders_.insert(pid);
  } else {
    current_leaders_.erase(pid);
  }
  leadership_changes_.push_back(at);
  leaders_.push_back({at, current_leaders_});
}

void FaultTimeline::OnFault(const sim::TraceEvent& event) {
  const std::string_view kind = event.Str("kind");
  const auto a = static_cast<int32_t>(event.Int("a", -1));
  const auto b = static_cast<int32_t>(event.Int("b", -1));
  const int64_t duration_ns = event.Int("duration_ns", 0);
  const sim::Instant end =
      duration_ns > 0 ? event.at + sim::Duration::Nanos(duration_ns) : sim::Instant::Max();
  if (kind == "heal_all") {
    for (auto& [pid, list] : touched_) Close(list, event.at, Cause::kNetwork);
    for (auto& [pid, list] : silent_) Close(list, event.at, Cause::kNetwork);
    for (auto& [pair, list] : cut_) Close(list, event.at, Cause::kNetwork);
    return;
  }
  if (IsNetworkPairFault(kind) && a >= 0 && b >= 0) {
    Open(touched_[a], event.at, end, Cause::kNetwork, b);
    Open(touched_[b], event.at, end, Cause::kNetwork, a);
    if (CutsLink(kind)) Open(cut_[{std::min(a, b), std::max(a, b)}], event.at, end, Cause::kNetwork);
    return;
  }
  if (kind == "isolate" && a >= 0) {
    Open(touched_[a], event.at, end, Cause::kNetwork);
    Open(silent_[a], event.at, end, Cause::kNetwork);
    return;
  }
  if ((kind == "clock_drift" || kind == "clock_step") && a >= 0) {
    // Drift lasts until the harness heals it; a step is permanent (the clock stays off).
    Open(touched_[a], event.at, sim::Instant::Max(), Cause::kClock);
  }
  // crash, kill, restart, stop and pause show up as process.* events.
}

void FaultTimeline::Observe(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  if (kind == "process.down") {
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    up_.erase(pid);
    Open(touched_[pid], event.at, sim::Instant::Max(), Cause::kDown);
    Open(silent_[pid], event.at, sim::Instant::Max(), Cause::kDown);
    SetLeader(pid, false, event.at);
  } else if (kind == "process.start") {
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    up_.insert(pid);
    Close(touched_[pid], event.at, Cause::kDown);
    Close(silent_[pid], event.at, Cause::kDown);
    // A (re)start also ends a pause: the kernel starts the new incarnation unpaused.
    Close(touched_[pid], event.at, Cause::kPause);
    Close(silent_[pid], event.at, Cause::kPause);
  } else if (kind == "process.pause") {
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    Open(touched_[pid], event.at, sim::Instant::Max(), Cause::kPause);
    Open(silent_[pid], event.at, sim::Instant::Max(), Cause::kPause);
  } else if (kind == "process.resume") {
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    Close(touched_[pid], event.at, Cause::kPause);
    Close(silent_[pid], event.at, Cause::kPause);
  } else if (kind == "fault") {
    OnFault(event);
  } else if (kind == "heal") {
    for (auto& [pid, list] : touched_) {
      Close(list, event.at, Cause::kNetwork);
      Close(list, event.at, Cause::kClock);
    }
    for (auto& [pid, list] : silent_) Close(list, event.at, Cause::kNetwork);
    for (auto& [pair, list] : cut_) Close(list, event.at, Cause::kNetwork);
  } else if (kind == "ctl.status") {
    SetLeader(event.process, event.Str("status") == "Leader", event.at);
  } else if (kind == "k8s.rollout.start") {
    Open(control_, event.at, sim::Instant::Max(), Cause::kNetwork);
  } else if (kind == "k8s.rollout.end") {
    Close(control_, event.at, Cause::kNetwork);
  }
}

bool FaultTimeline::Disturbed(int32_t pid, sim::Instant from, sim::Instant to,
                              int32_t ignore_partner) const {
  auto it = touched_.find(pid);
  return it != touched_.end() && Overlaps(it->second, from, to, ignore_partner);
}

bool FaultTimeline::CutOffThroughout(int32_t pid, int32_t peer, sim::Instant from,
                                     sim::Instant to) const {
  std::vector<Interval> cover;
  for (int32_t side : {pid, peer}) {
    auto it = silent_.find(side);
    if (it != silent_.end()) cover.insert(cover.end(), it->second.begin(), it->second.end());
  }
  auto link = cut_.find({std::min(pid, peer), std::max(pid, peer)});
  if (link != cut_.end()) cover.insert(cover.end(), link->second.begin(), link->second.end());
  std::sort(cover.begin(), cover.end(),
            [](const Interval& x, const Interval& y) { return x.start < y.start; });
  sim::Instant reached = from;  // [from, reached) is covered
  bool started = false;
  for (const Interval& interval : cover) {
    if (interval.end < reached) continue;
    if (interval.start > reached) break;
    started = true;
    reached = interval.end;
    if (reached >= to) return true;
  }
  return started && reached >= to;
}

bool FaultTimeline::ControlPathDisturbed(sim::Instant from, sim::Instant to,
                                         int32_t ignore_partner) const {
  // A network fault between a pod and a pageserver disturbs that pageserver's exchanges only:
  // checkers judge pageservers separately, so it does not count against the control path.
  auto disturbed = [&](int32_t pid) {
    auto it = touched_.find(pid);
    if (it == touched_.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const Interval& interval) {
      if (interval.partner >= 0 && (interval.partner == ignore_partner ||
                                    topology_.pageservers.count(interval.partner))) {
        return false;
      }
      return interval.start <= to && interval.end >= from;
    });
  };
  for (int32_t pid : topology_.controllers) {
    if (disturbed(pid)) return true;
  }
  if (topology_.database >= 0 && disturbed(topology_.database)) return true;
  if (Overlaps(control_, from, to)) return true;
  return std::any_of(leadership_changes_.begin(), leadership_changes_.end(),
                     [&](sim::Instant at) { return at > from && at <= to; });
}

std::optional<int32_t> FaultTimeline::LeaderAt(sim::Instant at) const {
  const std::set<int32_t>* leaders = nullptr;
  for (const auto& [since, set] : leaders_) {
    if (since > at) break;
    leaders = &set;
  }
  if (leaders == nullptr || leaders->size() != 1) return std::nullopt;
  return *leaders->begin();
}

std::optional<sim::Instant> FaultTimeline::LeaderSince(sim::Instant at) const {
  const std::optional<int32_t> leader = LeaderAt(at);
  if (!leader) return std::nullopt;
  std::optional<sim::Instant> since;
  for (const auto& [from, set] : leaders_) {
    if (from > at) break;
    if (set.size() == 1 && *set.begin() == *leader) {
      if (!since) since = from;
    } else {
      since.reset();
    }
  }
  return since;
}

}  // namespace storsim::invariants
