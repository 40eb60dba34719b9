// Swarm option draws and the random fault plan generator.
#include "scenarios/swarm.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::scenarios {
namespace {

using sim::Duration;
using sim::FaultKind;

bool NeedsSecondTarget(FaultKind kind) {
  return kind == FaultKind::kPartition || kind == FaultKind::kPartitionOneWay ||
         kind == FaultKind::kLinkDegrade || kind == FaultKind::kClog;
}

// Picks one of `options` uniformly.
template <typename T, size_t N>
T PickOne(sim::Random& random, const std::array<T, N>& options) {
  return options[random.Below(N)];
}

}  // namespace

SwarmRanges AllFaultKinds(SwarmRanges ranges) {
  ranges.kinds_allowed.fill(true);
  return ranges;
}

int SwarmOptions::KindsOn() const {
  return static_cast<int>(std::count(kinds_on.begin(), kinds_on.end(), true));
}

std::string SwarmOptions::ToString() const {
  std::string kinds;
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (!kinds_on[i]) continue;
    if (!kinds.empty()) kinds += ",";
    kinds += sim::FaultKindName(static_cast<FaultKind>(i));
  }
  return "nodes=" + std::to_string(nodes) + " clients=" + std::to_string(clients) + " faults=[" +
         kinds + "] interval=" + fault_interval_mean.ToString() +
         " faults_max=" + std::to_string(faults_max) +
         " duration_max=" + fault_duration_max.ToString() + " link=[latency " +
         link.latency_min.ToString() + ".." + link.latency_max.ToString() +
         " loss=" + std::to_string(link.loss_ppm) +
         "ppm dup=" + std::to_string(link.duplicate_ppm) +
         "ppm reorder=" + std::to_string(link.reorder_ppm) + "ppm]";
}

SwarmOptions DrawSwarm(sim::Random& random, const SwarmRanges& ranges) {
  SIM_CHECK(ranges.nodes_min >= 1 && ranges.nodes_min <= ranges.nodes_max);
  SIM_CHECK(ranges.clients_min >= 1 && ranges.clients_min <= ranges.clients_max);
  SIM_CHECK_MSG(std::count(ranges.kinds_allowed.begin(), ranges.kinds_allowed.end(), true) > 0,
                "a swarm needs at least one allowed fault kind");
  SwarmOptions swarm;
  swarm.nodes = static_cast<int>(random.Range(ranges.nodes_min, ranges.nodes_max));
  swarm.clients = static_cast<int>(random.Range(ranges.clients_min, ranges.clients_max));
  std::vector<size_t> allowed;
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (!ranges.kinds_allowed[i]) continue;
    allowed.push_back(i);
    swarm.kinds_on[i] = random.Chance(1, 2);
  }
  if (swarm.KindsOn() == 0) swarm.kinds_on[allowed[random.Below(allowed.size())]] = true;
  swarm.fault_interval_mean =
      PickOne(random, std::array{Duration::Millis(100), Duration::Millis(300), Duration::Seconds(1),
                                 Duration::Seconds(3)});
  swarm.faults_max = PickOne(random, std::array{4, 16, 64});
  swarm.fault_duration_max = PickOne(
      random, std::array{Duration::Millis(500), Duration::Seconds(2), Duration::Seconds(5)});
  swarm.link.latency_min = Duration::Micros(100);
  swarm.link.latency_max =
      PickOne(random, std::array{Duration::Millis(1), Duration::Millis(2), Duration::Millis(10)});
  const std::array<uint32_t, 4> losses{0, 0, 1000, ranges.loss_ppm_max};
  swarm.link.loss_ppm = PickOne(random, losses);
  swarm.link.duplicate_ppm = PickOne(random, std::array<uint32_t, 2>{0, 5000});
  swarm.link.reorder_ppm = PickOne(random, std::array<uint32_t, 2>{0, 20'000});
  return swarm;
}

sim::FaultPlan RandomFaultPlan(sim::Random& random, const SwarmOptions& swarm,
                               const std::vector<sim::ProcessId>& targets, Duration phase) {
  SIM_CHECK(!targets.empty());
  SIM_CHECK(phase > Duration::Zero());
  sim::FaultPlan plan;
  std::vector<FaultKind> kinds;
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (swarm.kinds_on[i]) kinds.push_back(static_cast<FaultKind>(i));
  }
  if (kinds.empty()) return plan;
  // The plan encodes times in whole milliseconds (FaultPlan::Encode), so it draws them so.
  const int64_t phase_ms = phase.millis();
  const int64_t duration_max_ms = std::max<int64_t>(1, swarm.fault_duration_max.millis());
  int64_t at_ms = 0;
  for (int i = 0; i < swarm.faults_max; ++i) {
    at_ms += std::max<int64_t>(1, random.Exponential(swarm.fault_interval_mean).millis());
    const int64_t remaining_ms = phase_ms - at_ms;
    if (remaining_ms < 2) break;
    sim::Fault fault;
    fault.at = Duration::Millis(at_ms);
    fault.kind = kinds[random.Below(kinds.size())];
    fault.a = targets[random.Below(targets.size())];
    if (NeedsSecondTarget(fault.kind)) {
      if (targets.size() < 2) continue;
      // A target other than `a`, uniformly.
      const size_t index_a =
          static_cast<size_t>(std::find(targets.begin(), targets.end(), fault.a) - targets.begin());
      const size_t offset = 1 + random.Below(targets.size() - 1);
      fault.b = targets[(index_a + offset) % targets.size()];
    }
    const int64_t longest_ms = std::min(duration_max_ms, remaining_ms);
    switch (fault.kind) {
      case FaultKind::kHealAll:
      case FaultKind::kRestart:
        break;
      case FaultKind::kStop:
        // Restarted after twice the grace: both must fit in the phase.
        fault.duration = Duration::Millis(random.Range(1, std::max<int64_t>(1, longest_ms / 2)));
        break;
      case FaultKind::kClockDrift:
        fault.value = random.Range(-50'000'000, 50'000'000);  // up to 5% fast or slow
        break;
      case FaultKind::kClockStep:
        fault.value = random.Range(-10'000'000'000, 10'000'000'000);
        break;
      case FaultKind::kLinkDegrade:
        fault.value = random.Range(10'000, 500'000);  // loss in ppm
        fault.duration = Duration::Millis(random.Range(1, longest_ms));
        break;
      default:
        fault.duration = Duration::Millis(random.Range(1, longest_ms));
        break;
    }
    plan.faults.push_back(fault);
  }
  return plan;
}

}  // namespace storsim::scenarios
