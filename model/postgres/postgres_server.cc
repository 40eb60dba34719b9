// The fake Postgres process (see postgres_server.h): transaction execution, WAL append and sync,
// fault injection, recovery and checkpoints.
#include "model/postgres/postgres_server.h"

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "model/postgres/event_fields.h"
#include "model/postgres/wal.h"
#include "sim/check.h"
#include "sim/simulation.h"

namespace storsim::postgres {

using persistence::ControllerTables;
using persistence::Generation;
using persistence::Operation;
using persistence::OpResult;
using sim::TraceField;

// The most fields a db.commit event carries (op, client, lsn and three per-op fields).
constexpr size_t kCommitFieldsMax = 6;
using CommitFields = EventFields<kCommitFieldsMax>;

// The state of one incarnation of the process: rebuilt by Main on every start. Handler fibers
// hold it by shared_ptr so a fiber unwound by a crash touches its own incarnation only.
struct PostgresServer::Incarnation {
  ControllerTables tables;
  uint32_t in_flight = 0;
  bool ready = false;
  // The WAL length at which the next checkpoint is written: a snapshot plus
  // wal_checkpoint_records, so checkpoints stay amortised however large the tables grow.
  size_t checkpoint_at = 0;
  // Records in the WAL file as this incarnation sees it (the commit's lsn). Only this incarnation
  // writes the file, so counting its own appends and checkpoints keeps this equal to
  // disk().Read(kWalFile).size() without looking the file up on every commit (checked at each
  // checkpoint).
  size_t wal_records = 0;
  // The db.commit event's fields, reused by every commit (Commit fills and emits them without
  // blocking in between, so concurrent handler fibers never share them mid-event).
  CommitFields commit_fields;
};

namespace {

constexpr size_t kCheckpointShardsPerRecord = 512;

// Releases a connection slot when the handler ends, however it ends.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(uint32_t& in_flight) : in_flight_(&in_flight) { ++*in_flight_; }
  ~ConnectionSlot() { Release(); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  void Release() {
    if (in_flight_ == nullptr) return;
    SIM_CHECK(*in_flight_ > 0);
    --*in_flight_;
    in_flight_ = nullptr;
  }

 private:
  uint32_t* in_flight_;
};

bool Chance(sim::Env& env, uint64_t per_million) {
  return per_million > 0 && env.random().Chance(per_million, 1'000'000);
}

}  // namespace

const Operation& SharedOperation::get() const {
  SIM_CHECK_MSG(box_ != nullptr, "a transaction request without an operation");
  return box_->operation;
}

void SharedOperation::Refill(const Operation& operation) {
  SIM_CHECK_MSG(box_ != nullptr && box_->count == 1, "refilling a request operation still shared");
  box_->operation = operation;
}

TxnReply TxnReply::From(OpResult result) {
  TxnReply reply{std::move(result.status), {}};
  std::visit(
      [&reply, &result](auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          // nothing to carry
        } else if constexpr (std::is_same_v<T, Generation> ||
                             std::is_same_v<T, persistence::AbortShardSplitStatus>) {
          reply.value = value;
        } else {
          reply.value = std::make_shared<persistence::OpValue>(std::move(result.value));
        }
      },
      result.value);
  return reply;
}

OpResult TxnReply::ToResult() && {
  OpResult result{std::move(status), {}};
  if (auto* generation = std::get_if<Generation>(&value)) {
    result.value = *generation;
  } else if (auto* abort = std::get_if<persistence::AbortShardSplitStatus>(&value)) {
    result.value = *abort;
  } else if (auto* boxed = std::get_if<std::shared_ptr<persistence::OpValue>>(&value)) {
    SIM_CHECK(*boxed != nullptr);
    // The last holder takes the value; a holder sharing it with a duplicate copies it.
    result.value = boxed->use_count() == 1 ? std::move(**boxed) : **boxed;
  }
  return result;
}

PostgresServer::PostgresServer(PostgresOptions options) : options_(options) {
  SIM_CHECK(options_.max_connections > 0);
  SIM_CHECK(options_.wal_checkpoint_records > 0);
}

PostgresServer::~PostgresServer() = default;

sim::Process& PostgresServer::AddTo(sim::Simulation& simulation, std::string name) {
  SIM_CHECK_MSG(process_ == nullptr, "PostgresServer added twice");
  process_ = &simulation.AddProcess(std::move(name), [this](sim::Env& env) { Main(env); });
  return *process_;
}

sim::Process& PostgresServer::process() {
  SIM_CHECK(process_ != nullptr);
  return *process_;
}

sim::ProcessId PostgresServer::id() const {
  SIM_CHECK(process_ != nullptr);
  return process_->id();
}

void PostgresServer::SetDown(bool down) {
  if (down && process().up()) {
    process().Crash();
  } else if (!down && !process().up()) {
    process().Start();
  }
}

void PostgresServer::CrashAndRestart() { process().Restart(); }

const ControllerTables* PostgresServer::live_tables() const {
  if (process_ == nullptr || !process_->up() || !incarnation_ || !incarnation_->ready) {
    return nullptr;
  }
  return &incarnation_->tables;
}

ControllerTables PostgresServer::DurableTables() {
  // A scratch copy of the disk, crashed: exactly what the next incarnation will read.
  sim::Disk disk = process().disk();
  disk.DropUnsynced();
  return RecoverTables(disk);
}

void PostgresServer::Main(sim::Env& env) {
  auto incarnation = std::make_shared<Incarnation>();
  incarnation_ = incarnation;
  size_t records = 0;
  incarnation->tables = RecoverTables(env.disk(), &records);
  incarnation->wal_records = records;
  incarnation->checkpoint_at = records + options_.wal_checkpoint_records;
  incarnation->ready = true;
  ++stats_.recoveries;
  env.Emit("db.recovered", {TraceField::Int("records", static_cast<int64_t>(records))});
  env.rpc().Serve(kTxn, std::function<TxnReply(const TxnRequest&, const sim::CallContext&)>(
                            [this, &env, incarnation](const TxnRequest& request,
                                                      const sim::CallContext& context) {
                              return Serve(env, *incarnation, request, context);
                            }));
  env.shutdown_requested().Wait();
  env.rpc().StopServing(kTxn.name);
}

TxnReply PostgresServer::Serve(sim::Env& env, Incarnation& incarnation, const TxnRequest& request,
                               const sim::CallContext& context) {
  const Operation& operation = request.operation.get();
  const char* op_name = persistence::OperationName(operation);
  if (incarnation.in_flight >= options_.max_connections) {
    ++stats_.refused_connection_limit;
    env.Emit("db.fault", {TraceField::Str("fault", "connection_limit"),
                          TraceField::Str("op", op_name)});
    return TxnReply{absl::ResourceExhaustedError("sorry, too many clients already"), {}};
  }
  ConnectionSlot slot(incarnation.in_flight);
  env.Sleep(options_.commit_latency + options_.extra_latency);

  if (Chance(env, options_.serialization_failure_per_million)) {
    ++stats_.serialization_failures;
    env.Emit("db.fault", {TraceField::Str("fault", "serialization_failure"),
                          TraceField::Str("op", op_name)});
    return TxnReply{absl::AbortedError("could not serialize access due to read/write "
                                       "dependencies among transactions"),
                    {}};
  }

  // What the WAL records: the operation itself, or bug #5's write half that replaced it.
  std::optional<Operation> rewritten;
  const Operation* logged = &operation;
  const bool buggy_op = std::holds_alternative<persistence::IncrementGenerationOp>(operation) ||
                        (std::holds_alternative<persistence::UpdateLeaderOp>(operation) &&
                         std::get<persistence::UpdateLeaderOp>(operation).prev.has_value());
  // Bug #5's read, gap and write; otherwise the whole transaction in one step: nothing else runs
  // between its read and its write.
  const bool non_atomic = options_.non_atomic_read_then_write && buggy_op;
  OpResult result = non_atomic ? NonAtomic(env, incarnation, operation, &rewritten.emplace())
                               : incarnation.tables.Apply(operation);
  if (non_atomic) {
    SIM_CHECK(!result.status.ok() || persistence::IsMutation(*rewritten));
    logged = &*rewritten;
  }
  if (!result.status.ok()) {
    ++stats_.errors;
    return TxnReply::From(std::move(result));
  }
  Commit(env, incarnation, operation, *logged, result, context);

  if (Chance(env, options_.reply_lost_per_million)) {
    ++stats_.replies_lost;
    env.Emit("db.fault", {TraceField::Str("fault", "reply_lost"), TraceField::Str("op", op_name)});
    slot.Release();
    env.Sleep(options_.lost_reply_hold);  // the reply, if it is ever sent, arrives too late
  }
  return TxnReply::From(std::move(result));
}

OpResult PostgresServer::NonAtomic(sim::Env& env, Incarnation& incarnation,
                                   const Operation& operation, Operation* logged) {
  SIM_MARK("db.non_atomic_read_then_write");
  if (const auto* increment = std::get_if<persistence::IncrementGenerationOp>(&operation)) {
    // SELECT generation ...; (gap) UPDATE ... SET generation = <read + 1>.
    auto read = incarnation.tables.ShardGenerations({increment->shard});
    SIM_CHECK(read.ok());
    auto it = read->find(increment->shard);
    if (it == read->end()) return OpResult{absl::NotFoundError("no shard"), {}};
    if (it->second.is_none()) return OpResult{absl::FailedPreconditionError("NULL gen"), {}};
    const Generation next = it->second.Next();
    env.Sleep(options_.read_write_gap);
    absl::Status written = incarnation.tables.SetGeneration(increment->shard, next, increment->node);
    if (!written.ok()) return OpResult{written, {}};
    *logged = persistence::SetGenerationOp{increment->shard, next, increment->node};
    return OpResult{absl::OkStatus(), next};
  }
  const auto& update = std::get<persistence::UpdateLeaderOp>(operation);
  SIM_CHECK(update.prev.has_value());
  // SELECT * FROM controllers; compare with prev in the client; (gap) UPDATE without the WHERE.
  if (incarnation.tables.leaders().count(*update.prev) == 0) {
    return OpResult{absl::FailedPreconditionError("leader CAS failed on read"), {}};
  }
  env.Sleep(options_.read_write_gap);
  absl::Status written = incarnation.tables.OverwriteLeader(update.next);
  if (!written.ok()) return OpResult{written, {}};
  *logged = persistence::OverwriteLeaderOp{update.next};
  return OpResult{absl::OkStatus(), {}};
}

void PostgresServer::Commit(sim::Env& env, Incarnation& incarnation, const Operation& operation,
                            const Operation& logged, const OpResult& result,
                            const sim::CallContext& context) {
  const char* op_name = persistence::OperationName(operation);
  if (persistence::IsMutation(logged)) {
    env.disk().Append(kWalFile, EncodeWalRecord(logged, env.disk().TakeRecordBuffer()));
    ++incarnation.wal_records;
    if (crash_before_sync_) {
      crash_before_sync_ = false;
      env.Emit("db.fault", {TraceField::Str("fault", "crash_before_sync"),
                            TraceField::Str("op", op_name)});
      // A crash, from inside: unsynced writes are lost and this incarnation ends.
      env.disk().DropUnsynced();
      env.Exit();
    }
    env.disk().SyncFile(kWalFile);
  }
  ++stats_.commits;
  const auto lsn = static_cast<int64_t>(incarnation.wal_records);
  // The db.commit fields are written into the incarnation's reused array: their strings keep
  // their capacity from one commit to the next, so a commit's event allocates nothing.
  CommitFields& fields = incarnation.commit_fields;
  fields.Clear();
  fields.Str("op", op_name);
  fields.Int("client", context.from);
  fields.Int("lsn", lsn);
  if (const auto* increment = std::get_if<persistence::IncrementGenerationOp>(&operation)) {
    // The generation issued is on this db.commit alone: a db.generation as well would repeat
    // the same four fields (shard, generation, node, op) in a second event on every increment.
    const Generation generation = std::get<Generation>(result.value);
    fields.Shard("shard", increment->shard);
    fields.Int("generation", generation.value());
    fields.Int("node", static_cast<int64_t>(increment->node));
  } else if (const auto* reattach = std::get_if<persistence::ReAttachOp>(&operation)) {
    fields.Int("node", static_cast<int64_t>(reattach->node));
    for (const auto& [shard, generation] : std::get<persistence::GenerationMap>(result.value)) {
      if (generation.is_none()) continue;
      env.Emit("db.generation", {TraceField::Str("shard", shard.ToString()),
                                 TraceField::Int("generation", generation.value()),
                                 TraceField::Int("node", static_cast<int64_t>(reattach->node)),
                                 TraceField::Str("op", op_name)});
    }
  } else if (const auto* leader = std::get_if<persistence::UpdateLeaderOp>(&operation)) {
    fields.Str("address", leader->next.address);
    fields.Int("started_at", leader->next.started_at);
    fields.Str("prev_address", leader->prev ? std::string_view(leader->prev->address) : "");
  } else if (std::holds_alternative<persistence::GetLeaderOp>(operation)) {
    const auto& row = std::get<std::optional<persistence::LeaderRow>>(result.value);
    fields.Str("address", row ? std::string_view(row->address) : "");
  } else if (const auto* detach = std::get_if<persistence::DetachOp>(&operation)) {
    fields.Shard("shard", detach->shard);
  } else if (const auto* policy =
                 std::get_if<persistence::UpdateNodeSchedulingPolicyOp>(&operation)) {
    fields.Int("node", static_cast<int64_t>(policy->node));
    fields.Str("policy", NodeSchedulingPolicyName(policy->policy));
  } else if (const auto* update = std::get_if<persistence::UpdateTenantShardOp>(&operation)) {
    fields.Str("tenant", update->filter.tenant_id);
    if (update->filter.shard) fields.Shard("shard", *update->filter.shard);
    if (update->update.generation && !update->update.generation->is_none()) {
      fields.Int("generation", update->update.generation->value());
    }
  }
  env.Emit("db.commit", fields.span());
  if (incarnation.wal_records >= incarnation.checkpoint_at) {
    Checkpoint(env, incarnation);
    incarnation.checkpoint_at = incarnation.wal_records + options_.wal_checkpoint_records;
  }
}

void PostgresServer::Checkpoint(sim::Env& env, Incarnation& incarnation) {
  SIM_CHECK_MSG(env.disk().Read(kWalFile).size() == incarnation.wal_records,
                "the WAL changed under the running incarnation");
  const ControllerTables& tables = incarnation.tables;
  // The snapshot is itself a list of mutations that rebuild `tables` from empty; Replace + Sync
  // swap it in atomically (a crash keeps either the old log or the snapshot).
  std::vector<std::string> records;
  for (const persistence::LeaderRow& leader : tables.leaders()) {
    records.push_back(EncodeWalRecord(persistence::UpdateLeaderOp{std::nullopt, leader}));
  }
  for (const auto& [id, node] : tables.nodes()) {
    records.push_back(EncodeWalRecord(persistence::InsertNodeOp{node}));
  }
  persistence::InsertTenantShardsOp batch;
  for (const auto& [id, shard] : tables.shards()) {
    batch.shards.push_back(shard);
    if (batch.shards.size() == kCheckpointShardsPerRecord) {
      records.push_back(EncodeWalRecord(batch));
      batch.shards.clear();
    }
  }
  if (!batch.shards.empty()) records.push_back(EncodeWalRecord(batch));
  incarnation.wal_records = records.size();
  env.disk().Replace(kWalFile, std::move(records));
  env.disk().SyncFile(kWalFile);
  ++stats_.checkpoints;
  env.Emit("db.checkpoint",
           {TraceField::Int("records", static_cast<int64_t>(incarnation.wal_records))});
}

}  // namespace storsim::postgres
