// Extraction of lanes, spans and marks from trace events.
#include "reports/timeline.h"

#include <algorithm>

namespace storsim::reports {
namespace {

// Which events become labelled marks, and how they are labelled.
bool MarkFor(const sim::TraceEvent& event, TimelineMark* mark) {
  const std::string_view kind = event.kind;
  mark->at_ns = event.at.nanos();
  mark->detail = event.ToString();
  auto field = [&](std::string_view key) -> std::string {
    if (!event.Has(key)) return "";
    const std::string_view text = event.Str(key);
    return text.empty() ? std::to_string(event.Int(key)) : std::string(text);
  };
  if (kind == "ps.attach" || kind == "ps.location_config") {
    mark->category = "generation";
    mark->label = field("shard") + " " + field("mode") + " g" + field("gen");
    return true;
  }
  if (kind == "ctl.generation") {
    mark->category = "generation";
    mark->label = field("shard") + " g" + field("generation") + "→n" + field("node");
    return true;
  }
  if (kind == "compute.reconfigured") {
    mark->category = "compute";
    mark->label = "spec v" + field("version") + " " + field("shards");
    return true;
  }
  if (kind == "ctl.step_down.served" || kind == "ctl.leader_cas" || kind == "ctl.exit") {
    mark->category = "leadership";
    mark->label = std::string(kind.substr(4)) + " " + field("result");
    return true;
  }
  if (kind == "cplane.notify_answered") {
    mark->category = "compute";
    mark->label = "notify " + field("shards") + " " + field("outcome");
    return true;
  }
  if (kind == "rpc.failed" || kind.find("dropped") != std::string_view::npos ||
      kind.find("refused") != std::string_view::npos) {
    mark->category = "event";
    mark->label = std::string(kind);
    return true;
  }
  return false;
}

}  // namespace

Timeline BuildTimeline(const std::vector<sim::TraceEvent>& events,
                       const std::vector<Violation>& violations, int64_t end_ns) {
  Timeline timeline;
  timeline.end_ns = end_ns;
  for (const auto& event : events) timeline.end_ns = std::max(timeline.end_ns, event.at.nanos());
  std::map<int32_t, TimelineLane> lanes;
  TimelineLane& harness = lanes[-1];
  harness.process = -1;
  harness.name = "faults & checks";
  std::map<int32_t, int64_t> up_since, paused_since;
  std::map<int32_t, std::pair<std::string, int64_t>> status_since;
  auto lane = [&](int32_t process) -> TimelineLane& {
    TimelineLane& l = lanes[process];
    l.process = process;
    if (l.name.empty()) l.name = "p" + std::to_string(process);
    return l;
  };
  auto close_status = [&](int32_t process, int64_t at) {
    auto it = status_since.find(process);
    if (it == status_since.end()) return;
    lane(process).spans.push_back({it->second.second, at, it->second.first, it->second.first});
    status_since.erase(it);
  };
  for (const auto& event : events) {
    const int64_t at = event.at.nanos();
    if (event.kind == "process.start") {
      const auto pid = static_cast<int32_t>(event.Int("pid"));
      lane(pid).name = std::string(event.Str("name"));
      up_since[pid] = at;
      continue;
    }
    if (event.kind == "process.down") {
      const auto pid = static_cast<int32_t>(event.Int("pid"));
      auto it = up_since.find(pid);
      if (it != up_since.end()) {
        lane(pid).spans.push_back({it->second, at, "up", ""});
        up_since.erase(it);
      }
      close_status(pid, at);
      lane(pid).marks.push_back({at, std::string(event.Str("reason")), "fault", event.ToString()});
      continue;
    }
    if (event.kind == "process.pause") {
      paused_since[static_cast<int32_t>(event.Int("pid"))] = at;
      continue;
    }
    if (event.kind == "process.resume") {
      const auto pid = static_cast<int32_t>(event.Int("pid"));
      auto it = paused_since.find(pid);
      if (it != paused_since.end()) {
        lane(pid).spans.push_back({it->second, at, "paused", "paused"});
        paused_since.erase(it);
      }
      continue;
    }
    if (event.kind == "fault") {
      const int64_t duration = event.Int("duration_ns");
      std::string label = std::string(event.Str("kind"));
      if (event.Int("a", -1) >= 0) label += " p" + std::to_string(event.Int("a"));
      if (event.Int("b", -1) >= 0) label += "→p" + std::to_string(event.Int("b"));
      if (duration > 0) harness.spans.push_back({at, at + duration, "fault", label});
      harness.marks.push_back({at, label, "fault", event.ToString()});
      continue;
    }
    if (event.kind == "ctl.status") {
      close_status(event.process, at);
      status_since[event.process] = {std::string(event.Str("status")), at};
      continue;
    }
    TimelineMark mark;
    if (event.process >= 0 && MarkFor(event, &mark)) lane(event.process).marks.push_back(mark);
  }
  for (const auto& [pid, since] : up_since) lane(pid).spans.push_back({since, timeline.end_ns, "up", ""});
  for (const auto& [pid, since] : paused_since) {
    lane(pid).spans.push_back({since, timeline.end_ns, "paused", "paused"});
  }
  std::vector<int32_t> open_status;
  for (const auto& [pid, status] : status_since) open_status.push_back(pid);
  for (int32_t pid : open_status) close_status(pid, timeline.end_ns);
  for (const auto& violation : violations) {
    timeline.violations.push_back(violation);
    harness.marks.push_back({violation.at_ns, violation.invariant, "violation", violation.detail});
  }
  for (auto& [pid, l] : lanes) timeline.lanes.push_back(std::move(l));
  return timeline;
}

}  // namespace storsim::reports
