// The simulated world.
#include "sim/simulation.h"

#include "sim/check.h"
#include "sim/env.h"

namespace storsim::sim {

Simulation::Simulation(SimulationOptions options)
    : options_(options),
      root_(options.seed),
      scheduler_(options.scheduler),
      network_(scheduler_, root_.Fork("network")),
      buggify_(root_.Fork("buggify"), options.buggify) {
  network_.SetDefaultLink(options.link);
  CheckContext& context = CurrentCheckContext();
  context.seed = options.seed;
  context.active = true;
}

Simulation::~Simulation() {
  // Processes first: their fibers unwind while the scheduler and network still exist.
  processes_.clear();
  CurrentCheckContext().active = false;
}

Process& Simulation::AddProcess(std::string name, Process::Main main) {
  const auto id = static_cast<ProcessId>(processes_.size());
  processes_.push_back(std::make_unique<Process>(*this, id, std::move(name), std::move(main)));
  network_.AddProcess(processes_.back().get());
  return *processes_.back();
}

Process* Simulation::FindProcess(std::string_view name) {
  for (auto& process : processes_) {
    if (process->name() == name) return process.get();
  }
  return nullptr;
}

Fiber* Simulation::SpawnKernel(std::string name, std::function<void()> body) {
  return scheduler_.Spawn(name, nullptr, std::move(body));
}

void Simulation::Emit(std::string_view kind, std::vector<TraceField> fields) {
  trace_.Emit(scheduler_.Now(), -1, kind, std::move(fields));
}

void Simulation::Emit(std::string_view kind, std::span<const TraceField> fields) {
  trace_.Emit(scheduler_.Now(), -1, kind, fields);
}

RunOutcome Simulation::Run() { return RunUntil(Instant::Max()); }

RunOutcome Simulation::RunUntil(Instant until) {
  CheckContext& context = CurrentCheckContext();
  context.seed = options_.seed;
  context.active = true;
  RunOutcome outcome = scheduler_.RunUntil(until);
  context.now_nanos = scheduler_.Now().nanos();
  return outcome;
}

uint64_t Simulation::Fingerprint() const {
  RunningHash hash;
  hash.Add(trace_.hash());
  hash.Add(scheduler_.schedule_hash());
  return hash.value();
}

}  // namespace storsim::sim
