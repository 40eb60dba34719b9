// The storage scenarios: clean with no defect, a planted defect caught within a stated number of
// seeds, every leadership protocol runs, and runs replay.
#include <gtest/gtest.h>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace storsim::scenarios {
namespace {

RunResult RunStory(const std::string& scenario, uint64_t seed, std::set<std::string> bugs = {},
              std::string protocol = "") {
  RunOptions options;
  options.scenario = scenario;
  options.seed = seed;
  options.bugs = std::move(bugs);
  options.protocol = std::move(protocol);
  return RunScenario(DefaultRegistry(), options);
}

std::string Describe(const RunResult& result) {
  std::string out = result.internal_error;
  for (const auto& v : result.violations) out += v.ToString() + "\n";
  return out;
}

TEST(StorageScenariosTest, CleanSeedsHoldEveryInvariant) {
  for (const char* scenario : {"live-migration", "controller-roll", "chaos"}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const RunResult result = RunStory(scenario, seed);
      EXPECT_TRUE(result.ok) << scenario << " seed " << seed << ": " << Describe(result);
      EXPECT_GT(result.events, 500u) << scenario << " seed " << seed;
    }
  }
}

// Bug #3 needs the controller's memory to lag the database at a validation (a restart or a
// failover under faults): chaos catches it in 5 of its first 100 seeds, the first at seed 59.
TEST(StorageScenariosTest, ValidateTrustingMemoryIsCaughtAsS9WithinAHundredChaosSeeds) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    const RunResult result = RunStory("chaos", seed, {"ctl-validate-trusts-memory"});
    if (!result.ok && result.FirstInvariant() == "S9") ++caught;
  }
  EXPECT_GE(caught, 1);
}

TEST(StorageScenariosTest, EveryLeadershipProtocolRunsTheRoll) {
  for (const char* protocol : {"step-down", "naive", "lease", "lease-fenced"}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const RunResult result = RunStory("controller-roll", seed, {}, protocol);
      EXPECT_TRUE(result.ok) << protocol << " seed " << seed << ": " << Describe(result);
    }
  }
}

TEST(StorageScenariosTest, SameSeedSameTraceHash) {
  EXPECT_EQ(RunStory("chaos", 5).trace_hash, RunStory("chaos", 5).trace_hash);
  EXPECT_NE(RunStory("chaos", 5).trace_hash, RunStory("chaos", 6).trace_hash);
}

}  // namespace
}  // namespace storsim::scenarios
