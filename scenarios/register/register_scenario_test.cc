// The register self-test end to end: clean seeds stay clean, the planted bug is caught within a
// stated number of seeds, the same seed gives the same fingerprint, different seeds differ, and
// a run replays from its recorded fault plan (what a token carries).
#include "scenarios/register/register_scenario.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/token.h"

namespace storsim::scenarios {
namespace {

// The planted bug "register-read-one" must be caught within this many seeds (1..N). Measured
// when it was written: 145 of seeds 1..200 catch it (REG1 144, REG3 1) and the longest run of
// consecutive seeds that miss it is 3, so 5 seeds catch it from any start.
constexpr uint64_t kBugCaughtWithinSeeds = 5;
constexpr uint64_t kCleanSeeds = 200;

RunOptions Options(uint64_t seed) {
  RunOptions options;
  options.scenario = kRegisterScenarioName;
  options.seed = seed;
  return options;
}

std::string Describe(const RunResult& result) {
  std::string out = "seed " + std::to_string(result.options.seed) + " swarm: " + result.swarm +
                    "\nplan:\n" + result.fault_plan.ToString() + result.internal_error;
  for (const Violation& violation : result.violations) out += "\n" + violation.ToString();
  return out;
}

TEST(RegisterScenarioTest, CleanSeedsHoldEveryInvariant) {
  size_t faults = 0;
  for (uint64_t seed = 1; seed <= kCleanSeeds; ++seed) {
    const RunResult result = RunScenario(DefaultRegistry(), Options(seed));
    ASSERT_TRUE(result.ok) << Describe(result);
    faults += result.fault_plan.faults.size();
  }
  EXPECT_GT(faults, kCleanSeeds);  // the runs were not fault-free
}

TEST(RegisterScenarioTest, PlantedBugIsCaughtWithinStatedSeeds) {
  std::optional<uint64_t> caught;
  for (uint64_t seed = 1; seed <= kBugCaughtWithinSeeds && !caught; ++seed) {
    RunOptions options = Options(seed);
    options.bugs.insert(kRegisterBugReadOne);
    const RunResult result = RunScenario(DefaultRegistry(), options);
    ASSERT_TRUE(result.internal_error.empty()) << result.internal_error;
    if (result.ok) continue;
    const std::string invariant = result.FirstInvariant();
    EXPECT_TRUE(invariant == "REG1" || invariant == "REG3") << Describe(result);
    caught = seed;
  }
  EXPECT_TRUE(caught.has_value()) << "register-read-one survived seeds 1.."
                                  << kBugCaughtWithinSeeds;
}

TEST(RegisterScenarioTest, SameSeedSameFingerprintDifferentSeedsDiffer) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const DeterminismReport report = CheckDeterminism(DefaultRegistry(), Options(seed));
    EXPECT_TRUE(report.deterministic) << report.ToString();
    EXPECT_GT(report.first.events, 100u);
    hashes.insert(report.first.trace_hash);
  }
  EXPECT_EQ(hashes.size(), 5u);
}

TEST(RegisterScenarioTest, ReplaysFromItsTokenFaultPlan) {
  const RunResult original = RunScenario(DefaultRegistry(), Options(7));
  absl::StatusOr<Token> token = DecodeToken(EncodeToken(TokenFor(original, "test")));
  ASSERT_TRUE(token.ok()) << token.status();
  RunOptions replay = Options(token->seed);
  replay.fault_plan = token->fault_plan;
  const RunResult replayed = RunScenario(DefaultRegistry(), replay);
  EXPECT_EQ(replayed.trace_hash, original.trace_hash);
  // A different plan under the same seed is a different run.
  replay.fault_plan = sim::FaultPlan{};
  EXPECT_NE(RunScenario(DefaultRegistry(), replay).trace_hash, original.trace_hash);
}

TEST(RegisterScenarioTest, WritesAnNdjsonLinePerEvent) {
  RunOptions options = Options(2);
  options.ndjson_trace_path =
      ::testing::TempDir() + "register_trace_" + std::to_string(getpid()) + ".ndjson";
  const RunResult result = RunScenario(DefaultRegistry(), options);
  ASSERT_TRUE(result.ok) << Describe(result);
  std::FILE* file = std::fopen(options.ndjson_trace_path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  uint64_t lines = 0;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) lines += c == '\n' ? 1 : 0;
  std::fclose(file);
  EXPECT_EQ(lines, result.events);
}

}  // namespace
}  // namespace storsim::scenarios
