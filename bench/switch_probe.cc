// switch_probe: TSC ticks per context switch, for the bare Boost.Context switch and for one
// sim::Scheduler Yield (the same two loops as BM_BareContextSwitch and BM_FiberSwitch), taken as
// the minimum over many short windows. A window that a preemption, an interrupt or the other vCPU
// disturbed only reads longer, so the minimum moves far less with the machine's load than the
// Google Benchmark mean does: it is the figure to compare A/B while other work shares the machine.
//
// It also prints where the hot data sit modulo 4 KiB (each fiber's frame at its Yield call, the
// scheduler, the ready ring), and can shift the second fiber's frame by a number of bytes
// (--pong_shift=N), to test whether 4 KiB aliasing between the two stacks' frames changes the
// switch's cost.
//
// usage: switch_probe [--windows=N] [--pong_shift=BYTES] [--scheduler_offset=BYTES]
#include <alloca.h>
#include <x86intrin.h>

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "sim/scheduler.h"

namespace storsim::bench {
namespace {

constexpr int kSwitchesPerWindow = 1024;

struct Options {
  int windows = 20'000;
  size_t pong_shift = 0;
  long scheduler_offset = -1;  // the scheduler's address modulo 4 KiB; -1: on the main stack
};

const void* StackPointer() {
  const void* sp = nullptr;
  asm volatile("movq %%rsp, %0" : "=r"(sp));
  return sp;
}

uint64_t Ticks() {
  unsigned aux = 0;
  return __rdtscp(&aux);  // determinism: ok (bench/ measures real time)
}

unsigned Low12(const void* address) {
  return static_cast<unsigned>(reinterpret_cast<uintptr_t>(address) & 0xfff);
}

// Bare Boost.Context: main and a partner fiber resume each other.
double BareTicksPerSwitch(const Options& options) {
  namespace ctx = boost::context;
  bool finished = false;
  const void* partner_frame = nullptr;
  ctx::fiber partner([&](ctx::fiber&& caller) {
    int marker = 0;
    partner_frame = &marker;
    while (!finished) caller = std::move(caller).resume();
    return std::move(caller);
  });
  int main_marker = 0;
  uint64_t best = UINT64_MAX;
  for (int window = 0; window < options.windows; ++window) {
    const uint64_t start = Ticks();
    for (int i = 0; i < kSwitchesPerWindow / 2; ++i) partner = std::move(partner).resume();
    const uint64_t ticks = Ticks() - start;
    if (ticks < best) best = ticks;
  }
  finished = true;
  partner = std::move(partner).resume();
  std::printf("bare:  main frame %%4K=0x%03x partner frame %%4K=0x%03x\n", Low12(&main_marker),
              Low12(partner_frame));
  return static_cast<double>(best) / kSwitchesPerWindow;
}

// Two scheduler fibers yielding to each other: one Yield is one switch.
double FiberTicksPerSwitch(const Options& options, sim::Scheduler& scheduler) {
  bool finished = false;
  uint64_t best = UINT64_MAX;
  const void* ping_frame = nullptr;
  const void* pong_frame = nullptr;
  scheduler.Spawn("ping", nullptr, [&] {
    ping_frame = StackPointer();
    for (int window = 0; window < options.windows; ++window) {
      const uint64_t start = Ticks();
      for (int i = 0; i < kSwitchesPerWindow / 2; ++i) scheduler.Yield();
      const uint64_t ticks = Ticks() - start;
      if (ticks < best) best = ticks;
    }
    finished = true;
  });
  scheduler.Spawn("pong", nullptr, [&] {
    // Shifts this fiber's frames down by pong_shift bytes for the whole loop.
    volatile char* shift = static_cast<char*>(alloca(options.pong_shift + 1));
    shift[0] = 0;
    pong_frame = StackPointer();
    while (!finished) scheduler.Yield();
  });
  const sim::RunOutcome outcome = scheduler.Run();
  if (outcome != sim::RunOutcome::kIdle) {
    std::fprintf(stderr, "the run ended with %s, not idle\n", sim::RunOutcomeName(outcome));
    std::exit(1);
  }
  std::printf("fiber: ping sp %%4K=0x%03x pong sp %%4K=0x%03x scheduler %%4K=0x%03x\n",
              Low12(ping_frame), Low12(pong_frame), Low12(&scheduler));
  return static_cast<double>(best) / kSwitchesPerWindow;
}

bool ParseFlag(const char* argument, const char* name, long* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(argument, name, length) != 0 || argument[length] != '=') return false;
  char* end = nullptr;
  *value = std::strtol(argument + length + 1, &end, 10);
  return end != argument + length + 1 && *end == '\0' && *value >= 0;
}

}  // namespace
}  // namespace storsim::bench

int main(int argc, char** argv) {
  storsim::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    long value = 0;
    if (storsim::bench::ParseFlag(argv[i], "--windows", &value) && value > 0 &&
        value <= 10'000'000) {
      options.windows = static_cast<int>(value);
    } else if (storsim::bench::ParseFlag(argv[i], "--pong_shift", &value) && value <= 65536) {
      options.pong_shift = static_cast<size_t>(value);
    } else if (storsim::bench::ParseFlag(argv[i], "--scheduler_offset", &value) && value < 4096) {
      options.scheduler_offset = value;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--windows=N] [--pong_shift=BYTES] [--scheduler_offset=BYTES]\n",
                   argv[0]);
      return 2;
    }
  }
  const double bare = storsim::bench::BareTicksPerSwitch(options);
  double fiber = 0;
  if (options.scheduler_offset < 0) {
    storsim::sim::Scheduler scheduler;
    fiber = storsim::bench::FiberTicksPerSwitch(options, scheduler);
  } else {
    // The scheduler at a chosen offset in a page (its alignment is 64).
    const size_t offset = static_cast<size_t>(options.scheduler_offset) & ~size_t{63};
    void* page = std::aligned_alloc(4096, 4096 + sizeof(storsim::sim::Scheduler));
    auto* scheduler = new (static_cast<char*>(page) + offset) storsim::sim::Scheduler();
    fiber = storsim::bench::FiberTicksPerSwitch(options, *scheduler);
    scheduler->~Scheduler();
    std::free(page);
  }
  std::printf("ticks per switch (min over %d windows of %d): bare %.2f fiber %.2f ratio %.3f\n",
              options.windows, storsim::bench::kSwitchesPerWindow, bare, fiber, fiber / bare);
  return 0;
}
