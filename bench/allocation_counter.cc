// Replacement global operator new/delete that count allocations per thread (see the header).
// Every form forwards to malloc/posix_memalign/free, so memory from one form may be released by
// any delete form, which is what the standard library expects of a replacement.
#include "bench/allocation_counter.h"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define STORSIM_BENCH_CALLGRIND 1
#else
#define STORSIM_BENCH_CALLGRIND 0
#endif

namespace storsim::bench {
namespace {

// Per thread, so that a benchmark counts only its own thread and no atomic is needed.
thread_local uint64_t allocations = 0;

void* Allocate(std::size_t size) {
  ++allocations;
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

void* AllocateAligned(std::size_t size, std::align_val_t alignment) {
  ++allocations;
  std::size_t align = static_cast<std::size_t>(alignment);
  if (align < sizeof(void*)) align = sizeof(void*);
  void* memory = nullptr;
  if (::posix_memalign(&memory, align, size == 0 ? 1 : size) != 0) throw std::bad_alloc();
  return memory;
}

#if STORSIM_BENCH_CALLGRIND
// Opt-in (STORSIM_BENCH_CALLGRIND_WINDOWS=1 under callgrind): zeroing the counters mid-run leaves
// callgrind_annotate unable to attribute costs to functions, so a profiling run leaves it off.
bool CallgrindWindows() {
  static const bool enabled =
      RUNNING_ON_VALGRIND && std::getenv("STORSIM_BENCH_CALLGRIND_WINDOWS") != nullptr;
  return enabled;
}
#endif

}  // namespace

uint64_t AllocationsOnThisThread() { return allocations; }

void MeasurementWindow::Begin() {
  if (open_ || closed_) throw std::logic_error("MeasurementWindow::Begin called twice");
  open_ = true;
#if STORSIM_BENCH_CALLGRIND
  if (CallgrindWindows()) CALLGRIND_ZERO_STATS;
#endif
  begin_ = allocations;
}

void MeasurementWindow::End(benchmark::State& state) {
  if (!open_) throw std::logic_error("MeasurementWindow::End without Begin");
#if STORSIM_BENCH_CALLGRIND
  if (CallgrindWindows()) {
    char label[64];
    std::snprintf(label, sizeof label, "iterations=%lld",
                  static_cast<long long>(state.iterations()));
    CALLGRIND_DUMP_STATS_AT(label);
  }
#endif
  open_ = false;
  closed_ = true;
  const uint64_t counted = allocations - begin_;
  const double iterations = state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
  state.counters["allocations"] = benchmark::Counter(static_cast<double>(counted));
  state.counters["allocations_per_iteration"] =
      benchmark::Counter(static_cast<double>(counted) / iterations);
}

}  // namespace storsim::bench

using storsim::bench::Allocate;
using storsim::bench::AllocateAligned;

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return operator new(size, std::nothrow);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return AllocateAligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return AllocateAligned(size, alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  try {
    return AllocateAligned(size, alignment);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return operator new(size, alignment, std::nothrow);
}

void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete(void* memory, std::align_val_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::align_val_t) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept { std::free(memory); }
void operator delete(void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(memory);
}
void operator delete[](void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(memory);
}
