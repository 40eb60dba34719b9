// PlacementModel: the test model of the stateful controller property — per shard the attached
// node, the secondaries and the generation; per node the scheduling policy — and the SPEC rules
// that say how each operator action changes it, written from SPEC.md, not from the controller:
//
//   - migrate (§6, tenant API; §5.3): to the attached node is a no-op (200); to an unknown node
//     404; to an unschedulable node 412 (§6.5: Active availability and policy Active/Filling);
//     otherwise 200 and the shard is attached there with exactly one new generation (§4.1:
//     increment_generation right before attaching, once per live migration, §5.3 step 4), the
//     destination leaves the secondaries and the old attached node becomes the secondary.
//   - re-attach (§4.1) after a pageserver restart: every shard attached there gets exactly one
//     new generation; secondaries are untouched; the node's policy Draining/PauseForRestart/
//     Filling goes back to Active (§7.1), Pause stays.
//   - drain (§7.1, §7.2): 404 unknown, 412 when no other node is schedulable, 409 when already
//     Draining, 412 unless Active; else 202, and every shard attached on the node whose secondary
//     is schedulable swaps (secondary attached, one new generation, node becomes the secondary);
//     the node ends PauseForRestart.
//   - configure (§7.1): an operator sets any policy (no operation runs between steps).
//   - validate (§4.1): valid iff the generation is the current one; unknown shards are omitted.
//
// Every node is assumed Active (available) between steps: the harness settles after each one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "model/controller/snapshot.h"

namespace storsim::scenarios::properties {

struct ShardModel {
  api::NodeId attached = 0;
  std::vector<api::NodeId> secondaries;
  uint32_t generation = 0;
  bool operator==(const ShardModel&) const = default;
};

struct PlacementModel {
  std::map<api::TenantShardId, ShardModel> shards;
  std::map<api::NodeId, api::NodeSchedulingPolicy> nodes;

  // The state a settled controller reports (the model's starting point: where tenant creation
  // placed each shard is the scheduler's choice, not a rule this model states).
  static PlacementModel FromSnapshot(const controller::ControllerSnapshot& snapshot);

  bool Knows(api::NodeId node) const { return nodes.count(node) > 0; }
  bool Schedulable(api::NodeId node) const;
  std::vector<api::TenantShardId> ShardIds() const;
  std::vector<api::NodeId> NodeIds() const;

  // Each returns the HTTP status the controller must answer and applies the change.
  api::Http Migrate(const api::TenantShardId& shard, api::NodeId node);
  api::Http Drain(api::NodeId node);
  api::Http Configure(api::NodeId node, api::NodeSchedulingPolicy policy);
  void ReAttach(api::NodeId node);
  // nullopt: the shard is unknown and must be omitted from the answer.
  std::optional<bool> Validate(const api::TenantShardId& shard, uint32_t generation) const;

  std::string ToString() const;  // "t1: n2 [n3] g4; ..." for failure messages
};

std::string NodesString(const std::vector<api::NodeId>& nodes);

}  // namespace storsim::scenarios::properties
