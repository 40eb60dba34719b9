// Service start-up (SPEC.md §3.2 all steps) and background loops (step 8), plus the snapshot.
#include "model/controller/service.h"

#include <algorithm>
#include <set>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller {

using sim::TraceField;

Service::Service(sim::Env& env, const ControllerOptions& options, const api::Defects& defects,
                 std::unique_ptr<persistence::Persistence> persistence)
    : context_(env, options, defects),
      db_(context_, std::move(persistence)),
      pageservers_(context_),
      compute_hook_(context_),
      startup_complete_event_(env.scheduler()),
      reconcilers_cancel_(env.scheduler()),
      reconcilers_idle_(env.scheduler()),
      units_normal_(env.scheduler(), options.timings.reconciler_concurrency),
      units_high_(env.scheduler(), options.timings.reconciler_concurrency_high),
      results_(env.scheduler(), 4096),
      results_stopped_(env.scheduler()) {
  reconcilers_idle_.Set();
}

Service::~Service() = default;

void Service::ExitProcess(const char* reason) {
  context_.Emit(events::kExit, {TraceField::Str("reason", reason)});
  context_.env().Exit();
}

void Service::Run() {
  const ControllerOptions& options = context_.options();
  const bool naive = options.protocol == LeadershipProtocol::kNaive;
  const bool lease = options.protocol == LeadershipProtocol::kLease ||
                     options.protocol == LeadershipProtocol::kLeaseFenced;
  status_ = (naive || (!lease && !options.start_as_candidate)) ? LeadershipStatus::kLeader
                                                                : LeadershipStatus::kCandidate;
  context_.Emit(events::kStatus, {TraceField::Str("status", LeadershipStatusName(status_)),
                                  TraceField::Str("protocol", LeadershipProtocolName(options.protocol)),
                                  TraceField::Str("reason", "start")});
  // The HTTP server runs from the start: /status answers 200 at once, a candidate 503s the rest.
  RegisterHandlers();
  RegisterShardSplitHandler();

  // Step 1: wait for the database.
  if (!WaitForDatabase()) ExitProcess("database unreachable");

  std::optional<std::vector<api::ObservedShard>> handed_over;
  bool unfenced_takeover = false;   // run the takeover re-sync
  bool step_down_failed = false;    // this instance's own step-down request never got an answer
  if (options.protocol == LeadershipProtocol::kStepDown) {
    // Step 2: who leads now.
    auto leader = db_.GetLeader();
    if (!leader.ok()) ExitProcess("get_leader failed");
    leader_at_start_ = *leader;
    if (context_.Defect(kDefectMigrationsBeforeStepDown)) RunMigrations();
    // Step 3: step the old leader down, unless this is a restart of that same leader.
    const bool self_restart = leader_at_start_ && leader_at_start_->address == options.address &&
                              !context_.Defect(kDefectNoSelfRestartCheck);
    if (leader_at_start_ && !self_restart && options.start_as_candidate) {
      std::optional<api::StepDownResponse> response = StepDownLeaderAtStart();
      if (response) handed_over = response->observed;
      unfenced_takeover = !response.has_value();
      step_down_failed = unfenced_takeover;
    }
    // A restart in place of a leader that took over less than the re-sync delay ago: that
    // incarnation's takeover may have been unfenced and its re-sync had not run yet, so the old
    // leader may still be acting (db-outage 3993: a rollout replaced the new pod right after
    // its unfenced takeover). Run the re-sync on its behalf.
    if (self_restart && context_.env().WallNanos() / 1000 - leader_at_start_->started_at <
                            context_.timings().takeover_resync_delay.nanos() / 1000) {
      unfenced_takeover = true;
    }
    // Step 4: migrations only after step-down (PR #8756).
    if (!context_.Defect(kDefectMigrationsBeforeStepDown)) RunMigrations();
  } else if (lease) {
    if (!AcquireLease()) return;  // shut down while waiting
    RunMigrations();
  } else {
    RunMigrations();
  }

  // Steps 5–6: load the database.
  if (!LoadState()) ExitProcess("loading state failed");
  results_loop_started_ = true;
  context_.env().Spawn("ctl.process_results", [this] { ProcessResultsLoop(); });

  // Step 7: startup_reconcile (a–c inside), then become leader (d–e), notify (f), reconcile (g).
  std::vector<std::pair<NodeId, TenantShardId>> unknown = StartupReconcile(handed_over);
  if (options.protocol == LeadershipProtocol::kStepDown) {
    // A stop requested during start-up: taking the row only to exit would leave it naming a dead
    // process (ctl-stopping-candidate-takes-leadership). Leave it with its holder.
    if (context_.env().shutdown_requested().is_set() &&
        !context_.Defect(kDefectStoppingCandidateTakesLeadership)) {
      SIM_MARK("ctl.startup.stopped_before_cas");
      context_.Emit(events::kExit, {TraceField::Str("reason", "stopped before taking leadership")});
      StopReconcilers();
      return;
    }
    if (!BecomeLeader()) ExitProcess("leader CAS failed");
  }
  if (status_ != LeadershipStatus::kLeader) SetStatus(LeadershipStatus::kLeader, "startup");
  // After an unfenced takeover the old leader may still be acting, and what it last told the
  // control plane is fresher than this instance's start-up view: announcing that view would
  // point computes back at locations the old leader already moved away from (db-outage 3682,
  // 4529). The re-sync announces every placement once it re-read them.
  // (Not after a restart in place: what this process told the control plane before it
  // restarted is what its start-up view holds, and the notifications guard its demotions.)
  if (!step_down_failed || context_.Defect(kDefectUnfencedTakeoverTrustsStartup)) {
    StartupComputeNotifications();
  } else {
    SIM_MARK("ctl.startup_notify_deferred_to_resync");
    MarkStartupDemotionsPending();
  }
  ReconcileAll();
  startup_complete_ = true;
  startup_complete_event_.Set();
  context_.Emit(events::kStartupComplete,
                {TraceField::Int("shards", static_cast<int64_t>(shards_.size())),
                 TraceField::Int("nodes", static_cast<int64_t>(nodes_.size()))});

  // Step 8: background loops, and the detach of shards the DB does not know.
  if (!unknown.empty()) {
    for (const auto& entry : unknown) ++cleanup_pending_[entry.second.tenant_id];
    context_.env().Spawn("ctl.detach_unknown",
                         [this, unknown]() mutable { DetachUnknownShards(std::move(unknown)); });
  }
  SpawnBackgroundLoops();
  if (unfenced_takeover && !context_.Defect(kDefectUnfencedTakeoverTrustsStartup)) {
    takeover_resync_pending_ = true;
    context_.env().Spawn("ctl.takeover_resync", [this] {
      ResyncAfterUnfencedTakeover();
      takeover_resync_pending_ = false;
      takeover_resync_done_at_ = context_.env().scheduler().Now();
    });
  }
  context_.env().shutdown_requested().Wait();
  // Graceful stop: release a held lease so a successor need not wait for expiry.
  if (lease) ReleaseLease();
  StopReconcilers();
}

bool Service::KeepsNullGenerationPageserver() const {
  return context_.Defect(kDefectAttachKeepsNullGenerationPageserver) ||
         context_.Defect(kDefectReconcileAbortsOnFirstError);
}

bool Service::WaitForDatabase() {
  const sim::Instant give_up = context_.env().DeadlineAfter(context_.timings().db_connect_timeout);
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    auto nodes = db_.ListNodes();
    if (nodes.ok()) return true;
    if (context_.env().scheduler().Now() >= give_up) return false;
    context_.env().Sleep(context_.timings().db_connect_poll);
  }
  return false;
}

void Service::RunMigrations() {
  // Schema migrations are not modelled as schema changes; their position relative to the
  // step-down is what matters (bug #4), so they are an event.
  context_.Emit(events::kMigrations, {});
}

bool Service::LoadState() {
  auto node_rows = db_.ListNodes();
  if (!node_rows.ok()) return false;
  for (const persistence::NodeRow& row : *node_rows) {
    NodeState node;
    node.id = row.node_id;
    node.address = row.listen_http_addr;
    node.port = row.listen_http_port;
    node.availability_zone = row.availability_zone_id;
    // A persisted Draining/Filling policy has no task after a restart (see below).
    node.policy = row.scheduling_policy;
    node.availability = api::NodeAvailability::kOffline;
    node.cancel = CancelToken(context_.env().scheduler());
    node.cancel.Cancel();  // offline: calls to it abort until it becomes active
    context_.Emit(events::kNodeLoaded,
                  {TraceField::Int("node", row.node_id),
                   TraceField::Str("policy", persistence::NodeSchedulingPolicyName(row.scheduling_policy))});
    nodes_[row.node_id] = std::move(node);
  }
  // No drain or fill survives a restart, so a persisted Draining/Filling policy would never end
  // (SPEC §12 code-reading hazard, kDefectPersistedOperationWithoutTask, kept as upstream reads
  // when the switch is on). By default such a node goes back to Active, DB first, then memory.
  if (!context_.Defect(kDefectPersistedOperationWithoutTask)) {
    for (const persistence::NodeRow& row : *node_rows) {
      if (row.scheduling_policy != NodeSchedulingPolicy::kDraining &&
          row.scheduling_policy != NodeSchedulingPolicy::kFilling) {
        continue;
      }
      SIM_MARK("ctl.persisted_operation_reset");
      if (!SetNodePolicy(row.node_id, NodeSchedulingPolicy::kActive,
                         "persisted operation without task")
               .ok()) {
        return false;
      }
    }
  }
  auto shard_rows = db_.ListTenantShards();
  if (!shard_rows.ok()) return false;
  // Abort half-done splits: tenants whose rows have mixed shard counts keep their parents.
  std::map<std::string, std::set<uint8_t>> counts;
  for (const auto& row : *shard_rows) counts[row.id.tenant_id].insert(row.id.shard_count);
  std::set<std::string> aborted;
  for (const auto& [tenant, tenant_counts] : counts) {
    if (tenant_counts.size() < 2) continue;
    auto result = db_.AbortShardSplit(tenant, *tenant_counts.rbegin());
    if (!result.ok()) return false;
    aborted.insert(tenant);
  }
  if (!aborted.empty()) {
    shard_rows = db_.ListTenantShards();
    if (!shard_rows.ok()) return false;
  }
  for (const persistence::TenantShardRow& row : *shard_rows) {
    TenantShard shard;
    shard.id = row.id;
    shard.stripe_size = row.shard_stripe_size;
    shard.policy = row.placement_policy;
    shard.generation = row.generation;
    shard.intent.preferred_az = row.preferred_az_id;
    shard.progress = std::make_shared<sim::Event>(context_.env().scheduler());
    // Step 6: seed the attachment from generation_pageserver when that node exists.
    if (row.generation_pageserver && nodes_.count(*row.generation_pageserver) &&
        shard.policy.kind == PlacementPolicy::Kind::kAttached) {
      shard.intent.attached = *row.generation_pageserver;
    }
    shard.generation_pageserver_null = !row.generation_pageserver.has_value() &&
                                       !row.generation.is_none() &&
                                       !KeepsNullGenerationPageserver();
    shards_[row.id] = std::move(shard);
  }
  return true;
}

std::vector<std::pair<NodeId, TenantShardId>> Service::StartupReconcile(
    const std::optional<std::vector<api::ObservedShard>>& handed_over) {
  // a. Observed state: the old leader's handover, else a scan of every node (no cross-check of
  //    the handover against the DB, as upstream). `scanned`: the nodes whose locations this
  //    instance knows, from its scan or from the handover. A node the handover names no known
  //    location on may hold nothing, or the old leader may never have listed it (it was cut off
  //    from the old leader's start on): then what it holds, a stale attachment included, is
  //    known to nobody (generations 2178). Such nodes are listed here (upstream trusts the
  //    handover: the hazard ctl-startup-activates-unscanned-nodes covers both paths).
  std::map<TenantShardId, ObservedState> observed;
  std::set<NodeId> scanned;
  if (handed_over) {
    for (const api::ObservedShard& shard : *handed_over) {
      for (const api::ObservedLocation& location : shard.locations) {
        observed[shard.shard].locations[location.node_id] = location.config;
        if (location.config) scanned.insert(location.node_id);
      }
    }
    std::set<NodeId> unlisted;
    for (const auto& [id, node] : nodes_) {
      if (scanned.count(id) == 0) unlisted.insert(id);
    }
    if (!unlisted.empty() && !context_.Defect(kDefectStartupActivatesUnscannedNodes)) {
      SIM_MARK("ctl.startup.handover_node_listed");
      for (auto& [shard, listed] : ScanLocations(&scanned, &unlisted)) {
        for (const auto& [node, config] : listed.locations) {
          observed[shard].locations[node] = config;
        }
      }
    }
  } else {
    observed = ScanLocations(&scanned);
  }
  // b. Initial heartbeat round: responders become Active (the fixed variant of
  //    ctl-startup-activates-unscanned-nodes: unless their locations are unknown).
  HeartbeatRound(/*initial=*/true, &scanned);
  // c. Intent from observed, then schedule; unknown shards are detached in the background.
  std::vector<std::pair<NodeId, TenantShardId>> unknown;
  for (auto& [id, shard_observed] : observed) {
    auto it = shards_.find(id);
    if (it == shards_.end()) {
      for (const auto& [node, config] : shard_observed.locations) unknown.push_back({node, id});
      continue;
    }
    it->second.observed = shard_observed;
  }
  // A node the scan did not reach may well hold the shards the DB says it holds: their observed
  // state there is unknown (None), not absent, so the first reconcile refreshes it instead of
  // incrementing (PR #7027's rule for re-attach; the node may answer the heartbeat round below
  // and so become Active without the activation listing that would mark it unknown).
  for (auto& [id, shard] : shards_) {
    if (!shard.intent.attached || scanned.count(*shard.intent.attached)) continue;
    shard.observed.locations.try_emplace(*shard.intent.attached, std::nullopt);
  }
  for (auto& [id, shard] : shards_) {
    shard.IntentFromObserved();
    ScheduleShard(shard, nodes_, shards_);
    BumpSequence(shard, "startup");  // traces the start-up intent of every shard
  }
  return unknown;
}

std::map<TenantShardId, ObservedState> Service::ScanLocations(std::set<NodeId>* answered,
                                                             const std::set<NodeId>* only) {
  const ControllerTimings& timings = context_.timings();
  const sim::Instant deadline = context_.env().DeadlineAfter(timings.location_scan_deadline);
  std::map<TenantShardId, ObservedState> observed;
  std::vector<std::pair<NodeId, sim::Future<absl::StatusOr<api::ListLocationConfigsResponse>>>>
      scans;
  for (const auto& [id, node] : nodes_) {
    if (only != nullptr && only->count(id) == 0) continue;
    sim::Promise<absl::StatusOr<api::ListLocationConfigsResponse>> promise(
        context_.env().scheduler());
    scans.push_back({id, promise.GetFuture()});
    NodeRef ref{id, context_.Resolve(node.address), CancelToken()};
    context_.env().Spawn("ctl.scan", [this, ref, deadline, promise]() mutable {
      promise.Set(pageservers_.ListLocationConfigs(ref, context_.timings().location_scan_timeout,
                                                   context_.timings().location_scan_attempts,
                                                   deadline, CancelToken()));
    });
  }
  for (auto& [node, future] : scans) {
    std::optional<absl::StatusOr<api::ListLocationConfigsResponse>> result = future.Wait(deadline);
    if (!result || !result->ok()) continue;  // nothing known about this node
    if (answered != nullptr) answered->insert(node);
    for (const auto& [shard, config] : (*result)->shards) {
      observed[shard].locations[node] = config;
    }
  }
  return observed;
}

void Service::MarkPendingIfDemoting(TenantShard& shard) {
  // A shard whose start-up reconcile will demote another attached location must not do so
  // before its placement reached the control plane: the reconciler learns of the outstanding
  // notification through the pending flag (see kDefectDemoteBeforePendingNotify; upstream's
  // reconcile_all races the background notification).
  if (context_.Defect(kDefectDemoteBeforePendingNotify)) return;
  for (const auto& [node, config] : shard.observed.locations) {
    if (node == *shard.intent.attached) continue;
    if (!config || api::IsAttached(config->mode)) {
      shard.pending_compute_notification = true;
      return;
    }
  }
}

void Service::MarkStartupDemotionsPending() {
  // The start-up notifications wait for the re-sync, but a reconcile that demotes another
  // attached location before then must still tell the control plane first (db-outage 2559: the
  // old attached node was made Secondary while the control plane still named it, S12).
  for (auto& [id, shard] : shards_) {
    if (!shard.intent.attached) continue;
    auto it = shard.observed.locations.find(*shard.intent.attached);
    if (it != shard.observed.locations.end() && it->second && api::IsAttached(it->second->mode)) {
      MarkPendingIfDemoting(shard);
    }
  }
}

void Service::StartupComputeNotifications() {
  // f. Notify for every stably attached shard, in the background; failures set the pending flag.
  //    As upstream (notify_background): the placements are the ones found at start-up, recorded
  //    in the compute hook now, so any later placement of the tenant (a reconciler's) is ordered
  //    after them; the background sends only flush the hook. Reading the intent at send time
  //    instead announced placements no reconciler had attached yet (S14, chaos/roll sweeps).
  std::map<std::string, std::vector<TenantShardId>> stable;  // tenant -> its stable shards
  for (auto& [id, shard] : shards_) {
    if (!shard.intent.attached) continue;
    auto it = shard.observed.locations.find(*shard.intent.attached);
    if (it == shard.observed.locations.end() || !it->second ||
        !api::IsAttached(it->second->mode)) {
      continue;
    }
    // An attachment older than the database's generation is not the newest placement: the
    // newest one's location is unknown here (a handover that had it in flux, a scan that missed
    // it), so announcing this one could point the compute back at a placement it already left
    // (S14, db-outage 9715). The reconcile that re-attaches it at a new generation notifies.
    if (it->second->generation < shard.generation &&
        !context_.Defect(kDefectStartupNotifiesStaleAttachment)) {
      SIM_MARK("ctl.startup_notify.stale_attachment_skipped");
      continue;
    }
    compute_hook_.Record(id, shard.stripe_size, shard.intent.preferred_az, *shard.intent.attached);
    stable[id.tenant_id].push_back(id);
    MarkPendingIfDemoting(shard);
  }
  if (stable.empty()) return;
  // Upstream runs these on the process-wide token, so a stepped-down instance keeps notifying
  // (hazard kDefectStartupNotifySurvivesStepDown, S3); by default step-down stops them, as it
  // stops reconcilers.
  const CancelToken cancel = context_.Defect(kDefectStartupNotifySurvivesStepDown)
                                 ? CancelToken()
                                 : reconcilers_cancel_;
  context_.env().Spawn("ctl.startup_notify", [this, stable, cancel] {
    for (const auto& [tenant, ids] : stable) {
      if (cancel.cancelled()) return;  // stepped down: the new leader notifies
      // An incomplete tenant has nothing to announce yet: the reconcile that attaches its
      // missing shard notifies (a pending flag here would outlive that notification).
      const NotifyOutcome outcome = compute_hook_.Flush(tenant, cancel);
      if (outcome == NotifyOutcome::kOk || outcome == NotifyOutcome::kIncomplete) continue;
      for (const TenantShardId& id : ids) {
        auto again = shards_.find(id);
        if (again != shards_.end()) again->second.pending_compute_notification = true;
      }
    }
  });
}

void Service::DetachUnknownShards(std::vector<std::pair<NodeId, TenantShardId>> unknown) {
  // Upstream's cleanup_locations takes no tenant lock, so a split begun again meanwhile (an
  // aborted split's operator retry) can create a child of the same id and have it detached here
  // after its attach (N1 at shard-split 3321). Here a tenant's split waits for its pending
  // entries (HandleTenantShardSplit refuses), and an entry of a tenant splitting is skipped.
  for (const auto& [node, shard] : unknown) {
    struct Pending {
      std::map<std::string, int>& counts;
      std::string tenant;
      ~Pending() {
        if (--counts[tenant] <= 0) counts.erase(tenant);
      }
    } pending{cleanup_pending_, shard.tenant_id};
    if (shards_.count(shard)) continue;  // created meanwhile
    if (splitting_tenants_.count(shard.tenant_id)) continue;  // may be that split's child
    auto it = nodes_.find(node);
    if (it == nodes_.end() || !it->second.available()) continue;
    api::LocationConfig detach;
    detach.mode = api::LocationMode::kDetached;
    detach.controller_term = context_.term();
    context_.Emit(events::kDetachUnknown,
                  {TraceField::Str("shard", shard.ToString()), TraceField::Int("node", node)});
    (void)pageservers_.PutLocationConfig(RefFor(node), shard, detach, sim::Duration::Zero(),
                                         CancelToken());
  }
}

void Service::SpawnBackgroundLoops() {
  context_.env().Spawn("ctl.heartbeat", [this] { HeartbeatLoop(); });
  context_.env().Spawn("ctl.background_reconcile", [this] { BackgroundReconcileLoop(); });
  if (context_.options().protocol == LeadershipProtocol::kLease ||
      context_.options().protocol == LeadershipProtocol::kLeaseFenced) {
    context_.env().Spawn("ctl.lease_renew", [this] { LeaseRenewLoop(); });
  }
}

void Service::BackgroundReconcileLoop() {
  // Ends with the reconcilers' cancellation (step-down) or the process.
  for (uint64_t pass = 0; pass < (uint64_t{1} << 40); ++pass) {
    if (!SleepCancellable(context_.env(), context_.timings().background_reconcile_period,
                          {reconcilers_cancel_})) {
      return;
    }
    ReconcileAll();
  }
}

ControllerSnapshot Service::Snapshot() const {
  ControllerSnapshot snapshot;
  snapshot.running = true;
  snapshot.incarnation = const_cast<Context&>(context_).env().incarnation();
  snapshot.status = status_;
  snapshot.startup_complete = startup_complete_;
  snapshot.term = context_.term();
  snapshot.reconcilers_in_flight = reconcilers_in_flight_;
  snapshot.takeover_resync_pending = takeover_resync_pending_;
  snapshot.takeover_resync_done_at = takeover_resync_done_at_;
  for (const auto& [id, node] : nodes_) {
    snapshot.nodes[id] = NodeSnapshot{node.policy, node.availability, node.availability_zone};
  }
  for (const auto& [id, shard] : shards_) {
    ShardSnapshot& out = snapshot.shards[id];
    out.intent = shard.intent;
    out.observed = shard.observed;
    out.generation = shard.generation;
    out.sequence = shard.sequence;
    out.pending_compute_notification = shard.pending_compute_notification;
    out.reconciling = shard.reconciler.has_value();
    out.last_error = shard.last_error;
    out.policy = shard.policy;
  }
  if (operation_) {
    const char* kind = operation_->kind == OperationKind::kDrain  ? "drain"
                       : operation_->kind == OperationKind::kFill ? "fill"
                                                                  : "delete";
    snapshot.operation = std::string(kind) + " " + std::to_string(operation_->node);
  }
  return snapshot;
}

}  // namespace storsim::controller
