// Seed sweeps (`storsim fuzz`): many runs over named scenarios, split across worker processes
// (--jobs) and across machines (--shard K/N), with failures deduplicated by signature and the
// fastest-failing case of each kept, a share of seeds re-run to check determinism, and coverage
// marks that no run hit reported at the end.
//
// Work is an index space: run i is scenario scenarios[i % S] with seed first_seed + i / S. Shard
// K of N takes the indices with i % N == K; worker w of J within a shard takes those with
// (i / N) % J == w. So a sweep split into shards and jobs runs exactly the runs of the unsplit
// sweep, and the merge of the shards equals it.
//
// Real time never enters a run: the caller passes a wall clock and a time budget as hooks (the
// CLI may read real time; fuzz/ may not).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fuzz/json.h"
#include "fuzz/run_record.h"
#include "scenarios/scenario.h"

namespace storsim::fuzz {

struct SweepOptions {
  std::vector<std::string> scenarios;  // resolved names, non-empty
  uint64_t first_seed = 1;
  uint64_t seeds = 0;  // seeds per scenario; 0 = until the time budget runs out
  std::set<std::string> bugs;
  std::map<std::string, int64_t> knobs;  // set in every run (a scenario without one ignores it)
  std::string protocol;
  int jobs = 1;                 // worker processes (1 = in this process)
  uint32_t shard_index = 0;     // K of --shard K/N
  uint32_t shard_count = 1;     // N of --shard K/N
  uint32_t determinism_percent = 5;
  std::string build_id;
};

struct SweepStats {
  uint64_t runs = 0;
  uint64_t failed_runs = 0;
  uint64_t events = 0;
  int64_t sim_ns = 0;
};

struct SweepSummary {
  uint64_t runs = 0;
  uint64_t failed_runs = 0;
  uint64_t events = 0;
  int64_t sim_ns = 0;
  int64_t wall_ms = 0;
  uint64_t determinism_checked = 0;
  std::map<std::string, RunRecord> failures;  // by signature: the fastest-failing case
  // By signature: how many runs failed with it, and their seeds (sorted; the first
  // kFailingSeedsMax of them), so a sweep names every failing run, not just one per signature.
  std::map<std::string, uint64_t> failure_counts;
  std::map<std::string, std::vector<uint64_t>> failing_seeds;
  static constexpr size_t kFailingSeedsMax = 1000;
  std::vector<RunRecord> nondeterministic;
  std::map<std::string, uint64_t> marks;  // every registered mark -> runs that hit it
  std::map<std::string, SweepStats> per_scenario;
  std::vector<std::string> shards;  // "K/N" of each shard merged in

  void Add(const RunRecord& record);
  void Merge(const SweepSummary& other);
  std::vector<std::string> MarksMissed() const;
  double RunsPerSecond() const;
  double SimSecondsPerWallSecond() const;
  Json ToJson() const;
  static SweepSummary FromJson(const Json& json);
};

struct SweepHooks {
  std::function<int64_t()> wall_now_ms;     // required
  std::function<bool()> out_of_time;        // optional: a time budget
  std::function<void(const SweepSummary&)> progress;  // optional, called after each run
};

// Whether the run (scenario, seed) is one of the `percent` in 100 replayed for determinism: a
// hash of both, so the sequential and the library sweep, every shard and every job pick the same
// runs.
bool SampledForDeterminism(const std::string& scenario, uint64_t seed, uint32_t percent);

// Runs the sweep. Failures of the simulated system are results, not errors; an error means the
// sweep itself could not run (a worker could not be started or died without reporting).
// The flags a `storsim run` replay of one of the sweep's runs needs besides scenario and seed
// (" --bug B ... --protocol P"; empty when neither is set).
std::string ReplayFlags(const SweepOptions& options);

absl::StatusOr<SweepSummary> RunSweep(const scenarios::ScenarioRegistry& registry,
                                      const SweepOptions& options, const SweepHooks& hooks);

// Writes DIR/summary.json and DIR/failures/<scenario>-<invariant>.json (one per signature),
// creating DIR. Errors: the directory or a file cannot be written.
absl::Status WriteSweepOutputs(const SweepSummary& summary, const std::string& dir);
// Reads DIR/summary.json back. Errors: missing or malformed file.
absl::StatusOr<SweepSummary> ReadSweepSummary(const std::string& dir);

}  // namespace storsim::fuzz
