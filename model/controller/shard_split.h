// Shard split in the storage controller (upstream service.rs tenant_shard_split and
// abort_tenant_shard_split; SPEC.md §2 split rows, §3.2 step 5, §3.3, §12 bug #2): a tenant of N
// shards (N = 0 or 1 counts as one) becomes one of new_shard_count = k * max(N, 1) shards.
//
// Steps (Service::HandleTenantShardSplit in shard_split.cc), under the reconcilers gate so that a
// step-down waits for the split to end (PR #11412):
//   0. Refusals, before any effect: 503 while the gate is closed (stepping down) or a parent is
//      not stably attached (policy Attached, intent attached on an available node, observed
//      AttachedSingle there at the memory generation, no reconcile running); 409 when a split of
//      the tenant runs already or its shards have mixed counts; 400 for a bad count; 404 for an
//      unknown tenant; 200 at once when the tenant has new_shard_count shards already (a retry).
//   1. Parents marked splitting in memory (no reconcile spawns for them), then persist begin:
//      parents' splitting flag set, children rows inserted with the parents' generation.
//   2. Each parent's attached pageserver splits it (model/pageserver/split_api.h): the children
//      are attached there in the parent's generation. A node that goes offline or re-attaches (a
//      new process) during its call fails the call at once, so the split aborts (upstream sees
//      the reset connection of a killed pageserver; a simulated crash only loses the reply).
//   3. Persist complete: parents deleted, children's flag cleared.
//   4. Memory: parents replaced by children (same policy, intent; observed = attached at the
//      split node when the DB generation is still the split's), compute hook told the new
//      placement (the notification carries the new shard count), the parents' secondary
//      locations detached, children reconciled (secondaries re-created).
//   Any failure after step 1 aborts: abort in the DB (children deleted, parents un-marked;
//   retried), children detached on the split nodes, parents un-marked in memory with their
//   attached location unknown, so a reconcile re-attaches them in a new generation. An abort
//   that finds the parents gone means the complete did commit (an ambiguous reply): the split
//   is finished in memory instead.
// A leader starting up aborts any half-done split it finds in the DB (service.cc LoadState).
//
// Defect kDefectStepDownIgnoresSplits (bug #2): the split does not enter the reconcilers gate
// (step-down answers while it runs) and its complete is upstream's pre-#11256 one (no check
// that the children still exist, Db::CompleteShardSplitUnchecked).
//
// The route is served by the Service with the same gating as the other tenant-mutating calls
// (candidate 503, stepped-down instance forwards to the leader, 408 before start-up completes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/api/controller_api.h"
#include "model/api/http.h"
#include "sim/rpc.h"

namespace storsim::controller {

// PUT /control/v1/tenant/{tenant_id}/shard_split. Until the lead moves it into
// model/api/controller_api.h.
struct TenantShardSplitRequest {
  std::string tenant_id;
  uint8_t new_shard_count = 0;
};
struct TenantShardSplitResponse {
  api::Http status = api::Http::kOk;
  std::vector<api::ShardPlacement> shards;  // the children on success
};
inline constexpr sim::RpcMethod<TenantShardSplitRequest, TenantShardSplitResponse>
    kTenantShardSplit{"ctl.tenant.shard_split"};

}  // namespace storsim::controller
