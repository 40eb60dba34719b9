// The bug zoo's negative tests for the compute-notification defects (SPEC §12 #8 and #9; see
// bugzoo_test.cc for the method): with only the defect on, seeds 1, 2, ... of the scenario run
// until the first failure, which must come within the bound and trip one of the expected
// invariants; seeds that also fail with no defect on are skipped (and counted). The bounds are
// measured with `storsim fuzz --scenario compute-refresh --seeds N --bug B --json`, with headroom.
//
// Why these invariants: #8 drops a pending notification, so the old attachment is demoted (or
// the compute left on the failed-over node) while the control plane still names the old node:
// S12 fires at the demotion, L1/L6 at the end. #9 skips the notification of a migration back to
// a placement the control plane was told before (a 423 in between): the origin is demoted while
// the control plane's spec names it (S12), and the compute ends on the wrong node (L1, S14).
#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <set>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace storsim::scenarios {
namespace {

struct NotifyZooCase {
  const char* bug;
  const char* scenario;
  uint64_t seed_bound;             // first failing seed must be <= this
  std::set<std::string> expected;  // invariants the failure may report
};

std::ostream& operator<<(std::ostream& out, const NotifyZooCase& zoo_case) {
  return out << zoo_case.bug << " in " << zoo_case.scenario;
}

RunResult RunWithBug(const std::string& scenario, uint64_t seed, const std::string& bug) {
  RunOptions options;
  options.scenario = scenario;
  options.seed = seed;
  if (!bug.empty()) options.bugs = {bug};
  return RunScenario(DefaultRegistry(), options);
}

std::string Describe(const RunResult& result) {
  std::string out = result.internal_error;
  for (const auto& violation : result.violations) out += violation.ToString() + "\n";
  return out;
}

class NotifyZooTest : public ::testing::TestWithParam<NotifyZooCase> {};

TEST_P(NotifyZooTest, CaughtWithinTheSeedBound) {
  const NotifyZooCase& zoo_case = GetParam();
  ASSERT_NE(DefaultRegistry().Find(zoo_case.scenario), nullptr);
  ASSERT_TRUE(DefaultRegistry().Find(zoo_case.scenario)->KnowsBug(zoo_case.bug));
  int noise = 0;
  for (uint64_t seed = 1; seed <= zoo_case.seed_bound; ++seed) {
    const RunResult result = RunWithBug(zoo_case.scenario, seed, zoo_case.bug);
    if (result.ok) continue;
    if (!RunWithBug(zoo_case.scenario, seed, "").ok) {
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
    Notify, NotifyZooTest,
    ::testing::Values(
        // #8 (PR #10352), first at compute-refresh seed 11 (21 of 300: L6 9, S12 8, L1 4).
        NotifyZooCase{"ctl-pending-notify-dropped", "compute-refresh", 40,
                      {"S12", "L1", "L6"}},
        // #9 (PR #9435), first at compute-refresh seed 18 (12 of 300, all S12).
        NotifyZooCase{"ctl-dedupe-ignores-applied", "compute-refresh", 60,
                      {"S12", "S14", "L1", "L6"}}),
    [](const ::testing::TestParamInfo<NotifyZooCase>& info) {
      std::string name;
      for (const char* c = info.param.bug; *c != '\0'; ++c) name += std::isalnum(*c) ? *c : '_';
      return name;
    });

}  // namespace
}  // namespace storsim::scenarios
