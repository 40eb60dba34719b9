// StorageWorld: the storage system of SPEC.md inside one scenario run — a model::Cluster with
// every safety checker of SPEC §10 attached (S1–S15), fed by the trace and by a read-only view of
// the fake Postgres's committed tables;
// the liveness checkers with deadlines of §11 (L2, L4, L5, L8, bounds from the cluster's options),
// which judge during the run; and the linearizability check of the controller API (LIN) and the
// end-of-run liveness checks (L1, L4's stuck-node check), run by CheckConvergence.
//
// A storage scenario body:
//   StorageWorld world(run, options);       // builds the cluster and the checkers
//   world.Start();                          // processes up; tenants created once nodes are Active
//   ... story actions and faults (world.cluster(), world.RunOperator(...)) ...
//   world.Heal();                           // faults end: partitions healed, processes back
//   run.RunFor(quiet period);               // the system must converge
// Checkers stop the run at the first violation (fail fast).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "model/cluster/cluster.h"
#include "scenarios/invariants/convergence_checker.h"
#include "scenarios/invariants/linearizability.h"
#include "scenarios/invariants/liveness_checkers.h"
#include "scenarios/run_context.h"
#include "sim/fault_plan.h"

namespace storsim::scenarios {

class StorageWorld {
 public:
  StorageWorld(ScenarioRun& run, cluster::ClusterOptions options);

  cluster::Cluster& cluster() { return *cluster_; }
  sim::Simulation& simulation() { return run_.simulation(); }

  // Starts every process and creates the tenants from an operator fiber; runs until they exist
  // (or `budget` passes: then the run fails with invariant L8, the cluster never came up).
  void Start(sim::Duration budget = sim::Duration::Seconds(120));
  // Runs `script` in an operator fiber.
  void RunOperator(std::string name, std::function<void(sim::Env&)> script);
  // Ends every fault: heals the network, resumes paused processes, restarts processes that are
  // down (except controller pods, which Kubernetes owns), and clears clock drift.
  void Heal();
  // Processes a random fault plan may hit: storage processes and pageservers, not the harness's
  // own (operator, kubelet) nor the controller pods (Kubernetes restarts those; scenarios that
  // want them faulted say so).
  std::vector<sim::ProcessId> FaultTargets(bool include_controllers) const;
  // End of run, after the quiet period: reports L1 (with L6, L7) if the system has not settled,
  // judges the liveness deadlines that fell inside the run (L2, L4, L5, L8), L4's "no node stuck
  // Draining/Filling", and runs the linearizability search over the API history (LIN).
  void CheckConvergence();
  // The deadlines of L2, L4, L5 and L8 derived from the cluster's component options.
  static invariants::LivenessBounds BoundsFrom(const cluster::ClusterOptions& options);

 private:
  ScenarioRun& run_;
  std::shared_ptr<cluster::Cluster> cluster_;
  std::shared_ptr<invariants::ConvergenceChecker> convergence_;
  // Owned by the run (AddChecker); Finish is called from CheckConvergence.
  std::vector<invariants::Checker*> end_of_run_;
};

// Registers the storage scenarios (live-migration, controller-roll, chaos).
void RegisterStorageScenarios(ScenarioRegistry& registry);

}  // namespace storsim::scenarios
