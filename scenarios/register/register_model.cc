// Replica, client and auditor of the register self-test (see register_model.h).
#include "scenarios/register/register_model.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "sim/check.h"
#include "sim/rpc.h"
#include "sim/sync.h"

namespace storsim::scenarios {
namespace {

using sim::Duration;
using sim::Env;
using sim::Instant;

constexpr const char* kStateFile = "register";

struct Stamp {
  int64_t counter = 0;
  int64_t writer = 0;  // the unique value of the write that chose the stamp
  auto operator<=>(const Stamp&) const = default;
};

struct StampedValue {
  Stamp stamp;
  int64_t value = 0;
};

struct ReadRequest {
  int64_t op = 0;  // for traces only
};
struct WriteRequest {
  StampedValue stamped;
};
struct WriteReply {
  bool adopted = false;  // false when the replica already held an equal or higher stamp
};

constexpr sim::RpcMethod<ReadRequest, StampedValue> kRead{"register.read"};
constexpr sim::RpcMethod<WriteRequest, WriteReply> kWrite{"register.write"};

std::string EncodeState(const StampedValue& state) {
  return std::to_string(state.stamp.counter) + " " + std::to_string(state.stamp.writer) + " " +
         std::to_string(state.value);
}

StampedValue LoadState(const sim::Disk& disk) {
  StampedValue state;
  const std::vector<std::string>& records = disk.Read(kStateFile);
  if (records.empty()) return state;
  SIM_CHECK_MSG(records.size() == 1, "the register state file holds one record");
  long long counter = 0;
  long long writer = 0;
  long long value = 0;
  const int parsed = std::sscanf(records[0].c_str(), "%lld %lld %lld", &counter, &writer, &value);
  SIM_CHECK_MSG(parsed == 3, "corrupt register state record");
  state.stamp = Stamp{counter, writer};
  state.value = value;
  return state;
}

// Calls `method` on every replica at once (one fiber each) and collects successful replies until
// `needed` arrived, every replica answered, or the deadline passed. Fewer than `needed` replies
// means the quorum was not reached. The call fibers own what they touch (shared channel), so they
// may outlive this call.
template <typename Request, typename Reply>
std::vector<Reply> CallQuorum(Env& env, const std::vector<sim::ProcessId>& replicas,
                              sim::RpcMethod<Request, Reply> method, const Request& request,
                              size_t needed, Duration timeout) {
  SIM_CHECK(!replicas.empty() && needed <= replicas.size());
  auto replies =
      std::make_shared<sim::Channel<std::optional<Reply>>>(env.scheduler(), replicas.size());
  for (sim::ProcessId replica : replicas) {
    env.Spawn(std::string("call:") + method.name,
              [&env, replies, replica, method, request, timeout] {
                absl::StatusOr<Reply> reply = env.rpc().Call(replica, method, request, timeout);
                replies->TrySend(reply.ok() ? std::optional<Reply>(*reply) : std::nullopt);
              });
  }
  std::vector<Reply> ok;
  const Instant deadline = env.DeadlineAfter(timeout + Duration::Millis(1));
  for (size_t answered = 0; answered < replicas.size() && ok.size() < needed; ++answered) {
    std::optional<std::optional<Reply>> reply = replies->Receive(deadline);
    if (!reply.has_value()) break;  // deadline
    if (reply->has_value()) ok.push_back(**reply);
  }
  return ok;
}

class Operation {
 public:
  Operation(Env& env, const RegisterConfig& config, int64_t op, Duration timeout)
      : env_(env), config_(config), op_(op), deadline_(env.Now() + timeout) {}

  // Retries `attempt` with back-off until it returns true, the operation's deadline passes, or
  // the attempt bound is reached. Returns whether an attempt succeeded.
  bool Retry(const std::function<bool(Duration)>& attempt) {
    for (int attempts = 0; attempts < kRegisterAttemptsMax; ++attempts) {
      const Instant now = env_.Now();
      if (now >= deadline_) return false;
      if (attempt(std::min(config_.call_timeout, deadline_ - now))) return true;
      if (attempts > 0) SIM_MARK("register.operation_retried_twice");
      env_.Sleep(env_.random().DurationIn(config_.backoff_min, config_.backoff_max));
    }
    return false;
  }

  // Phase 1 of both operations: the highest stamped value a quorum holds.
  std::optional<StampedValue> ReadQuorum() {
    std::optional<StampedValue> highest;
    Retry([&](Duration timeout) {
      std::vector<StampedValue> replies =
          CallQuorum(env_, config_.replicas, kRead, ReadRequest{op_}, config_.quorum(), timeout);
      if (replies.size() < config_.quorum()) return false;
      highest = replies.front();
      for (const StampedValue& reply : replies) {
        if (reply.stamp != highest->stamp) SIM_MARK("register.replicas_disagree");
        if (reply.stamp > highest->stamp) highest = reply;
      }
      return true;
    });
    return highest;
  }

  // Phase 2: stores `stamped` at a quorum, always with the same stamp.
  bool WriteQuorum(const StampedValue& stamped) {
    return Retry([&](Duration timeout) {
      return CallQuorum(env_, config_.replicas, kWrite, WriteRequest{stamped}, config_.quorum(),
                        timeout)
                 .size() >= config_.quorum();
    });
  }

  // The planted bug: one random replica, no write-back.
  std::optional<int64_t> ReadOne() {
    std::optional<int64_t> value;
    Retry([&](Duration timeout) {
      const sim::ProcessId replica = config_.replicas[env_.random().Below(config_.replicas.size())];
      absl::StatusOr<StampedValue> reply =
          env_.rpc().Call(replica, kRead, ReadRequest{op_}, timeout);
      if (!reply.ok()) return false;
      value = reply->value;
      return true;
    });
    return value;
  }

 private:
  Env& env_;
  const RegisterConfig& config_;
  int64_t op_;
  Instant deadline_;  // local
};

void Write(Env& env, const RegisterConfig& config, int64_t op) {
  const int64_t value = op;  // unique per operation
  env.Emit("register.invoke",
           {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "write"),
            sim::TraceField::Int("value", value), sim::TraceField::Int("final", 0)});
  Operation operation(env, config, op, config.operation_timeout);
  std::optional<StampedValue> highest = operation.ReadQuorum();
  if (highest.has_value()) {
    const StampedValue stamped{Stamp{highest->stamp.counter + 1, value}, value};
    if (operation.WriteQuorum(stamped)) {
      env.Emit("register.ok",
               {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "write"),
                sim::TraceField::Int("value", value)});
      return;
    }
    SIM_MARK("register.write_unacknowledged_after_stamp");
  }
  env.Emit("register.fail",
           {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "write")});
}

bool Read(Env& env, const RegisterConfig& config, int64_t op, bool final, Duration timeout) {
  env.Emit("register.invoke",
           {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "read"),
            sim::TraceField::Int("value", 0), sim::TraceField::Int("final", final ? 1 : 0)});
  Operation operation(env, config, op, timeout);
  std::optional<int64_t> value;
  if (config.bug_read_one) {
    value = operation.ReadOne();
  } else if (std::optional<StampedValue> highest = operation.ReadQuorum(); highest.has_value()) {
    // Write-back: once this read returns v, a quorum holds v or newer.
    if (operation.WriteQuorum(*highest)) value = highest->value;
  }
  if (value.has_value()) {
    env.Emit("register.ok", {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "read"),
                             sim::TraceField::Int("value", *value)});
    return true;
  }
  env.Emit("register.fail", {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "read")});
  return false;
}

// Unique across processes and incarnations, and never the initial value 0.
int64_t OperationId(Env& env, uint64_t counter) {
  SIM_CHECK(counter >= 1 && counter <= kRegisterOperationsPerIncarnationMax);
  SIM_CHECK(env.incarnation() < 1'000'000);
  return (static_cast<int64_t>(env.id()) + 1) * 1'000'000'000'000 +
         static_cast<int64_t>(env.incarnation()) * 1'000'000 + static_cast<int64_t>(counter);
}

}  // namespace

void RegisterReplicaMain(Env& env) {
  // Shared with the handler fibers, which may still run after main returns on a graceful stop.
  auto state = std::make_shared<StampedValue>(LoadState(env.disk()));
  if (state->value != 0) SIM_MARK("register.replica_recovered_value");
  env.Emit("register.replica_up", {sim::TraceField::Int("counter", state->stamp.counter),
                                   sim::TraceField::Int("value", state->value)});
  env.rpc().Serve(kRead,
                  std::function<StampedValue(const ReadRequest&, const sim::CallContext&)>(
                      [state](const ReadRequest&, const sim::CallContext&) { return *state; }));
  env.rpc().Serve(kWrite, std::function<WriteReply(const WriteRequest&, const sim::CallContext&)>(
                              [state, &env](const WriteRequest& request, const sim::CallContext&) {
                                if (request.stamped.stamp <= state->stamp) {
                                  return WriteReply{false};
                                }
                                // Durable before acknowledged: a crash keeps what was promised.
                                env.disk().Replace(kStateFile, {EncodeState(request.stamped)});
                                env.disk().SyncFile(kStateFile);
                                *state = request.stamped;
                                return WriteReply{true};
                              }));
  env.shutdown_requested().Wait();
}

void RegisterClientMain(Env& env, const RegisterConfig& config) {
  SIM_CHECK(!config.replicas.empty());
  SIM_CHECK(config.operations_max >= 1 &&
            config.operations_max <= kRegisterOperationsPerIncarnationMax);
  for (uint64_t counter = 1; !env.shutdown_requested().is_set(); ++counter) {
    if (counter > config.operations_max) return;  // bound: a quiet client
    const int64_t op = OperationId(env, counter);
    if (env.random().Chance(1, 2)) {
      Write(env, config, op);
    } else {
      Read(env, config, op, /*final=*/false, config.operation_timeout);
    }
    env.Sleep(env.random().DurationIn(config.think_min, config.think_max));
  }
}

void RegisterAuditorMain(Env& env, const RegisterConfig& config) {
  SIM_CHECK(!config.replicas.empty());
  Read(env, config, OperationId(env, 1), /*final=*/true, config.final_read_timeout);
}

}  // namespace storsim::scenarios
