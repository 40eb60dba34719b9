// Fault plans: formatting, compact encoding, and application to a simulation.
#include "sim/fault_plan.h"

#include <algorithm>
#include <cstdlib>

#include "sim/check.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

constexpr const char* kKindNames[] = {
    "partition", "partition_one_way", "isolate", "heal_all", "crash", "kill", "restart",
    "stop", "pause", "clock_drift", "clock_step", "link_degrade", "clog"};
static_assert(sizeof(kKindNames) / sizeof(kKindNames[0]) ==
              static_cast<size_t>(FaultKind::kKindCount));

std::string Base36(int64_t value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  uint64_t v = negative ? static_cast<uint64_t>(-(value + 1)) + 1 : static_cast<uint64_t>(value);
  std::string digits;
  while (v > 0) {
    const int d = static_cast<int>(v % 36);
    digits.push_back(static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
    v /= 36;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

bool ParseBase36(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 14) return false;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
    if (text.empty()) return false;
  }
  int64_t value = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    value = value * 36 + d;
  }
  *out = negative ? -value : value;
  return true;
}

// Debian's Abseil has its own string_view type, so splitting is done here.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool NamesProcess(const Simulation& simulation, ProcessId id) {
  return id >= 0 && static_cast<size_t>(id) < simulation.process_count();
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  const auto index = static_cast<size_t>(kind);
  return index < static_cast<size_t>(FaultKind::kKindCount) ? kKindNames[index] : "unknown";
}

std::string Fault::ToString() const {
  std::string out = "at " + at.ToString() + " " + FaultKindName(kind);
  if (a >= 0) out += " p" + std::to_string(a);
  if (b >= 0) out += (kind == FaultKind::kPartition ? " <-> p" : " -> p") + std::to_string(b);
  if (value != 0) out += " value=" + std::to_string(value);
  if (duration > Duration::Zero()) out += " for " + duration.ToString();
  return out;
}

FaultPlan FaultPlan::Sorted() const {
  FaultPlan sorted = *this;
  std::stable_sort(sorted.faults.begin(), sorted.faults.end(),
                   [](const Fault& x, const Fault& y) { return x.at < y.at; });
  return sorted;
}

std::string FaultPlan::ToString() const {
  if (faults.empty()) return "(no faults)\n";
  std::string out;
  for (const auto& fault : faults) out += fault.ToString() + "\n";
  return out;
}

std::string FaultPlan::Encode() const {
  std::string out;
  for (const auto& fault : faults) {
    if (!out.empty()) out += ',';
    out += Base36(static_cast<int64_t>(fault.kind)) + "." + Base36(fault.a) + "." +
           Base36(fault.b) + "." + Base36(fault.at.nanos() / 1000'000) + "." +
           Base36(fault.duration.nanos() / 1000'000) + "." + Base36(fault.value);
  }
  return out;
}

absl::StatusOr<FaultPlan> FaultPlan::Decode(std::string_view text) {
  FaultPlan plan;
  if (text.empty()) return plan;
  if (text.size() > 1'000'000) return absl::InvalidArgumentError("fault plan longer than 1 MB");
  for (std::string_view item : Split(text, ',')) {
    std::vector<std::string_view> parts = Split(item, '.');
    if (parts.size() != 6) {
      return absl::InvalidArgumentError("fault '" + std::string(item) +
                                        "' does not have 6 dot-separated fields");
    }
    int64_t numbers[6];
    for (size_t i = 0; i < 6; ++i) {
      if (!ParseBase36(parts[i], &numbers[i])) {
        return absl::InvalidArgumentError("fault field '" + std::string(parts[i]) +
                                          "' is not a base-36 integer");
      }
    }
    if (numbers[0] < 0 || numbers[0] >= static_cast<int64_t>(FaultKind::kKindCount)) {
      return absl::InvalidArgumentError("unknown fault kind " + std::to_string(numbers[0]));
    }
    const int64_t kMillisMax = int64_t{1} << 40;
    if (numbers[1] < -1 || numbers[1] > 1'000'000 || numbers[2] < -1 || numbers[2] > 1'000'000 ||
        numbers[3] < 0 || numbers[3] > kMillisMax || numbers[4] < 0 || numbers[4] > kMillisMax) {
      return absl::InvalidArgumentError("fault '" + std::string(item) + "' is out of range");
    }
    Fault fault;
    fault.kind = static_cast<FaultKind>(numbers[0]);
    fault.a = static_cast<ProcessId>(numbers[1]);
    fault.b = static_cast<ProcessId>(numbers[2]);
    fault.at = Duration::Millis(numbers[3]);
    fault.duration = Duration::Millis(numbers[4]);
    fault.value = numbers[5];
    plan.faults.push_back(fault);
  }
  return plan;
}

void ApplyFault(Simulation& simulation, const Fault& fault) {
  const bool has_a = NamesProcess(simulation, fault.a);
  const bool has_b = NamesProcess(simulation, fault.b);
  const bool needs_b = fault.kind == FaultKind::kPartition ||
                       fault.kind == FaultKind::kPartitionOneWay ||
                       fault.kind == FaultKind::kLinkDegrade || fault.kind == FaultKind::kClog;
  if (fault.kind != FaultKind::kHealAll && (!has_a || (needs_b && !has_b))) return;
  simulation.Emit("fault", {TraceField::Str("kind", FaultKindName(fault.kind)),
                            TraceField::Int("a", fault.a), TraceField::Int("b", fault.b),
                            TraceField::Int("duration_ns", fault.duration.nanos()),
                            TraceField::Int("value", fault.value)});
  Network& network = simulation.network();
  Scheduler& scheduler = simulation.scheduler();
  const Duration duration = fault.duration;
  // The inverse of a timed fault runs in its own harness fiber.
  auto after = [&simulation, duration](std::string name, std::function<void()> undo) {
    if (duration <= Duration::Zero()) return;
    Scheduler* s = &simulation.scheduler();
    simulation.SpawnKernel(std::move(name), [s, duration, undo = std::move(undo)] {
      s->SleepUntil(s->Now() + duration);
      undo();
    });
  };
  const ProcessId a = fault.a;
  const ProcessId b = fault.b;
  switch (fault.kind) {
    case FaultKind::kPartition:
      network.Partition(a, b);
      after("heal", [&network, a, b] { network.Heal(a, b); });
      break;
    case FaultKind::kPartitionOneWay:
      network.PartitionOneWay(a, b);
      after("heal", [&network, a, b] { network.HealOneWay(a, b); });
      break;
    case FaultKind::kIsolate:
      network.Isolate(a);
      after("heal", [&network, &simulation, a] {
        // Ends this isolation only: other partitions of these links keep holding.
        for (size_t other = 0; other < simulation.process_count(); ++other) {
          if (static_cast<ProcessId>(other) != a) network.Heal(a, static_cast<ProcessId>(other));
        }
      });
      break;
    case FaultKind::kHealAll:
      network.HealAll();
      break;
    case FaultKind::kCrash:
      simulation.process(a).Crash();
      after("restart", [&simulation, a] {
        if (!simulation.process(a).up()) simulation.process(a).Start();
      });
      break;
    case FaultKind::kKill:
      simulation.process(a).Kill();
      after("restart", [&simulation, a] {
        if (!simulation.process(a).up()) simulation.process(a).Start();
      });
      break;
    case FaultKind::kRestart:
      simulation.process(a).Restart();
      break;
    case FaultKind::kStop: {
      const Duration grace = duration > Duration::Zero() ? duration : Duration::Seconds(5);
      simulation.process(a).Stop(grace);
      simulation.SpawnKernel("restart", [&simulation, &scheduler, grace, a] {
        scheduler.SleepUntil(scheduler.Now() + grace * 2);
        if (!simulation.process(a).up()) simulation.process(a).Start();
      });
      break;
    }
    case FaultKind::kPause:
      simulation.process(a).Pause();
      after("resume", [&simulation, a] { simulation.process(a).Resume(); });
      break;
    case FaultKind::kClockDrift:
      simulation.process(a).clock().SetDriftPpb(simulation.Now(), fault.value);
      break;
    case FaultKind::kClockStep:
      simulation.process(a).clock().StepWall(fault.value);
      break;
    case FaultKind::kLinkDegrade: {
      LinkOptions degraded;
      degraded.loss_ppm = static_cast<uint32_t>(std::clamp<int64_t>(fault.value, 0, 1000'000));
      degraded.latency_min = Duration::Millis(1);
      degraded.latency_max = Duration::Millis(8);
      network.Degrade(a, b, degraded);
      after("restore_link", [&network, a, b] { network.Undegrade(a, b); });
      break;
    }
    case FaultKind::kClog:
      network.Clog(a, b);
      after("unclog", [&network, a, b] { network.Unclog(a, b); });
      break;
    case FaultKind::kKindCount:
      SIM_CHECK_MSG(false, "invalid fault kind");
  }
}

void ApplyFaultPlan(Simulation& simulation, const FaultPlan& plan) {
  FaultPlan sorted = plan.Sorted();
  simulation.SpawnKernel("fault_injector", [&simulation, sorted = std::move(sorted)] {
    Scheduler& scheduler = simulation.scheduler();
    const Instant start = scheduler.Now();
    for (const auto& fault : sorted.faults) {
      scheduler.SleepUntil(start + fault.at);
      ApplyFault(simulation, fault);
    }
  });
}

}  // namespace storsim::sim
