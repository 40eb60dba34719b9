// One simulated world: the scheduler, the network, the trace, the root random stream, BUGGIFY and
// every process. Built from a seed; nothing in it reads real time or global state, so the same
// seed and options replay the same run, event for event.
//
// Streams are forked from the root by label in a fixed scheme ("network", "buggify",
// "process/<name>" per incarnation, and whatever the harness forks), so a new draw in one place
// never reshuffles another.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/buggify.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace storsim::sim {

struct SimulationOptions {
  uint64_t seed = 1;
  SchedulerOptions scheduler;
  LinkOptions link;
  bool buggify = false;
};

class Simulation {
 public:
  explicit Simulation(SimulationOptions options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Adds a process (not started). Ids are dense, in the order processes are added.
  Process& AddProcess(std::string name, Process::Main main);
  Process& process(ProcessId id) { return *processes_.at(static_cast<size_t>(id)); }
  size_t process_count() const { return processes_.size(); }
  Process* FindProcess(std::string_view name);

  Scheduler& scheduler() { return scheduler_; }
  Network& network() { return network_; }
  Trace& trace() { return trace_; }
  Buggify& buggify() { return buggify_; }
  const Random& root_random() const { return root_; }
  uint64_t seed() const { return options_.seed; }
  Instant Now() const { return scheduler_.Now(); }

  // A harness fiber (fault injector, workload driver, test script): no process, true time.
  Fiber* SpawnKernel(std::string name, std::function<void()> body);
  // A harness trace event (process -1); the three forms of Trace::Emit.
  void Emit(std::string_view kind, std::vector<TraceField> fields);
  void Emit(std::string_view kind, std::initializer_list<TraceField> fields) {
    Emit(kind, std::span<const TraceField>(fields.begin(), fields.size()));
  }
  void Emit(std::string_view kind, std::span<const TraceField> fields);

  RunOutcome Run();
  RunOutcome RunUntil(Instant until);
  RunOutcome RunFor(Duration duration) { return RunUntil(scheduler_.Now() + duration); }

  uint64_t NextCallId() { return ++call_ids_; }
  // Combined fingerprint: the trace hash and every scheduling decision.
  uint64_t Fingerprint() const;

 private:
  SimulationOptions options_;
  Random root_;
  Scheduler scheduler_;
  Trace trace_;
  Network network_;
  Buggify buggify_;
  std::vector<std::unique_ptr<Process>> processes_;
  uint64_t call_ids_ = 0;
};

}  // namespace storsim::sim
