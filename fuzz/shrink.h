// Shrinking a failing run (`storsim shrink TOKEN`): minimizes the fault plan and the workload
// knobs (ScenarioRun::Knob) while the same first invariant still fails. The seed stays fixed, and
// every knob the run used is pinned to a value, so the shrunk case replays exactly from its token.
//
// Rounds, each step accepted only if the run still fails with the original first invariant,
// repeated (at most kRoundsMax) while a round changes something, within a budget of runs:
//   1. delta debugging over the list of faults (remove chunks, halving the chunk size);
//   2. per remaining fault: halve its duration toward zero, halve its value toward zero, and move
//      it earlier (halve its time);
//   3. per knob above 1, in name order: halve it toward 1 while that still fails, then lower it
//      by steps that halve down to single decrements (so the result is the smallest value that
//      still fails below the last accepted one, when failing is monotone in the knob).
// Fewer operations can make faults removable and the reverse, hence the alternation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scenarios/scenario.h"

namespace storsim::fuzz {

struct ShrinkOptions {
  uint32_t runs_max = 300;
};

inline constexpr int kShrinkRoundsMax = 4;

struct ShrinkResult {
  scenarios::RunOptions options;  // the failing options with the minimized fault plan
  scenarios::RunResult result;    // the last failing run of them
  std::string invariant;
  uint32_t runs = 0;
  size_t faults_before = 0;
  size_t faults_after = 0;
  std::map<std::string, int64_t> knobs_before;  // the knobs of the original run
  std::map<std::string, int64_t> knobs_after;   // the knobs of the shrunk case
  std::vector<std::string> log;  // one line per accepted step
};

// Knobs in `failing` that the run never asks for are dropped from the result. Errors:
// FailedPrecondition when `failing` does not fail (nothing to shrink); InvalidArgument when the
// options are invalid for the registry.
absl::StatusOr<ShrinkResult> Shrink(const scenarios::ScenarioRegistry& registry,
                                    scenarios::RunOptions failing, const ShrinkOptions& options);

}  // namespace storsim::fuzz
