// Sweeps: sharding and workers cover exactly the unsplit sweep; failures deduplicated with the
// fastest kept; outputs round-trip; time budgets stop the sweep.
#include "fuzz/sweep.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "fuzz/fuzz_test_scenarios.h"
#include "scenarios/run_context.h"

namespace storsim::fuzz {
namespace {

SweepHooks CountingHooks() {
  // A fake wall clock: each reading advances 1 ms, so rates are defined and tests are exact.
  auto now = std::make_shared<int64_t>(0);
  SweepHooks hooks;
  hooks.wall_now_ms = [now] { return ++*now; };
  return hooks;
}

SweepOptions Options(uint64_t seeds) {
  SweepOptions options;
  options.scenarios = {"parity"};
  options.seeds = seeds;
  options.determinism_percent = 0;
  options.build_id = "test";
  return options;
}

TEST(SweepTest, FindsEveryFailingSeedAndKeepsTheFastest) {
  const auto registry = TestRegistry();
  auto summary = RunSweep(registry, Options(50), CountingHooks());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->runs, 50u);
  EXPECT_EQ(summary->failed_runs, 7u);  // 7, 14, ..., 49
  ASSERT_EQ(summary->failures.size(), 1u);
  const RunRecord& kept = summary->failures.begin()->second;
  EXPECT_EQ(kept.invariant, "TEST1");
  EXPECT_EQ(kept.seed, 49u);  // fails earliest in simulated time
  EXPECT_EQ(kept.token.rfind("v1:test:parity:49:", 0), 0u) << kept.token;
}

TEST(SweepTest, ShardsMergeIntoTheUnsplitSweep) {
  const auto registry = TestRegistry();
  auto whole = RunSweep(registry, Options(30), CountingHooks());
  ASSERT_TRUE(whole.ok());
  SweepSummary merged;
  for (uint32_t k = 0; k < 3; ++k) {
    SweepOptions options = Options(30);
    options.shard_index = k;
    options.shard_count = 3;
    auto shard = RunSweep(registry, options, CountingHooks());
    ASSERT_TRUE(shard.ok());
    EXPECT_EQ(shard->runs, 10u);
    merged.Merge(*shard);
  }
  EXPECT_EQ(merged.runs, whole->runs);
  EXPECT_EQ(merged.failed_runs, whole->failed_runs);
  EXPECT_EQ(merged.events, whole->events);
  EXPECT_EQ(merged.failures.begin()->second.seed, whole->failures.begin()->second.seed);
  EXPECT_EQ(merged.shards.size(), 3u);
}

TEST(SweepTest, WorkerProcessesRunTheSameRuns) {
  const auto registry = TestRegistry();
  auto inline_sweep = RunSweep(registry, Options(40), CountingHooks());
  SweepOptions options = Options(40);
  options.jobs = 3;
  auto forked = RunSweep(registry, options, CountingHooks());
  ASSERT_TRUE(forked.ok()) << forked.status();
  EXPECT_EQ(forked->runs, inline_sweep->runs);
  EXPECT_EQ(forked->failed_runs, inline_sweep->failed_runs);
  EXPECT_EQ(forked->events, inline_sweep->events);
  EXPECT_EQ(forked->failures.begin()->second.token, inline_sweep->failures.begin()->second.token);
}

// A worker process that dies mid-run (a crash in the simulator, an OOM kill) is reported with the
// run it was on and how it ended, so the seed can be replayed in the foreground.
TEST(SweepTest, ADeadWorkerIsNamedWithItsRun) {
  scenarios::ScenarioRegistry registry = TestRegistry();
  registry.Add({"crasher", "its worker process exits at seed 5", {},
                [](scenarios::ScenarioRun& run) {
                  if (run.seed() == 5) ::_exit(3);
                  run.CreateSimulation({});
                }});
  SweepOptions options = Options(8);
  options.scenarios = {"crasher"};
  options.jobs = 2;
  options.bugs = {"zoo-bug"};
  auto summary = RunSweep(registry, options, CountingHooks());
  ASSERT_FALSE(summary.ok());
  const std::string message(summary.status().message());
  // Seeds 1..8 dealt round-robin: worker 0 runs 1, 3, 5, 7 and dies at 5.
  EXPECT_NE(message.find("worker 0 exited with status 3"), std::string::npos) << message;
  EXPECT_NE(message.find("worker 0 was running crasher seed 5 (replay: storsim run --scenario "
                         "crasher --seed 5 --bug zoo-bug)"),
            std::string::npos)
      << message;
}

TEST(SweepTest, TimeBudgetStopsAnUnboundedSweep) {
  const auto registry = TestRegistry();
  SweepHooks hooks = CountingHooks();
  auto runs_allowed = std::make_shared<int>(12);
  hooks.out_of_time = [runs_allowed] { return (*runs_allowed)-- <= 0; };
  auto summary = RunSweep(registry, Options(0), hooks);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->runs, 12u);
  SweepOptions no_budget = Options(0);
  EXPECT_FALSE(RunSweep(registry, no_budget, CountingHooks()).ok());
}

TEST(SweepTest, DeterminismSampleIsCheckedAndClean) {
  const auto registry = TestRegistry();
  SweepOptions options = Options(20);
  options.scenarios = {"needle", "parity"};
  options.determinism_percent = 100;
  auto summary = RunSweep(registry, options, CountingHooks());
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->determinism_checked, 40u);
  EXPECT_TRUE(summary->nondeterministic.empty());
}

TEST(SweepTest, OutputsRoundTripThroughTheirFiles) {
  const auto registry = TestRegistry();
  SweepOptions options = Options(20);
  options.scenarios = {"needle", "parity"};
  auto summary = RunSweep(registry, options, CountingHooks());
  ASSERT_TRUE(summary.ok());
  const std::string dir = testing::TempDir() + "/sweep_outputs";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteSweepOutputs(*summary, dir).ok());
  auto read = ReadSweepSummary(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->ToJson().Dump(), summary->ToJson().Dump());
  size_t failure_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/failures")) {
    (void)entry;
    ++failure_files;
  }
  EXPECT_EQ(failure_files, summary->failures.size());
  EXPECT_FALSE(ReadSweepSummary(dir + "/missing").ok());
}

}  // namespace
}  // namespace storsim::fuzz
