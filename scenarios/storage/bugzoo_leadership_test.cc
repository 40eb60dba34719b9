// The leadership defects of the bug zoo (SPEC §12 rows #1 and #4, BUGZOO.md), caught in the
// controller-roll story: each case switches one defect on, runs seeds 1, 2, ... and expects the
// first failure within a measured seed bound, tripping one of the defect's expected invariants.
// A seed that also fails with no defect on says nothing about the defect: it is skipped.
// Bounds: `storsim fuzz --scenario controller-roll --seeds N --bug B` (first detecting seed and
// hits per N in each comment), with headroom; each case costs well under 30 s of CPU.
#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <set>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace storsim::scenarios {
namespace {

struct LeadershipZooCase {
  const char* bug;
  uint64_t seed_bound;             // first failing seed must be <= this
  std::set<std::string> expected;  // invariants the failure may report
};

std::ostream& operator<<(std::ostream& out, const LeadershipZooCase& zoo_case) {
  return out << zoo_case.bug << " in controller-roll";
}

RunResult RunRoll(uint64_t seed, const std::string& bug) {
  RunOptions options;
  options.scenario = "controller-roll";
  options.seed = seed;
  if (!bug.empty()) options.bugs = {bug};
  return RunScenario(DefaultRegistry(), options);
}

std::string Describe(const RunResult& result) {
  std::string out = result.internal_error;
  for (const auto& violation : result.violations) out += violation.ToString() + "\n";
  return out;
}

class LeadershipZooTest : public ::testing::TestWithParam<LeadershipZooCase> {};

TEST_P(LeadershipZooTest, CaughtWithinTheSeedBound) {
  const LeadershipZooCase& zoo_case = GetParam();
  ASSERT_NE(DefaultRegistry().Find("controller-roll"), nullptr);
  ASSERT_TRUE(DefaultRegistry().Find("controller-roll")->KnowsBug(zoo_case.bug));
  int noise = 0;
  for (uint64_t seed = 1; seed <= zoo_case.seed_bound; ++seed) {
    const RunResult result = RunRoll(seed, zoo_case.bug);
    if (result.ok) continue;
    if (!RunRoll(seed, "").ok) {
      ++noise;
      continue;
    }
    EXPECT_TRUE(zoo_case.expected.count(result.FirstInvariant()) == 1)
        << zoo_case << " seed " << seed << " failed with an unexpected invariant:\n"
        << Describe(result);
    return;
  }
  ADD_FAILURE() << zoo_case << " was not caught within " << zoo_case.seed_bound << " seeds ("
                << noise << " seeds failed without the defect too)";
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, LeadershipZooTest,
    ::testing::Values(
        // #1: the restarted leader asks itself to step down (~10.4 s of 503s): L3 (c), the
        // in-place restart bound. First at seed 3 (18 of 100).
        LeadershipZooCase{"ctl-no-self-restart-check", 30, {"L3"}},
        // #1: a retried step-down answers at once; the old leader's in-flight reconciles write
        // after it: S3. First at seed 2 (33 of 100).
        LeadershipZooCase{"ctl-step-down-not-shared", 25, {"S3"}},
        // #4: the successor migrates before stepping the old leader down, which keeps writing:
        // S3 (schema part). First at seed 2 (53 of 100).
        LeadershipZooCase{"ctl-migrations-before-step-down", 25, {"S3"}},
        // #1: the restarted old pod steps the new leader down and is then stopped by the rollout;
        // the stepped-down pod is never restarted: no Leader after the quiet period (L1). First
        // at seed 1 (3 of 100: seeds 1, 11, 56).
        LeadershipZooCase{"ctl-live-ignores-leadership", 40, {"L1", "L3"}},
        LeadershipZooCase{"k8s-liveness-off", 40, {"L1", "L3"}}),
    [](const ::testing::TestParamInfo<LeadershipZooCase>& info) {
      std::string name;
      for (const char* c = info.param.bug; *c != '\0'; ++c) name += std::isalnum(*c) ? *c : '_';
      return name;
    });

}  // namespace
}  // namespace storsim::scenarios
