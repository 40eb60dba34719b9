// libFuzzer target: input bytes become a scenario choice, a seed and a fault plan, and the run
// must end in a verdict — never a crash, a hang or an internal error. A violation of a simulated
// invariant is a finding of the model (reported by the scenario), not of this target; an internal
// error or a nondeterministic replay is a harness bug and aborts.
//
// Byte layout (everything optional, missing bytes read as zero):
//   [0]      scenario index (modulo the registered scenarios)
//   [1..8]   seed (little endian)
//   [9..]    fault plan, 6 bytes per fault: kind, a, b, at (0.1 s units), duration (0.1 s), value
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/fault_plan.h"

namespace {

storsim::sim::FaultPlan PlanFromBytes(const uint8_t* data, size_t size) {
  storsim::sim::FaultPlan plan;
  for (size_t offset = 0; offset + 6 <= size && plan.faults.size() < 32; offset += 6) {
    storsim::sim::Fault fault;
    fault.kind = static_cast<storsim::sim::FaultKind>(
        data[offset] % static_cast<uint8_t>(storsim::sim::FaultKind::kKindCount));
    fault.a = data[offset + 1] % 16;
    fault.b = data[offset + 2] % 16;
    fault.at = storsim::sim::Duration::Millis(100 * static_cast<int64_t>(data[offset + 3]));
    fault.duration = storsim::sim::Duration::Millis(100 * static_cast<int64_t>(data[offset + 4]));
    fault.value = (static_cast<int64_t>(data[offset + 5]) - 128) * 1'000'000;
    plan.faults.push_back(fault);
  }
  return plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& registry = storsim::scenarios::DefaultRegistry();
  const auto scenarios = registry.All();
  if (scenarios.empty()) return 0;
  storsim::scenarios::RunOptions options;
  options.scenario = scenarios[(size > 0 ? data[0] : 0) % scenarios.size()]->name;
  uint64_t seed = 0;
  for (size_t i = 1; i < 9 && i < size; ++i) seed |= static_cast<uint64_t>(data[i]) << (8 * (i - 1));
  options.seed = seed;
  options.fault_plan = PlanFromBytes(size > 9 ? data + 9 : data, size > 9 ? size - 9 : 0);
  options.limits.sim_time_max = storsim::sim::Duration::Minutes(10);
  const auto first = storsim::scenarios::RunScenario(registry, options);
  if (!first.internal_error.empty()) {
    std::fprintf(stderr, "internal error: %s\n", first.internal_error.c_str());
    std::abort();
  }
  const auto second = storsim::scenarios::RunScenario(registry, options);
  if (second.trace_hash != first.trace_hash) {
    std::fprintf(stderr, "nondeterministic replay of %s seed %llu\n", options.scenario.c_str(),
                 static_cast<unsigned long long>(seed));
    std::abort();
  }
  return 0;
}
