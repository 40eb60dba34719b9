// Env: everything model code may use from the simulation, and nothing else. Time comes only from
// the process's local clocks, randomness only from the process's forked stream, I/O only through
// its Disk and RPC endpoint. Model code never sees the Scheduler's true time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/process.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace storsim::sim {

class Buggify;

class Env {
 public:
  explicit Env(Process& process);

  // Local monotonic clock (drifts with this process's clock rate).
  Instant Now() const;
  // Local wall clock, Unix nanoseconds (offset and steps apply).
  int64_t WallNanos() const;
  // The true-time deadline for a wait of `local` on this process's clock: pass it to waits.
  Instant DeadlineAfter(Duration local) const;
  void Sleep(Duration local);
  void Yield();

  Random& random() { return process_.random(); }
  Disk& disk() { return process_.disk(); }
  Rpc& rpc() { return process_.rpc(); }
  Scheduler& scheduler();
  Process& process() { return process_; }

  ProcessId id() const { return process_.id(); }
  const std::string& name() const { return process_.name(); }
  uint64_t incarnation() const { return process_.incarnation(); }

  // A fiber owned by this process; it dies with this incarnation.
  Fiber* Spawn(std::string name, std::function<void()> body);

  // Records a trace event from this process at the current true time. A braced list or a span
  // costs no allocation in the kernel (see Trace::Emit); a vector is moved into the event.
  void Emit(std::string_view kind, std::vector<TraceField> fields);
  void Emit(std::string_view kind, std::initializer_list<TraceField> fields) {
    Emit(kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  void Emit(std::string_view kind, std::span<const TraceField> fields);

  // BUGGIFY: true when the named site is enabled for this run and fires this time.
  bool Buggify(std::string_view site);

  // Set when a graceful stop was requested; main should run its shutdown path and return.
  Event& shutdown_requested() { return process_.shutdown_requested(); }
  // Exits the process now (like exit(1)): this incarnation ends, the fiber never returns.
  [[noreturn]] void Exit() { process_.ExitFromInside(); }

 private:
  Process& process_;
};

}  // namespace storsim::sim
