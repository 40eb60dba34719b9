// Counting heap allocations in a benchmark binary. allocation_counter.cc replaces the global
// operator new and delete (every form: plain, array, nothrow, aligned) with versions that forward
// to malloc/free and count each allocation made by the calling thread. A benchmark opens a
// MeasurementWindow around its timed loop and reports allocations per iteration as a counter, so
// "no heap allocation per message" is measured, not assumed.
//
// Under valgrind --tool=callgrind with STORSIM_BENCH_CALLGRIND_WINDOWS=1 in the environment, the
// window also zeroes callgrind's counters when it opens and dumps them when it closes, tagged
// "iterations=N": instructions per event are then the dump's total Ir / N, a figure that stays
// stable on a machine shared with other work (bench/instructions_per_event.sh reads it). Outside
// valgrind this costs a few instructions once per window.
//
// Linking allocation_counter.cc into a binary changes the allocator of the whole binary (the
// benchmark library and the kernel included); that is the point. Link it only into benchmarks.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace storsim::bench {

// Heap allocations (operator new of any form) made by the calling thread since it started.
uint64_t AllocationsOnThisThread();

// Brackets one timed loop. Begin must precede End, once each; End reports two counters on `state`:
//   allocations                every allocation made between Begin and End;
//   allocations_per_iteration  the same, divided by the iterations the loop ran.
// The window is opened before the first loop step, so the first step's own bookkeeping (Google
// Benchmark starting its timer) is counted too: a handful over millions of iterations.
class MeasurementWindow {
 public:
  void Begin();
  void End(benchmark::State& state);
  bool open() const { return open_; }

 private:
  uint64_t begin_ = 0;
  bool open_ = false;
  bool closed_ = false;
};

}  // namespace storsim::bench
