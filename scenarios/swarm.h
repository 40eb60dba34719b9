// Swarm options (DESIGN.md §3): per seed, the run draws which fault kinds are on, how often faults
// come, how lossy the network is and how big the topology is. Different seeds thus explore
// different corners (a run with only pauses, a run with crashes every 100 ms) instead of every run
// averaging over every fault. Options are printed in full with each run (ToString), and the random
// FaultPlan generator turns them into a concrete, replayable plan.
//
// Both draws use streams forked from the run's root stream by label ("swarm", "fault_plan"), so
// they depend on the seed only, and a scenario can draw them before it builds its Simulation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/fault_plan.h"
#include "sim/network.h"
#include "sim/random.h"
#include "sim/time.h"

namespace storsim::scenarios {

constexpr size_t kFaultKindCount = static_cast<size_t>(sim::FaultKind::kKindCount);

// What a scenario allows the swarm to choose from.
struct SwarmRanges {
  int nodes_min = 3;
  int nodes_max = 3;
  int clients_min = 2;
  int clients_max = 3;
  // Fault kinds the scenario can take (a kind left out is never drawn).
  std::array<bool, kFaultKindCount> kinds_allowed{};
  uint32_t loss_ppm_max = 10'000;
};

// SwarmRanges allowing every fault kind.
SwarmRanges AllFaultKinds(SwarmRanges ranges);

struct SwarmOptions {
  int nodes = 3;    // servers of the scenario (replicas, pageservers, ...)
  int clients = 2;  // workload processes
  std::array<bool, kFaultKindCount> kinds_on{};
  // Mean gap between two faults of the plan (exponentially distributed gaps).
  sim::Duration fault_interval_mean = sim::Duration::Seconds(1);
  int faults_max = 16;
  // Longest duration of a timed fault (partition, pause, crash before restart, ...).
  sim::Duration fault_duration_max = sim::Duration::Seconds(3);
  sim::LinkOptions link;

  // "nodes=3 clients=2 faults=[crash,pause] interval=1s faults_max=16 duration_max=3s
  //  link=[latency 200us..2ms loss=0ppm dup=0ppm reorder=0ppm]"
  std::string ToString() const;
  int KindsOn() const;
};

// Draws swarm options from `random` within `ranges`. Precondition: ranges are ordered
// (min <= max, min >= 1) and at least one fault kind is allowed. At least one allowed kind is on.
SwarmOptions DrawSwarm(sim::Random& random, const SwarmRanges& ranges);

// A random plan over `targets` for a fault phase of length `phase`: faults of the kinds that are
// on, at exponentially distributed gaps, each ending (heal, restart, resume) within the phase so
// that the phase's end leaves nothing pending. Partitions, clogs and link faults pick two distinct
// targets. Precondition: !targets.empty(), phase > 0. Returns an empty plan if no kind is on.
sim::FaultPlan RandomFaultPlan(sim::Random& random, const SwarmOptions& swarm,
                               const std::vector<sim::ProcessId>& targets, sim::Duration phase);

}  // namespace storsim::scenarios
