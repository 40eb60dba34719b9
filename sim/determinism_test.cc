// Whole-kernel determinism: a busy little world under faults replays event for event.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "sim/env.h"
#include "sim/fault_plan.h"
#include "sim/rpc.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

struct Bump {
  int64_t amount;
};
struct Total {
  int64_t total;
};
constexpr RpcMethod<Bump, Total> kBump{"bump"};

struct RunDigest {
  uint64_t fingerprint;
  uint64_t trace_hash;
  std::vector<TraceEvent> events;
};

RunDigest RunWorld(uint64_t seed) {
  Simulation simulation({.seed = seed,
                         .link = {.loss_ppm = 20'000, .duplicate_ppm = 20'000, .reorder_ppm = 50'000},
                         .buggify = true});
  auto sink = std::make_unique<MemoryTraceSink>();
  simulation.trace().AddObserver(sink.get());
  constexpr int kProcesses = 4;
  for (int i = 0; i < kProcesses; ++i) {
    simulation.AddProcess("node" + std::to_string(i), [i](Env& env) {
      auto total = std::make_shared<int64_t>(0);
      env.rpc().Serve(kBump, std::function<Total(const Bump&, const CallContext&)>(
                                 [total, &env](const Bump& bump, const CallContext& context) {
                                   if (env.Buggify("slow_bump")) env.Sleep(Duration::Millis(300));
                                   *total += bump.amount;
                                   env.disk().Append("log", std::to_string(*total));
                                   env.disk().Sync();
                                   env.Emit("bump", {TraceField::Int("from", context.from),
                                                     TraceField::Int("total", *total)});
                                   return Total{*total};
                                 }));
      while (true) {
        env.Sleep(env.random().DurationIn(Duration::Millis(10), Duration::Millis(200)));
        const auto to = static_cast<ProcessId>(env.random().Below(kProcesses));
        auto result = env.rpc().Call(to, kBump, Bump{env.random().Range(1, 9)},
                                     Duration::Millis(500));
        env.Emit("called", {TraceField::Int("to", to),
                            TraceField::Int("ok", result.ok() ? 1 : 0),
                            TraceField::Int("total", result.ok() ? result->total : -1)});
        (void)i;
      }
    }).Start();
  }
  FaultPlan plan;
  Random planner = simulation.root_random().Fork("plan");
  for (int k = 0; k < 12; ++k) {
    Fault fault;
    fault.at = planner.DurationIn(Duration::Zero(), Duration::Seconds(20));
    fault.kind = static_cast<FaultKind>(planner.Below(static_cast<uint64_t>(FaultKind::kKindCount)));
    fault.a = static_cast<ProcessId>(planner.Below(kProcesses));
    fault.b = static_cast<ProcessId>((fault.a + 1 + planner.Below(kProcesses - 1)) % kProcesses);
    fault.duration = planner.DurationIn(Duration::Millis(100), Duration::Seconds(3));
    fault.value = planner.Range(-100'000'000, 100'000'000);
    plan.faults.push_back(fault);
  }
  ApplyFaultPlan(simulation, plan);
  simulation.RunFor(Duration::Seconds(30));
  simulation.trace().RemoveObserver(sink.get());
  return {simulation.Fingerprint(), simulation.trace().hash(), sink->events()};
}

TEST(DeterminismTest, SameSeedGivesIdenticalEventsAndHash) {
  for (uint64_t seed : {1, 2, 3}) {
    RunDigest a = RunWorld(seed);
    RunDigest b = RunWorld(seed);
    EXPECT_GT(a.events.size(), 500u);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    auto divergence = FirstDivergence(a.events, b.events);
    EXPECT_FALSE(divergence.has_value())
        << "first divergence at event " << *divergence << ": "
        << a.events[*divergence].ToString() << " vs " << b.events[*divergence].ToString();
  }
}

TEST(DeterminismTest, DifferentSeedsDiffer) {
  EXPECT_NE(RunWorld(1).trace_hash, RunWorld(2).trace_hash);
}

}  // namespace
}  // namespace storsim::sim
