// Shared helpers of the checkers.
#include "scenarios/invariants/checker.h"

#include <cstdlib>

namespace storsim::invariants {

std::map<int64_t, int64_t> ParsePlacement(std::string_view text, char separator) {
  std::map<int64_t, int64_t> placement;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    const size_t at = item.find(separator);
    if (at != std::string_view::npos && at > 0 && at + 1 < item.size()) {
      const std::string shard(item.substr(0, at));
      const std::string node(item.substr(at + 1));
      char* shard_end = nullptr;
      char* node_end = nullptr;
      const long long shard_number = std::strtoll(shard.c_str(), &shard_end, 10);
      const long long node_id = std::strtoll(node.c_str(), &node_end, 10);
      if (*shard_end == '\0' && *node_end == '\0') placement[shard_number] = node_id;
    }
    start = end + 1;
  }
  return placement;
}

void LeaderCensus::Observe(const sim::TraceEvent& event) {
  if (event.kind == "ctl.status") {
    status_[event.process] = std::string(event.Str("status"));
  } else if (event.kind == "process.down") {
    status_.erase(static_cast<int32_t>(event.Int("pid")));  // a dead instance leads nothing
  }
}

void SuccessorKnowledge::Observe(const sim::TraceEvent& event) {
  if (event.kind == "ctl.migrations") loading_since_[event.process] = event.at;
  if (event.kind == "ctl.takeover_resync" && event.Str("result") == "ok") {
    resynced_at_[event.process] = event.at;
  }
}

bool SuccessorKnowledge::LoadedBefore(int32_t pid, sim::Instant changed_at) const {
  auto loading = loading_since_.find(pid);
  if (loading == loading_since_.end() || !(changed_at > loading->second)) return false;
  auto resynced = resynced_at_.find(pid);
  return resynced == resynced_at_.end() || resynced->second < changed_at;
}

bool LeaderCensus::SharesLeadership(int32_t pid) const {
  int leaders = 0;
  for (const auto& [other, status] : status_) leaders += status == "Leader" ? 1 : 0;
  auto it = status_.find(pid);
  return leaders >= 2 && it != status_.end() && it->second == "Leader";
}

bool LeaderCensus::IsSingleLeader(int32_t pid) const {
  int leaders = 0;
  for (const auto& [other, status] : status_) leaders += status == "Leader" ? 1 : 0;
  auto it = status_.find(pid);
  return leaders == 1 && it != status_.end() && it->second == "Leader";
}

}  // namespace storsim::invariants
