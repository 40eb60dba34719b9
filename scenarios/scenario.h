// The scenario runner's vocabulary: what a run is asked to do (RunOptions), what it found
// (RunResult), and the registry of named scenarios that `storsim list/run/fuzz` work from.
//
// A Scenario is a name, a one-line summary, the switchable defects (bugs) it knows, and a body
// that builds a world in a sim::Simulation and drives it through a ScenarioRun (run_context.h).
// Adding a scenario: write its body, then add one Register...() call in registry.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/check/violation.h"
#include "sim/fault_plan.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace storsim::scenarios {

class ScenarioRun;

struct RunLimits {
  // Scheduler steps (fiber dispatches plus timer firings); exceeding it is a LIMIT failure.
  uint64_t steps_max = 200'000'000;
  // Simulated time; exceeding it is a LIMIT failure.
  sim::Duration sim_time_max = sim::Duration::Minutes(30);
};

struct RunOptions {
  std::string scenario;
  uint64_t seed = 1;
  std::set<std::string> bugs;  // named switchable defects, each known to the scenario
  std::string protocol;        // carried for scenarios that have protocol variants
  // When set, replaces the fault plan the seed would draw (replay of a token, shrinking).
  std::optional<sim::FaultPlan> fault_plan;
  // Workload knob overrides by name (ScenarioRun::Knob): a knob named here takes this value
  // instead of the one the seed would draw (replay of a token, shrinking, `run --knob`).
  std::map<std::string, int64_t> knobs;
  std::string ndjson_trace_path;    // empty: no NDJSON trace file
  std::string perfetto_trace_path;  // empty: no Perfetto trace file
  RunLimits limits;
  // Extra trace observers (not owned), attached before the first event: tests and tools.
  std::vector<sim::TraceObserver*> observers;
};

struct RunResult {
  RunOptions options;
  // True when every invariant held, no SIM_CHECK failed, no limit was hit and no internal error.
  bool ok = false;
  std::vector<Violation> violations;
  // Set when the run failed for a reason that is not the simulated system's: a harness bug, an
  // unexpected exception, a trace file that cannot be opened. The CLI exits 3 for these.
  std::string internal_error;
  uint64_t trace_hash = 0;  // Simulation::Fingerprint()
  uint64_t events = 0;
  int64_t sim_ns = 0;
  // Wall-clock milliseconds: scenarios never read real time, so the caller (the CLI) fills it.
  int64_t wall_ms = 0;
  std::string swarm;          // SwarmOptions::ToString() of the run, if the scenario drew one
  sim::FaultPlan fault_plan;  // the plan the run applied
  std::map<std::string, int64_t> knobs;  // every knob the run asked for, with the value used
  std::vector<std::string> marks_hit;  // coverage marks hit during this run, by name
  // Run metrics by name (scenarios/metrics/run_metrics.h lists them and defines the windows):
  // counts, and durations in simulated ns. Filled for every run that created its simulation.
  std::map<std::string, int64_t> metrics;
  // The per-window lengths behind the metrics (unavailable_window_ns, dual_actor_window_ns), in
  // time order, for percentiles across runs.
  std::map<std::string, std::vector<int64_t>> metric_samples;

  // The first violation's invariant, "INTERNAL", or "" when ok.
  std::string FirstInvariant() const;
};

struct BugInfo {
  std::string name;     // e.g. "register-read-one"
  std::string summary;  // one line: the defect and what should catch it
};

struct Scenario {
  std::string name;
  std::string summary;  // one line
  std::vector<BugInfo> bugs;
  // Builds the world and drives it. Reports violations through the run; may throw
  // sim::InvariantViolation (a SIM_CHECK) and the run's own stop signal.
  std::function<void(ScenarioRun&)> body;

  bool KnowsBug(std::string_view bug) const;
};

// Named scenarios in name order.
class ScenarioRegistry {
 public:
  // Adds a scenario. Precondition: the name is new, non-empty, and has no ':' (tokens use it).
  void Add(Scenario scenario);
  const Scenario* Find(std::string_view name) const;
  std::vector<const Scenario*> All() const;

 private:
  std::map<std::string, Scenario, std::less<>> scenarios_;
};

// The registry with every built-in scenario (registry.cc lists them).
const ScenarioRegistry& DefaultRegistry();

}  // namespace storsim::scenarios
