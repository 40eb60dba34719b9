// The pageserver deploy loop of RFC 033 (SPEC.md §7.2): drain, restart, fill, for each pageserver
// in order, with retries, polling, overall timeouts and cancellation. See pageserver_deploy.h.
#include "model/deploy/pageserver_deploy.h"

#include <algorithm>

#include "model/deploy/events.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/rpc.h"
#include "sim/sync.h"

namespace storsim::deploy {
namespace {

using sim::TraceField;

int64_t NodeField(api::NodeId node) { return static_cast<int64_t>(node); }

std::string TransportName(const absl::Status& status) {
  if (absl::IsDeadlineExceeded(status)) return "timeout";
  if (status.message() == "no_endpoint") return "no_endpoint";
  return "unavailable";
}

// Pause between the down-checks of a pageserver being stopped.
constexpr sim::Duration kStopCheckInterval = sim::Duration::Millis(100);

}  // namespace

PageserverDeploy::PageserverDeploy(sim::Simulation& simulation,
                                   const api::ServiceEndpoints& service,
                                   std::vector<PageserverTarget> targets,
                                   PageserverDeployOptions options, api::Defects defects)
    : simulation_(simulation),
      service_(service),
      targets_(std::move(targets)),
      options_(std::move(options)),
      defects_(std::move(defects)),
      work_(std::make_unique<sim::Event>(simulation.scheduler())) {
  SIM_CHECK(options_.poll_interval > sim::Duration::Zero());
  SIM_CHECK(options_.retry_backoff_initial > sim::Duration::Zero());
  SIM_CHECK(options_.request_attempts_max >= 1 && options_.cancel_attempts_max >= 1);
  for (size_t i = 0; i < targets_.size(); ++i) {
    SIM_CHECK_MSG(targets_[i].process != nullptr, "a pageserver target without a process");
    for (size_t j = 0; j < i; ++j) {
      SIM_CHECK_MSG(
          targets_[i].node_id != targets_[j].node_id && targets_[i].process != targets_[j].process,
          "pageserver targets must be distinct");
    }
  }
  process_ = &simulation_.AddProcess(options_.process_name, [this](sim::Env& env) { Main(env); });
}

void PageserverDeploy::Deploy() {
  ++status_.passes_requested;
  work_->Set();
  if (!process_->up()) process_->Start();
}

void PageserverDeploy::ScheduleDeploy(sim::Instant at) {
  simulation_.SpawnKernel("deploy-timer", [this, at] {
    if (at > simulation_.Now()) simulation_.scheduler().SleepUntil(at);
    Deploy();
  });
}

void PageserverDeploy::Main(sim::Env& env) {
  // Runs passes while some are requested, then waits for more; ends on a graceful stop. A pass a
  // crash interrupted is still counted as requested-but-not-completed and runs again.
  while (!env.shutdown_requested().is_set()) {
    work_->Reset();
    if (status_.passes_completed < status_.passes_requested) {
      status_.running = true;
      RunPass(env, status_.passes_completed + 1);
      ++status_.passes_completed;
      status_.running = false;
      continue;
    }
    sim::WaitAny(env.scheduler(), {work_.get(), &env.shutdown_requested()});
  }
}

void PageserverDeploy::RunPass(sim::Env& env, int pass) {
  const sim::Instant start = env.Now();
  simulation_.Emit(events::kPassStart,
                   {TraceField::Int("pass", pass),
                    TraceField::Int("nodes", static_cast<int64_t>(targets_.size())),
                    TraceField::Int("incarnation", static_cast<int64_t>(env.incarnation()))});
  status_.last_pass.assign(targets_.size(), NodeDeployResult{});
  int drained = 0;
  int filled = 0;
  for (size_t i = 0; i < targets_.size(); ++i) {
    NodeDeployResult& result = status_.last_pass[i];
    result.node_id = targets_[i].node_id;
    DeployNode(env, pass, targets_[i], result);
    if (result.drain == "paused_for_restart") ++drained;
    if (result.fill == "active") ++filled;
  }
  simulation_.Emit(events::kPassEnd,
                   {TraceField::Int("pass", pass),
                    TraceField::Int("nodes", static_cast<int64_t>(targets_.size())),
                    TraceField::Int("drained", drained), TraceField::Int("filled", filled),
                    TraceField::Int("elapsed_ns", (env.Now() - start).nanos())});
}

void PageserverDeploy::DeployNode(sim::Env& env, int pass, const PageserverTarget& target,
                                  NodeDeployResult& result) {
  const sim::Instant start = env.Now();
  simulation_.Emit(events::kNodeStart, {TraceField::Int("pass", pass),
                                        TraceField::Int("node_id", NodeField(target.node_id))});
  result.drain = Drain(env, pass, target.node_id, result);
  if (result.drain == "paused_for_restart" || options_.restart_after_failed_drain) {
    Restart(env, pass, target);
    result.restarted = true;
    result.fill = Fill(env, pass, target.node_id, result);
  } else {
    simulation_.Emit(
        events::kRestart,
        {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(target.node_id)),
         TraceField::Int("pid", target.process->id()), TraceField::Str("phase", "skipped"),
         TraceField::Int("incarnation", static_cast<int64_t>(target.process->incarnation()))});
    result.fill = "skipped";
  }
  simulation_.Emit(
      events::kNodeEnd,
      {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(target.node_id)),
       TraceField::Str("drain", result.drain), TraceField::Str("fill", result.fill),
       TraceField::Int("restarted", result.restarted ? 1 : 0),
       TraceField::Int("elapsed_ns", (env.Now() - start).nanos())});
}

std::string PageserverDeploy::Drain(sim::Env& env, int pass, api::NodeId node,
                                    NodeDeployResult& result) {
  const sim::Instant start = env.Now();
  const sim::Instant deadline = env.DeadlineAfter(options_.drain_timeout);
  std::string outcome = "timeout";
  int polls = 0;
  const std::string started = StartOperation(env, pass, node, /*drain=*/true, deadline, result);
  if (started == "already_done") {
    outcome = "paused_for_restart";
  } else if (started == "refused") {
    outcome = "refused";
  } else {
    // Poll until the drain ends or the prologue times out; one poll per interval bounds this.
    const int64_t polls_max = options_.drain_timeout.nanos() / options_.poll_interval.nanos() + 2;
    for (; polls < polls_max; ++polls) {
      absl::StatusOr<api::NodeStatusResponse> node_status = NodeStatus(env, node, result);
      if (node_status.ok() && api::IsSuccess(node_status->status)) {
        if (node_status->scheduling_policy == api::NodeSchedulingPolicy::kPauseForRestart) {
          outcome = "paused_for_restart";
          break;
        }
        if (node_status->scheduling_policy != api::NodeSchedulingPolicy::kDraining) {
          SIM_MARK("deploy drain ended without PauseForRestart");
          outcome = "aborted";
          break;
        }
      }
      if (env.scheduler().Now() >= deadline) break;
      env.scheduler().SleepUntil(std::min(env.DeadlineAfter(options_.poll_interval), deadline));
    }
  }
  simulation_.Emit(events::kDrainEnd,
                   {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(node)),
                    TraceField::Str("outcome", outcome), TraceField::Int("polls", polls),
                    TraceField::Int("elapsed_ns", (env.Now() - start).nanos())});
  if (outcome == "timeout" || outcome == "refused") {
    result.drain_cancel = Cancel(env, pass, node, /*drain=*/true, result);
  }
  return outcome;
}

std::string PageserverDeploy::Fill(sim::Env& env, int pass, api::NodeId node,
                                   NodeDeployResult& result) {
  const sim::Instant start = env.Now();
  const sim::Instant deadline = env.DeadlineAfter(options_.fill_timeout);
  std::string outcome = "timeout";
  int polls = 0;
  bool cancel = false;
  const std::string started = StartOperation(env, pass, node, /*drain=*/false, deadline, result);
  if (started == "refused") {
    outcome = "refused";
    // An accepted fill whose reply we never saw may be running: cancel it if the node says so.
    absl::StatusOr<api::NodeStatusResponse> node_status = NodeStatus(env, node, result);
    cancel = node_status.ok() && api::IsSuccess(node_status->status) &&
             node_status->scheduling_policy == api::NodeSchedulingPolicy::kFilling;
  } else {
    const int64_t polls_max = options_.fill_timeout.nanos() / options_.poll_interval.nanos() + 2;
    for (; polls < polls_max; ++polls) {
      absl::StatusOr<api::NodeStatusResponse> node_status = NodeStatus(env, node, result);
      if (node_status.ok() && api::IsSuccess(node_status->status)) {
        if (node_status->scheduling_policy == api::NodeSchedulingPolicy::kActive) {
          outcome = "active";
          break;
        }
        if (node_status->scheduling_policy != api::NodeSchedulingPolicy::kFilling) {
          SIM_MARK("deploy fill ended without Active");
          outcome = "aborted";
          break;
        }
      }
      if (env.scheduler().Now() >= deadline) break;
      env.scheduler().SleepUntil(std::min(env.DeadlineAfter(options_.poll_interval), deadline));
    }
    cancel = outcome == "timeout";
  }
  simulation_.Emit(events::kFillEnd,
                   {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(node)),
                    TraceField::Str("outcome", outcome), TraceField::Int("polls", polls),
                    TraceField::Int("elapsed_ns", (env.Now() - start).nanos())});
  if (cancel) result.fill_cancel = Cancel(env, pass, node, /*drain=*/false, result);
  return outcome;
}

std::string PageserverDeploy::StartOperation(sim::Env& env, int pass, api::NodeId node, bool drain,
                                             sim::Instant deadline, NodeDeployResult& result) {
  const auto method = drain ? api::kNodeDrain : api::kNodeFill;
  const char* op = drain ? "drain" : "fill";
  for (int attempt = 0; attempt < options_.request_attempts_max; ++attempt) {
    absl::StatusOr<api::StatusResponse> response =
        Request(env, pass, node, op, attempt, method, result);
    if (response.ok()) {
      if (api::IsSuccess(response->status)) return "accepted";
      if (response->status == api::Http::kConflict) return "running";
      // Refused: the node's policy tells whether an earlier attempt already did the work.
      absl::StatusOr<api::NodeStatusResponse> node_status = NodeStatus(env, node, result);
      if (node_status.ok() && api::IsSuccess(node_status->status)) {
        const api::NodeSchedulingPolicy policy = node_status->scheduling_policy;
        if (drain && policy == api::NodeSchedulingPolicy::kPauseForRestart) return "already_done";
        if (drain && policy == api::NodeSchedulingPolicy::kDraining) return "running";
        if (!drain && policy == api::NodeSchedulingPolicy::kFilling) return "running";
      }
    }
    if (!Backoff(env, attempt, deadline)) break;
  }
  return "refused";
}

std::string PageserverDeploy::Cancel(sim::Env& env, int pass, api::NodeId node, bool drain,
                                     NodeDeployResult& result) {
  const char* op = drain ? "drain" : "fill";
  std::string outcome = "failed";
  int attempts = 0;
  if (defects_.On(kDefectNoCancelOnTimeout)) {
    outcome = "skipped";  // planted defect: the node may be left Draining/Filling
  } else {
    const auto method = drain ? api::kNodeCancelDrain : api::kNodeCancelFill;
    while (attempts < options_.cancel_attempts_max) {
      absl::StatusOr<api::StatusResponse> response = Request(
          env, pass, node, drain ? "cancel_drain" : "cancel_fill", attempts, method, result);
      ++attempts;
      if (response.ok() && api::IsSuccess(response->status)) {
        outcome = "cancelled";
        break;
      }
      // 412: no such operation runs (it ended meanwhile); 404: the node is unknown.
      if (response.ok() && (response->status == api::Http::kPreconditionFailed ||
                            response->status == api::Http::kNotFound)) {
        outcome = "not_running";
        break;
      }
      if (attempts < options_.cancel_attempts_max) Backoff(env, attempts - 1, sim::Instant::Max());
    }
  }
  simulation_.Emit(events::kCancel,
                   {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(node)),
                    TraceField::Str("op", op), TraceField::Str("outcome", outcome),
                    TraceField::Int("attempts", attempts)});
  return outcome;
}

void PageserverDeploy::Restart(sim::Env& env, int pass, const PageserverTarget& target) {
  sim::Process& pageserver = *target.process;
  auto emit = [&](const char* phase) {
    simulation_.Emit(
        events::kRestart,
        {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(target.node_id)),
         TraceField::Int("pid", pageserver.id()), TraceField::Str("phase", phase),
         TraceField::Int("incarnation", static_cast<int64_t>(pageserver.incarnation()))});
  };
  emit("stop");
  const uint64_t stopped_incarnation = pageserver.incarnation();
  if (pageserver.up()) {
    pageserver.Stop(options_.pageserver_stop_grace);
    // The kernel kills the process when the grace runs out; the extra second covers the exit
    // landing at the grace instant.
    const int64_t checks_max =
        (options_.pageserver_stop_grace + sim::Duration::Seconds(1)).nanos() /
            kStopCheckInterval.nanos() +
        1;
    for (int64_t check = 0;
         check < checks_max && pageserver.up() && pageserver.incarnation() == stopped_incarnation;
         ++check) {
      env.Sleep(kStopCheckInterval);
    }
    if (pageserver.incarnation() != stopped_incarnation) {
      // Someone else (a fault's restart) started it again meanwhile: it already runs anew.
      SIM_MARK("deploy finds the pageserver restarted by someone else");
      emit("start");
      return;
    }
    if (pageserver.up()) {
      SIM_MARK("deploy kills a pageserver that outlived its stop grace");
      pageserver.Kill();
    }
  }
  SIM_CHECK(!pageserver.up());
  emit("down");
  pageserver.Start();
  emit("start");
}

absl::StatusOr<api::StatusResponse> PageserverDeploy::Request(
    sim::Env& env, int pass, api::NodeId node, const char* op, int attempt,
    sim::RpcMethod<api::NodeRequest, api::StatusResponse> method, NodeDeployResult& result) {
  ++result.requests;
  const std::optional<sim::ProcessId> endpoint = service_.Pick(env.random());
  absl::StatusOr<api::StatusResponse> response = absl::UnavailableError("no_endpoint");
  if (endpoint) {
    response = env.rpc().Call(*endpoint, method, api::NodeRequest{node}, options_.request_timeout);
  }
  simulation_.Emit(events::kRequest,
                   {TraceField::Int("pass", pass), TraceField::Int("node_id", NodeField(node)),
                    TraceField::Str("op", op), TraceField::Int("attempt", attempt),
                    TraceField::Str("result", response.ok() ? api::HttpName(response->status)
                                                            : TransportName(response.status())),
                    TraceField::Int("to", endpoint ? *endpoint : -1)});
  return response;
}

absl::StatusOr<api::NodeStatusResponse> PageserverDeploy::NodeStatus(sim::Env& env,
                                                                     api::NodeId node,
                                                                     NodeDeployResult& result) {
  ++result.requests;
  const std::optional<sim::ProcessId> endpoint = service_.Pick(env.random());
  if (!endpoint) return absl::UnavailableError("no_endpoint");
  return env.rpc().Call(*endpoint, api::kNodeStatus, api::NodeRequest{node},
                        options_.request_timeout);
}

bool PageserverDeploy::Backoff(sim::Env& env, int attempt, sim::Instant deadline) {
  sim::Duration delay = options_.retry_backoff_initial;
  for (int i = 0; i < attempt && delay < options_.retry_backoff_max; ++i) delay = delay * 2;
  delay = std::min(delay, options_.retry_backoff_max);
  if (env.scheduler().Now() >= deadline) return false;
  env.scheduler().SleepUntil(std::min(env.DeadlineAfter(delay), deadline));
  return env.scheduler().Now() < deadline;
}

}  // namespace storsim::deploy
