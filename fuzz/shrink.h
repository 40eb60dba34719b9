// Shrinking a failing run (`storsim shrink TOKEN`): minimizes the fault plan while the same
// invariant still fails, then simplifies what remains. The seed (hence the workload the scenario
// draws from it) stays fixed, so the shrunk case replays exactly from its new token.
//
// Steps, each accepted only if the run still fails with the original first invariant:
//   1. delta debugging over the list of faults (remove chunks, halving the chunk size);
//   2. per remaining fault: halve its duration toward zero, halve its value toward zero, and move
//      it earlier (halve its time);
// within a budget of runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scenarios/scenario.h"

namespace storsim::fuzz {

struct ShrinkOptions {
  uint32_t runs_max = 300;
};

struct ShrinkResult {
  scenarios::RunOptions options;  // the failing options with the minimized fault plan
  scenarios::RunResult result;    // the last failing run of them
  std::string invariant;
  uint32_t runs = 0;
  size_t faults_before = 0;
  size_t faults_after = 0;
  std::vector<std::string> log;  // one line per accepted step
};

// Errors: FailedPrecondition when `failing` does not fail (nothing to shrink); InvalidArgument
// when the options are invalid for the registry.
absl::StatusOr<ShrinkResult> Shrink(const scenarios::ScenarioRegistry& registry,
                                    scenarios::RunOptions failing, const ShrinkOptions& options);

}  // namespace storsim::fuzz
