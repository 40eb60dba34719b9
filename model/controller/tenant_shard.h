// The controller's in-memory state of one tenant shard (upstream tenant_shard.rs; SPEC.md §6.1):
// policy, intent, observed state, the memory copy of the generation, the reconcile sequence and
// the waiters API callers block on. Nothing here is persisted except what the database rows
// hold (generation, generation_pageserver, placement policy).
//
// Observed state is tri-state per node, and the difference matters (split-brain bugs live in the
// gap between "unknown" and "absent"):
//   key absent            certainly nothing on that node (we detached it, or listed it and it
//                         was not there);
//   key -> nullopt        something may exist there, we do not know what (a call to it failed or
//                         is in flight, the node went offline, re-attach handed it a generation);
//   key -> LocationConfig the last config we successfully set (or listed) there.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/location.h"
#include "model/controller/cancel.h"
#include "model/controller/node_state.h"
#include "model/persistence/types.h"
#include "sim/sync.h"

namespace storsim::controller {

using persistence::Generation;
using persistence::PlacementPolicy;
using persistence::TenantShardId;

struct ObservedState {
  std::map<NodeId, std::optional<api::LocationConfig>> locations;
  bool operator==(const ObservedState&) const = default;
};

struct IntentState {
  std::optional<NodeId> attached;
  std::vector<NodeId> secondary;  // no duplicates, never contains `attached`
  std::optional<std::string> preferred_az;

  bool Contains(NodeId node) const;
  void RemoveSecondary(NodeId node);
  void PushSecondary(NodeId node);  // no-op if present or attached there
  // Moves the attached location to the secondaries (upstream demote_attached).
  void DemoteAttached();
  std::vector<NodeId> AllNodes() const;  // attached first, then secondaries
  std::string SecondariesString() const;
  bool operator==(const IntentState&) const = default;
};

// Shard scheduling policy (not node policy): Stop stops reconciling altogether.
enum class ShardSchedulingPolicy : uint8_t { kActive, kEssential, kPause, kStop };

struct ReconcileResult;  // reconciler.h

// A running reconciler: its sequence, its cancel token, an event set when it finished and, from
// then on, its result preceded by the results of the reconcilers it joined (oldest first, a
// few at most), so a reconciler that superseded it can catch its snapshot up.
struct ReconcilerHandle {
  uint64_t sequence = 0;
  CancelToken cancel;
  std::shared_ptr<sim::Event> done;
  std::shared_ptr<std::vector<ReconcileResult>> outcomes;  // filled before `done` is set
};

enum class ReconcileNeeded : uint8_t { kNo, kWaitExisting, kYes };

struct TenantShard {
  TenantShardId id;
  uint32_t stripe_size = 0;
  PlacementPolicy policy = PlacementPolicy::Attached(0);
  ShardSchedulingPolicy scheduling_policy = ShardSchedulingPolicy::kActive;
  IntentState intent;
  ObservedState observed;
  Generation generation;  // memory copy; may lag the DB during a reconcile, never exceeds it
  uint64_t sequence = 0;
  std::optional<ReconcilerHandle> reconciler;
  uint64_t waiter = 0;        // highest sequence that completed successfully
  uint64_t error_waiter = 0;  // highest sequence that completed with an error
  std::string last_error;
  bool pending_compute_notification = false;
  // Its latest reconcile stopped before a demotion, waiting for the tenant's notification to be
  // sendable; the next successful reconcile of a sibling re-spawns it.
  bool waits_for_tenant_notify = false;
  bool delayed_reconcile = false;
  int consecutive_reconciles = 0;
  bool splitting = false;
  // The database names no pageserver for this attached shard (generation_pageserver NULL): a
  // policy change away from Attached cleared it, and the locations it meant to detach may still
  // be in place (a node that was unavailable or failed its detach), so an attach afterwards can
  // find its location already right and skip the increment that would name it. Set only by the
  // fixed variant of ctl-attach-keeps-null-generation-pageserver; while set, the attached
  // location is not right, and the reconciler increments the generation for it.
  bool generation_pageserver_null = false;
  // The sequence of the intent written with the clearing policy: a reconcile of that sequence or
  // later started after the write, so its increment named the node for good.
  uint64_t generation_pageserver_cleared_sequence = 0;
  // A policy write away from Attached that failed (it may have committed, clearing the name):
  // when it failed. Any increment that returned later named the node again.
  std::optional<sim::Instant> generation_pageserver_maybe_cleared_at;
  // Set and replaced whenever waiter or error_waiter advances, so API callers can block on it.
  std::shared_ptr<sim::Event> progress;

  // The config the intent wants on the attached node / on a secondary node. `term` is the
  // leadership term (lease-fenced protocol only, 0 otherwise).
  api::LocationConfig AttachedConfig(uint64_t term) const;
  api::LocationConfig SecondaryConfig(uint64_t term) const;
  // The fields every config the controller sends for this shard shares.
  api::LocationConfig BaseConfig(api::LocationMode mode, uint64_t term) const;
  // Observed nodes that are not in the intent (upstream detach list).
  std::vector<NodeId> DetachList() const;
  // SPEC §6.2: whether a reconcile must be spawned, given the current nodes.
  ReconcileNeeded GetReconcileNeeded(const std::map<NodeId, NodeState>& nodes,
                                     uint64_t term) const;
  // Startup (§3.2 step 7c): attached := the observed attached-mode location with the highest
  // generation; every other observed location becomes a secondary.
  void IntentFromObserved();
  // Advances the waiters and pulses `progress`.
  void AdvanceWaiter(uint64_t sequence, bool success, sim::Scheduler& scheduler);
};

}  // namespace storsim::controller
