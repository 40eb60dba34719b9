// CheckProperty and the scenario property (see property_runner.h).
#include "scenarios/properties/property_runner.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <sstream>

#include "rapidcheck/detail/TestListener.h"
#include "scenarios/runner.h"
#include "scenarios/token.h"
#include "sim/check.h"

#ifndef STORSIM_BUILD_ID
#define STORSIM_BUILD_ID "unknown"
#endif

namespace storsim::scenarios::properties {
namespace {

// Counts shrink attempts and prints each accepted one (one line), so a long shrink shows
// progress in the test log.
class ShrinkCounter : public rc::detail::TestListener {
 public:
  explicit ShrinkCounter(std::string id) : id_(std::move(id)) {}
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription& shrink, bool accepted) override {
    ++tried_;
    if (!accepted) return;
    ++accepted_;
    std::cerr << "[" << id_ << "] shrink " << accepted_ << " (of " << tried_ << " tried):";
    for (const auto& [type, value] : shrink.example()) std::cerr << " " << value;
    std::cerr << "\n";
  }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int tried() const { return tried_; }
  int accepted() const { return accepted_; }

 private:
  std::string id_;
  int tried_ = 0;
  int accepted_ = 0;
};

// Fewer trace events than this and a storage scenario cannot have run its story.
constexpr uint64_t kEventsMin = 500;

}  // namespace

PropertyOutcome CheckProperty(const std::string& id, rc::detail::Property property,
                              const PropertyBudget& budget) {
  SIM_CHECK(budget.max_success > 0 && budget.max_size >= 0);
  rc::detail::TestMetadata metadata;
  metadata.id = id;
  metadata.description = id;
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = budget.max_success;
  params.maxSize = budget.max_size;
  const int gtest_seed = GTEST_FLAG_GET(random_seed);
  params.seed = gtest_seed != 0 ? static_cast<uint64_t>(gtest_seed) : budget.seed;
  params.disableShrinking = false;
  ShrinkCounter counter(id);
  const rc::detail::TestResult result = rc::detail::checkProperty(
      property, metadata, params, counter, rc::detail::configuration().reproduce);

  PropertyOutcome outcome;
  std::ostringstream report;
  rc::detail::printResultMessage(result, report);
  outcome.report = report.str();
  outcome.shrinks_tried = counter.tried();
  outcome.shrinks_accepted = counter.accepted();
  if (result.is<rc::detail::SuccessResult>()) {
    outcome.passed = true;
    outcome.successes = result.get<rc::detail::SuccessResult>().numSuccess;
  } else if (result.is<rc::detail::FailureResult>()) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    outcome.successes = failure.numSuccess;
    outcome.failure = failure.description;
    for (const auto& [type, value] : failure.counterExample) {
      outcome.counterexample += value + "\n";
    }
  } else if (result.is<rc::detail::GaveUpResult>()) {
    outcome.successes = result.get<rc::detail::GaveUpResult>().numSuccess;
    outcome.failure = "gave up: " + result.get<rc::detail::GaveUpResult>().description;
  } else {
    outcome.failure = "error: " + result.get<rc::detail::Error>().description;
  }
  return outcome;
}

void showValue(const ScenarioCase& value, std::ostream& os) {
  os << "seed " << value.seed << ", " << value.plan.faults.size() << " fault(s): "
     << ShowPlan(value.plan) << " [plan " << (value.plan.faults.empty() ? "-" : value.plan.Encode())
     << "]";
}

rc::Gen<ScenarioCase> GenScenarioCase(const FaultSpace& space) {
  return rc::gen::apply(
      [](uint64_t seed, sim::FaultPlan plan) { return ScenarioCase{seed, std::move(plan)}; },
      rc::gen::noShrink(rc::gen::resize(rc::kNominalSize,
                                        rc::gen::inRange<uint64_t>(1, uint64_t{1} << 32))),
      GenFaultPlan(space));
}

RunResult RunCase(const std::string& scenario, const ScenarioCase& scenario_case,
                  const std::set<std::string>& bugs) {
  RunOptions options;
  options.scenario = scenario;
  options.seed = scenario_case.seed;
  options.bugs = bugs;
  options.fault_plan = scenario_case.plan;
  return RunScenario(DefaultRegistry(), options);
}

std::string ReproToken(const RunResult& result) {
  return EncodeToken(TokenFor(result, STORSIM_BUILD_ID));
}

std::string DescribeFailure(const RunResult& result) {
  std::string out = "storsim repro " + ReproToken(result) + " ; first violation: ";
  if (!result.internal_error.empty()) {
    out += "INTERNAL " + result.internal_error;
  } else if (!result.violations.empty()) {
    out += result.violations.front().ToString();
  } else {
    out += "(none reported)";
  }
  return out;
}

bool AppliesGivenFaultPlan(const std::string& scenario, const FaultSpace& space) {
  SIM_CHECK(!space.targets.empty());
  ScenarioCase probe;
  sim::Fault pause;
  pause.kind = sim::FaultKind::kPause;
  pause.at = sim::Duration::Seconds(1);
  pause.a = space.targets.front();
  pause.duration = sim::Duration::Millis(500);
  probe.plan.faults.push_back(pause);
  const RunResult result = RunCase(scenario, probe, {});
  return result.fault_plan == probe.plan;
}

std::function<void()> ScenarioProperty(std::string scenario, std::set<std::string> bugs,
                                       FaultSpace space, bool with_plan,
                                       std::shared_ptr<ShrinkBudget> budget) {
  SIM_CHECK(budget != nullptr);
  if (!with_plan) space.faults_min = space.faults_max = 0;
  // Results by (seed, encoded plan): a shrink step that changes only a field the fault's kind
  // ignores (a crash's drift value, say) yields the same plan, and must not cost another run.
  auto results = std::make_shared<std::map<std::string, std::string>>();
  return [scenario = std::move(scenario), bugs = std::move(bugs), space = std::move(space),
          budget = std::move(budget), results]() {
    const ScenarioCase scenario_case = *GenScenarioCase(space);
    const std::string key = std::to_string(scenario_case.seed) + ":" + scenario_case.plan.Encode();
    std::string failure;
    auto cached = results->find(key);
    if (cached != results->end()) {
      failure = cached->second;
    } else {
      if (!budget->Admit()) return;  // shrink budget spent: stop shrinking here
      const RunResult result = RunCase(scenario, scenario_case, bugs);
      if (!result.ok) {
        failure = DescribeFailure(result);
      } else if (result.events < kEventsMin) {
        // A run that did almost nothing checked almost nothing: a harness fault, not a pass.
        failure = "only " + std::to_string(result.events) + " events: " + DescribeFailure(result);
      }
      if (results->size() < 10'000) results->emplace(key, failure);
    }
    if (!failure.empty()) {
      budget->NoteFailure();
      RC_FAIL(failure);
    }
  };
}

std::vector<std::string> StorageScenarioNames() {
  std::vector<std::string> names;
  for (const Scenario* scenario : DefaultRegistry().All()) {
    if (scenario->KnowsBug("ctl-validate-trusts-memory")) names.push_back(scenario->name);
  }
  return names;
}

}  // namespace storsim::scenarios::properties
