// Shard split (see shard_split.h for the steps, the abort path and bug #2's switch).
#include "model/controller/shard_split.h"

#include <algorithm>
#include <functional>
#include <string>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"
#include "model/pageserver/split_api.h"

namespace storsim::controller {

using sim::TraceField;

namespace {

// DB abort attempts (1 s apart) before giving the tenant up to the next leader's start-up abort.
constexpr int kAbortAttempts = 30;
// Pageserver split attempts (an explicit 503 is retried; a lost reply is not).
constexpr int kPageserverSplitAttempts = 3;
constexpr sim::Duration kPageserverSplitTimeout = sim::Duration::Seconds(30);
// How often the split looks at its node while the pageserver call runs, and a bound on the
// rounds (longer than every attempt with its back-off).
constexpr sim::Duration kNodeWatchPeriod = sim::Duration::Millis(250);
constexpr int kNodeWatchRounds = 1000;

}  // namespace

void Service::EmitSplit(const std::string& tenant, uint8_t old_count, uint8_t new_count,
                        const char* phase, const std::string& result) {
  context_.Emit(events::kSplit,
                {TraceField::Str("tenant", tenant), TraceField::Int("old_count", old_count),
                 TraceField::Int("new_count", new_count), TraceField::Str("phase", phase),
                 TraceField::Str("result", result)});
}

void Service::RegisterShardSplitHandler() {
  context_.env().rpc().Serve(
      kTenantShardSplit,
      std::function<TenantShardSplitResponse(const TenantShardSplitRequest&,
                                             const sim::CallContext&)>(
          [this](const TenantShardSplitRequest& request, const sim::CallContext&) {
            // The tenant-mutating gating of http_gate.cc's Serve (not reachable from here: its
            // template lives in that file).
            if (status_ == LeadershipStatus::kCandidate && LeaseProtocol()) {
              return ForwardShardSplit(request);
            }
            if (status_ == LeadershipStatus::kCandidate) {
              context_.Emit(events::kHttp503, {TraceField::Str("method", kTenantShardSplit.name),
                                               TraceField::Str("reason", "candidate")});
              return TenantShardSplitResponse{api::Http::kServiceUnavailable, {}};
            }
            if (status_ == LeadershipStatus::kSteppedDown) return ForwardShardSplit(request);
            if (!WaitForStartup()) {
              return TenantShardSplitResponse{api::Http::kRequestTimeout, {}};
            }
            return HandleTenantShardSplit(request);
          }));
}

TenantShardSplitResponse Service::ForwardShardSplit(const TenantShardSplitRequest& request) {
  auto leader = CurrentLeaderAddress();
  const char* reason = nullptr;
  if (!leader.ok() || !leader->has_value()) {
    reason = "no_leader";
  } else if (**leader == context_.address()) {
    reason = "self_leader";
  }
  if (reason != nullptr) {
    context_.Emit(events::kHttp503, {TraceField::Str("method", kTenantShardSplit.name),
                                     TraceField::Str("reason", reason)});
    return TenantShardSplitResponse{api::Http::kServiceUnavailable, {}};
  }
  const sim::ProcessId target = context_.Resolve(**leader);
  absl::StatusOr<TenantShardSplitResponse> reply =
      target < 0 ? absl::StatusOr<TenantShardSplitResponse>(absl::UnavailableError("unresolved"))
                 : context_.env().rpc().Call(target, kTenantShardSplit, request,
                                             context_.timings().forward_timeout);
  context_.Emit(events::kForward, {TraceField::Str("method", kTenantShardSplit.name),
                                   TraceField::Str("target", **leader),
                                   TraceField::Str("result", reply.ok() ? "ok" : "transport")});
  if (!reply.ok()) return TenantShardSplitResponse{api::Http::kInternalError, {}};
  return *reply;
}

TenantShardSplitResponse Service::HandleTenantShardSplit(const TenantShardSplitRequest& request) {
  TenantShardSplitResponse response;
  const std::string& tenant = request.tenant_id;
  const uint8_t new_count = request.new_shard_count;
  std::vector<TenantShardId> parents;
  for (auto it = shards_.lower_bound(TenantShardId{tenant, 0, 0});
       it != shards_.end() && it->first.tenant_id == tenant; ++it) {
    parents.push_back(it->first);
  }
  const uint8_t old_count = parents.empty() ? 0 : parents.front().shard_count;
  auto refuse = [&](api::Http status, const std::string& reason) {
    response.status = status;
    EmitSplit(tenant, old_count, new_count, "refused", reason);
    return response;
  };
  if (reconcilers_gate_closed_) return refuse(api::Http::kServiceUnavailable, "shutting_down");
  if (parents.empty()) return refuse(api::Http::kNotFound, "no_tenant");
  if (splitting_tenants_.count(tenant) > 0) return refuse(api::Http::kConflict, "in_progress");
  // The start-up clean-up may still detach children an aborted split left: not under a new split.
  if (cleanup_pending_.count(tenant) > 0) {
    return refuse(api::Http::kServiceUnavailable, "cleanup_pending");
  }
  for (const TenantShardId& id : parents) {
    if (id.shard_count != old_count) return refuse(api::Http::kConflict, "mixed_counts");
  }
  if (old_count == new_count) {
    for (const TenantShardId& id : parents) response.shards.push_back(Placement(shards_.at(id)));
    EmitSplit(tenant, old_count, new_count, "done", "already_split");
    return response;
  }
  const int parent_count = old_count == 0 ? 1 : old_count;
  if (static_cast<int>(parents.size()) != parent_count || new_count < 2 * parent_count ||
      new_count % parent_count != 0) {
    return refuse(api::Http::kBadRequest, "bad_count");
  }
  // Every parent stably attached: the pageserver splits only an AttachedSingle location.
  std::vector<SplitTarget> targets;
  for (const TenantShardId& id : parents) {
    const TenantShard& shard = shards_.at(id);
    if (shard.policy.kind != PlacementPolicy::Kind::kAttached || !shard.intent.attached ||
        shard.reconciler || shard.splitting) {
      return refuse(api::Http::kServiceUnavailable, "not_stable " + id.ToString());
    }
    const NodeId node = *shard.intent.attached;
    auto node_it = nodes_.find(node);
    auto observed = shard.observed.locations.find(node);
    if (node_it == nodes_.end() || !node_it->second.available() ||
        observed == shard.observed.locations.end() || !observed->second ||
        observed->second->mode != api::LocationMode::kAttachedSingle ||
        observed->second->generation != shard.generation) {
      return refuse(api::Http::kServiceUnavailable, "not_attached " + id.ToString());
    }
    targets.push_back({id, node, shard.generation});
  }

  // The split holds the reconcilers gate (PR #11412): StopReconcilers waits for it.
  class GateGuard {
   public:
    GateGuard(Service& service, bool hold) : service_(service), hold_(hold) {
      if (!hold_) return;
      ++service_.reconcilers_in_flight_;
      service_.reconcilers_idle_.Reset();
    }
    ~GateGuard() { Leave(); }
    void Leave() {
      if (!hold_) return;
      hold_ = false;
      SIM_CHECK(service_.reconcilers_in_flight_ > 0);
      if (--service_.reconcilers_in_flight_ == 0) service_.reconcilers_idle_.Set();
    }

   private:
    Service& service_;
    bool hold_;
  };
  const bool defect = context_.Defect(kDefectStepDownIgnoresSplits);
  GateGuard gate(*this, !defect);
  splitting_tenants_.insert(tenant);
  for (const SplitTarget& target : targets) shards_.at(target.parent).splitting = true;
  SIM_MARK("ctl.split.begin");

  // 1. Persist begin.
  absl::Status status = db_.BeginShardSplit(tenant, old_count, new_count);
  EmitSplit(tenant, old_count, new_count, "begin", status.ok() ? "ok" : status.ToString());
  std::vector<api::ShardPlacement> committed;
  if (!status.ok()) {
    // An ambiguous begin may have committed: abort (harmless when it did not).
    AbortSplit(tenant, targets, new_count, /*pageservers_called=*/false, &committed);
    response.status = status.code() == absl::StatusCode::kAlreadyExists
                          ? api::Http::kConflict
                          : api::Http::kServiceUnavailable;
    return response;
  }
  // 2. The pageservers split the parents. Each node that has split keeps its children only for
  // as long as its process lives: a restart's re-attach is answered before the children are in
  // memory, so the node deletes them and attaches the parent again (at a new generation). The
  // split is complete only if every node still holds what it split (checked below).
  std::vector<std::pair<NodeId, uint64_t>> split_nodes;
  for (const SplitTarget& target : targets) {
    auto node_it = nodes_.find(target.node);
    const uint64_t re_attaches_begun =
        node_it == nodes_.end() ? 0 : node_it->second.re_attaches_begun;
    status = SplitOnPageserver(target, new_count);
    EmitSplit(tenant, old_count, new_count, "pageserver",
              status.ok() ? "ok" : target.parent.ToString() + ": " + status.ToString());
    if (!status.ok()) break;
    split_nodes.push_back({target.node, re_attaches_begun});
  }
  if (status.ok() && !context_.Defect(kDefectSplitCompletesAfterNodeRestart)) {
    status = SplitNodesStillHoldChildren(split_nodes);
    if (!status.ok()) EmitSplit(tenant, old_count, new_count, "pageserver", status.ToString());
  }
  // 3. Persist complete (pre-#11256 variant with the defect).
  if (status.ok()) {
    status = defect ? db_.CompleteShardSplitUnchecked(tenant, old_count, new_count)
                    : db_.CompleteShardSplit(tenant, old_count, new_count);
    EmitSplit(tenant, old_count, new_count, "complete", status.ok() ? "ok" : status.ToString());
  }
  if (!status.ok()) {
    if (!AbortSplit(tenant, targets, new_count, /*pageservers_called=*/true, &committed)) {
      response.status = api::Http::kServiceUnavailable;
      return response;
    }
    response.shards = std::move(committed);  // the complete had committed after all
    return response;
  }
  // 4. Memory.
  response.shards = CommitSplitInMemory(targets, new_count);
  gate.Leave();
  // Wait (bounded) for the children's reconciles (their secondaries), as upstream does.
  for (const api::ShardPlacement& placement : response.shards) {
    std::optional<uint64_t> waiter = MaybeReconcile(placement.shard, Priority::kHigh);
    if (waiter) (void)WaitForSequence(placement.shard, *waiter, context_.timings().reconcile_wait);
  }
  return response;
}

absl::Status Service::SplitNodesStillHoldChildren(
    const std::vector<std::pair<NodeId, uint64_t>>& split_nodes) {
  // A node that restarted after its part of the split has dropped the children, or will once its
  // re-attach is answered (counted when the request arrives, before its DB write: the answer
  // comes after it, shard-split 4124); completing would name children nothing holds, and
  // the node's activation would then detach the parent the computes still read from (S12 at
  // shard-split seed 1289 with 13.6 s splits: the other node's slow split outlasted the restart).
  // Upstream rolls a split back when a pageserver fails during it (RFC 032: shards stay pinned
  // until the split is done, and a split that cannot finish on every node is aborted).
  for (const auto& [node, re_attaches_begun] : split_nodes) {
    auto it = nodes_.find(node);
    if (it == nodes_.end() || it->second.re_attaches_begun != re_attaches_begun) {
      SIM_MARK("ctl.split.split_node_restarted");
      return absl::UnavailableError("node " + std::to_string(node) +
                                    " restarted after its split");
    }
  }
  return absl::OkStatus();
}

absl::Status Service::SplitOnPageserver(const SplitTarget& target, uint8_t new_count) {
  auto node_it = nodes_.find(target.node);
  if (node_it == nodes_.end()) return absl::NotFoundError("node unknown");
  // The call belongs to the pageserver process the split started on. When that process fails
  // meanwhile, the call ends at once and the split aborts: the node goes offline (its cancellation
  // token fires) or re-attaches (a new process; the re-attach marks it WarmingUp and moves
  // warming_up_since). Upstream learns the same from the connection: a killed pageserver resets
  // it, the split call fails and the split is rolled back (test_sharding_split_failures,
  // NodeKill), and its node's token cancels in-flight calls on ToOffline/ToWarmingUpFromActive.
  // The simulated crash loses the reply silently, so without this the split kept the parents
  // marked splitting for the whole call timeout, across the node's restart, whose re-attach and
  // activation then met children the controller did not know (shard-split seed 372).
  const sim::Instant started_warming_up = node_it->second.warming_up_since;
  const CancelToken node_cancel = node_it->second.cancel;
  CancelToken node_failed(context_.env().scheduler());
  CancelToken call_done(context_.env().scheduler());
  context_.env().Spawn("ctl.split.watch_node", [this, node = target.node, started_warming_up,
                                                node_cancel, node_failed, call_done]() mutable {
    for (int round = 0; round < kNodeWatchRounds; ++round) {
      (void)SleepCancellable(context_.env(), kNodeWatchPeriod, {call_done, node_cancel});
      if (call_done.cancelled()) return;
      auto it = nodes_.find(node);
      if (it == nodes_.end() || node_cancel.cancelled() ||
          it->second.availability != api::NodeAvailability::kActive ||
          it->second.warming_up_since != started_warming_up) {
        SIM_MARK("ctl.split.node_failed");
        node_failed.Cancel();
        return;
      }
    }
  });
  struct Done {
    CancelToken token;
    ~Done() { token.Cancel(); }
  } done{call_done};
  const absl::Status node_failure =
      absl::UnavailableError("node " + std::to_string(target.node) +
                             " went offline or restarted during the split");
  absl::Status last = absl::UnavailableError("not called");
  for (int attempt = 0; attempt < kPageserverSplitAttempts; ++attempt) {
    if (attempt > 0 &&
        !SleepCancellable(context_.env(),
                          BackoffBeforeAttempt(attempt, context_.timings().backoff_cap),
                          {node_failed})) {
      return node_failure;
    }
    if (node_failed.cancelled()) return node_failure;
    const NodeRef ref = RefFor(target.node);
    if (ref.process < 0) return absl::NotFoundError("node unresolved");
    absl::StatusOr<pageserver::ShardSplitResponse> reply = CallCancellable(
        context_.env(), ref.process, pageserver::kShardSplit,
        pageserver::ShardSplitRequest{target.parent, new_count}, kPageserverSplitTimeout,
        {node_failed});
    if (!reply.ok() && node_failed.cancelled()) return node_failure;
    // Only an explicit 503 (refused, nothing done) is sent again. After a lost reply the call
    // may still run, or its process may be gone: a new attempt could reach the node's next
    // incarnation and split a parent re-attached in a generation this split never saw (L1 at
    // shard-split 4079: a stepped-down leader's retry made Secondary children AttachedSingle).
    // Upstream sends the split once and fails on any error.
    if (!reply.ok()) return reply.status();
    if (reply->status == api::Http::kOk) return absl::OkStatus();
    if (reply->status != api::Http::kServiceUnavailable) return HttpError(reply->status);
    last = HttpError(reply->status);
  }
  return last;
}

std::vector<api::ShardPlacement> Service::CommitSplitInMemory(
    const std::vector<SplitTarget>& targets, uint8_t new_count) {
  SIM_CHECK(!targets.empty());
  const std::string tenant = targets.front().parent.tenant_id;
  // The children's committed generations: a re-attach of the split node between the pageserver
  // split and the complete moved them on, and then the split's attachment is not theirs.
  std::vector<TenantShardId> child_ids;
  for (const SplitTarget& target : targets) {
    for (const TenantShardId& child : pageserver::SplitChildren(target.parent, new_count)) {
      child_ids.push_back(child);
    }
  }
  auto generations = db_.ShardGenerations(child_ids);
  std::vector<api::ShardPlacement> placements;
  std::vector<std::pair<NodeId, TenantShardId>> parent_secondaries;
  for (const SplitTarget& target : targets) {
    auto parent_it = shards_.find(target.parent);
    SIM_CHECK_MSG(parent_it != shards_.end(), "a splitting parent left memory");
    const TenantShard parent = parent_it->second;
    shards_.erase(parent_it);
    for (const auto& [node, config] : parent.observed.locations) {
      if (node != target.node) parent_secondaries.push_back({node, target.parent});
    }
    for (const TenantShardId& child_id : pageserver::SplitChildren(target.parent, new_count)) {
      TenantShard child;
      child.id = child_id;
      child.stripe_size = parent.stripe_size;
      child.policy = parent.policy;
      child.scheduling_policy = parent.scheduling_policy;
      child.intent = parent.intent;
      child.generation = target.generation;
      child.generation_pageserver_null = parent.generation_pageserver_null;
      std::optional<Generation> committed;
      if (generations.ok()) {
        auto found = generations->find(child_id);
        if (found != generations->end()) committed = found->second;
      }
      if (committed && *committed > child.generation) child.generation = *committed;
      child.progress = std::make_shared<sim::Event>(context_.env().scheduler());
      // The pageserver attached the child at the split generation; if the DB moved on, what is
      // there is unknown until a reconcile looks.
      api::LocationConfig attached = child.AttachedConfig(context_.term());
      attached.generation = target.generation;
      if (committed && *committed != target.generation) {
        child.observed.locations[target.node] = std::nullopt;
      } else {
        child.observed.locations[target.node] = attached;
      }
      child.pending_compute_notification = true;
      TenantShard& stored = shards_[child_id] = std::move(child);
      BumpSequence(stored, "split");
      placements.push_back(Placement(stored));
      compute_hook_.Record(child_id, stored.stripe_size, stored.intent.preferred_az, target.node);
    }
  }
  splitting_tenants_.erase(tenant);
  EmitSplit(tenant, targets.front().parent.shard_count, new_count, "done", "ok");
  // The compute learns the new shard count (a failure leaves the notification pending).
  if (compute_hook_.Flush(tenant, reconcilers_cancel_) == NotifyOutcome::kOk) {
    for (const api::ShardPlacement& placement : placements) {
      auto it = shards_.find(placement.shard);
      if (it != shards_.end()) it->second.pending_compute_notification = false;
    }
  }
  // The parents' secondary locations belong to no shard now (best effort; a leader's start-up
  // scan detaches what is left).
  for (const auto& [node, parent_id] : parent_secondaries) {
    auto node_it = nodes_.find(node);
    if (node_it == nodes_.end() || !node_it->second.available()) continue;
    api::LocationConfig detach;
    detach.mode = api::LocationMode::kDetached;
    detach.controller_term = context_.term();
    (void)pageservers_.PutLocationConfig(RefFor(node), parent_id, detach, sim::Duration::Zero(),
                                         reconcilers_cancel_);
  }
  return placements;
}

bool Service::AbortSplit(const std::string& tenant, const std::vector<SplitTarget>& targets,
                         uint8_t new_count, bool pageservers_called,
                         std::vector<api::ShardPlacement>* committed) {
  SIM_MARK("ctl.split.abort");
  const uint8_t old_count = targets.front().parent.shard_count;
  absl::StatusOr<persistence::AbortShardSplitStatus> aborted = absl::UnavailableError("not tried");
  for (int attempt = 0; attempt < kAbortAttempts; ++attempt) {
    if (attempt > 0) context_.env().Sleep(sim::Duration::Seconds(1));
    aborted = db_.AbortShardSplit(tenant, new_count);
    if (aborted.ok()) break;
  }
  EmitSplit(tenant, old_count, new_count, "abort",
            !aborted.ok() ? aborted.status().ToString()
            : *aborted == persistence::AbortShardSplitStatus::kComplete ? "complete"
                                                                        : "aborted");
  if (aborted.ok() && *aborted == persistence::AbortShardSplitStatus::kComplete) {
    // The parents are gone: the complete committed although its reply said otherwise.
    *committed = CommitSplitInMemory(targets, new_count);
    return true;
  }
  if (!aborted.ok()) {
    // Parents stay marked splitting (no reconcile); the next leader's start-up aborts the split.
    SIM_MARK("ctl.split.abort_failed");
    return false;
  }
  if (pageservers_called) {
    // Children the pageservers may have attached go; parents are re-established by reconcile.
    for (const SplitTarget& target : targets) {
      for (const TenantShardId& child : pageserver::SplitChildren(target.parent, new_count)) {
        auto node_it = nodes_.find(target.node);
        if (node_it == nodes_.end() || !node_it->second.available()) continue;
        api::LocationConfig detach;
        detach.mode = api::LocationMode::kDetached;
        detach.controller_term = context_.term();
        (void)pageservers_.PutLocationConfig(RefFor(target.node), child, detach,
                                             sim::Duration::Zero(), reconcilers_cancel_);
      }
    }
  }
  for (const SplitTarget& target : targets) {
    auto it = shards_.find(target.parent);
    if (it == shards_.end()) continue;
    it->second.splitting = false;
    if (pageservers_called) it->second.observed.locations[target.node] = std::nullopt;
    Schedule(it->second, "split_abort");
  }
  splitting_tenants_.erase(tenant);
  for (const SplitTarget& target : targets) (void)MaybeReconcile(target.parent, Priority::kHigh);
  return false;
}

}  // namespace storsim::controller
