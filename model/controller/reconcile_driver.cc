// Spawning reconcilers and processing their results (SPEC.md §6.2, §6.4): the reconcile-needed
// rule, concurrency limits with the delayed queue, one reconciler per shard (a new one cancels
// and joins the previous), the single result consumer, waiters and reconcile_all.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

namespace {

// One node's entry in a reconciler's observed state at its spawn (`before`) and at its end
// (`after`); an outer nullopt is an absent entry.
struct ObservedDelta {
  NodeId node = 0;
  std::optional<std::optional<api::LocationConfig>> before;
  std::optional<std::optional<api::LocationConfig>> after;
};

// The entries a reconciler changed. An entry it left uncertain counts even when it started
// uncertain too: it had a call to that node in flight when it was cancelled, or the call failed,
// so whatever the shard's entry became meanwhile (a superseded reconciler's result) no longer
// holds, and the node may have applied the call after all (db-outage 8405: a promotion
// cancelled by step-down landed; the handover said AttachedMulti and the successor took a
// needless generation, G1).
std::vector<ObservedDelta> ObservedDeltas(const ReconcileResult& result) {
  std::set<NodeId> touched;
  for (const auto& [node, config] : result.original_observed.locations) touched.insert(node);
  for (const auto& [node, config] : result.observed.locations) touched.insert(node);
  std::vector<ObservedDelta> deltas;
  for (NodeId node : touched) {
    ObservedDelta delta{node, std::nullopt, std::nullopt};
    if (auto it = result.original_observed.locations.find(node);
        it != result.original_observed.locations.end()) {
      delta.before = it->second;
    }
    if (auto it = result.observed.locations.find(node); it != result.observed.locations.end()) {
      delta.after = it->second;
    }
    const bool left_uncertain = delta.after && !delta.after->has_value();
    if (delta.before == delta.after && !left_uncertain) continue;
    deltas.push_back(std::move(delta));
  }
  return deltas;
}

// Catches a reconciler's spawn-time snapshot up with a reconciler it (transitively) superseded
// and joined: that one's location calls and generation increments may postdate the snapshot, so
// without this the new reconciler acts on observed state that is no longer true (e.g. an origin
// already demoted to Secondary still looks AttachedSingle, and the real attachment looks absent).
// Per node the old reconciler changed: if the snapshot still holds what the old one started from,
// take what it left (uncertain on an unavailable node; a removal only if it succeeded); if the
// snapshot already holds what it left (its result was applied before the spawn), keep it;
// anything else means a third party changed the entry meanwhile, so it becomes uncertain.
void CatchUpSnapshot(ReconcilerInput& input, const ReconcileResult& previous,
                     const std::function<bool(NodeId)>& available_now) {
  SIM_CHECK(previous.shard == input.shard.id);
  if (previous.generation > input.shard.generation) input.shard.generation = previous.generation;
  input.shard.pending_compute_notification = previous.pending_compute_notification;
  std::map<NodeId, std::optional<api::LocationConfig>>& observed = input.shard.observed.locations;
  for (const ObservedDelta& delta : ObservedDeltas(previous)) {
    const NodeId node = delta.node;
    const bool had = delta.before.has_value();
    const bool has = delta.after.has_value();
    auto current = observed.find(node);
    const bool present = current != observed.end();
    if (present == has && (!has || current->second == *delta.after)) continue;  // already seen
    const bool unchanged_since = present == had && (!had || current->second == *delta.before);
    if (!unchanged_since || !available_now(node)) {
      observed[node] = std::nullopt;
    } else if (has) {
      observed[node] = *delta.after;
    } else if (previous.status.ok()) {
      observed.erase(node);
    } else {
      observed[node] = std::nullopt;
    }
  }
}

// How many joined results a handle carries forward for the next superseding reconciler.
constexpr size_t kJoinedResultsMax = 8;

}  // namespace

MigrationConfig Service::NormalMigration() const {
  return {context_.timings().secondary_warm_total, context_.timings().secondary_warm_poll};
}

MigrationConfig Service::DrainMigration() const {
  return {context_.timings().drain_secondary_warm_total,
          context_.timings().drain_secondary_warm_poll};
}

void Service::BumpSequence(TenantShard& shard, const char* reason) {
  ++shard.sequence;
  context_.Emit(events::kIntent,
                {TraceField::Str("shard", shard.id.ToString()),
                 TraceField::Int("attached", shard.intent.attached
                                                 ? static_cast<int64_t>(*shard.intent.attached)
                                                 : -1),
                 TraceField::Str("secondaries", shard.intent.SecondariesString()),
                 TraceField::Int("sequence", static_cast<int64_t>(shard.sequence)),
                 TraceField::Str("reason", reason)});
}

void Service::Schedule(TenantShard& shard, const char* reason) {
  ScheduleResult result = ScheduleShard(shard, nodes_, shards_);
  if (result.changed) BumpSequence(shard, reason);
}

std::optional<uint64_t> Service::MaybeReconcile(const TenantShardId& shard_id, Priority priority) {
  return MaybeReconcile(shard_id, priority, NormalMigration());
}

std::optional<uint64_t> Service::MaybeReconcile(const TenantShardId& shard_id, Priority priority,
                                                const MigrationConfig& migration) {
  // No leadership check before side effects (upstream): only the closed gate stops spawning.
  if (reconcilers_gate_closed_) return std::nullopt;
  auto it = shards_.find(shard_id);
  if (it == shards_.end()) return std::nullopt;
  TenantShard& shard = it->second;
  switch (shard.GetReconcileNeeded(nodes_, context_.term())) {
    case ReconcileNeeded::kNo: return std::nullopt;
    case ReconcileNeeded::kWaitExisting: return shard.sequence;
    case ReconcileNeeded::kYes: break;
  }
  bool acquired = priority == Priority::kHigh ? units_high_.TryAcquire() : false;
  Priority used = Priority::kHigh;
  if (!acquired) {
    acquired = units_normal_.TryAcquire();
    used = Priority::kNormal;
  }
  if (!acquired) {
    // No permit: queue for later (bounded); the caller waits for a future sequence.
    if (!shard.delayed_reconcile && delayed_.size() < context_.timings().delayed_reconcile_queue_max) {
      shard.delayed_reconcile = true;
      delayed_.push_back(shard_id);
    }
    return shard.sequence + 1;
  }
  SpawnReconciler(shard, used, migration);
  return shard.sequence;
}

void Service::SpawnReconciler(TenantShard& shard, Priority priority,
                              const MigrationConfig& migration) {
  SIM_CHECK(!reconcilers_gate_closed_);
  shard.delayed_reconcile = false;
  // The new sequence exceeds any previous reconciler and both waiters.
  const uint64_t floor = std::max({shard.waiter, shard.error_waiter,
                                   shard.reconciler ? shard.reconciler->sequence : uint64_t{0}});
  if (shard.sequence <= floor) shard.sequence = floor + 1;
  ++shard.consecutive_reconciles;

  ReconcilerInput input;
  input.shard = shard;
  input.shard.reconciler.reset();
  input.cancel = CancelToken(context_.env().scheduler());
  input.migration = migration;
  std::set<NodeId> involved;
  for (NodeId node : shard.intent.AllNodes()) involved.insert(node);
  for (const auto& [node, config] : shard.observed.locations) involved.insert(node);
  // Pre-#10352 (defect #8) the reconciler also tried to configure secondaries on offline nodes;
  // those calls fail at once (the offline node's cancellation token), failing the reconcile.
  const bool pre_10352 = context_.Defect(kDefectPendingNotifyDroppedOnFailure);
  std::map<NodeId, uint64_t> re_attaches_at_spawn;
  for (NodeId node : involved) {
    auto it = nodes_.find(node);
    if (it == nodes_.end()) continue;
    input.nodes[node] = RefFor(node);
    re_attaches_at_spawn[node] = it->second.re_attaches;
    const bool secondary = std::find(shard.intent.secondary.begin(), shard.intent.secondary.end(),
                                     node) != shard.intent.secondary.end();
    input.available[node] = it->second.available() || (pre_10352 && secondary);
  }
  std::optional<ReconcilerHandle> previous = shard.reconciler;
  ReconcilerHandle handle{shard.sequence, input.cancel,
                          std::make_shared<sim::Event>(context_.env().scheduler()),
                          std::make_shared<std::vector<ReconcileResult>>()};
  shard.reconciler = handle;
  ++reconcilers_in_flight_;
  reconcilers_idle_.Reset();
  context_.Emit(events::kReconcileStart,
                {TraceField::Str("shard", shard.id.ToString()),
                 TraceField::Int("sequence", static_cast<int64_t>(shard.sequence)),
                 TraceField::Int("generation", GenerationField(shard.generation))});
  if (previous) previous->cancel.Cancel();
  context_.env().Spawn("ctl.reconciler", [this, input = std::move(input), previous, handle,
                                          priority, re_attaches_at_spawn]() mutable {
    std::function<bool(NodeId)> available_now = [this](NodeId node) {
      auto it = nodes_.find(node);
      return it != nodes_.end() && it->second.available();
    };
    // Only one reconciler runs per shard: join the one we superseded first. Upstream then runs
    // on the snapshot taken at spawn, blind to what the joined one did (hazard
    // kDefectSupersedingReconcilerStaleSnapshot); by default the snapshot catches up first.
    std::vector<ReconcileResult> joined;  // what the snapshot may not have seen, oldest first
    if (previous) {
      previous->done->Wait();
      if (previous->outcomes) joined = *previous->outcomes;
      if (!context_.Defect(kDefectSupersedingReconcilerStaleSnapshot)) {
        for (const ReconcileResult& earlier : joined) {
          CatchUpSnapshot(input, earlier, available_now);
        }
      }
    }
    // Pre-#10352 (defect #8) the reconciler's failure flag started false, so a reconcile that
    // failed (or was cancelled) before notifying reported no pending notification and dropped
    // the shard's flag; the pending notification was re-sent, best effort, only after a
    // successful reconcile (upstream TenantShard::reconcile: `if result.is_ok() && must_notify`).
    const bool pre_10352 = context_.Defect(kDefectPendingNotifyDroppedOnFailure);
    const bool must_notify = input.shard.pending_compute_notification;
    const TenantShardId shard_id = input.shard.id;
    const uint32_t stripe_size = input.shard.stripe_size;
    const std::optional<std::string> preferred_az = input.shard.intent.preferred_az;
    const std::optional<NodeId> attached = input.shard.intent.attached;
    const CancelToken cancel = input.cancel;
    if (pre_10352) input.shard.pending_compute_notification = false;
    Reconciler reconciler(context_, db_, pageservers_, compute_hook_, std::move(input),
                          available_now);
    ReconcileResult result = reconciler.Run();
    result.pending_at_spawn = must_notify;
    result.re_attaches_at_spawn = re_attaches_at_spawn;
    if (pre_10352 && result.status.ok() && must_notify && attached) {
      const NotifyOutcome outcome =
          compute_hook_.Notify(shard_id, stripe_size, preferred_az, *attached, cancel);
      result.pending_compute_notification = outcome != NotifyOutcome::kOk;
    }
    (priority == Priority::kHigh ? units_high_ : units_normal_).Release();
    joined.push_back(result);
    if (joined.size() > kJoinedResultsMax) joined.erase(joined.begin());
    *handle.outcomes = std::move(joined);
    results_.Send(std::move(result));
    handle.done->Set();
    if (--reconcilers_in_flight_ == 0) reconcilers_idle_.Set();
  });
}

void Service::ProcessResultsLoop() {
  for (uint64_t processed = 0; processed < (uint64_t{1} << 40); ++processed) {
    std::optional<ReconcileResult> result = results_.Receive();
    if (!result) return;
    if (result->stop) {
      results_stopped_.Set();
      return;
    }
    ApplyResult(*result);
    if (result->status.ok()) RetrySiblingsWaitingForNotify(result->shard);
    DrainDelayedQueue();
  }
}

void Service::RetrySiblingsWaitingForNotify(const TenantShardId& done) {
  // A sibling stopped before a demotion because the tenant's notification could not go out;
  // a reconcile of the tenant succeeded since, so the notification may be sendable now. Without
  // this the sibling waits for the 20 s loop (shard-split 7155: six shards of a split tenant
  // still pending at the end of the quiet period, seconds after a sibling's notification went
  // out).
  std::vector<TenantShardId> waiting;
  for (auto it = shards_.lower_bound(TenantShardId{done.tenant_id, 0, 0});
       it != shards_.end() && it->first.tenant_id == done.tenant_id; ++it) {
    if (it->first != done && it->second.waits_for_tenant_notify) waiting.push_back(it->first);
  }
  for (const TenantShardId& id : waiting) MaybeReconcile(id, Priority::kNormal);
}

void Service::ApplyResult(const ReconcileResult& result) {
  auto it = shards_.find(result.shard);
  if (it == shards_.end()) return;  // tenant gone
  TenantShard& shard = it->second;
  if (result.generation > shard.generation) shard.generation = result.generation;
  // An increment named a node; it counts if the reconcile started after the latest policy write
  // that cleared the name (an older one's increment may have come before that write).
  const bool named_after_failed_write =
      result.named_at && shard.generation_pageserver_maybe_cleared_at &&
      *result.named_at > *shard.generation_pageserver_maybe_cleared_at;
  if ((!result.generation_pageserver_null &&
       result.sequence >= shard.generation_pageserver_cleared_sequence) ||
      named_after_failed_write) {
    shard.generation_pageserver_null = false;
  }
  // A notification that failed in the background while the reconciler ran (the start-up
  // notifications) set the flag after the snapshot; the result knows nothing of it, so writing
  // the result's flag over it would lose the retry (upstream process_result does:
  // kDefectResultOverwritesPendingNotify).
  const bool set_meanwhile = shard.pending_compute_notification && !result.pending_at_spawn;
  shard.pending_compute_notification =
      result.pending_compute_notification ||
      (set_meanwhile && !context_.Defect(kDefectResultOverwritesPendingNotify));
  if (shard.reconciler && shard.reconciler->sequence <= result.sequence) shard.reconciler.reset();
  shard.waits_for_tenant_notify = result.waits_for_tenant_notify;

  // Observed deltas: what the reconciler changed, applied on top of what we know now.
  for (const ObservedDelta& delta : ObservedDeltas(result)) {
    const NodeId node = delta.node;
    const bool had = delta.before.has_value();
    const bool has = delta.after.has_value();
    auto node_it = nodes_.find(node);
    const bool available = node_it != nodes_.end() && node_it->second.available();
    auto current = shard.observed.locations.find(node);
    const bool present = current != shard.observed.locations.end();
    // A re-attach while the reconciler ran means the node restarted: what the reconciler saw
    // was the previous incarnation even when the entry itself looks untouched (an unknown entry
    // stays unknown through a re-attach; db-outage 1514).
    auto spawned = result.re_attaches_at_spawn.find(node);
    const bool restarted = node_it != nodes_.end() && spawned != result.re_attaches_at_spawn.end() &&
                           spawned->second != node_it->second.re_attaches;
    const bool changed_meanwhile =
        restarted || ((present != had || (had && current->second != *delta.before)) &&
                      !(present && has && current->second == *delta.after));
    if (changed_meanwhile && !context_.Defect(kDefectResultClobbersConcurrentObserved)) {
      // Someone else (a re-attach, an activation, a heartbeat) recorded this node while the
      // reconciler ran: neither view is known to be current, so ask the node before acting.
      SIM_MARK("ctl.result_observed_conflict");
      shard.observed.locations[node] = std::nullopt;
    } else if (!available) {
      shard.observed.locations[node] = std::nullopt;
    } else if (has) {
      shard.observed.locations[node] = *delta.after;
    } else if (result.status.ok()) {
      shard.observed.locations.erase(node);
    } else {
      shard.observed.locations[node] = std::nullopt;  // an error makes deletions uncertain
    }
  }
  if (result.status.ok()) {
    shard.last_error.clear();
    shard.consecutive_reconciles = 0;
  } else {
    shard.last_error = result.status.ToString();
  }
  shard.AdvanceWaiter(result.sequence, result.status.ok(), context_.env().scheduler());
  context_.Emit(events::kReconcileEnd,
                {TraceField::Str("shard", shard.id.ToString()),
                 TraceField::Int("sequence", static_cast<int64_t>(result.sequence)),
                 TraceField::Str("result", result.status.ok() ? "ok"
                                           : result.status.code() == absl::StatusCode::kCancelled
                                               ? "cancelled"
                                               : "error"),
                 TraceField::Str("error", result.status.ok() ? "" : result.status.ToString()),
                 TraceField::Int("generation", GenerationField(shard.generation)),
                 TraceField::Int("pending_notify", shard.pending_compute_notification ? 1 : 0)});
}

void Service::DrainDelayedQueue() {
  const size_t bound = delayed_.size();
  for (size_t i = 0; i < bound && !delayed_.empty(); ++i) {
    if (units_normal_.available() == 0) return;
    TenantShardId id = delayed_.front();
    delayed_.pop_front();
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    it->second.delayed_reconcile = false;
    MaybeReconcile(id, Priority::kNormal);
  }
}

size_t Service::ReconcileAll() {
  size_t spawned = 0;
  std::vector<TenantShardId> ids;
  for (const auto& [id, shard] : shards_) ids.push_back(id);
  for (const TenantShardId& id : ids) {
    auto it = shards_.find(id);
    if (it == shards_.end()) continue;
    const bool had_reconciler = it->second.reconciler.has_value();
    const uint64_t sequence_before = it->second.reconciler ? it->second.reconciler->sequence : 0;
    MaybeReconcile(id, Priority::kNormal);
    it = shards_.find(id);
    if (it != shards_.end() && it->second.reconciler &&
        (!had_reconciler || it->second.reconciler->sequence != sequence_before)) {
      ++spawned;
    }
  }
  return spawned;
}

absl::Status Service::WaitForSequence(const TenantShardId& shard_id, uint64_t sequence,
                                      sim::Duration timeout) {
  const sim::Instant deadline = context_.env().DeadlineAfter(timeout);
  for (int round = 0; round < 1'000'000; ++round) {
    auto it = shards_.find(shard_id);
    if (it == shards_.end()) return absl::NotFoundError("shard gone");
    TenantShard& shard = it->second;
    if (shard.waiter >= sequence) return absl::OkStatus();
    if (shard.error_waiter >= sequence) return absl::InternalError(shard.last_error);
    if (!shard.progress) shard.progress = std::make_shared<sim::Event>(context_.env().scheduler());
    std::shared_ptr<sim::Event> progress = shard.progress;
    if (!progress->Wait(deadline)) return absl::DeadlineExceededError("reconcile wait timed out");
  }
  return absl::DeadlineExceededError("reconcile wait bound");
}

}  // namespace storsim::controller
