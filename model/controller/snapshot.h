// A const snapshot of one controller instance, for checkers and tests (they never touch the
// live state): leadership status, nodes, shards (intent, observed, generation, sequence, pending
// notification), and the node operation in progress.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "model/controller/node_state.h"
#include "model/controller/tenant_shard.h"

namespace storsim::controller {

// SPEC §3.1: Candidate -> Leader -> SteppedDown, nothing else.
enum class LeadershipStatus : uint8_t { kCandidate, kLeader, kSteppedDown };
const char* LeadershipStatusName(LeadershipStatus status);

struct ShardSnapshot {
  IntentState intent;
  ObservedState observed;
  Generation generation;
  uint64_t sequence = 0;
  bool pending_compute_notification = false;
  bool reconciling = false;
  std::string last_error;
  PlacementPolicy policy;
};

struct NodeSnapshot {
  NodeSchedulingPolicy policy = NodeSchedulingPolicy::kActive;
  api::NodeAvailability availability = api::NodeAvailability::kOffline;
  std::string availability_zone;
};

struct ControllerSnapshot {
  // A Service exists: the last incarnation's memory (the process may have crashed since; ask
  // Process::up() for liveness).
  bool running = false;
  uint64_t incarnation = 0;
  LeadershipStatus status = LeadershipStatus::kCandidate;
  bool startup_complete = false;
  uint64_t term = 0;
  std::map<NodeId, NodeSnapshot> nodes;
  std::map<TenantShardId, ShardSnapshot> shards;
  std::optional<std::string> operation;  // "drain 3", "fill 2", "delete 1"
  int reconcilers_in_flight = 0;
  // An unfenced takeover's re-sync is scheduled and has not finished (takeover_resync.cc), and
  // when (true simulation time) the last one finished.
  bool takeover_resync_pending = false;
  std::optional<sim::Instant> takeover_resync_done_at;
};

}  // namespace storsim::controller
