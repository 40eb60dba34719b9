// A FaultPlan is a plain value: a list of timed faults against process ids. It comes from the seed
// (swarm options), from a RapidCheck generator (so it shrinks), or from fuzzer bytes; it encodes to
// a compact text form for tokens and prints readably for people. The FaultInjector applies a plan
// to a Simulation from a harness fiber.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/network.h"
#include "sim/time.h"

namespace storsim::sim {

class Simulation;

enum class FaultKind : uint8_t {
  kPartition,         // a <-> b, for `duration` if > 0 (then healed)
  kPartitionOneWay,   // a -> b only
  kIsolate,           // a from everyone
  kHealAll,           // every partition and clog
  kCrash,             // a crashes (unsynced disk writes lost); restarted after `duration` if > 0
  kKill,              // a is killed (SIGKILL: disk keeps writes); restarted after `duration` if > 0
  kRestart,           // crash then start at once
  kStop,              // graceful stop with grace `duration`; started again after 2 * grace
  kPause,             // a frozen for `duration`
  kClockDrift,        // a's clock rate error := value ppb
  kClockStep,         // a's wall clock += value ns
  kLinkDegrade,       // a -> b: loss value ppm and latency x4, for `duration`
  kClog,              // a -> b held for `duration`
  kKindCount,
};

const char* FaultKindName(FaultKind kind);

struct Fault {
  Duration at;          // since the start of the fault phase
  FaultKind kind = FaultKind::kHealAll;
  ProcessId a = -1;
  ProcessId b = -1;
  Duration duration;
  int64_t value = 0;

  std::string ToString() const;  // "at 3s crash p2 for 5s"
  bool operator==(const Fault&) const = default;
};

struct FaultPlan {
  std::vector<Fault> faults;

  // Faults sorted by time (stable: equal times keep their order).
  FaultPlan Sorted() const;
  std::string ToString() const;  // one fault per line
  // Compact form for tokens: "kind.a.b.at.duration.value,..." in base-36 integers, times in whole
  // milliseconds (finer times are truncated). Shell-safe: a token pastes unquoted.
  std::string Encode() const;
  static absl::StatusOr<FaultPlan> Decode(std::string_view text);
  bool operator==(const FaultPlan&) const = default;
};

// Applies `plan` to `simulation`, starting now: spawns a harness fiber that sleeps to each fault's
// time and applies it, and the inverse after its duration. Faults naming processes that do not
// exist are skipped (a shrunk topology may have fewer processes).
void ApplyFaultPlan(Simulation& simulation, const FaultPlan& plan);
// Applies one fault now (and schedules its inverse).
void ApplyFault(Simulation& simulation, const Fault& fault);

}  // namespace storsim::sim
