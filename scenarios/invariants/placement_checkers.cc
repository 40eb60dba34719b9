// S12 and S14.
#include "scenarios/invariants/placement_checkers.h"

#include "scenarios/invariants/storage_checkers.h"
#include "sim/check.h"

namespace storsim::invariants {
namespace {
bool IsAttachedMode(std::string_view mode) {
  return mode == "AttachedSingle" || mode == "AttachedMulti" || mode == "AttachedStale";
}
}  // namespace

void AttachmentGenerations::Observe(const sim::TraceEvent& event) {
  if (event.kind == "ctl.generation") {
    auto& g = generations_[{std::string(event.Str("shard")), event.Int("node")}];
    g = std::max(g, event.Int("generation"));
  } else if (event.kind == "ps.attach") {
    auto& g = generations_[{std::string(event.Str("shard")), event.Int("node")}];
    g = std::max(g, event.Int("gen"));
  }
}

std::optional<int64_t> AttachmentGenerations::Of(const std::string& shard, int64_t node) const {
  auto it = generations_.find({shard, node});
  if (it == generations_.end()) return std::nullopt;
  return it->second;
}

// ---- S12 ----

namespace {
// Shard counts 0 and 1 both mean unsharded.
int NormalCount(int count) { return count <= 1 ? 0 : count; }
}  // namespace

void AttachBeforeDetachChecker::OnEvent(const sim::TraceEvent& event) {
  leaders_.Observe(event);
  if (event.kind == "ctl.intent") {
    const std::string shard(event.Str("shard"));
    if (event.Int("attached", -1) < 0) {
      unplaced_[shard].insert(event.process);
    } else {
      unplaced_[shard].erase(event.process);
    }
    return;
  }
  if (event.kind == "ctl.location_config.send") {
    // A demotion sent while its sender placed the shard nowhere stays legal when it lands after
    // the sender placed it again: the request was already on its way (generations 941).
    const std::pair<std::string, int64_t> key{std::string(event.Str("shard")), event.Int("node")};
    const std::string_view mode = event.Str("mode");
    if ((mode == "Detached" || mode == "Secondary") && unplaced_[key.first].count(event.process)) {
      sent_unplaced_.insert(key);  // consumed by the next demotion the node applies
    }
    if (mode == "Detached" || mode == "Secondary") {
      // db-outage 8297: the old leader, never told of its successor, demoted the successor's
      // attachment after the successor's notification (for its own view) was applied.
      if (leaders_.SharesLeadership(event.process)) {
        sent_dual_.insert(key);
      } else {
        sent_dual_.erase(key);
      }
    }
    return;
  }
  if (event.kind == "cplane.spec_changed") {
    const std::string tenant(event.Str("tenant"));
    // A placement names shards of one count: shard 0 of a 2-shard spec is not shard 0 of the
    // 4-shard children an unfinished split left on a pageserver.
    const int count = NormalCount(static_cast<int>(event.Int("shard_count", 0)));
    SIM_CHECK_MSG(version_count_[tenant].size() < 1'000'000, "S12: unbounded spec versions");
    version_count_[tenant][event.Int("version", 0)] = count;
    stored_count_[tenant] = count;
    auto& stored = stored_[tenant];
    stored.clear();
    for (const auto& [number, node] : ParsePlacement(event.Str("shards"))) {
      stored[static_cast<int>(number)] = node;
    }
    return;
  }
  if (event.kind == "cplane.spec_applied") {
    const std::string tenant(event.Str("tenant"));
    const auto& versions = version_count_[tenant];
    auto version = versions.find(event.Int("version", 0));
    const int count = version != versions.end() ? version->second : stored_count_[tenant];
    applied_count_[tenant] = count;
    auto& applied = applied_[tenant];
    applied.clear();
    for (const auto& [number, node] : ParsePlacement(event.Str("shards"))) {
      applied[static_cast<int>(number)] = node;
    }
    // The attached slot the placement names is now the origin (computes read from it); the
    // slots they read from before are not any more, and may be demoted freely.
    for (auto& [shard, nodes] : slots_) {
      const ShardParts parts = ParseShard(shard);
      if (parts.tenant != event.Str("tenant")) continue;
      auto named = applied.find(parts.shard_number);
      if (named == applied.end()) continue;
      for (auto& [node, slot] : nodes) {
        slot.was_applied = NormalCount(parts.shard_count) == count && node == named->second &&
                           IsAttachedMode(slot.mode);
      }
    }
    return;
  }
  if (event.kind == "ps.start") {
    const int64_t node = event.Int("node");
    for (auto& [shard, nodes] : slots_) nodes.erase(node);
    return;
  }
  if (event.kind == "ps.attach") {
    // An attachment that did not come from location_config (re-attach at start-up) counts too.
    const std::string shard(event.Str("shard"));
    const ShardParts parts = ParseShard(shard);
    const auto& applied = applied_[parts.tenant];
    auto named = applied.find(parts.shard_number);
    slots_[shard][event.Int("node")] =
        Slot{std::string(event.Str("mode")), event.Int("gen"),
             NormalCount(parts.shard_count) == applied_count_[parts.tenant] &&
                 named != applied.end() && named->second == event.Int("node")};
    return;
  }
  if (event.kind != "ps.location_config" || event.Int("status") != 200) return;
  const std::string shard(event.Str("shard"));
  const int64_t node = event.Int("node");
  auto& nodes = slots_[shard];
  const std::string mode(event.Str("mode"));
  auto it = nodes.find(node);
  const bool was_attached = it != nodes.end() && IsAttachedMode(it->second.mode);
  const ShardParts parts = ParseShard(shard);
  const auto& applied = applied_[parts.tenant];
  auto applied_node = applied.find(parts.shard_number);
  const bool same_count = NormalCount(parts.shard_count) == applied_count_[parts.tenant];
  const bool applied_here =
      same_count && applied_node != applied.end() && applied_node->second == node;
  // The origin is a slot the computes were told to use. Before the control plane applied any
  // placement of the tenant, every attached slot may be it; after, a slot that was never the
  // applied placement while attached (e.g. the AttachedMulti destination of an abandoned
  // migration) was never read by a compute and may be demoted freely.
  const bool is_origin = applied.empty() || applied_here || (was_attached && it->second.was_applied);
  const bool sent_unplaced = !IsAttachedMode(mode) && sent_unplaced_.erase({shard, node}) != 0;
  const bool sent_dual = !IsAttachedMode(mode) && sent_dual_.erase({shard, node}) != 0;
  if (was_attached && !IsAttachedMode(mode) && sent_dual) ++split_brain_demotions_;
  if (was_attached && !IsAttachedMode(mode) && unplaced_[shard].empty() && !sent_unplaced &&
      !sent_dual && is_origin) {
    // Covered: a newer attachment elsewhere that the control plane's spec names, so computes
    // reach it (pushed, or pulled when they refresh after losing the origin).
    const int64_t origin_generation = it->second.generation;
    const auto& stored = stored_[parts.tenant];
    auto stored_node = stored.find(parts.shard_number);
    bool covered = false;
    for (const auto& [other, slot] : nodes) {
      if (other == node || !IsAttachedMode(slot.mode) || slot.generation <= origin_generation) {
        continue;
      }
      if (stored_node != stored.end() && stored_node->second == other) covered = true;
    }
    if (!covered) {
      Report("S12", event.at,
             "node " + std::to_string(node) + " left " + it->second.mode + " (generation " +
                 std::to_string(origin_generation) + ") of " + shard + " for " + mode +
                 " before another node was attached with a newer generation and named by the control plane's spec");
    }
  }
  const bool keeps_applied = was_attached && IsAttachedMode(mode) && it->second.was_applied;
  nodes[node] = Slot{mode, event.Int("gen"), keeps_applied || applied_here};
}

// ---- S14 ----

void NotificationOrderChecker::OnEvent(const sim::TraceEvent& event) {
  generations_.Observe(event);
  leaders_.Observe(event);
  successors_.Observe(event);
  if (event.kind == "ctl.status" || event.kind == "process.down") return;
  if (event.kind == "ctl.generation") {
    const ShardParts parts = ParseShard(event.Str("shard"));
    shard_names_[parts.tenant][parts.shard_number] = std::string(event.Str("shard"));
    taken_[{std::string(event.Str("shard")), event.Int("generation")}] = {event.process, event.at};
    return;
  }
  if (event.kind == "ctl.notify.send" || event.kind == "ctl.notify.result") {
    const std::pair<Instance, std::string> key{Instance{event.process, event.Int("incarnation")},
                                               std::string(event.Str("tenant"))};
    if (event.kind == "ctl.notify.result") {
      in_flight_.erase(key);
      return;
    }
    sent_by_single_leader_[{event.process, key.second}] = leaders_.IsSingleLeader(event.process);
    if (!in_flight_.insert(key).second) {
      Report("S14", event.at, key.first.ToString() + " sent a notify-attach for " + key.second +
                                  " while its previous one was still in flight");
    }
    return;
  }
  if (event.kind != "cplane.notify_answered" || event.Str("outcome") != "applied") return;
  const std::string tenant(event.Str("tenant"));
  auto sent = sent_by_single_leader_.find(
      {static_cast<int32_t>(event.Int("from", -1)), tenant});
  if (sent != sent_by_single_leader_.end() && !sent->second) {
    // Sent during split brain (see the header): not judged; later placements are compared
    // from the next single-leader one on.
    ++split_brain_applied_;
    applied_.erase(tenant);
    return;
  }
  auto& applied = applied_[tenant];
  for (const auto& [number, node] : ParsePlacement(event.Str("shards"))) {
    auto name = shard_names_[tenant].find(static_cast<int>(number));
    if (name == shard_names_[tenant].end()) continue;
    const std::optional<int64_t> generation = generations_.Of(name->second, node);
    if (!generation) continue;
    auto previous = applied.find(name->second);
    if (previous != applied.end() && *generation < previous->second) {
      const auto sender = static_cast<int32_t>(event.Int("from", -1));
      auto taken = taken_.find({name->second, previous->second});
      if (taken != taken_.end() && taken->second.first != sender &&
          successors_.LoadedBefore(sender, taken->second.second)) {
        ++stale_successor_applied_;  // see the header
        continue;
      }
      Report("S14", event.at,
             "the control plane applied " + name->second + " on node " + std::to_string(node) +
                 " (generation " + std::to_string(*generation) + ") after it had applied generation " +
                 std::to_string(previous->second));
    }
    applied[name->second] = std::max(previous == applied.end() ? 0 : previous->second, *generation);
  }
}

}  // namespace storsim::invariants
