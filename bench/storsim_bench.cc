// Google Benchmark program for the deterministic kernel's hot path (DESIGN.md §7). One benchmark
// iteration is one kernel event, so "Time" per iteration reads as nanoseconds per event:
//   BM_BareContextSwitch   reference: two raw Boost.Context fibers resuming each other;
//   BM_FiberSwitch         two sim::Scheduler fibers yielding to each other (one switch);
//   BM_TimerEvent/N        the hold model on the scheduler's timer queue: N kernel timers pending,
//                          each event pops the earliest and arms a successor at a random later
//                          time;
//   BM_FiberSleep/N        the hold model with fibers: N fibers each looping SleepUntil(now +
//   random)
//                          (one event = timer fires, its fiber is switched to and sleeps again);
//   BM_MessageDelivery/N   a ring of N processes passing one raw message through sim::Network;
//   BM_RpcRoundTrip        one client fiber calling a trivial RPC handler (one round trip);
//   BM_TraceEmit/F/O       one three-field trace event, braced list (F=0) or vector (F=1), with
//                          O observers.
// Everything drives the real sim::Scheduler, sim::Network and sim::Rpc; nothing copies kernel code.
// Random times come from sim::Random. Heap allocations inside each timed loop are counted
// (bench/allocation_counter.h) and reported as the counter allocations_per_iteration.
//
// The Google Benchmark loop runs inside the simulation (in a fiber or in a kernel callback):
// KeepRunning is called once per event from wherever the event lands, which is what keeps one
// iteration equal to one event without a harness loop around the kernel.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/allocation_counter.h"
#include "sim/env.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/random.h"
#include "sim/rpc.h"
#include "sim/scheduler.h"
#include "sim/simulation.h"
#include "sim/sync.h"
#include "sim/trace.h"

namespace storsim::bench {
namespace {

// Hold-model increments: uniform in [1 µs, 2 ms] of simulated time (mean ≈ 1 ms).
constexpr sim::Duration kIncrementMin = sim::Duration::Micros(1);
constexpr sim::Duration kIncrementMax = sim::Duration::Millis(2);

// A run that stops for any reason but "nothing left to do" means the benchmark did not run the
// loop it claims to have run: report it instead of a number.
void RequireIdle(benchmark::State& state, sim::RunOutcome outcome) {
  if (outcome != sim::RunOutcome::kIdle) {
    state.SkipWithError(
        (std::string("simulation ended with ") + sim::RunOutcomeName(outcome)).c_str());
  }
}

void BM_BareContextSwitch(benchmark::State& state) {
  namespace ctx = boost::context;
  bool finished = false;
  ctx::fiber partner([&finished](ctx::fiber&& caller) {
    while (!finished) caller = std::move(caller).resume();
    return std::move(caller);
  });
  MeasurementWindow window;
  window.Begin();
  // One batch: main -> partner -> main, two switches.
  while (state.KeepRunningBatch(2)) partner = std::move(partner).resume();
  window.End(state);
  finished = true;
  partner = std::move(partner).resume();  // lets the partner's function return
  if (partner) state.SkipWithError("partner fiber did not finish");
}
BENCHMARK(BM_BareContextSwitch);

void BM_FiberSwitch(benchmark::State& state) {
  sim::Scheduler scheduler;
  bool finished = false;
  uint64_t pong_turns = 0;
  MeasurementWindow window;
  scheduler.Spawn("ping", nullptr, [&] {
    window.Begin();
    // One batch: ping yields to pong, pong yields back: two switches.
    while (state.KeepRunningBatch(2)) scheduler.Yield();
    window.End(state);
    finished = true;
  });
  scheduler.Spawn("pong", nullptr, [&] {
    while (!finished) {
      ++pong_turns;
      scheduler.Yield();
    }
  });
  RequireIdle(state, scheduler.Run());
  // Pong runs once per batch, plus its final look at `finished`.
  if (pong_turns * 2 < static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("pong did not run once per batch: the fibers did not alternate");
  }
}
BENCHMARK(BM_FiberSwitch);

// N kernel timers that re-arm themselves: the timer queue alone, no fiber switch.
class HoldModel : public sim::TimerHandler {
 public:
  HoldModel(benchmark::State& state, sim::Scheduler& scheduler, sim::Random random)
      : state_(state), scheduler_(scheduler), random_(random) {}

  void ArmAll(int64_t timers) {
    for (int64_t i = 0; i < timers; ++i) Arm(static_cast<uint64_t>(i));
  }

  void OnTimer(uint64_t argument) override {
    if (finished_) return;  // the queue drains after the measurement
    if (last_fired_ > scheduler_.Now()) state_.SkipWithError("a timer fired out of order");
    last_fired_ = scheduler_.Now();
    if (!window_.open()) window_.Begin();
    if (!state_.KeepRunning()) {
      window_.End(state_);
      finished_ = true;
      return;
    }
    Arm(argument);
  }

 private:
  void Arm(uint64_t argument) {
    scheduler_.ArmTimer(scheduler_.Now() + random_.DurationIn(kIncrementMin, kIncrementMax), this,
                        argument);
  }

  benchmark::State& state_;
  sim::Scheduler& scheduler_;
  sim::Random random_;
  MeasurementWindow window_;
  sim::Instant last_fired_ = sim::Instant::Zero();
  bool finished_ = false;
};

void BM_TimerEvent(benchmark::State& state) {
  sim::Scheduler scheduler;
  HoldModel model(state, scheduler, sim::Random(1).Fork("bench/timer_event"));
  model.ArmAll(state.range(0));
  if (scheduler.timers_pending() != static_cast<size_t>(state.range(0))) {
    state.SkipWithError("not every timer was armed");
  }
  RequireIdle(state, scheduler.Run());
}
BENCHMARK(BM_TimerEvent)->Arg(64)->Arg(1024)->Arg(16384);

void BM_FiberSleep(benchmark::State& state) {
  const int64_t fibers = state.range(0);
  sim::SchedulerOptions options;
  options.stack_bytes = 64 * 1024;  // the sleepers use a few hundred bytes of stack
  sim::Scheduler scheduler(options);
  sim::Random random = sim::Random(1).Fork("bench/fiber_sleep");
  MeasurementWindow window;
  bool finished = false;
  int64_t exited = 0;
  for (int64_t i = 0; i < fibers; ++i) {
    scheduler.Spawn("sleeper", nullptr, [&] {
      while (true) {
        scheduler.SleepUntil(scheduler.Now() + random.DurationIn(kIncrementMin, kIncrementMax));
        if (finished) break;
        if (!window.open()) window.Begin();
        if (!state.KeepRunning()) {
          window.End(state);
          finished = true;
          break;
        }
      }
      ++exited;
    });
  }
  RequireIdle(state, scheduler.Run());
  if (exited != fibers) state.SkipWithError("a sleeper did not finish");
}
BENCHMARK(BM_FiberSleep)->Arg(64)->Arg(1024)->Arg(16384);

// The body of a ring message: small enough to live inside the Payload (no boxing).
struct RingToken {
  uint64_t hops = 0;
};

void BM_MessageDelivery(benchmark::State& state) {
  const auto size = static_cast<sim::ProcessId>(state.range(0));
  sim::Simulation simulation(sim::SimulationOptions{.seed = 1});
  sim::Network& network = simulation.network();
  std::vector<sim::Process*> ring;
  MeasurementWindow window;
  bool finished = false;
  uint64_t delivered = 0;
  // Sends the token from `from` to its successor in the ring, on a pooled message.
  auto forward = [&](sim::ProcessId from, uint64_t hops) {
    const sim::ProcessId to = (from + 1) % size;
    sim::Message* message = network.Allocate();
    message->from = from;
    message->to = to;
    message->from_incarnation = ring[static_cast<size_t>(from)]->incarnation();
    message->to_incarnation = ring[static_cast<size_t>(to)]->incarnation();
    message->channel = sim::MessageChannel::kRaw;
    message->payload.Emplace<RingToken>(RingToken{hops});
    network.Send(message);
  };
  for (sim::ProcessId id = 0; id < size; ++id) {
    ring.push_back(&simulation.AddProcess("ring" + std::to_string(id), [&](sim::Env& env) {
      sim::Process& self = env.process();
      self.SetRawHandler([&](sim::Message* message) {
        if (message->to != self.id() || !message->payload.Is<RingToken>()) {
          state.SkipWithError("a message reached the wrong process");
          finished = true;
        }
        const uint64_t hops = message->payload.Get<RingToken>().hops;
        network.Release(message);
        if (finished) return;
        ++delivered;
        if (!window.open()) window.Begin();
        if (!state.KeepRunning()) {
          window.End(state);
          finished = true;
          return;
        }
        forward(self.id(), hops + 1);
      });
      env.shutdown_requested().Wait();
    }));
  }
  for (sim::Process* process : ring) process->Start();
  simulation.RunFor(sim::Duration::Nanos(1));  // every main installs its handler
  forward(0, 0);
  RequireIdle(state, simulation.Run());
  if (delivered < static_cast<uint64_t>(state.iterations()) ||
      network.stats().delivered != delivered) {
    state.SkipWithError("fewer deliveries than iterations");
  }
}
BENCHMARK(BM_MessageDelivery)->Arg(2)->Arg(64)->Arg(1024);

struct EchoRequest {
  uint64_t value = 0;
};
struct EchoResponse {
  uint64_t value = 0;
};
constexpr sim::RpcMethod<EchoRequest, EchoResponse> kEcho{"bench.echo"};

void BM_RpcRoundTrip(benchmark::State& state) {
  sim::Simulation simulation(sim::SimulationOptions{.seed = 1});
  sim::Process& server = simulation.AddProcess("server", [](sim::Env& env) {
    env.rpc().Serve(kEcho, std::function<EchoResponse(const EchoRequest&, const sim::CallContext&)>(
                               [](const EchoRequest& request, const sim::CallContext&) {
                                 return EchoResponse{request.value + 1};
                               }));
    env.shutdown_requested().Wait();
  });
  MeasurementWindow window;
  uint64_t completed = 0;
  sim::Process& client = simulation.AddProcess("client", [&](sim::Env& env) {
    env.Sleep(sim::Duration::Millis(1));  // the server is serving by then
    window.Begin();
    for (auto _ : state) {
      absl::StatusOr<EchoResponse> response =
          env.rpc().Call(server.id(), kEcho, EchoRequest{completed}, sim::Duration::Seconds(1));
      if (!response.ok() || response->value != completed + 1) {
        state.SkipWithError("an echo call failed");
        break;
      }
      ++completed;
    }
    window.End(state);
  });
  server.Start();
  client.Start();
  RequireIdle(state, simulation.Run());
}
BENCHMARK(BM_RpcRoundTrip);

// One trace event of three fields (an integer, a short string, an integer), the way model code
// emits them. Arg 0: the braced-list form (Env::Emit(kind, {...})); arg 1: the same fields built
// into a std::vector first (the form that allocates per event). Second arg: observers attached
// (0: the event is only hashed; 1: a checker-like observer reads one field).
class FieldReader : public sim::TraceObserver {
 public:
  void OnEvent(const sim::TraceEvent& event) override { sum_ += event.Int("lsn"); }
  int64_t sum() const { return sum_; }

 private:
  int64_t sum_ = 0;
};

void BM_TraceEmit(benchmark::State& state) {
  const bool vector_form = state.range(0) != 0;
  sim::Trace trace;
  FieldReader reader;
  if (state.range(1) != 0) trace.AddObserver(&reader);
  const std::string op = "increment";
  int64_t lsn = 0;
  MeasurementWindow window;
  window.Begin();
  for (auto _ : state) {
    ++lsn;
    const sim::Instant at = sim::Instant::FromNanos(lsn);
    if (vector_form) {
      std::vector<sim::TraceField> fields;
      fields.reserve(3);
      fields.push_back(sim::TraceField::Str("op", op));
      fields.push_back(sim::TraceField::Int("client", 3));
      fields.push_back(sim::TraceField::Int("lsn", lsn));
      trace.Emit(at, 1, "db.commit", std::move(fields));
    } else {
      trace.Emit(at, 1, "db.commit",
                 {sim::TraceField::Str("op", op), sim::TraceField::Int("client", 3),
                  sim::TraceField::Int("lsn", lsn)});
    }
  }
  window.End(state);
  benchmark::DoNotOptimize(trace.hash());
  if (state.range(1) != 0 && reader.sum() != lsn * (lsn + 1) / 2) {
    state.SkipWithError("the observer did not see every event");
  }
}
BENCHMARK(BM_TraceEmit)->ArgsProduct({{0, 1}, {0, 1}});

}  // namespace
}  // namespace storsim::bench

BENCHMARK_MAIN();
