// Property-based tests of the storage scenarios: for every storage scenario in DefaultRegistry()
// (a new scenario is covered without touching this file), RapidCheck generates a seed and a fault
// plan over the storage processes, runs the scenario with that plan, and requires every SPEC
// invariant to hold. A failure names the `storsim repro` token of the SHRUNK case.
//
// Budget: each case is a whole simulated scenario, so each property runs a few cases
// (kCasesPerScenario); the whole file stays within about a minute of `make test`.
//
// The last tests plant a defect and check that the property FAILS and that RapidCheck shrinks the
// fault plan to a small case (run programmatically through CheckProperty).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "scenarios/properties/fault_plan_gen.h"
#include "scenarios/properties/property_runner.h"
#include "scenarios/runner.h"

namespace storsim::scenarios::properties {
namespace {

// Passing cases per scenario property in `make test` (a case is one whole scenario run, ~75 ms),
// and in the deep sweep (DISABLED_: run with --gtest_also_run_disabled_tests, and
// --gtest_random_seed=N for other RapidCheck seeds).
constexpr int kCasesPerScenario = 25;
constexpr int kDeepCasesPerScenario = 500;

std::string TestNameOf(const std::string& scenario) {
  std::string name = scenario;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class ScenarioPropertyTest : public ::testing::TestWithParam<std::string> {};

void CheckScenarioProperty(const std::string& scenario, int cases) {
  const FaultSpace space = StorageFaultSpace();
  const bool with_plan = AppliesGivenFaultPlan(scenario, space);
  std::cerr << scenario << (with_plan ? ": applies the generated fault plan\n"
                                      : ": ignores RunOptions::fault_plan; seeds only\n");
  PropertyBudget budget;
  budget.max_success = cases;
  budget.shrink_runs_max = 150;
  auto shrink_budget = std::make_shared<ShrinkBudget>(budget.shrink_runs_max);
  const PropertyOutcome outcome =
      CheckProperty("scenario/" + scenario,
                    ScenarioProperty(scenario, {}, space, with_plan, shrink_budget), budget);
  EXPECT_TRUE(outcome.passed) << outcome.report << "\nshrunk case: " << outcome.counterexample
                              << "\nfailure: " << outcome.failure;
  EXPECT_EQ(outcome.successes, cases);
}

TEST_P(ScenarioPropertyTest, KeepsEveryInvariantUnderGeneratedFaultPlans) {
  CheckScenarioProperty(GetParam(), kCasesPerScenario);
}

TEST_P(ScenarioPropertyTest, DISABLED_DeepSweep) {
  CheckScenarioProperty(GetParam(), kDeepCasesPerScenario);
}

INSTANTIATE_TEST_SUITE_P(StorageScenarios, ScenarioPropertyTest,
                         ::testing::ValuesIn(StorageScenarioNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return TestNameOf(info.param);
                         });

TEST(ScenarioCoverageTest, EveryStorageScenarioIsCovered) {
  const std::vector<std::string> names = StorageScenarioNames();
  for (const char* expected : {"chaos", "controller-roll", "live-migration"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(FaultPlanGenTest, GeneratedFaultsStayInTheirSpace) {
  const FaultSpace space = StorageFaultSpace();
  PropertyBudget budget;
  budget.max_success = 200;
  const PropertyOutcome outcome = CheckProperty(
      "fault-plan-gen/in-space",
      [space]() {
        const sim::FaultPlan plan = *GenFaultPlan(space);
        RC_ASSERT(plan.faults.size() <= static_cast<size_t>(space.faults_max));
        for (const sim::Fault& fault : plan.faults) {
          RC_ASSERT(fault.at >= sim::Duration::Zero());
          RC_ASSERT(fault.at < space.phase);
          RC_ASSERT(std::count(space.targets.begin(), space.targets.end(), fault.a) == 1);
          RC_ASSERT(std::count(space.kinds.begin(), space.kinds.end(), fault.kind) == 1);
          if (fault.b >= 0) {
            RC_ASSERT(fault.b != fault.a);
            RC_ASSERT(std::count(space.targets.begin(), space.targets.end(), fault.b) == 1);
          }
          if (fault.kind != sim::FaultKind::kClockDrift) {
            RC_ASSERT(fault.duration >= kFaultDurationMin);
            RC_ASSERT(fault.duration <= kFaultDurationMax);
          }
          // The plan survives the token's encoding (whole milliseconds).
          sim::FaultPlan one;
          one.faults.push_back(fault);
          RC_ASSERT(sim::FaultPlan::Decode(one.Encode()).value() == one);
        }
      },
      budget);
  EXPECT_TRUE(outcome.passed) << outcome.report;
}

// Shrinking itself, without a simulation: the property "no plan crashes the first target"
// fails, and the shrunk plan is exactly one fault, a crash of the first target at time 0 for the
// shortest duration.
TEST(FaultPlanGenTest, ShrinksToTheSmallestFailingPlan) {
  FaultSpace space = StorageFaultSpace();
  space.faults_min = 8;
  space.faults_max = 8;
  PropertyBudget budget;
  budget.max_success = 100;
  budget.shrink_runs_max = 100'000;
  sim::FaultPlan last_failing;
  const PropertyOutcome outcome = CheckProperty(
      "fault-plan-gen/shrinks",
      [&space, &last_failing]() {
        const sim::FaultPlan plan = *GenFaultPlan(space);
        const bool crashes_first = std::any_of(
            plan.faults.begin(), plan.faults.end(), [&space](const sim::Fault& fault) {
              return fault.kind == sim::FaultKind::kCrash && fault.a == space.targets.front();
            });
        if (crashes_first) last_failing = plan;
        RC_ASSERT(!crashes_first);
      },
      budget);
  ASSERT_FALSE(outcome.passed);
  ASSERT_EQ(last_failing.faults.size(), 1u) << ShowPlan(last_failing);
  const sim::Fault& fault = last_failing.faults.front();
  EXPECT_EQ(fault.kind, sim::FaultKind::kCrash);
  EXPECT_EQ(fault.a, space.targets.front());
  EXPECT_EQ(fault.at, sim::Duration::Zero());
  EXPECT_EQ(fault.duration, kFaultDurationMin);
  EXPECT_GT(outcome.shrinks_accepted, 1);
}

// A planted defect that chaos catches: the canary hands a live migration's destination the
// origin's generation (two attachments at one generation, S4). Starting from eight faults, the
// property must fail and RapidCheck must shrink the plan; the canary needs no fault at all, so a
// complete shrink ends at an empty plan.
TEST(ScenarioShrinkTest, CanaryGenerationReuseFailsAndShrinksTheFaultPlan) {
  FaultSpace space = StorageFaultSpace();
  space.faults_min = 8;
  space.faults_max = 8;
  PropertyBudget budget;
  budget.max_success = 3;
  budget.shrink_runs_max = 30;
  auto shrink_budget = std::make_shared<ShrinkBudget>(budget.shrink_runs_max);
  const PropertyOutcome outcome = CheckProperty(
      "shrink/chaos+canary-generation-reuse",
      ScenarioProperty("chaos", {"canary-generation-reuse"}, space, true, shrink_budget), budget);
  ASSERT_FALSE(outcome.passed) << "the canary was not caught";
  EXPECT_EQ(outcome.successes, 0);
  EXPECT_NE(outcome.failure.find("storsim repro v1:"), std::string::npos) << outcome.failure;
  EXPECT_NE(outcome.failure.find("S4"), std::string::npos) << outcome.failure;
  EXPECT_GE(outcome.shrinks_accepted, 1);
  // The shrunk plan, as RapidCheck printed it: "seed N, K fault(s): ...".
  const size_t count_at = outcome.counterexample.find(", ");
  ASSERT_NE(count_at, std::string::npos) << outcome.counterexample;
  const int faults_left = std::stoi(outcome.counterexample.substr(count_at + 2));
  std::cerr << "canary: shrunk from 8 faults to " << faults_left << " in "
            << outcome.shrinks_accepted << " accepted of " << outcome.shrinks_tried
            << " tried shrinks\n  " << outcome.counterexample << "  " << outcome.failure << "\n";
  EXPECT_LE(faults_left, 2);
}

// A planted defect that needs a fault: /validate trusting the controller's memory (bug #3, PR
// #8784) is only wrong while memory lags the database, e.g. after a pageserver restart. The
// property must fail within kCasesToCatch generated cases, and the plan must shrink to at most
// two faults (at the fixed RapidCheck seed: one fault, a crash of pageserver-1).
TEST(ScenarioShrinkTest, ValidateTrustingMemoryFailsAndShrinksToAFewFaults) {
  constexpr int kCasesToCatch = 250;
  const FaultSpace space = StorageFaultSpace();
  PropertyBudget budget;
  budget.max_success = kCasesToCatch;
  budget.shrink_runs_max = 150;
  auto shrink_budget = std::make_shared<ShrinkBudget>(budget.shrink_runs_max);
  const PropertyOutcome outcome = CheckProperty(
      "shrink/chaos+ctl-validate-trusts-memory",
      ScenarioProperty("chaos", {"ctl-validate-trusts-memory"}, space, true, shrink_budget),
      budget);
  ASSERT_FALSE(outcome.passed) << "not caught in " << kCasesToCatch << " cases";
  EXPECT_NE(outcome.failure.find("storsim repro v1:"), std::string::npos) << outcome.failure;
  const size_t count_at = outcome.counterexample.find(", ");
  ASSERT_NE(count_at, std::string::npos) << outcome.counterexample;
  const int faults_left = std::stoi(outcome.counterexample.substr(count_at + 2));
  std::cerr << "validate-trusts-memory: caught after " << outcome.successes
            << " passing cases; shrunk to " << faults_left << " fault(s) in "
            << outcome.shrinks_accepted << " accepted of " << outcome.shrinks_tried
            << " tried shrinks\n  " << outcome.counterexample << "  " << outcome.failure << "\n";
  EXPECT_LE(faults_left, 2);
}

}  // namespace
}  // namespace storsim::scenarios::properties

