// The fake Postgres: a simulated process holding the controller's tables (ControllerTables). One
// RPC method, kTxn, carries one Operation; each runs as one serializable transaction in a single
// scheduler step (nothing else interleaves), is appended to the WAL on the process's Disk and
// Sync'ed before the reply. On start the process replays the WAL, so a crash keeps exactly the
// synced (committed) transactions.
//
// Faults, switchable by a harness at run time through options() and the calls below:
//   down               the process is crashed and stays down: callers get Unavailable;
//   slow               options().extra_latency is added to every transaction;
//   crash / restart    CrashAndRestart(): a plain process crash, then recovery from the WAL;
//   reply lost         with odds reply_lost_per_million, commit + sync, then no reply (the
//                      caller times out: an ambiguous commit);
//   serialization      with odds serialization_failure_per_million, a transaction fails with
//                      Aborted (SQLSTATE 40001), no effect; clients retry;
//   connection limit   more than max_connections transactions in flight ⇒ ResourceExhausted;
//   crash before sync  CrashBeforeNextSync(): the next mutating commit is appended to the WAL and
//                      the process crashes before the Sync (the unsynced record is lost).
// Defect bug #5 (SPEC §12): with non_atomic_read_then_write, increment_generation and the leader
// CAS read in one step and write read_write_gap later (READ COMMITTED read-then-write), so two
// concurrent increments can return one generation and two CAS from one prev can both succeed.
//
// Trace events (kinds and fields; checkers read them by these names):
//   "db.commit"      per committed transaction {op, client, lsn} plus, per op:
//                      increment_generation {shard, generation, node} (the generation it issued),
//                      re_attach {node}, update_leader {address, started_at, prev_address},
//                      get_leader {address}, detach {shard},
//                      update_node_scheduling_policy {node, policy},
//                      update_tenant_shard {tenant, [shard], [generation]};
//   "db.generation"  per generation issued by re_attach {shard, generation, node, op}
//                    (increment_generation's generation is on its db.commit: one event, not two);
//   "db.fault"       {fault, op} for each injected fault;
//   "db.checkpoint"  {records} when the WAL is rewritten as a snapshot;
//   "db.recovered"   {records} at start.
// Every generation issued is therefore either a db.commit with op=increment_generation or a
// db.generation (op=re_attach).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "model/persistence/controller_tables.h"
#include "model/persistence/operation.h"
#include "sim/env.h"
#include "sim/rpc.h"
#include "sim/time.h"

namespace storsim::sim {
class Simulation;
}

namespace storsim::postgres {

// One request's Operation, shared by the copies of its message (a duplicated message, the
// handler's view) and never changed while shared. PostgresClient refills the same one for its
// next request once no other copy remains (use_count() == 1), so in steady state a request
// allocates nothing: the message itself fits sim::Payload's inline buffer. A copy still alive
// (a duplicate in flight, a handler still running after its caller timed out) makes the client
// take a fresh one instead. Single-threaded like everything in a simulation: the count is a plain
// integer.
class SharedOperation {
 public:
  SharedOperation() = default;
  explicit SharedOperation(const persistence::Operation& operation)
      : box_(new Box{operation, 1}) {}
  SharedOperation(const SharedOperation& other) : box_(other.box_) {
    if (box_ != nullptr) ++box_->count;
  }
  SharedOperation(SharedOperation&& other) noexcept : box_(std::exchange(other.box_, nullptr)) {}
  SharedOperation& operator=(SharedOperation other) noexcept {
    std::swap(box_, other.box_);
    return *this;
  }
  ~SharedOperation() {
    if (box_ != nullptr && --box_->count == 0) delete box_;
  }

  bool empty() const { return box_ == nullptr; }
  long use_count() const { return box_ == nullptr ? 0 : box_->count; }
  // Precondition: !empty().
  const persistence::Operation& get() const;
  // Replaces the operation in place. Precondition: use_count() == 1 (no other copy can see it).
  void Refill(const persistence::Operation& operation);

 private:
  struct Box {
    persistence::Operation operation;
    long count = 1;
  };
  Box* box_ = nullptr;
};

struct TxnRequest {
  SharedOperation operation;
};
// A transaction's OpResult as it travels back. It is small enough for the RPC payload's inline
// buffer (sim/payload.h: 48 bytes), so the common replies (an error, nothing, a generation) cost
// no allocation; a larger value (a leader row, a generation map, a row list) is boxed once in a
// shared value. Copies (a duplicated message) share that value; it is never changed, and moved
// out only by the last holder.
struct TxnReply {
  absl::Status status;
  std::variant<std::monostate, persistence::Generation, persistence::AbortShardSplitStatus,
               std::shared_ptr<persistence::OpValue>>
      value;

  static TxnReply From(persistence::OpResult result);
  // The OpResult From was given (status and value equal).
  persistence::OpResult ToResult() &&;
};
inline constexpr sim::RpcMethod<TxnRequest, TxnReply> kTxn{"postgres.txn"};

struct PostgresOptions {
  // Time each transaction takes before it commits (parse, plan, execute, WAL fsync).
  sim::Duration commit_latency = sim::Duration::Micros(500);
  // "slow": added to every transaction.
  sim::Duration extra_latency = sim::Duration::Zero();
  uint64_t serialization_failure_per_million = 0;
  uint64_t reply_lost_per_million = 0;
  // How long a lost reply's handler holds on before its (late, dropped) reply: longer than any
  // client timeout.
  sim::Duration lost_reply_hold = sim::Duration::Minutes(10);
  // Transactions in flight at once (Postgres max_connections; upstream's pool max is 99).
  uint32_t max_connections = 100;
  // Bug #5 (off by default) and the gap between its read and its write.
  bool non_atomic_read_then_write = false;
  sim::Duration read_write_gap = sim::Duration::Millis(5);
  // When the WAL holds this many records, it is rewritten as a snapshot (bounds its size).
  uint32_t wal_checkpoint_records = 4096;
};

struct PostgresStats {
  uint64_t commits = 0;                // transactions committed (reads included)
  uint64_t errors = 0;                 // transactions that returned an application error
  uint64_t serialization_failures = 0;
  uint64_t replies_lost = 0;
  uint64_t refused_connection_limit = 0;
  uint64_t checkpoints = 0;
  uint64_t recoveries = 0;
};

class PostgresServer {
 public:
  explicit PostgresServer(PostgresOptions options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Adds the process to the simulation (not started). Call once.
  sim::Process& AddTo(sim::Simulation& simulation, std::string name = "postgres");
  // The process main: recovers from the WAL, serves kTxn until a graceful stop.
  void Main(sim::Env& env);

  sim::Process& process();
  sim::ProcessId id() const;

  // Knobs a harness may change at any time; they apply to transactions that start afterwards.
  PostgresOptions& options() { return options_; }
  // down = true: crash the process (if up) and keep it down; false: start it (if down).
  void SetDown(bool down);
  void CrashAndRestart();
  // Test hook: the next mutating commit crashes the process between WAL append and Sync.
  void CrashBeforeNextSync() { crash_before_sync_ = true; }

  // The running incarnation's tables; null while the process is down or before it recovered.
  const persistence::ControllerTables* live_tables() const;
  // The state recovery would give now: the synced WAL replayed (also valid while down).
  persistence::ControllerTables DurableTables();
  const PostgresStats& stats() const { return stats_; }

 private:
  struct Incarnation;
  TxnReply Serve(sim::Env& env, Incarnation& incarnation, const TxnRequest& request,
                 const sim::CallContext& context);
  // Bug #5: the increment / CAS as a read step, a gap, and a write step.
  persistence::OpResult NonAtomic(sim::Env& env, Incarnation& incarnation,
                                  const persistence::Operation& operation,
                                  persistence::Operation* logged);
  void Commit(sim::Env& env, Incarnation& incarnation, const persistence::Operation& operation,
              const persistence::Operation& logged, const persistence::OpResult& result,
              const sim::CallContext& context);
  void Checkpoint(sim::Env& env, Incarnation& incarnation);

  PostgresOptions options_;
  PostgresStats stats_;
  sim::Process* process_ = nullptr;
  std::shared_ptr<Incarnation> incarnation_;
  bool crash_before_sync_ = false;
};

}  // namespace storsim::postgres
