// Shrinking finds the one fault that matters and keeps the same invariant failing.
#include "fuzz/shrink.h"

#include <gtest/gtest.h>

#include "fuzz/fuzz_test_scenarios.h"
#include "scenarios/runner.h"

namespace storsim::fuzz {
namespace {

TEST(ShrinkTest, ReducesTheNeedlePlanToOneMinimalFault) {
  const auto registry = TestRegistry();
  // Find a failing seed first (the scenario fails for roughly half of them).
  scenarios::RunOptions failing;
  failing.scenario = "needle";
  for (uint64_t seed = 1; seed < 100; ++seed) {
    failing.seed = seed;
    if (!scenarios::RunScenario(registry, failing).ok) break;
  }
  auto shrunk = Shrink(registry, failing, {});
  ASSERT_TRUE(shrunk.ok()) << shrunk.status();
  EXPECT_EQ(shrunk->invariant, "TEST2");
  EXPECT_EQ(shrunk->faults_before, 12u);
  ASSERT_EQ(shrunk->faults_after, 1u);
  const sim::Fault& fault = shrunk->options.fault_plan->faults[0];
  EXPECT_EQ(fault.kind, sim::FaultKind::kCrash);
  EXPECT_EQ(fault.a, 1);
  // Halving stops at the first duration under 1 s: the result is in [1 s, 2 s).
  EXPECT_GE(fault.duration, sim::Duration::Seconds(1));
  EXPECT_LT(fault.duration, sim::Duration::Seconds(2));
  EXPECT_EQ(fault.at, sim::Duration::Zero());
  // The shrunk options replay to the same failure.
  scenarios::RunResult replay = scenarios::RunScenario(registry, shrunk->options);
  EXPECT_FALSE(replay.ok);
  EXPECT_EQ(replay.FirstInvariant(), "TEST2");
}

TEST(ShrinkTest, APassingRunIsRefused) {
  const auto registry = TestRegistry();
  scenarios::RunOptions passing;
  passing.scenario = "parity";
  passing.seed = 1;
  auto shrunk = Shrink(registry, passing, {});
  EXPECT_EQ(shrunk.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace storsim::fuzz
