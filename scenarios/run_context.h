// ScenarioRun: what a scenario body gets to build and drive one run. It owns the run's
// Simulation, the checkers, the trace files and whatever state the simulated processes refer to,
// so that everything outlives the simulation's teardown (a crash of a process unwinds fiber stacks
// that may still point at scenario state). A body:
//
//   1. draws its swarm options and fault plan from forked streams (Fork, before the simulation);
//   2. CreateSimulation(...), adds processes, AddChecker(...), applies the plan;
//   3. drives time with RunFor / RunUntil, which throw RunStopped to end the body early when a
//      checker reported a violation (fail fast) or a step or time limit was hit (a LIMIT failure).
//
// Anything a process main or fiber captures by reference must be owned here (Keep, AddChecker):
// a body's locals die before the simulation does when RunStopped unwinds the body.
#pragma once

#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "scenarios/check/violation.h"
#include "scenarios/metrics/restart_unavailability_checker.h"
#include "scenarios/metrics/run_metrics.h"
#include "scenarios/scenario.h"
#include "sim/fault_plan.h"
#include "sim/random.h"
#include "sim/simulation.h"
#include "sim/trace_writers.h"

namespace storsim::scenarios {

// Ends a scenario body early; caught by the runner. Carries no error of its own: the reason is
// in the run's violations.
class RunStopped : public std::exception {
 public:
  const char* what() const noexcept override { return "scenario run stopped"; }
};

class ScenarioRun {
 public:
  explicit ScenarioRun(RunOptions options);
  ~ScenarioRun();
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  // Opens the trace files named in the options. Error: Internal, naming the file, when one cannot
  // be opened. Call before CreateSimulation (the runner does).
  absl::Status OpenTraceFiles();

  const RunOptions& options() const { return options_; }
  uint64_t seed() const { return options_.seed; }
  bool bug(std::string_view name) const { return options_.bugs.count(std::string(name)) != 0; }

  // A stream forked from the run's root stream by label: the same stream as
  // simulation().root_random().Fork(label), available before the simulation exists.
  sim::Random Fork(std::string_view label) const { return sim::Random(options_.seed).Fork(label); }

  // Builds the run's simulation from `options`, overriding the seed and the limits with the run's
  // own, and attaches every trace observer before the first event. Precondition: called once.
  sim::Simulation& CreateSimulation(sim::SimulationOptions options);
  sim::Simulation& simulation();
  bool has_simulation() const { return simulation_ != nullptr; }

  // Takes ownership of a checker and attaches it to the trace (after the trace files and the
  // option's observers). Precondition: the simulation exists.
  template <typename Checker>
  Checker& AddChecker(std::unique_ptr<Checker> checker) {
    Checker& reference = *checker;
    simulation().trace().AddObserver(checker.get());
    checkers_.push_back(std::move(checker));
    return reference;
  }
  // Keeps `state` alive until after the simulation is destroyed.
  void Keep(std::shared_ptr<void> state) { kept_.push_back(std::move(state)); }

  // Recorded for the result, the token and the printed options.
  void SetSwarm(std::string text) { swarm_ = std::move(text); }
  void SetFaultPlan(sim::FaultPlan plan) { fault_plan_ = std::move(plan); }
  const std::string& swarm() const { return swarm_; }
  const sim::FaultPlan& fault_plan() const { return fault_plan_; }

  // Workload knobs: a named integer of the workload or topology (clients, operations, tenants)
  // that the seed draws but a token, the shrinker or `storsim run --knob` may set. Returns the
  // override in options().knobs when there is one, else `drawn`, and records the value used
  // (RunResult::knobs, the token). A knob asked for twice returns its first value. Precondition:
  // the name is a knob name (token.h IsKnobName: [a-z0-9_], 1..32 characters).
  int64_t Knob(std::string_view name, int64_t drawn);
  // The same, with the value used clamped into [min, max] (an override out of range is clamped,
  // and the clamped value is what the run records). Precondition: min <= drawn <= max.
  int64_t Knob(std::string_view name, int64_t drawn, int64_t min, int64_t max);
  const std::map<std::string, int64_t>& knobs() const { return knobs_; }

  // Runs the simulation. Throws RunStopped if a violation has been reported (now or before), or
  // after recording a LIMIT violation when the step or simulated-time limit is hit. Rethrows what
  // a fiber threw (sim::InvariantViolation for a SIM_CHECK).
  void RunFor(sim::Duration duration);
  void RunUntil(sim::Instant until);

  // Records a violation (the first kViolationsMax; later ones are counted only) and asks the
  // scheduler to stop after the running fiber suspends.
  void ReportViolation(Violation violation);
  static constexpr size_t kViolationsMax = 100;
  // A sink for checkers that reports here.
  ViolationSink sink() {
    return [this](Violation violation) { ReportViolation(std::move(violation)); };
  }
  const std::vector<Violation>& violations() const { return violations_; }

  // Run metrics (scenarios/metrics/run_metrics.h): an observer CreateSimulation attaches to every
  // run, with the L3 checker (restart_unavailability_checker.h; it judges only what its
  // precondition covers, so it is silent for scenarios without a storage controller).
  // FinishMetrics closes the windows at the simulation's current time; when `body_completed`
  // (the body returned normally) it also runs L3's end-of-run check, which may report. Returns
  // the metrics, L3's counts included. Precondition: the simulation exists; called once.
  std::map<std::string, int64_t> FinishMetrics(bool body_completed);
  std::map<std::string, std::vector<int64_t>> MetricSamples() const;

 private:
  RunOptions options_;
  std::FILE* ndjson_file_ = nullptr;
  std::FILE* perfetto_file_ = nullptr;
  std::unique_ptr<sim::NdjsonTraceWriter> ndjson_writer_;
  std::unique_ptr<sim::PerfettoTraceWriter> perfetto_writer_;
  std::vector<std::shared_ptr<void>> kept_;
  std::vector<std::unique_ptr<sim::TraceObserver>> checkers_;
  std::unique_ptr<metrics::RunMetricsObserver> run_metrics_;
  metrics::RestartUnavailabilityChecker* restart_checker_ = nullptr;  // owned by checkers_
  std::vector<Violation> violations_;
  std::string swarm_;
  sim::FaultPlan fault_plan_;
  std::map<std::string, int64_t> knobs_;
  // Declared last so that it is destroyed first, while everything it may touch still exists.
  std::unique_ptr<sim::Simulation> simulation_;
};

}  // namespace storsim::scenarios
