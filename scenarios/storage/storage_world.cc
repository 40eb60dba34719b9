// Building the storage world and attaching the SPEC checkers.
#include "scenarios/storage/storage_world.h"

#include "scenarios/invariants/data_checkers.h"
#include "scenarios/invariants/generation_checkers.h"
#include "scenarios/invariants/leadership_checkers.h"
#include "scenarios/invariants/placement_checkers.h"
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

}  // namespace

StorageWorld::StorageWorld(ScenarioRun& run, cluster::ClusterOptions options) : run_(run) {
  sim::Simulation& simulation = run.CreateSimulation({});
  cluster_ = std::make_shared<cluster::Cluster>(simulation, std::move(options));
  // Registered after the simulation, so it is destroyed before it (its processes go down first).
  run.Keep(cluster_);
  cluster::Cluster* cluster = cluster_.get();
  invariants::DbView db;
  db.leader_rows = [cluster] { return cluster->LeaderGroundTruth().leader_rows; };
  db.leader = [cluster] { return cluster->LeaderGroundTruth().leader; };
  db.shard_generation = [cluster](const std::string& shard) {
    return cluster->ShardGenerationGroundTruth(shard);
  };
  db.tenants = [cluster] { return cluster->TenantsGroundTruth(); };
  ViolationSink sink = run.sink();
  run.AddChecker(std::make_unique<invariants::LeaderRowChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::SingleLeaderChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::SteppedDownSilenceChecker>(sink, /*strict=*/false));
  run.AddChecker(std::make_unique<invariants::GenerationChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::PageserverMonotonicityChecker>(sink));
  run.AddChecker(std::make_unique<invariants::NoOverwriteChecker>(sink));
  run.AddChecker(std::make_unique<invariants::IndexVisibilityChecker>(sink));
  run.AddChecker(std::make_unique<invariants::LayerPresenceChecker>(sink));
  run.AddChecker(std::make_unique<invariants::ValidateChecker>(sink, db));
  run.AddChecker(std::make_unique<invariants::WalRetentionChecker>(sink));
  run.AddChecker(std::make_unique<invariants::AcknowledgedWriteChecker>(sink));
  run.AddChecker(std::make_unique<invariants::AttachBeforeDetachChecker>(sink));
  run.AddChecker(std::make_unique<invariants::DeletionBlockingChecker>(sink));
  run.AddChecker(std::make_unique<invariants::NotificationOrderChecker>(sink));
  convergence_ = std::make_shared<invariants::ConvergenceChecker>(sink, [this] {
    return TakeConvergenceSnapshot(run_.simulation(), *cluster_);
  });
  run.Keep(convergence_);
}

void StorageWorld::CheckConvergence() { convergence_->Finish(run_.simulation().Now()); }

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
