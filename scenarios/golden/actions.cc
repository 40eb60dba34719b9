// Golden script actions: faults and harness switches are applied at once from the main stack (at
// the action's instant); controller and compute API calls run in a fresh operator fiber, as an
// SRE's curl would, and trace their answer. Every action is traced first as
//   golden.action  action(str: the line after "at T")
// and every API answer as
//   golden.answer  action(str) op(str: migrate|drain|fill|cancel_drain|cancel_fill|refresh)
//                  tenant(int: index, 0 for node operations) node(int: 0 for refresh)
//                  status(int: HTTP code, 0 when no answer came in time)
// The client-side probe traces each closed unavailability window as
//   golden.unavailable  from_ms(int: script time of the first failed request) ms(int: length)
#include <algorithm>
#include <sstream>

#include "model/api/compute_api.h"
#include "model/api/controller_api.h"
#include "scenarios/golden/interpreter.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/fault_plan.h"

namespace storsim::scenarios::golden {
namespace {

constexpr sim::Duration kOperatorDeadline = sim::Duration::Seconds(30);
constexpr sim::Duration kProbePeriod = sim::Duration::Millis(100);
constexpr sim::Duration kProbeTimeout = sim::Duration::Seconds(1);
constexpr sim::Duration kStopGrace = sim::Duration::Seconds(10);
constexpr int64_t kProbesMax = 1'000'000;

// The statement's text after "at TIME".
std::string ActionText(const Statement& statement) {
  std::istringstream stream(statement.text);
  std::string word;
  stream >> word >> word;  // "at", the time
  std::string rest;
  std::getline(stream, rest);
  const size_t first = rest.find_first_not_of(" \t");
  return first == std::string::npos ? "" : rest.substr(first);
}

sim::FaultKind FaultKindOf(const std::string& verb) {
  if (verb == "crash") return sim::FaultKind::kCrash;
  if (verb == "kill") return sim::FaultKind::kKill;
  if (verb == "pause") return sim::FaultKind::kPause;
  if (verb == "restart") return sim::FaultKind::kRestart;
  if (verb == "isolate") return sim::FaultKind::kIsolate;
  SIM_CHECK_MSG(verb == "partition", "no fault kind for '" + verb + "'");
  return sim::FaultKind::kPartition;
}

}  // namespace

sim::ProcessId Interpreter::Resolve(int line, const ProcessRef& process) {
  cluster::Cluster& cluster = world_->cluster();
  const auto out_of_range = [&](size_t count) {
    Fail(line, "no " + process.ToString() + " in this topology (" + std::to_string(count) + ")");
    return sim::ProcessId{-1};
  };
  switch (process.kind) {
    case ProcessRef::Kind::kPageserver: {
      const auto& ids = cluster.pageserver_ids();
      if (process.index < 1 || static_cast<size_t>(process.index) > ids.size()) {
        return out_of_range(ids.size());
      }
      return ids[static_cast<size_t>(process.index) - 1];
    }
    case ProcessRef::Kind::kController: {
      const auto& ids = cluster.controller_ids();
      if (static_cast<size_t>(process.index) >= ids.size()) return out_of_range(ids.size());
      return ids[static_cast<size_t>(process.index)];
    }
    case ProcessRef::Kind::kCompute: {
      const auto& tenants = cluster.tenant_ids();
      if (static_cast<size_t>(process.index) >= tenants.size()) return out_of_range(tenants.size());
      return cluster.compute_ids().at(tenants[static_cast<size_t>(process.index)]);
    }
    case ProcessRef::Kind::kDb:
      return cluster.postgres_id();
    case ProcessRef::Kind::kCplane:
      return cluster.control_plane_id();
    case ProcessRef::Kind::kSafekeeper:
      return cluster.safekeeper_id();
    case ProcessRef::Kind::kS3:
      return cluster.s3_id();
    case ProcessRef::Kind::kKubelet:
      return cluster.deployment().kubelet().id();
  }
  return -1;
}

void Interpreter::Execute(const Statement& statement) {
  const Action& action = statement.action;
  sim::Simulation& simulation = run_.simulation();
  simulation.Emit("golden.action", {sim::TraceField::Str("action", ActionText(statement))});
  switch (action.kind) {
    case Action::Kind::kMigrate:
    case Action::Kind::kNodeOperation:
    case Action::Kind::kComputeRefresh:
      OperatorCall(statement);
      return;
    case Action::Kind::kFault: {
      const sim::ProcessId a = Resolve(statement.line, action.process);
      if (a < 0) return;
      sim::Process& process = simulation.process(a);
      if (action.verb == "start") {
        if (!process.up()) process.Start();
        return;
      }
      if (action.verb == "stop") {
        // Graceful (SIGTERM, killed after the grace); "for D" starts it again after D.
        process.Stop(kStopGrace);
        if (action.duration) Schedule({Elapsed() + *action.duration, 0, &statement, true});
        return;
      }
      sim::Fault fault;
      fault.kind = FaultKindOf(action.verb);
      fault.a = a;
      if (action.verb == "partition") {
        fault.b = Resolve(statement.line, action.other);
        if (fault.b < 0) return;
      }
      fault.duration = action.duration.value_or(sim::Duration::Zero());
      sim::ApplyFault(simulation, fault);
      return;
    }
    case Action::Kind::kHeal:
      world_->Heal();
      return;
    case Action::Kind::kRoll:
      world_->cluster().deployment().TriggerRollout(
          action.recreate ? deploy::Strategy::kRecreate : deploy::Strategy::kRollingUpdate);
      return;
    case Action::Kind::kCplaneFail: {
      control_plane::NotifyFaults faults;
      faults.status = static_cast<api::Http>(action.http);
      world_->cluster().control_plane().SetNotifyFaults(faults);
      return;
    }
    case Action::Kind::kCplaneClear:
      world_->cluster().control_plane().SetNotifyFaults({});
      return;
    case Action::Kind::kProbe:
      StartProbe();
      return;
    case Action::Kind::kExpect:
      SIM_CHECK_MSG(false, "expectations are checked, not executed");
  }
}

void Interpreter::Undo(const Statement& statement) {
  const Action& action = statement.action;
  sim::Simulation& simulation = run_.simulation();
  simulation.Emit("golden.action",
                  {sim::TraceField::Str("action", "end of: " + ActionText(statement))});
  if (action.kind == Action::Kind::kCplaneFail) {
    world_->cluster().control_plane().SetNotifyFaults({});
  } else if (action.kind == Action::Kind::kFault && action.verb == "stop") {
    const sim::ProcessId a = Resolve(statement.line, action.process);
    if (a >= 0 && !simulation.process(a).up()) simulation.process(a).Start();
  } else {
    SIM_CHECK_MSG(false, "no undo for line " + std::to_string(statement.line));
  }
}

void Interpreter::OperatorCall(const Statement& statement) {
  const Action action = statement.action;
  const std::string text = ActionText(statement);
  cluster::Cluster* cluster = &world_->cluster();
  sim::Simulation* simulation = &run_.simulation();
  if (action.kind == Action::Kind::kMigrate || action.kind == Action::Kind::kComputeRefresh) {
    if (static_cast<size_t>(action.tenant) >= cluster->tenant_ids().size()) {
      Fail(statement.line, "no tenant " + std::to_string(action.tenant) + " (tenants are 0 .. " +
                               std::to_string(cluster->tenant_ids().size()) + " - 1)");
      return;
    }
  }
  world_->RunOperator("golden", [cluster, simulation, action, text](sim::Env& env) {
    const sim::Instant deadline = simulation->Now() + kOperatorDeadline;
    int status = 0;
    const auto answer = [&status](const auto& reply) {
      if (reply.ok()) status = static_cast<int>(reply->status);
    };
    if (action.kind == Action::Kind::kMigrate) {
      const std::string& tenant = cluster->tenant_ids()[static_cast<size_t>(action.tenant)];
      auto described = cluster->CallController(env, api::kTenantDescribe,
                                               api::TenantDescribeRequest{tenant}, deadline);
      answer(described);
      if (described.ok() && api::IsSuccess(described->status)) {
        status = static_cast<int>(api::Http::kNotFound);  // unless the shard is found below
        for (const api::ShardPlacement& shard : described->shards) {
          if (shard.shard.shard_number != action.shard) continue;
          answer(cluster->CallController(
              env, api::kTenantShardMigrate,
              api::TenantShardMigrateRequest{shard.shard, static_cast<api::NodeId>(action.node)},
              deadline));
        }
      }
    } else if (action.kind == Action::Kind::kNodeOperation) {
      const api::NodeRequest request{static_cast<api::NodeId>(action.node)};
      if (action.verb == "drain") {
        answer(cluster->CallController(env, api::kNodeDrain, request, deadline));
      } else if (action.verb == "fill") {
        answer(cluster->CallController(env, api::kNodeFill, request, deadline));
      } else if (action.verb == "cancel_drain") {
        answer(cluster->CallController(env, api::kNodeCancelDrain, request, deadline));
      } else {
        SIM_CHECK(action.verb == "cancel_fill");
        answer(cluster->CallController(env, api::kNodeCancelFill, request, deadline));
      }
    } else {
      SIM_CHECK(action.kind == Action::Kind::kComputeRefresh);
      const std::string& tenant = cluster->tenant_ids()[static_cast<size_t>(action.tenant)];
      answer(env.rpc().Call(cluster->compute_ids().at(tenant), api::kRefreshConfiguration,
                            api::RefreshConfigurationRequest{}, sim::Duration::Seconds(3)));
    }
    const std::string op = action.kind == Action::Kind::kMigrate          ? "migrate"
                           : action.kind == Action::Kind::kComputeRefresh ? "refresh"
                                                                          : action.verb;
    env.Emit("golden.answer",
             {sim::TraceField::Str("action", text), sim::TraceField::Str("op", op),
              sim::TraceField::Int("tenant", action.tenant),
              sim::TraceField::Int("node", action.node), sim::TraceField::Int("status", status)});
  });
}

void Interpreter::StartProbe() {
  if (probe_->started) return;
  probe_->started = true;
  cluster::Cluster* cluster = &world_->cluster();
  sim::Simulation* simulation = &run_.simulation();
  ProbeState* state = probe_.get();  // kept by the run: outlives every fiber
  const sim::Instant zero = zero_;
  world_->RunOperator("probe", [cluster, simulation, state, zero](sim::Env& env) {
    for (int64_t i = 0; i < kProbesMax; ++i) {
      const sim::Instant sent = simulation->Now();
      bool ok = false;
      if (std::optional<sim::ProcessId> endpoint =
              cluster->controller_service().Pick(env.random())) {
        absl::StatusOr<api::NodeStatusResponse> reply = env.rpc().Call(
            *endpoint, api::kNodeStatus, api::NodeRequest{cluster->NodeIdOf(0)}, kProbeTimeout);
        ok = reply.ok() && api::IsSuccess(reply->status);
      }
      ++state->probes;
      if (!ok) {
        ++state->failures;
        if (!state->failing_since) state->failing_since = sent;
      } else if (state->failing_since) {
        const sim::Duration window = sent - *state->failing_since;
        state->longest = std::max(state->longest, window);
        ++state->windows;
        env.Emit("golden.unavailable",
                 {sim::TraceField::Int("from_ms", (*state->failing_since - zero).millis()),
                  sim::TraceField::Int("ms", window.millis())});
        state->failing_since.reset();
      }
      const sim::Instant next = sent + kProbePeriod;
      if (simulation->Now() < next) env.Sleep(next - simulation->Now());
    }
  });
}

}  // namespace storsim::scenarios::golden
