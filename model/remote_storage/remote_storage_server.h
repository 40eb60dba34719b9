// The fake object storage process (an S3 stand-in) for storsim: PUT, GET, DELETE, DeleteObjects
// and paginated LIST over sim RPC, durable on the process's sim Disk, with a per-request service
// delay and faults the harness switches at run time (503 SlowDown on a fraction of requests, a
// full outage answering 503, slow mode, 500 after execution, per-key DeleteObjects errors).
//
// Usage (harness):
//   StorageHistory history(simulation.scheduler());
//   RemoteStorageState state(history);
//   sim::Process& s3 = simulation.AddProcess("s3", RemoteStorageMain(state));
//   s3.Start();
//   state.faults.outage = true;   // any time: the next requests answer 503
//
// Request life cycle (each request in its own fiber):
//   1. admission: beyond requests_in_flight_max concurrent requests, answer 503 at once;
//   2. service delay drawn from env.random() in [service_delay_min, service_delay_max], plus
//      [slow_delay_min, slow_delay_max] in slow mode; the process sleeps it;
//   3. faults decided after the delay (so an outage switched on meanwhile applies): outage or a
//      SlowDown draw answer 503 and nothing executes;
//   4. execution: the mutation becomes durable (ObjectStore's rule), is appended to the history
//      and traced ("s3.put" / "s3.delete") — all in one step, without yielding;
//   5. a response delay in [0, response_delay_max]: a crash here means "executed, no reply";
//   6. with the internal-error odds, a mutation that executed answers 500 (the caller cannot
//      tell whether it ran — as with S3's InternalError).
//
// Restart: main replays the object log before serving, so requests that arrive meanwhile are
// refused (connection refused), and the recovered state is exactly what had executed (checked
// against the history on every recovery).
//
// Trace events (content hashes are the uint64 HashBytes value stored bit-for-bit in an int64):
//   s3.put        key, writer (pid), incarnation, node, generation, shard, hash, size, overwrote
//   s3.delete     key, writer (pid of the deleter), incarnation, node, generation, shard, hash
//                 (of the removed bytes, 0 if absent), existed, batch (1 = DeleteObjects)
//   s3.get        key, writer (pid of the reader), incarnation, node, generation, shard, found,
//                 hash (when found)
//   s3.fault      method, status (503/500), reason (outage, slowdown, throttled, after_execution)
//   s3.recovered  objects, log_records
#pragma once

#include <cstdint>
#include <string>

#include "model/remote_storage/object_store.h"
#include "model/remote_storage/remote_storage_types.h"
#include "model/remote_storage/storage_history.h"
#include "sim/env.h"
#include "sim/process.h"
#include "sim/time.h"

namespace storsim::remote_storage {

struct RemoteStorageOptions {
  sim::Duration service_delay_min = sim::Duration::Millis(2);
  sim::Duration service_delay_max = sim::Duration::Millis(30);
  sim::Duration response_delay_max = sim::Duration::Millis(5);
  sim::Duration slow_delay_min = sim::Duration::Seconds(2);
  sim::Duration slow_delay_max = sim::Duration::Seconds(15);
  size_t requests_in_flight_max = 4096;
  ObjectStoreOptions store;
};

// Faults, read by the server on every request: the harness may change them at any time.
// Odds are integer ratios numerator/denominator (0 numerator = never).
struct RemoteStorageFaults {
  uint64_t slowdown_numerator = 0;  // 503 SlowDown before execution
  uint64_t slowdown_denominator = 100;
  uint64_t internal_error_numerator = 0;  // 500 after a mutation executed
  uint64_t internal_error_denominator = 100;
  uint64_t delete_key_error_numerator = 0;  // per-key 500 (not deleted) inside DeleteObjects
  uint64_t delete_key_error_denominator = 100;
  bool outage = false;  // every request answers 503
  bool slow = false;    // every request takes slow_delay more
};

struct RemoteStorageStats {
  uint64_t requests = 0;
  uint64_t puts = 0;     // executed
  uint64_t gets = 0;     // answered 200 or 404
  uint64_t deletes = 0;  // keys whose delete executed (single or batch)
  uint64_t lists = 0;
  uint64_t bad_requests = 0;
  uint64_t slowdowns_injected = 0;
  uint64_t outage_answers = 0;
  uint64_t throttled = 0;  // over requests_in_flight_max
  uint64_t internal_errors_injected = 0;
  uint64_t delete_key_errors_injected = 0;
  uint64_t recoveries = 0;
  uint64_t recovered_objects = 0;  // at the last recovery
};

// Everything of the storage that outlives its process: the harness owns it. `faults` is the
// switchboard; `stats` counts what the server did; the history is not owned.
class RemoteStorageState {
 public:
  explicit RemoteStorageState(StorageHistory& history, RemoteStorageOptions options = {});
  RemoteStorageState(const RemoteStorageState&) = delete;
  RemoteStorageState& operator=(const RemoteStorageState&) = delete;

  StorageHistory& history() { return history_; }
  const RemoteStorageOptions& options() const { return options_; }

  RemoteStorageFaults faults;
  RemoteStorageStats stats;

 private:
  StorageHistory& history_;
  RemoteStorageOptions options_;
};

// The process main: recovers, serves until a graceful stop is requested, then returns.
// Preconditions: `state` outlives the process; one process per state (and per history).
void RunRemoteStorage(sim::Env& env, RemoteStorageState& state);

// RunRemoteStorage bound to `state`, for Simulation::AddProcess.
sim::Process::Main RemoteStorageMain(RemoteStorageState& state);

}  // namespace storsim::remote_storage
