// Synthetic scenarios: real simulations with a trace-reading checker.
#include "fuzz/fuzz_test_scenarios.h"

#include <memory>

#include "scenarios/run_context.h"
#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::fuzz {
namespace {

// Reports TEST2 when it sees a crash fault of process 1 lasting >= 1 s.
class NeedleChecker : public sim::TraceObserver {
 public:
  explicit NeedleChecker(scenarios::ViolationSink sink) : sink_(std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override {
    if (event.kind == "fault" && event.Str("kind") == "crash" && event.Int("a") == 1 &&
        event.Int("duration_ns") >= sim::Duration::Seconds(1).nanos()) {
      sink_({"TEST2", event.at, "process 1 crashed for a second or more"});
    }
  }

 private:
  scenarios::ViolationSink sink_;
};

void Idle(sim::Env& env) { env.shutdown_requested().Wait(); }

void ParityBody(scenarios::ScenarioRun& run) {
  sim::Simulation& simulation = run.CreateSimulation({});
  simulation.AddProcess("idle", Idle).Start();
  run.RunFor(sim::Duration::Seconds(1));
  if (run.seed() % 7 == 0) {
    run.ReportViolation({"TEST1", simulation.Now() + sim::Duration::Seconds(1000 - static_cast<int64_t>(run.seed())),
                         "seed divisible by 7"});
  }
  run.RunFor(sim::Duration::Seconds(1));
}

void NeedleBody(scenarios::ScenarioRun& run) {
  sim::FaultPlan plan;
  if (run.options().fault_plan) {
    plan = *run.options().fault_plan;
  } else {
    sim::Random random = run.Fork("plan");
    for (int k = 0; k < 12; ++k) {
      sim::Fault fault;
      fault.at = random.DurationIn(sim::Duration::Zero(), sim::Duration::Seconds(20));
      fault.kind = random.Chance(1, 3) ? sim::FaultKind::kCrash : sim::FaultKind::kPause;
      fault.a = static_cast<sim::ProcessId>(random.Below(3));
      fault.duration = random.DurationIn(sim::Duration::Millis(100), sim::Duration::Seconds(4));
      plan.faults.push_back(fault);
    }
  }
  run.SetFaultPlan(plan);
  sim::Simulation& simulation = run.CreateSimulation({});
  for (int i = 0; i < 3; ++i) simulation.AddProcess("p" + std::to_string(i), Idle).Start();
  run.AddChecker(std::make_unique<NeedleChecker>(run.sink()));
  sim::ApplyFaultPlan(simulation, plan);
  run.RunFor(sim::Duration::Seconds(30));
}

}  // namespace

scenarios::ScenarioRegistry TestRegistry() {
  scenarios::ScenarioRegistry registry;
  registry.Add({"parity", "fails when the seed is divisible by 7", {}, ParityBody});
  registry.Add({"needle", "fails iff a crash of p1 lasts >= 1s", {}, NeedleBody});
  return registry;
}

}  // namespace storsim::fuzz
