// ClusterHarness: a real simulated storage cluster (model/cluster Cluster in a sim::Simulation,
// no faults) that a test drives one step at a time from the main stack, as the system under test
// of the stateful property (controller_state_test.cc).
//
// Every controller call runs in a fresh operator fiber, as an SRE with curl would make it, and
// the harness runs the simulation until that fiber returns. Between steps the harness lets the
// system settle: the leader has no reconcile in flight, no node operation, every node is Active,
// and every shard's observed state is exactly its intent (SPEC §6.1) — a criterion read from the
// controller's own snapshot, independent of any test model.
//
// Lifetime: the Cluster is destroyed before the Simulation (the destructor does it), and results
// of calls live in shared state, so an operator fiber still blocked when a budget runs out never
// writes to a dead stack frame.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/api/defects.h"
#include "model/cluster/cluster.h"
#include "model/controller/snapshot.h"
#include "model/pageserver/pageserver.h"
#include "sim/simulation.h"

namespace storsim::scenarios::properties {

struct HarnessOptions {
  uint64_t seed = 1;
  int pageservers = 3;
  int tenants = 2;
  api::Defects defects;
};

class ClusterHarness {
 public:
  explicit ClusterHarness(const HarnessOptions& options);
  ~ClusterHarness();
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  // Starts every process, creates the tenants and settles. Error (Unavailable) when the tenants
  // are not created or the system does not settle within the start budget.
  absl::Status Start();

  // Calls the controller (with Cluster::CallController's retries on 503 and transport errors)
  // from an operator fiber and runs the simulation until the call returns. DeadlineExceeded when
  // it has not returned within `budget` of simulated time (plus one RPC timeout).
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(sim::RpcMethod<Req, Resp> method, const Req& request,
                            sim::Duration budget = sim::Duration::Seconds(90));

  // Kills (SIGKILL, disk kept) or crashes (unsynced writes lost) pageserver `index` (0-based),
  // starts it again at once, and runs until the new incarnation has processed its re-attach
  // response (SPEC §4.2): until then the controller has not noticed anything, and a settle
  // would pass at once. Error (DeadlineExceeded) when it has not re-attached within `budget`.
  absl::Status RestartPageserver(size_t index, bool crash,
                                 sim::Duration budget = sim::Duration::Seconds(60));

  // Runs until the system settles (see the file comment) or `budget` passes. Error
  // (DeadlineExceeded) says what was still unsettled.
  absl::Status Settle(sim::Duration budget = sim::Duration::Seconds(180));

  // The leader's snapshot; nullopt when no running controller is leader.
  std::optional<controller::ControllerSnapshot> LeaderSnapshot() const;
  pageserver::PageserverSnapshot PageserverSnapshot(size_t index) const;

  cluster::Cluster& cluster() { return *cluster_; }
  sim::Simulation& simulation() { return *simulation_; }
  size_t pageserver_count() const { return static_cast<size_t>(options_.pageservers); }
  // Simulated time since the harness was built.
  sim::Duration elapsed() const;

 private:
  // What keeps the system from being settled now ("" when settled).
  std::string Unsettled() const;
  // Runs the simulation in small slices until `done()` or `until`.
  template <typename Done>
  void RunUntil(Done done, sim::Instant until);

  HarnessOptions options_;
  std::unique_ptr<sim::Simulation> simulation_;
  std::unique_ptr<cluster::Cluster> cluster_;
  int calls_ = 0;
};

// ----- template definitions -----

template <typename Done>
void ClusterHarness::RunUntil(Done done, sim::Instant until) {
  for (int slice = 0; slice < 1'000'000 && !done() && simulation_->Now() < until; ++slice) {
    simulation_->RunFor(sim::Duration::Millis(100));
  }
}

template <typename Req, typename Resp>
absl::StatusOr<Resp> ClusterHarness::Call(sim::RpcMethod<Req, Resp> method, const Req& request,
                                          sim::Duration budget) {
  auto result = std::make_shared<std::optional<absl::StatusOr<Resp>>>();
  cluster::Cluster* cluster = cluster_.get();
  sim::Simulation* simulation = simulation_.get();
  const sim::Instant deadline = simulation->Now() + budget;
  cluster_->RunOperatorScript(
      "property-call-" + std::to_string(++calls_),
      [cluster, simulation, method, request, deadline, result](sim::Env& env) {
        *result = cluster->CallController(env, method, request, deadline);
        (void)simulation;
      });
  // CallController stops trying at the deadline; one RPC may still be in flight then.
  RunUntil([&result] { return result->has_value(); }, deadline + sim::Duration::Seconds(15));
  if (!result->has_value()) {
    return absl::DeadlineExceededError(std::string("no answer to ") + method.name);
  }
  return **result;
}

}  // namespace storsim::scenarios::properties
