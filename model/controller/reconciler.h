// One reconcile of one shard (upstream reconciler.rs; SPEC.md §5.3, §5.4, §6.3): drives the
// pageservers from the observed state towards the intent, issuing generations, live-migrating
// when an attached origin exists, notifying the control plane, configuring secondaries and
// detaching everything outside the intent. Runs in its own fiber on a snapshot taken at spawn;
// its only channel back to the controller's state is the ReconcileResult (process_result), plus
// the DB (generations) and the compute hook.
//
// Observed bookkeeping: before every location_config call the node's entry becomes nullopt
// (uncertain); after success it becomes the config sent; a failure leaves it nullopt.
// A successful result means "the attached location is right", not "everything converged".
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "model/controller/compute_hook.h"
#include "model/controller/context.h"
#include "model/controller/db.h"
#include "model/controller/pageserver_client.h"
#include "model/controller/tenant_shard.h"

namespace storsim::controller {

struct ReconcileResult {
  TenantShardId shard;
  uint64_t sequence = 0;
  absl::Status status;
  Generation generation;
  ObservedState original_observed;
  ObservedState observed;
  bool pending_compute_notification = false;
  bool pending_at_spawn = false;  // the shard's flag in the snapshot the reconciler started from
  bool generation_pageserver_null = false;  // still set at the end (no increment named a node)
  std::map<NodeId, uint64_t> re_attaches_at_spawn;  // NodeState::re_attaches of involved nodes
  // It stopped before a demotion because the sharded tenant's notification could not go out
  // yet (a sibling not recorded): retried once a sibling's reconcile succeeds.
  bool waits_for_tenant_notify = false;
  // When (true time) its latest generation increment, which named a node, returned.
  std::optional<sim::Instant> named_at;
  bool stop = false;  // the step-down marker pushed into the result channel
};

// Live migration knobs: normal reconciles vs drain/fill (§5.3 step 3, §7.2).
struct MigrationConfig {
  sim::Duration secondary_warm_total;
  sim::Duration secondary_warm_poll;
};

struct ReconcilerInput {
  TenantShard shard;  // snapshot (intent, observed, generation, policy, pending flag)
  std::map<NodeId, NodeRef> nodes;      // every node in intent or observed that exists
  std::map<NodeId, bool> available;     // availability at spawn
  CancelToken cancel;
  MigrationConfig migration;
};

class Reconciler {
 public:
  // `available_now` answers the current availability of a node (live, not the snapshot).
  Reconciler(Context& context, Db& db, PageserverClient& pageservers, ComputeHook& compute_hook,
             ReconcilerInput input, std::function<bool(NodeId)> available_now);

  ReconcileResult Run();

 private:
  absl::Status Reconcile();
  absl::Status LiveMigrate(NodeId origin, NodeId destination);
  absl::Status WaitForLsns(const NodeRef& destination, const std::vector<api::TimelineLsn>& baseline);
  absl::Status NotifyBlocking(NodeId origin, NodeId destination);
  absl::Status LocationConfig(NodeId node, const api::LocationConfig& config, sim::Duration flush);
  absl::Status ComputeNotify();
  bool Available(NodeId node) const;
  // True when steps 4-5 would demote (or detach) a location that is, or may be, attached.
  bool DemotesAnAttachedLocation() const;

  Context& context_;
  Db& db_;
  PageserverClient& pageservers_;
  ComputeHook& compute_hook_;
  ReconcilerInput input_;
  TenantShard& shard_;  // input_.shard, evolving
  std::function<bool(NodeId)> available_now_;
  ObservedState original_observed_;
  bool compute_notify_failure_ = false;
  bool notified_ = false;
  bool notify_incomplete_ = false;  // the latest notify found the sharded tenant incomplete
  bool waits_for_tenant_notify_ = false;  // returned before a demotion for that reason
  std::optional<sim::Instant> named_at_;  // see ReconcileResult
};

}  // namespace storsim::controller
