// Notification content invariant (beyond SPEC.md §10; stated in scenarios/README.md as N1).
//
// N1  NotificationTargetChecker: every notify-attach request the single leader starts sending
//     (the first attempt of a send: ctl.notify.send attempt=0) names, for each shard, a node that
//     still holds the shard attached as far as the controller has configured it. A node whose
//     latest accepted location_config for that shard (ps.location_config, status 200) moved it to
//     Secondary or Detached, with no attachment of the shard there since (ps.location_config in an
//     attached mode, ps.attach, or a shard split onto it), is never named: the controller itself
//     took the attachment away, so a compute pointed there reads from a location that no longer
//     serves the shard.
//
// Why this statement and not a stronger one (e.g. "names the node attached at the shard's latest
// generation"): a notification triggered by one shard repeats the last placement of its
// siblings, and a sibling may be mid-migration (its destination attached at a newer generation,
// its origin AttachedStale and still serving) — the origin is legal there. The correct controller
// announces a new placement before it demotes the old location (attach, notify, then demote;
// SPEC §5.3, §6.3 and S12), and drops a detached shard from its compute hook (PR #9045), so a
// location it demoted itself is never in its hook's cache.
//
// Not judged (the statement says nothing there):
//   - sends by an instance that is not the single Leader (its latest ctl.status; a process that
//     went down leads nothing): a stepped-down or not yet leading instance is S3's and S2's
//     business;
//   - nodes that restarted since the demotion (ps.start): their slots then follow the re-attach
//     response, decided by the controller's intent, not by its last location_config; the shard's
//     state there is unknown to this checker until the next location_config or ps.attach;
//   - retries (attempt > 0) of a send: the request was decided at the first attempt, under the
//     tenant's send lock; what changed meanwhile waits for that lock;
//   - slots demoted by a location_config that an instance sent while it was not the single Leader
//     (SPEC §3.6 window 1: a successor that took over unilaterally after a failed step-down, and
//     the old leader still finishing a migration it never learnt it lost): such a demotion is not
//     the single leader's configuration, and nothing told it about the change (db-outage seed
//     432: the old leader's in-flight reconcile demoted node 2 after the new leader attached it
//     there). The slot is unknown to this checker until the next location_config or ps.attach,
//     as after a restart; counted as demotions_by_non_single_leader.
//   - slots another instance demoted after the notifying instance began loading the database
//     (its ctl.migrations) and before it re-read the placements (ctl.takeover_resync ok): the
//     same window seen from the successor, which cannot know what its predecessor did after it
//     loaded (db-outage 1823: the old leader moved a tenant while the successor, whose step-down
//     never arrived, loaded; the successor's pending start-up notification then named the old
//     node). Counted as demoted_after_load.
// Shards of the request are matched to pageserver slots by tenant, shard number and shard count
// (the count is the number of shards the request lists; an unsharded tenant's slots have count 0).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

class NotificationTargetChecker : public Checker {
 public:
  explicit NotificationTargetChecker(ViolationSink sink) : Checker("N1", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override { return counts_; }

 private:
  enum class SlotState : uint8_t { kAttached, kDemoted };
  // A controller instance: (process, incarnation).
  using InstanceKey = std::pair<int32_t, int64_t>;
  struct Demotion {
    SlotState state = SlotState::kAttached;
    std::string mode;       // the mode of the latest accepted config
    sim::Instant at;        // when it was accepted
    std::optional<InstanceKey> by;  // the instance whose location_config it was, when known
  };
  // (tenant, shard number, shard count, node) -> the slot's state as the controller configured it.
  using SlotKey = std::tuple<std::string, int, int, int64_t>;

  void OnNotifySend(const sim::TraceEvent& event);
  void SetSlot(std::string_view shard, int64_t node, SlotState state, std::string_view mode,
               sim::Instant at, std::optional<InstanceKey> by = std::nullopt);

  std::map<SlotKey, Demotion> slots_;
  LeaderCensus leaders_;
  std::map<std::string, int64_t> counts_;  // judged / skipped sends, for Metrics
  // (shard, node, mode) -> the latest ctl.location_config.send of that configuration: the instance
  // that sent it, and whether it was the single Leader then (false: a demotion it brings is not
  // the single leader's doing).
  struct Sender {
    InstanceKey instance;
    bool single_leader = false;
  };
  std::map<std::tuple<std::string, int64_t, std::string>, Sender> sent_by_;
  SuccessorKnowledge successors_;
};

// "0:3,1:5" (shard number : node id, the compute hook's ctl.notify.* format) -> {0: 3, 1: 5}.
// Malformed entries are skipped.
std::map<int64_t, int64_t> ParseNotifyShards(std::string_view text);

}  // namespace storsim::invariants
