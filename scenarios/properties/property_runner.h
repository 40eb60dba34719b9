// Running a RapidCheck property with a budget set in code, and the scenario property itself.
//
// RC_GTEST_PROP takes its test count from RapidCheck's global configuration (RC_PARAMS, default
// 100 cases), far too many for properties whose every case is a whole simulated scenario. So the
// properties here go through CheckProperty, which runs rc::detail::checkProperty with a
// PropertyBudget: the number of cases, the RapidCheck seed (fixed, so `make test` is
// deterministic; `--gtest_random_seed=N` explores another), and a cap on how many failing-case
// shrink attempts may run a simulation. RapidCheck's own `reproduce` setting (RC_PARAMS) is
// honoured, so the reproduce string it prints for a failure replays that failure.
//
// Every run of a scenario inside a property prints nothing when it passes; when it fails, the
// failure message carries the `storsim repro` token (scenarios/token.h, this build's id) and the
// first violation, so the shrunk counterexample replays outside the test.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "rapidcheck.h"
#include "scenarios/properties/fault_plan_gen.h"
#include "scenarios/scenario.h"

namespace storsim::scenarios::properties {

struct PropertyBudget {
  int max_success = 4;       // passing cases before the property passes
  int max_size = 100;        // RapidCheck size ramps from 0 to this over the cases
  uint64_t seed = 0x5eed2026;  // RapidCheck's seed; replaced by --gtest_random_seed when set
  // Property evaluations allowed after the first failure (shrinking). Past it, every further
  // shrink candidate is reported as passing without running, so RapidCheck stops there and keeps
  // the smallest failing case found so far.
  int shrink_runs_max = 60;
};

struct PropertyOutcome {
  bool passed = false;
  int successes = 0;               // passing cases before the failure (or in total)
  std::string failure;             // the final (shrunk) case's failure message
  std::string counterexample;      // the final case's generated values, one per line
  std::string report;              // RapidCheck's own result message (reproduce string included)
  int shrinks_tried = 0;           // shrink candidates evaluated
  int shrinks_accepted = 0;        // of which still failed (each one made the case smaller)
};

// Counts property evaluations after the first failure; shared by a property and its runner.
class ShrinkBudget {
 public:
  explicit ShrinkBudget(int runs_max) : runs_max_(runs_max) {}
  // True when the property may run this case for real. Call once per evaluation.
  bool Admit() { return !failed_ || runs_after_failure_++ < runs_max_; }
  void NoteFailure() { failed_ = true; }
  bool exhausted() const { return failed_ && runs_after_failure_ > runs_max_; }

 private:
  int runs_max_;
  bool failed_ = false;
  int runs_after_failure_ = 0;
};

// Runs `property` (a callable RapidCheck accepts: generators inside via operator*, RC_ASSERT)
// with `budget`. Never throws for a failing property; the outcome says what happened.
PropertyOutcome CheckProperty(const std::string& id, rc::detail::Property property,
                              const PropertyBudget& budget);
template <typename Testable>
PropertyOutcome CheckProperty(const std::string& id, Testable&& testable,
                              const PropertyBudget& budget) {
  return CheckProperty(id, rc::detail::toProperty(std::forward<Testable>(testable)), budget);
}

// One generated case of a scenario property: a seed (not shrunk: a new seed is a new run, not a
// smaller one) and a fault plan (shrunk).
struct ScenarioCase {
  uint64_t seed = 1;
  sim::FaultPlan plan;
};
// RapidCheck prints counterexamples through this (found by argument-dependent lookup).
void showValue(const ScenarioCase& value, std::ostream& os);

// Seeds in [1, 2^32) and plans from `space`.
rc::Gen<ScenarioCase> GenScenarioCase(const FaultSpace& space);

// Runs `scenario` with the case's seed and fault plan (and `bugs`) and returns the result.
RunResult RunCase(const std::string& scenario, const ScenarioCase& scenario_case,
                  const std::set<std::string>& bugs);

// The token `storsim repro` takes for `result`, with this build's id.
std::string ReproToken(const RunResult& result);
// "token <t>; first violation <v>" (or the internal error): what a failing case reports.
std::string DescribeFailure(const RunResult& result);

// True when `scenario` runs the fault plan RunOptions::fault_plan gives it (chaos does; a story
// with its own fixed faults may not): probed with one short, harmless fault.
bool AppliesGivenFaultPlan(const std::string& scenario, const FaultSpace& space);

// The property "`scenario` keeps every invariant under any generated seed and fault plan", as a
// RapidCheck testable. When `with_plan` is false the plan is left empty (the scenario ignores
// it). `budget` (shared with the runner) caps the simulations run while shrinking.
std::function<void()> ScenarioProperty(std::string scenario, std::set<std::string> bugs,
                                       FaultSpace space, bool with_plan,
                                       std::shared_ptr<ShrinkBudget> budget);

// Storage scenarios in DefaultRegistry(), in name order: those that build the storage cluster,
// recognised by knowing the controller's defects.
std::vector<std::string> StorageScenarioNames();

}  // namespace storsim::scenarios::properties
