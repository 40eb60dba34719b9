// Env forwards to the process and the simulation.
#include "sim/env.h"

#include "sim/simulation.h"

namespace storsim::sim {

Env::Env(Process& process) : process_(process) {}

Scheduler& Env::scheduler() { return process_.simulation().scheduler(); }

Instant Env::Now() const {
  return process_.clock().Monotonic(process_.simulation().Now());
}

int64_t Env::WallNanos() const { return process_.clock().WallNanos(process_.simulation().Now()); }

Instant Env::DeadlineAfter(Duration local) const {
  return process_.clock().TrueDeadline(process_.simulation().Now(), local);
}

void Env::Sleep(Duration local) { process_.simulation().scheduler().SleepUntil(DeadlineAfter(local)); }

void Env::Yield() { process_.simulation().scheduler().Yield(); }

Fiber* Env::Spawn(std::string name, std::function<void()> body) {
  return process_.SpawnFiber(process_.name() + "/" + name, std::move(body));
}

void Env::Emit(std::string_view kind, std::vector<TraceField> fields) {
  process_.simulation().trace().Emit(process_.simulation().Now(), process_.id(), kind,
                                     std::move(fields));
}

void Env::Emit(std::string_view kind, std::span<const TraceField> fields) {
  process_.simulation().trace().Emit(process_.simulation().Now(), process_.id(), kind, fields);
}

bool Env::Buggify(std::string_view site) { return process_.simulation().buggify().Fires(site); }

}  // namespace storsim::sim
