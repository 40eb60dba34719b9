// The controller's in-memory view of one pageserver node (upstream node.rs; SPEC.md §6.6, §7.1):
// its persisted scheduling policy, its availability (never persisted: every node starts Offline
// when the controller starts), heartbeat bookkeeping and the cancellation token that aborts
// in-flight calls to it when it goes offline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/api/controller_api.h"
#include "model/controller/cancel.h"
#include "model/persistence/types.h"
#include "sim/network.h"
#include "sim/time.h"

namespace storsim::controller {

using persistence::NodeId;
using persistence::NodeSchedulingPolicy;

// Availability transitions (upstream AvailabilityTransition).
enum class AvailabilityTransition : uint8_t { kToActive, kToOffline, kToWarmingUp, kUnchanged };
AvailabilityTransition ClassifyTransition(api::NodeAvailability from, api::NodeAvailability to);

struct NodeState {
  NodeId id = 0;
  std::string address;  // listen_http_addr, resolved through the Directory
  uint16_t port = 0;
  std::string availability_zone;
  NodeSchedulingPolicy policy = NodeSchedulingPolicy::kActive;
  api::NodeAvailability availability = api::NodeAvailability::kOffline;
  // Local monotonic instants.
  sim::Instant warming_up_since;
  std::optional<sim::Instant> last_heartbeat_success;
  uint64_t utilization_score = 0;
  // Re-attach answers handed to this node (one per restart): a reconcile that spanned one saw an
  // earlier incarnation, whatever its observed state says (ApplyResult).
  uint64_t re_attaches = 0;
  // Re-attach requests received from this node (counted before their DB write: a split checks
  // that no node that has split began a restart since, SplitNodesStillHoldChildren).
  uint64_t re_attaches_begun = 0;
  // Fired when the node goes offline; replaced by a fresh token when it becomes active.
  CancelToken cancel;

  // Available: heartbeats succeed (upstream NodeAvailability::Active). WarmingUp is not.
  bool available() const { return availability == api::NodeAvailability::kActive; }
  // Eligible for new placements (SPEC §6.5).
  bool schedulable() const {
    return available() &&
           (policy == NodeSchedulingPolicy::kActive || policy == NodeSchedulingPolicy::kFilling);
  }
};

}  // namespace storsim::controller
