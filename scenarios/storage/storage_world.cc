// Building the storage world and attaching the SPEC checkers.
#include "scenarios/storage/storage_world.h"

#include "scenarios/invariants/data_checkers.h"
#include "scenarios/invariants/generation_checkers.h"
#include "scenarios/invariants/leadership_checkers.h"
#include "scenarios/invariants/placement_checkers.h"
#include "scenarios/invariants/storage_checkers.h"
#include "sim/env.h"

namespace storsim::scenarios {

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
