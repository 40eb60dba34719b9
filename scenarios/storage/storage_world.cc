// Building the storage world and attaching the SPEC checkers.
#include "scenarios/storage/storage_world.h"

#include "scenarios/invariants/availability_checkers.h"
#include "scenarios/invariants/data_checkers.h"
#include "scenarios/invariants/generation_checkers.h"
#include "scenarios/invariants/leadership_checkers.h"
#include "scenarios/invariants/notification_checkers.h"
#include "scenarios/invariants/placement_checkers.h"
#include "scenarios/invariants/progress_checkers.h"
#include "scenarios/invariants/split_checkers.h"
#include "scenarios/invariants/storage_checkers.h"
#include "sim/env.h"

namespace storsim::scenarios {
namespace {

// The end-of-run state the convergence check needs, from const snapshots of live processes only
// (a crashed process's last snapshot is stale).
invariants::ConvergenceSnapshot TakeConvergenceSnapshot(sim::Simulation& simulation,
                                                       cluster::Cluster& cluster) {
  invariants::ConvergenceSnapshot snapshot;
  std::optional<controller::ControllerSnapshot> leader;
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    const sim::Process& process = simulation.process(cluster.controller_ids()[slot]);
    if (!process.up()) continue;
    controller::ControllerSnapshot state = cluster.controller(slot).Snapshot();
    if (state.running && state.status == controller::LeadershipStatus::kLeader) {
      ++snapshot.leaders;
      if (!leader) leader = std::move(state);
    }
  }
  if (!leader) return snapshot;
  std::map<std::string, invariants::ShardConvergence> shards;
  for (const auto& [id, shard] : leader->shards) {
    invariants::ShardConvergence& entry = shards[id.ToString()];
    entry.shard = id.ToString();
    entry.tenant = id.tenant_id;
    entry.shard_number = id.shard_number;
    if (shard.policy.kind == api::PlacementPolicy::Kind::kAttached && shard.intent.attached) {
      entry.intended_node = static_cast<int64_t>(*shard.intent.attached);
    }
    entry.pending_notification = shard.pending_compute_notification;
    entry.db_generation = cluster.ShardGenerationGroundTruth(entry.shard);
    entry.db_generation_pageserver = cluster.ShardGenerationPageserverGroundTruth(entry.shard);
  }
  for (size_t i = 0; i < cluster.pageserver_ids().size(); ++i) {
    const sim::Process& process = simulation.process(cluster.pageserver_ids()[i]);
    const pageserver::PageserverSnapshot state = cluster.pageserver(i).Snapshot();
    if (!process.up() || !state.running || state.incarnation != process.incarnation()) continue;
    for (const auto& slot : state.slots) {
      auto it = shards.find(slot.shard.ToString());
      if (it == shards.end()) continue;
      const auto node = static_cast<int64_t>(state.node_id);
      if (slot.mode == api::LocationMode::kAttachedSingle && !slot.generation.is_none()) {
        it->second.attached_single.push_back({node, slot.generation.value()});
      } else if (api::IsAttached(slot.mode)) {
        it->second.attached_other.push_back({node, api::LocationModeName(slot.mode)});
      }
    }
  }
  for (auto& [name, entry] : shards) {
    auto compute_id = cluster.compute_ids().find(entry.tenant);
    if (compute_id == cluster.compute_ids().end() ||
        !simulation.process(compute_id->second).up()) {
      continue;
    }
    const compute::ComputeSnapshot compute = cluster.compute(entry.tenant).Snapshot();
    entry.compute_running = compute.status == api::ComputeStatus::kRunning;
    if (compute.spec) {
      for (const auto& location : compute.spec->shards) {
        if (location.shard_number == entry.shard_number) {
          entry.compute_node = static_cast<int64_t>(location.node_id);
        }
      }
    }
    snapshot.shards.push_back(entry);
  }
  return snapshot;
}

// L4 (c): the leader's node policies and running operation.
invariants::DrainFillSnapshot TakeDrainFillSnapshot(sim::Simulation& simulation,
                                                    cluster::Cluster& cluster) {
  invariants::DrainFillSnapshot snapshot;
  int leaders = 0;
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    if (!simulation.process(cluster.controller_ids()[slot]).up()) continue;
    const controller::ControllerSnapshot state = cluster.controller(slot).Snapshot();
    if (!state.running || state.status != controller::LeadershipStatus::kLeader) continue;
    if (++leaders > 1) return invariants::DrainFillSnapshot{};  // ambiguous: L1 reports it
    snapshot.have_leader = true;
    snapshot.operation = state.operation;
    for (const auto& [id, node] : state.nodes) {
      snapshot.node_policy[static_cast<int64_t>(id)] =
          persistence::NodeSchedulingPolicyName(node.policy);
    }
  }
  return snapshot;
}

// L6: the single leader instance, the tenants it intends attached, and the tenants the control
// plane is still busy applying (its answers to those are not 2xx yet).
invariants::NotificationRetrySnapshot TakeNotificationRetrySnapshot(sim::Simulation& simulation,
                                                                    cluster::Cluster& cluster) {
  invariants::NotificationRetrySnapshot snapshot;
  int leaders = 0;
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    const sim::Process& process = simulation.process(cluster.controller_ids()[slot]);
    if (!process.up()) continue;
    const controller::ControllerSnapshot state = cluster.controller(slot).Snapshot();
    if (!state.running || state.status != controller::LeadershipStatus::kLeader) continue;
    if (++leaders > 1) return invariants::NotificationRetrySnapshot{};  // L1 reports it
    snapshot.have_leader = true;
    snapshot.leader = invariants::Instance{static_cast<int32_t>(process.id()),
                                           static_cast<int64_t>(process.incarnation())};
    std::map<std::string, bool> all_attached;
    for (const auto& [id, shard] : state.shards) {
      const bool attached =
          shard.policy.kind == api::PlacementPolicy::Kind::kAttached && shard.intent.attached;
      auto [it, inserted] = all_attached.emplace(id.tenant_id, attached);
      if (!inserted) it->second = it->second && attached;
    }
    for (const auto& [tenant, attached] : all_attached) {
      if (attached) snapshot.attached_tenants.insert(tenant);
    }
  }
  if (!simulation.process(cluster.control_plane_id()).up()) return snapshot;
  for (const auto& [tenant, view] : cluster.control_plane().Snapshot().tenants) {
    if (view.busy || view.record.apply_later) snapshot.cplane_busy_tenants.insert(tenant);
  }
  return snapshot;
}

}  // namespace

invariants::LivenessBounds StorageWorld::BoundsFrom(const cluster::ClusterOptions& options) {
  const controller::ControllerTimings& timings = options.controller.timings;
  const pageserver::PageserverOptions& pageserver = options.pageserver;
  const deploy::DeploymentOptions& deployment = options.deployment;
  // One heartbeat round at worst: every utilization try times out, with capped back-off between.
  const sim::Duration round = timings.utilization_timeout * timings.utilization_attempts +
                              timings.backoff_cap * (timings.utilization_attempts - 1);
  invariants::LivenessBounds bounds;
  // The last success may be stamped up to one round after the node went silent; Offline is
  // decided by the first round that starts max_offline later, after the interval's sleep.
  bounds.failover_detect = timings.max_offline_interval + timings.heartbeat_interval + round * 2;
  // One reconcile attaching elsewhere: a refresh of unknown observed state, one location_config.
  bounds.failover_reconcile =
      timings.refresh_timeout * timings.refresh_attempts + timings.location_config_timeout;
  // A cancel is seen at the next waiter poll; then one DB write of the policy.
  bounds.cancel_bound = timings.drain_waiter_poll_finishing + timings.db_connect_timeout;
  // One batch (<= drain_fill_in_flight_max shards, all the model's scenarios have fewer): the
  // secondary warm-up, the LSN catch-up hint, one notification, the reconcile wait, final poll.
  bounds.operation_bound = timings.drain_secondary_warm_total + timings.wait_lsn_hint +
                           timings.notify_timeout + timings.reconcile_wait +
                           timings.drain_waiter_poll_finishing;
  // The autoflush period, then a pass: validate (one upcall) and DeleteObjects (one storage
  // call), twice (a pass already running when the list arrived).
  bounds.deletion_bound = pageserver.deletion_flush_period +
                          (pageserver.upcall_timeout + pageserver.storage_timeout) * 2;
  // One upcall attempt after the longest back-off, once the leader pod passed its probes.
  bounds.re_attach_bound = pageserver.upcall_timeout + pageserver.upcall_backoff_max +
                           deployment.startup_probe.period + deployment.readiness_probe.period +
                           deployment.sync_period;
  // The next round that starts after the re-attach (the one in flight may have called the node
  // before it was up): the rest of the round in flight, the interval, then that round (a round
  // ends when its slowest node answers or gives up).
  bounds.activation_bound = timings.heartbeat_interval + round * 2;
  return bounds;
}

StorageWorld::StorageWorld(ScenarioRun& run, cluster::ClusterOptions options) : run_(run) {
  sim::Simulation& simulation = run.CreateSimulation({});
  cluster_ = std::make_shared<cluster::Cluster>(simulation, std::move(options));
  // The run destroys its simulation before its kept state: the cluster must not touch it then.
  cluster_->set_kill_processes_on_destroy(false);
  run.Keep(cluster_);
  cluster::Cluster* cluster = cluster_.get();
  invariants::DbView db;
  db.leader_rows = [cluster] { return cluster->LeaderGroundTruth().leader_rows; };
  db.leader = [cluster] { return cluster->LeaderGroundTruth().leader; };
  db.shard_generation = [cluster](const std::string& shard) {
    return cluster->ShardGenerationGroundTruth(shard);
  };
  db.tenants = [cluster] { return cluster->TenantsGroundTruth(); };
  db.shard_rows = [cluster] { return cluster->ShardRowsGroundTruth(); };
  ViolationSink sink = run.sink();
  run.AddChecker(std::make_unique<invariants::LeaderRowChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::SingleLeaderChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::SteppedDownSilenceChecker>(sink, /*strict=*/false));
  run.AddChecker(std::make_unique<invariants::GenerationChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::PageserverMonotonicityChecker>(sink));
  run.AddChecker(std::make_unique<invariants::GratuitousGenerationChecker>(sink));
  run.AddChecker(std::make_unique<invariants::FailoverTargetChecker>(sink));
  run.AddChecker(std::make_unique<invariants::NoOverwriteChecker>(sink));
  run.AddChecker(std::make_unique<invariants::IndexVisibilityChecker>(sink));
  run.AddChecker(std::make_unique<invariants::LayerPresenceChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::ValidateChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::WalRetentionChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::AcknowledgedWriteChecker>(sink));
  run.AddChecker(std::make_unique<invariants::AttachBeforeDetachChecker>(sink));
  run.AddChecker(std::make_unique<invariants::DeletionBlockingChecker>(sink));
  run.AddChecker(std::make_unique<invariants::NotificationOrderChecker>(sink));
  run.AddChecker(std::make_unique<invariants::NotificationTargetChecker>(sink));
  run.AddChecker(std::make_unique<invariants::ShardRowsChecker>(sink, db));
  convergence_ = std::make_shared<invariants::ConvergenceChecker>(sink, [this] {
    return TakeConvergenceSnapshot(run_.simulation(), *cluster_);
  });
  run.Keep(convergence_);
  // Liveness with deadlines (judged as the trace passes them) and the API history.
  invariants::Topology topology;
  for (sim::ProcessId id : cluster->controller_ids()) topology.controllers.insert(id);
  for (sim::ProcessId id : cluster->pageserver_ids()) topology.pageservers.insert(id);
  topology.database = cluster->postgres_id();
  topology.remote_storage = cluster->s3_id();
  const invariants::LivenessBounds bounds = BoundsFrom(cluster->options());
  run.AddChecker(std::make_unique<invariants::PlannedRestartChecker>(sink, topology));
  end_of_run_.push_back(
      &run.AddChecker(std::make_unique<invariants::FailoverChecker>(sink, topology, bounds)));
  end_of_run_.push_back(&run.AddChecker(std::make_unique<invariants::DrainFillChecker>(
      sink, topology, bounds, [this] { return TakeDrainFillSnapshot(run_.simulation(), *cluster_); })));
  end_of_run_.push_back(&run.AddChecker(
      std::make_unique<invariants::DeletionProgressChecker>(sink, topology, bounds)));
  end_of_run_.push_back(
      &run.AddChecker(std::make_unique<invariants::StartupChecker>(sink, topology, bounds)));
  end_of_run_.push_back(&run.AddChecker(std::make_unique<invariants::LinearizabilityChecker>(sink)));
  end_of_run_.push_back(&run.AddChecker(std::make_unique<invariants::NotificationRetryChecker>(
      sink, [this] { return TakeNotificationRetrySnapshot(run_.simulation(), *cluster_); })));
  // D1 and R1 (progress_checkers.h): a completed drain leaves nothing movable attached; a
  // superseded reconcile yields within one DB transaction plus one in-flight notification.
  run.AddChecker(std::make_unique<invariants::DrainedNodeChecker>(
      sink, topology, [cluster](int64_t node) -> std::optional<std::map<std::string, std::string>> {
        for (size_t i = 0; i < cluster->pageserver_ids().size(); ++i) {
          if (static_cast<int64_t>(cluster->NodeIdOf(i)) != node) continue;
          const pageserver::PageserverSnapshot state = cluster->pageserver(i).Snapshot();
          if (!state.running) return std::nullopt;
          std::map<std::string, std::string> attached;
          for (const pageserver::SlotSnapshot& slot : state.slots) {
            if (api::IsAttached(slot.mode)) attached[slot.shard.ToString()] = api::LocationModeName(slot.mode);
          }
          return attached;
        }
        return std::nullopt;
      }));
  end_of_run_.push_back(&run.AddChecker(std::make_unique<invariants::SupersessionChecker>(
      sink, topology,
      cluster->options().controller.timings.db_connect_timeout +
          cluster->options().controller.timings.notify_timeout)));
}

void StorageWorld::CheckConvergence() {
  const sim::Instant now = run_.simulation().Now();
  convergence_->Finish(now);
  for (invariants::Checker* checker : end_of_run_) {
    checker->Finish(now);
    // The counts (judged, excused, missed, search sizes) go into the trace, so a run's trace
    // shows whether a liveness check had anything to judge.
    for (const auto& [name, value] : checker->Metrics()) {
      run_.simulation().Emit("checker.metric", {sim::TraceField::Str("invariant", checker->invariants()),
                                                sim::TraceField::Str("name", name),
                                                sim::TraceField::Int("value", value)});
    }
  }
}

void StorageWorld::Start(sim::Duration budget) {
  cluster_->Start();
  auto created = std::make_shared<std::optional<absl::Status>>();
  cluster::Cluster* cluster = cluster_.get();
  sim::Simulation* simulation = &run_.simulation();
  run_.Keep(created);
  RunOperator("create_tenants", [cluster, simulation, created, budget](sim::Env& env) {
    *created = cluster->CreateTenants(env, simulation->Now() + budget);
  });
  const sim::Instant deadline = simulation->Now() + budget;
  while (!created->has_value() && simulation->Now() < deadline) {
    run_.RunFor(sim::Duration::Seconds(1));
  }
  if (!created->has_value() || !(*created)->ok()) {
    run_.ReportViolation({"L8", simulation->Now(),
                          "the cluster did not come up: " +
                              (created->has_value() ? std::string((*created)->message())
                                                    : std::string("tenant creation timed out"))});
    run_.RunFor(sim::Duration::Zero());  // stops the body (the violation was reported)
  }
}

void StorageWorld::RunOperator(std::string name, std::function<void(sim::Env&)> script) {
  cluster_->RunOperatorScript(std::move(name), std::move(script));
}

void StorageWorld::Heal() {
  sim::Simulation& simulation = run_.simulation();
  simulation.network().HealAll();
  simulation.network().ResetLinks();
  const auto& controllers = cluster_->controller_ids();
  for (size_t id = 0; id < simulation.process_count(); ++id) {
    sim::Process& process = simulation.process(static_cast<sim::ProcessId>(id));
    process.Resume();
    process.clock().SetDriftPpb(simulation.Now(), 0);
    const bool kubernetes_owned =
        std::find(controllers.begin(), controllers.end(), process.id()) != controllers.end();
    const bool never_started = process.incarnation() == 0;
    if (!process.up() && !kubernetes_owned && !never_started) process.Start();
  }
  simulation.Emit("heal", {});
}

std::vector<sim::ProcessId> StorageWorld::FaultTargets(bool include_controllers) const {
  std::vector<sim::ProcessId> targets = {cluster_->postgres_id(), cluster_->s3_id(),
                                         cluster_->safekeeper_id(), cluster_->control_plane_id()};
  for (sim::ProcessId id : cluster_->pageserver_ids()) targets.push_back(id);
  if (include_controllers) {
    for (sim::ProcessId id : cluster_->controller_ids()) targets.push_back(id);
  }
  return targets;
}

}  // namespace storsim::scenarios
