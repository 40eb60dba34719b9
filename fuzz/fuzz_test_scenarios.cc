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

void KnobsBody(scenarios::ScenarioRun& run) {
  sim::Random random = run.Fork("knobs");
  const int64_t size = run.Knob("size", static_cast<int64_t>(100 + random.Below(900)));
  const int64_t width = run.Knob("width", static_cast<int64_t>(5 + random.Below(5)), 1, 9);
  sim::FaultPlan plan;
  if (run.options().fault_plan) {
    plan = *run.options().fault_plan;
  } else {
    for (int k = 0; k < 6; ++k) {
      sim::Fault fault;
      // Whole milliseconds, as tokens carry them, so a replay from the token is exact.
      fault.at = sim::Duration::Millis(static_cast<int64_t>(random.Below(5000)));
      fault.kind = sim::FaultKind::kPause;
      fault.a = 0;
      fault.duration = sim::Duration::Millis(100);
      plan.faults.push_back(fault);
    }
  }
  run.SetFaultPlan(plan);
  sim::Simulation& simulation = run.CreateSimulation({});
  simulation.AddProcess("idle", Idle).Start();
  sim::ApplyFaultPlan(simulation, plan);
  run.RunFor(sim::Duration::Seconds(6));
  if (size >= 37) {
    run.ReportViolation({"TEST3", simulation.Now(),
                         "size " + std::to_string(size) + " >= 37 (width " +
                             std::to_string(width) + ")"});
  }
  run.RunFor(sim::Duration::Seconds(1));
}

void ZooBody(scenarios::ScenarioRun& run) {
  sim::Random random = run.Fork("zoo");
  const int64_t size = run.Knob("size", static_cast<int64_t>(50 + random.Below(50)));
  sim::Simulation& simulation = run.CreateSimulation({});
  simulation.AddProcess("idle", Idle).Start();
  run.RunFor(sim::Duration::Seconds(1));
  if (run.bug("zoo-bug") && run.seed() % 7 == 0 && size >= 10) {
    run.ReportViolation({"TEST4", simulation.Now(), "the planted zoo bug"});
  }
  if (run.seed() % 3 == 0) run.ReportViolation({"TEST5", simulation.Now(), "noise"});
  run.RunFor(sim::Duration::Seconds(1));
}

}  // namespace

scenarios::ScenarioRegistry TestRegistry() {
  scenarios::ScenarioRegistry registry;
  registry.Add({"parity", "fails when the seed is divisible by 7", {}, ParityBody});
  registry.Add({"needle", "fails iff a crash of p1 lasts >= 1s", {}, NeedleBody});
  registry.Add({"knobs", "fails iff knob size >= 37", {}, KnobsBody});
  registry.Add({"zoo",
                "with zoo-bug, fails TEST4 when seed % 7 == 0 and size >= 10; TEST5 (noise) "
                "when seed % 3 == 0",
                {{"zoo-bug", "planted for the bugzoo tests (should trip TEST4)"},
                 {"zoo-unnamed", "a defect whose summary names no invariant"}},
                ZooBody});
  return registry;
}

}  // namespace storsim::fuzz
