// Whole-scenario throughput: each benchmark runs consecutive seeds of one named scenario, with
// every checker on, exactly as `storsim fuzz` does, and reports per wall second of CPU: seeds,
// trace events and simulated seconds (the "times real time" figure; issue 6 asks chaos for at
// least 1,000 on one core). One iteration is one seed; seeds advance across iterations, so a
// longer run averages over more of the seed space.
//
//   build/bench/scenario_bench                                  every scenario
//   build/bench/scenario_bench --benchmark_filter='chaos$'      one
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/check.h"

namespace {

void BM_Scenario(benchmark::State& state, const std::string& scenario) {
  const storsim::scenarios::ScenarioRegistry& registry = storsim::scenarios::DefaultRegistry();
  uint64_t seed = 1;
  int64_t events = 0;
  int64_t sim_ns = 0;
  int64_t failed = 0;
  for (auto _ : state) {
    storsim::scenarios::RunOptions options;
    options.scenario = scenario;
    options.seed = seed++;
    const storsim::scenarios::RunResult result = storsim::scenarios::RunScenario(registry, options);
    SIM_CHECK_MSG(result.internal_error.empty(), result.internal_error);
    events += static_cast<int64_t>(result.events);
    sim_ns += result.sim_ns;
    failed += result.ok ? 0 : 1;
  }
  state.counters["seeds_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                     benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events),
                                                      benchmark::Counter::kIsRate);
  state.counters["sim_s_per_s"] = benchmark::Counter(static_cast<double>(sim_ns) / 1e9,
                                                     benchmark::Counter::kIsRate);
  state.counters["events_per_run"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
  state.counters["failed_runs"] = static_cast<double>(failed);
}

// One benchmark per registered scenario, named after it (registration order).
const bool kRegistered = [] {
  for (const storsim::scenarios::Scenario* scenario :
       storsim::scenarios::DefaultRegistry().All()) {
    benchmark::RegisterBenchmark(("BM_Scenario/" + scenario->name).c_str(), BM_Scenario,
                                 scenario->name)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
