// Measuring the bug zoo (`storsim bugzoo`, BUGZOO.md): for each planted defect and each scenario
// that knows it, `sweeps` independent sweeps over disjoint seed ranges (sweep i runs seeds
// first_seed + i * max_seeds onward), each stopping at the first run whose first invariant is one
// the defect is expected to trip. A sweep's result is its seeds-to-detect (1 = its first seed) or
// "not caught within max_seeds". Per scenario: how many sweeps caught it, the median and the
// worst seeds-to-detect (a sweep that did not catch counts as infinitely many), and the invariant
// that caught it most often. Per defect, the best scenario (lowest median, then lowest worst) has
// its first detection shrunk (shrink.h): the size of the minimal case is what a person must read.
//
// Expected invariants come from the defect's summary (ExpectedInvariants); failures with another
// invariant are counted as noise and do not stop a sweep. Sweeps and shrinks run as independent
// tasks over forked workers (fork_pool.h); every number is a pure function of the options.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/json.h"
#include "scenarios/scenario.h"

namespace storsim::fuzz {

struct BugzooOptions {
  std::vector<std::string> scenarios;  // candidates, non-empty; a bug is measured on those that
                                       // know it
  std::vector<std::string> bugs;       // defects to measure, non-empty, each known to a candidate
  uint32_t sweeps = 20;
  uint64_t max_seeds = 2000;  // per sweep
  uint64_t first_seed = 1;
  int jobs = 1;
  uint32_t shrink_runs = 200;  // 0: do not shrink
  std::string build_id;
  std::map<std::string, int64_t> knobs;  // workload knobs set in every run instead of drawn
  // Per bug, invariants to accept instead of the ones parsed from its summary.
  std::map<std::string, std::vector<std::string>> expected_override;
};

struct SweepDetection {
  uint32_t sweep = 0;
  uint64_t first_seed = 0;
  bool caught = false;
  uint64_t seeds_run = 0;   // seeds-to-detect when caught, else max_seeds
  uint64_t seed = 0;        // the detecting seed
  std::string invariant;    // the detecting invariant
  std::string token;        // of the detecting run
  uint64_t other_failures = 0;  // runs that failed with an invariant not expected
  std::string error;        // set when the task itself failed (the sweep is then not caught)

  Json ToJson() const;
  static SweepDetection FromJson(const Json& json);
};

struct ScenarioDetection {
  std::string scenario;
  std::vector<SweepDetection> sweeps;  // by sweep index
  uint32_t caught = 0;
  std::optional<double> median;   // absent: not caught in at least half the sweeps
  std::optional<uint64_t> worst;  // absent: some sweep did not catch it
  std::string invariant;          // the most frequent detecting invariant ("" if none)
  uint64_t other_failures = 0;

  // Fills caught, median, worst, invariant and other_failures from `sweeps`.
  void Summarize();
  // True if this scenario detects better than `other`: lower median, then lower worst, then
  // more sweeps caught.
  bool BetterThan(const ScenarioDetection& other) const;
};

struct ShrunkCase {
  bool done = false;
  std::string error;  // why shrinking did not run or failed
  std::string token;
  std::string invariant;
  size_t faults_before = 0;
  size_t faults_after = 0;
  std::map<std::string, int64_t> knobs_before;
  std::map<std::string, int64_t> knobs_after;
  uint32_t runs = 0;

  Json ToJson() const;
  static ShrunkCase FromJson(const Json& json);
  // "1 fault, clients=1 ops=37" or "not shrunk".
  std::string ToString() const;
};

struct BugDetection {
  std::string bug;
  std::string summary;
  std::vector<std::string> expected;
  std::vector<ScenarioDetection> scenarios;  // in option order
  int best = -1;                             // index into scenarios; -1 when none caught it
  ShrunkCase shrunk;

  Json ToJson() const;
};

// The invariant ids a defect's summary names: the words after "should trip" when it says so,
// else every invariant-like word (S8, L3, REG1, REG-L1; "REG1/REG3" is two).
std::vector<std::string> ExpectedInvariants(std::string_view summary);

// Median of seeds-to-detect with "not caught" as infinity; absent when that median is infinite.
std::optional<double> MedianSeeds(const std::vector<SweepDetection>& sweeps);

// Called after each sweep or shrink finishes (for progress lines).
using BugzooProgress = std::function<void(const std::string& line)>;

// Runs the measurement. Errors: InvalidArgument for an unknown scenario or bug, a bug that no
// candidate scenario knows, a bug with no expected invariant; Internal when the worker pool
// fails.
absl::StatusOr<std::vector<BugDetection>> MeasureBugzoo(
    const scenarios::ScenarioRegistry& registry, const BugzooOptions& options,
    const BugzooProgress& progress);

// The markdown table (one row per defect) that replaces BUGZOO.md's, with a caption giving the
// budget.
std::string BugzooMarkdown(const std::vector<BugDetection>& detections,
                           const BugzooOptions& options);

}  // namespace storsim::fuzz
