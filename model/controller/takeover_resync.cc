// The re-sync after an unfenced takeover (SPEC §3.6 window 1). The step-down protocol lets a new
// leader proceed when its step-down request never reached the old one; the old leader then keeps
// acting until Kubernetes stops its pod (it finishes a live migration: a generation increment, a
// demotion). This instance loaded the database and scanned the nodes before that, so its memory
// of those shards is stale, and nothing in the protocol ever re-reads it. Once the old pod must be
// gone (the k8s grace period), re-read every shard's generation and re-scan every node, then
// reconcile whatever no longer matches. Upstream does not (kDefectUnfencedTakeoverTrustsStartup).
#include <set>
#include <utility>

#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

void Service::ResyncAfterUnfencedTakeover() {
  context_.env().Sleep(context_.timings().takeover_resync_delay);
  auto finish = [this](const char* result, int64_t raised, int64_t nodes) {
    context_.Emit(events::kTakeoverResync,
                  {TraceField::Str("result", result), TraceField::Int("shards", raised),
                   TraceField::Int("nodes", nodes)});
  };
  if (status_ != LeadershipStatus::kLeader) return finish("not_leader", 0, 0);
  // 1. Generations: the old leader's increments are in the database only.
  constexpr int kAttemptsMax = 10;
  absl::StatusOr<std::vector<persistence::TenantShardRow>> rows = db_.ListTenantShards();
  for (int attempt = 1; attempt < kAttemptsMax && !rows.ok(); ++attempt) {
    context_.env().Sleep(sim::Duration::Seconds(2));
    if (status_ != LeadershipStatus::kLeader) return finish("not_leader", 0, 0);
    rows = db_.ListTenantShards();
  }
  if (!rows.ok()) return finish("db_error", 0, 0);
  int64_t raised = 0;
  for (const persistence::TenantShardRow& row : *rows) {
    auto it = shards_.find(row.id);
    if (it == shards_.end() || !(row.generation > it->second.generation)) continue;
    it->second.generation = row.generation;
    ++raised;
  }
  // 2. Locations: what each node holds now, whoever put it there.
  std::set<NodeId> answered;
  std::map<TenantShardId, ObservedState> scanned = ScanLocations(&answered);
  if (status_ != LeadershipStatus::kLeader) return finish("not_leader", raised, 0);
  // The scan is a snapshot of up to the scan deadline ago, and this instance's reconcilers kept
  // running meanwhile (db-outage 1823: a migration finished during the scan, and writing the
  // listing over it made the next reconcile take a generation the node already held). So the
  // listing only says where to look: every location it names, and every one already observed,
  // becomes unknown, and the next reconcile asks the node before acting on it.
  for (auto& [id, shard] : shards_) {
    auto found = scanned.find(id);
    if (found != scanned.end()) {
      for (const auto& [node, config] : found->second.locations) {
        shard.observed.locations[node] = std::nullopt;
      }
    }
    for (auto& [node, config] : shard.observed.locations) config = std::nullopt;
    // The old leader may have told the control plane about placements this one never made.
    if (shard.intent.attached) shard.pending_compute_notification = true;
  }
  compute_hook_.ForgetRemoteState();
  SIM_MARK("ctl.takeover_resync");
  finish("ok", raised, static_cast<int64_t>(answered.size()));
  ReconcileAll();
}

}  // namespace storsim::controller
