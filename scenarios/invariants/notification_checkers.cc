// N1: notifications name live attachments (see notification_checkers.h).
#include "scenarios/invariants/notification_checkers.h"

#include <cstdlib>
#include <iterator>
#include <vector>

#include "scenarios/invariants/storage_checkers.h"
#include "sim/check.h"

namespace storsim::invariants {
namespace {

bool IsAttachedMode(std::string_view mode) {
  return mode == "AttachedSingle" || mode == "AttachedMulti" || mode == "AttachedStale";
}

}  // namespace

std::map<int64_t, int64_t> ParseNotifyShards(std::string_view text) {
  return ParsePlacement(text, ':');
}

void NotificationTargetChecker::SetSlot(std::string_view shard, int64_t node, SlotState state,
                                        std::string_view mode, sim::Instant at,
                                        std::optional<InstanceKey> by) {
  const ShardParts parts = ParseShard(shard);
  SIM_CHECK_MSG(!parts.tenant.empty(), "a shard id without a tenant");
  slots_[SlotKey{parts.tenant, parts.shard_number, parts.shard_count, node}] =
      Demotion{state, std::string(mode), at, by};
}

void NotificationTargetChecker::OnEvent(const sim::TraceEvent& event) {
  leaders_.Observe(event);
  successors_.Observe(event);
  if (event.kind == "ctl.status" || event.kind == "process.down") return;
  if (event.kind == "ps.start") {
    // A restarted node's slots follow its re-attach response: unknown here until configured.
    const int64_t node = event.Int("node");
    for (auto it = slots_.begin(); it != slots_.end();) {
      it = std::get<3>(it->first) == node ? slots_.erase(it) : std::next(it);
    }
    return;
  }
  if (event.kind == "ps.local_reconcile") {
    // The re-attach decided this slot; not a location_config of the controller's.
    const ShardParts parts = ParseShard(event.Str("shard"));
    slots_.erase(SlotKey{parts.tenant, parts.shard_number, parts.shard_count, event.Int("node")});
    return;
  }
  if (event.kind == "ps.attach") {
    SetSlot(event.Str("shard"), event.Int("node"), SlotState::kAttached, event.Str("mode"),
            event.at);
    return;
  }
  if (event.kind == "ctl.location_config.send") {
    const std::tuple<std::string, int64_t, std::string> key{
        std::string(event.Str("shard")), event.Int("node"), std::string(event.Str("mode"))};
    sent_by_[key] = Sender{InstanceKey{event.process, event.Int("incarnation")},
                           leaders_.IsSingleLeader(event.process)};
    return;
  }
  if (event.kind == "ps.location_config") {
    if (event.Int("status") != 200) return;  // refused: the slot did not change
    const std::string_view mode = event.Str("mode");
    auto sent = sent_by_.find({std::string(event.Str("shard")), event.Int("node"), std::string(mode)});
    if (!IsAttachedMode(mode) && sent != sent_by_.end() && !sent->second.single_leader) {
      // A split-brain demotion (see the header): unknown to the single leader, not judged.
      const ShardParts parts = ParseShard(event.Str("shard"));
      slots_.erase(
          SlotKey{parts.tenant, parts.shard_number, parts.shard_count, event.Int("node")});
      ++counts_["demotions_by_non_single_leader"];
      return;
    }
    SetSlot(event.Str("shard"), event.Int("node"),
            IsAttachedMode(mode) ? SlotState::kAttached : SlotState::kDemoted, mode, event.at,
            sent == sent_by_.end() ? std::nullopt
                                   : std::optional<InstanceKey>(sent->second.instance));
    return;
  }
  if (event.kind == "ctl.notify.send") OnNotifySend(event);
}

void NotificationTargetChecker::OnNotifySend(const sim::TraceEvent& event) {
  if (event.Int("attempt") != 0) {
    ++counts_["retries_skipped"];
    return;
  }
  if (!leaders_.IsSingleLeader(event.process)) {
    ++counts_["not_single_leader"];
    return;
  }
  ++counts_["judged"];
  const std::string tenant(event.Str("tenant"));
  const std::map<int64_t, int64_t> shards = ParseNotifyShards(event.Str("shards"));
  const int listed = static_cast<int>(shards.size());
  for (const auto& [number, node] : shards) {
    // An unsharded tenant's slots carry count 0 (TenantShardId::ToString is the bare tenant id);
    // count 1 is accepted too.
    std::vector<int> counts;
    if (listed > 1) {
      counts = {listed};
    } else {
      counts = {0, 1};
    }
    for (int count : counts) {
      auto it = slots_.find(SlotKey{tenant, static_cast<int>(number), count, node});
      if (it == slots_.end() || it->second.state != SlotState::kDemoted) continue;
      const InstanceKey notifier{event.process, event.Int("incarnation")};
      const std::optional<InstanceKey>& by = it->second.by;
      if (by && *by != notifier && successors_.LoadedBefore(event.process, it->second.at)) {
        ++counts_["demoted_after_load"];
        continue;  // the predecessor's doing, after this instance loaded (see the header)
      }
      Report("N1", event.at,
             "leader p" + std::to_string(event.process) + " notified tenant " + tenant +
                 " shards " + std::string(event.Str("shards")) + ": shard " +
                 std::to_string(number) + " named on node " + std::to_string(node) +
                 ", where a location_config made it " + it->second.mode + " at " +
                 it->second.at.ToString() + " with no attachment there since");
      return;  // one report per request
    }
  }
}

}  // namespace storsim::invariants
