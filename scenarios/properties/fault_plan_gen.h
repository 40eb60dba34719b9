// RapidCheck generators for sim::Fault and sim::FaultPlan, so that a property over a scenario
// gets a fault plan that SHRINKS: fewer faults (RapidCheck removes elements of the list), then
// each fault earlier, shorter, milder, against the first target, and of a simpler kind.
//
// A FaultSpace says what a plan may contain: the process ids a fault may name (for a storage
// scenario: the ids model/cluster gives the storage processes, see StorageFaultSpace), the length
// of the fault phase, and the most faults one plan holds. Times are drawn on a 250 ms grid and
// durations on the same grid, so that shrinking a time takes a handful of steps, not thirty.
// Generated values never depend on RapidCheck's `size` (each fault is generated at full size):
// an early small-size case still covers the whole phase; only the number of faults grows with
// size, within [faults_min, faults_max].
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "rapidcheck.h"
#include "sim/fault_plan.h"
#include "sim/network.h"
#include "sim/time.h"

namespace storsim::scenarios::properties {

struct FaultSpace {
  // Processes a fault may name (a, and b for two-process kinds). Precondition: size >= 2.
  std::vector<sim::ProcessId> targets;
  // Kinds a fault may have; the first is where a kind shrinks to. Precondition: non-empty, and
  // none of kHealAll, kKindCount (a plan says what breaks; healing is the scenario's job).
  std::vector<sim::FaultKind> kinds;
  sim::Duration phase = sim::Duration::Seconds(120);  // `at` is drawn in [0, phase)
  // A generated plan has faults_min..faults_max faults (the upper end grows with RapidCheck's
  // size). Shrinking may remove faults below faults_min: it looks for the smallest failing plan.
  int faults_min = 0;
  int faults_max = 8;
};

// The grid of `at` and `duration`.
inline constexpr sim::Duration kFaultGrid = sim::Duration::Millis(250);
// Bounds of a fault's duration (what the chaos scenario's own draw uses).
inline constexpr sim::Duration kFaultDurationMin = sim::Duration::Millis(500);
inline constexpr sim::Duration kFaultDurationMax = sim::Duration::Seconds(40);

// The kinds the chaos scenario draws, simplest first: process faults, then network faults, then
// clock drift (crash is where a shrunk kind ends up).
std::vector<sim::FaultKind> ChaosFaultKinds();

// The fault space of a storage scenario: postgres, s3, safekeeper, control plane and the first
// two pageservers, with ids read from a model/cluster Cluster built (not run) in a throwaway
// Simulation, so that a change of model/cluster's process order cannot leave stale ids here.
// Two pageservers because every storage topology has at least two; a third or fourth would be a
// compute or the operator in the smallest topology, and faulting the harness's own operator is
// not a fault of the system.
FaultSpace StorageFaultSpace();

// One fault in `space`. Precondition: `space` is valid (see above; SIM_CHECKed).
rc::Gen<sim::Fault> GenFault(const FaultSpace& space);
// A plan of faults_min..faults_max faults in `space`, in generation order (ApplyFaultPlan sorts nothing:
// each fault sleeps to its own time, so order does not matter to a run).
rc::Gen<sim::FaultPlan> GenFaultPlan(const FaultSpace& space);

// The plan as one line per fault ("(no faults)" when empty): for counterexamples.
std::string ShowPlan(const sim::FaultPlan& plan);

}  // namespace storsim::scenarios::properties

namespace storsim::sim {
// How RapidCheck prints a generated plan in a counterexample. It finds showValue by
// argument-dependent lookup only, so this overload must live in the plan's own namespace; it is
// defined in fault_plan_gen.cc and only test code links it.
void showValue(const FaultPlan& plan, std::ostream& os);
}  // namespace storsim::sim
