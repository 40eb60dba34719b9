// A pool of forked worker processes for independent, deterministic tasks (the bug-zoo sweeps and
// shrinks): tasks 0..count-1 are dealt round-robin to `jobs` workers (task t goes to worker
// t % jobs), each worker runs its tasks in order and writes each result as one JSON line on a
// pipe, and the parent hands every result to a callback as it arrives. Processes, not threads:
// the simulator is single-threaded by design and a crashing run cannot take the parent down.
//
// Both RunForked (lists of unrelated tasks) and the sweep library (one index space split by shard
// and job, sweep.h) stand on ForkWorkers, the process-and-pipe layer.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "fuzz/json.h"

namespace storsim::fuzz {

inline constexpr int kForkPoolJobsMax = 256;

// A worker's way to send one JSON line to the parent; false once the pipe is broken (stop then).
using EmitLine = std::function<bool(const Json& line)>;

// Forks `workers` processes; worker w runs `produce(w, emit)` and exits. The parent calls
// `on_line(w, line)` for every line as it arrives, in each worker's order. Errors: Internal when a
// worker cannot be started, writes a line that is not JSON (the other lines are still
// delivered), or does not exit with status 0 (the message says which worker and how it ended:
// its exit status or the signal that killed it). `died`, if given, receives the index of every
// worker that did not exit with status 0, in order, so a caller can name what it was running.
// Precondition: 1 <= workers <= kForkPoolJobsMax.
absl::Status ForkWorkers(int workers, const std::function<void(int w, const EmitLine& emit)>& produce,
                         const std::function<void(int w, Json line)>& on_line,
                         std::vector<int>* died = nullptr);

// Runs every task. With jobs <= 1 the tasks run in this process, in order. A task that throws
// is reported to `on_result` as {"error": what} (the pool carries on). Errors: Internal when a
// worker cannot be started, writes a line that is not JSON, or dies before reporting all its
// tasks (the results that did arrive were delivered). Precondition: jobs <= kForkPoolJobsMax.
absl::Status RunForked(int jobs, size_t count, const std::function<Json(size_t task)>& task,
                       const std::function<void(size_t task, Json result)>& on_result);

}  // namespace storsim::fuzz
