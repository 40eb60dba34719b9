// The bug-zoo measurement on a synthetic defect with known detection seeds: per-sweep
// seeds-to-detect over disjoint ranges, noise failures ignored, median and worst, the shrunk
// case, in-process and forked workers agreeing, and the expected-invariant parser.
#include "fuzz/bugzoo.h"

#include <gtest/gtest.h>

#include "fuzz/fuzz_test_scenarios.h"

namespace storsim::fuzz {
namespace {

BugzooOptions ZooOptions(int jobs) {
  BugzooOptions options;
  options.scenarios = {"zoo", "parity"};
  options.bugs = {"zoo-bug"};
  options.sweeps = 3;
  options.max_seeds = 10;
  options.jobs = jobs;
  options.shrink_runs = 50;
  options.build_id = "test";
  return options;
}

TEST(BugzooTest, MeasuresSeedsToDetectPerSweep) {
  const auto registry = TestRegistry();
  std::vector<std::string> lines;
  auto measured = MeasureBugzoo(registry, ZooOptions(1),
                                [&](const std::string& line) { lines.push_back(line); });
  ASSERT_TRUE(measured.ok()) << measured.status();
  ASSERT_EQ(measured->size(), 1u);
  const BugDetection& zoo = measured->front();
  EXPECT_EQ(zoo.expected, std::vector<std::string>{"TEST4"});
  ASSERT_EQ(zoo.scenarios.size(), 1u);  // "parity" does not know the bug
  const ScenarioDetection& detection = zoo.scenarios[0];
  ASSERT_EQ(detection.sweeps.size(), 3u);
  // Sweep i runs seeds 1 + 10 i .. 10 + 10 i; the first multiple of 7 in each is 7, 14, 21.
  EXPECT_EQ(detection.sweeps[0].seeds_run, 7u);
  EXPECT_EQ(detection.sweeps[0].seed, 7u);
  EXPECT_EQ(detection.sweeps[0].other_failures, 2u);  // seeds 3 and 6 failed TEST5
  EXPECT_EQ(detection.sweeps[1].seeds_run, 4u);
  EXPECT_EQ(detection.sweeps[2].seeds_run, 1u);
  EXPECT_EQ(detection.caught, 3u);
  EXPECT_EQ(detection.median, 4.0);
  EXPECT_EQ(detection.worst, 7u);
  EXPECT_EQ(detection.invariant, "TEST4");
  EXPECT_EQ(zoo.best, 0);
  // The first detection (seed 7) shrinks to the smallest size that still fails.
  ASSERT_TRUE(zoo.shrunk.done) << zoo.shrunk.error;
  EXPECT_EQ(zoo.shrunk.invariant, "TEST4");
  EXPECT_EQ(zoo.shrunk.knobs_after.at("size"), 10);
  EXPECT_EQ(zoo.shrunk.ToString(), "0 faults (from 0), size=10");
  EXPECT_EQ(lines.size(), 4u);  // three sweeps and one shrink

  const std::string table = BugzooMarkdown(*measured, ZooOptions(1));
  EXPECT_NE(table.find("| `zoo-bug` | planted for the bugzoo tests (should trip TEST4) "
                       "(expected: TEST4) | zoo | TEST4 | 3/3 | 4 | 7 | 0 faults (from 0), "
                       "size=10 | — |"),
            std::string::npos)
      << table;
}

TEST(BugzooTest, ForkedWorkersGiveTheSameNumbers) {
  const auto registry = TestRegistry();
  auto inline_run = MeasureBugzoo(registry, ZooOptions(1), nullptr);
  auto forked = MeasureBugzoo(registry, ZooOptions(2), nullptr);
  ASSERT_TRUE(inline_run.ok() && forked.ok());
  EXPECT_EQ(inline_run->front().ToJson().Dump(), forked->front().ToJson().Dump());
}

TEST(BugzooTest, NotCaughtWithinTheBudget) {
  const auto registry = TestRegistry();
  BugzooOptions options = ZooOptions(1);
  options.max_seeds = 5;
  options.sweeps = 2;  // seeds 1..5 and 6..10: only 7 detects
  auto measured = MeasureBugzoo(registry, options, nullptr);
  ASSERT_TRUE(measured.ok()) << measured.status();
  const ScenarioDetection& detection = measured->front().scenarios[0];
  EXPECT_FALSE(detection.sweeps[0].caught);
  EXPECT_EQ(detection.sweeps[0].seeds_run, 5u);
  EXPECT_TRUE(detection.sweeps[1].caught);
  EXPECT_EQ(detection.sweeps[1].seeds_run, 2u);
  EXPECT_FALSE(detection.median.has_value());  // (2 + infinity) / 2
  EXPECT_FALSE(detection.worst.has_value());
  const std::string table = BugzooMarkdown(*measured, options);
  EXPECT_NE(table.find("| 1/2 | — | > 5 |"), std::string::npos) << table;
}

TEST(BugzooTest, RefusesWhatItCannotMeasure) {
  const auto registry = TestRegistry();
  BugzooOptions options = ZooOptions(1);
  options.bugs = {"zoo-unnamed"};
  EXPECT_EQ(MeasureBugzoo(registry, options, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.expected_override["zoo-unnamed"] = {"TEST5"};
  auto forced = MeasureBugzoo(registry, options, nullptr);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->front().scenarios[0].sweeps[0].seeds_run, 3u);  // seed 3: TEST5
  options.bugs = {"no-such-bug"};
  EXPECT_FALSE(MeasureBugzoo(registry, options, nullptr).ok());
  options.bugs = {"zoo-bug"};
  options.scenarios = {"nope"};
  EXPECT_FALSE(MeasureBugzoo(registry, options, nullptr).ok());
}

TEST(BugzooTest, ParsesExpectedInvariantsFromSummaries) {
  EXPECT_EQ(ExpectedInvariants("PR #8784 (bug #3): /validate checks memory (should trip S8 S9)"),
            (std::vector<std::string>{"S8", "S9"}));
  EXPECT_EQ(ExpectedInvariants("reads ask one replica; REG1/REG3 (stale read) must catch it"),
            (std::vector<std::string>{"REG1", "REG3"}));
  EXPECT_EQ(ExpectedInvariants("fake S3 object store loses keys (should trip L7 L1)"),
            (std::vector<std::string>{"L7", "L1"}));
  EXPECT_EQ(ExpectedInvariants("final read hangs; REG-L1 catches it, not k8s or RFC 033"),
            (std::vector<std::string>{"REG-L1"}));
  EXPECT_TRUE(ExpectedInvariants("no invariant named here (bug #12, PR #9486)").empty());
}

TEST(BugzooTest, MedianCountsMissesAsInfinite) {
  auto sweep = [](bool caught, uint64_t seeds) {
    SweepDetection detection;
    detection.caught = caught;
    detection.seeds_run = seeds;
    return detection;
  };
  EXPECT_EQ(MedianSeeds({sweep(true, 3), sweep(true, 9), sweep(false, 100)}), 9.0);
  EXPECT_EQ(MedianSeeds({sweep(true, 3), sweep(true, 8)}), 5.5);
  EXPECT_FALSE(MedianSeeds({sweep(true, 3), sweep(false, 8)}).has_value());
  EXPECT_FALSE(MedianSeeds({}).has_value());
}

}  // namespace
}  // namespace storsim::fuzz
