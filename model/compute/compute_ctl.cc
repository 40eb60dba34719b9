// compute_ctl: the ComputeStatus state machine, its HTTP handlers and the configurator fiber
// (SPEC §8.2). The Postgres workload is in postgres_workload.cc.
#include "model/compute/compute_ctl.h"

#include <utility>

#include "model/compute/events.h"
#include "model/compute/spec_codec.h"
#include "sim/check.h"

namespace storsim::compute {

using api::ComputeStatus;
using api::Http;

std::vector<api::DefectInfo> ComputeDefects() {
  return {api::DefectInfo{kDefectConfiguratorExitsOnFailed, "compute",
                          "code-reading hazard (SPEC §8.2, compute_tools configurator.rs)", "L7 L1",
                          "the configurator exits once it sees Failed, so a later Failed -> "
                          "RefreshConfigurationPending signal is answered 200 but never serviced"}};
}

namespace {

bool IsTermination(ComputeStatus status) {
  return status == ComputeStatus::kTerminationPendingFast ||
         status == ComputeStatus::kTerminationPendingImmediate ||
         status == ComputeStatus::kTerminated;
}

}  // namespace

ComputeCtl::ComputeCtl(ComputeOptions options, api::Defects defects)
    : options_(std::move(options)), defects_(std::move(defects)) {
  SIM_CHECK_MSG(!options_.tenant_id.empty(), "a compute serves one tenant");
  SIM_CHECK(options_.workload.key_count > 0);
  SIM_CHECK(options_.workload.write_percent <= 100);
  SIM_CHECK(options_.startup_fetch_attempts > 0);
}

void ComputeCtl::Run(sim::Env& env) {
  // Computes are stateless: every incarnation starts from Empty.
  env_ = &env;
  status_changed_ = std::make_shared<sim::Event>(env.scheduler());
  status_ = ComputeStatus::kEmpty;
  current_spec_.reset();
  pending_spec_.reset();
  postgres_running_ = false;
  configurator_running_ = false;
  last_acked_lsn_ = 0;
  key_acked_lsn_.clear();
  connect_failures_.clear();
  write_sequence_ = 0;
  counters_ = ComputeSnapshot{};

  env.rpc().Serve(
      api::kConfigure,
      std::function<api::ConfigureResponse(const api::ConfigureRequest&, const sim::CallContext&)>(
          [this](const api::ConfigureRequest& request, const sim::CallContext&) {
            return HandleConfigure(request);
          }));
  env.rpc().Serve(api::kRefreshConfiguration,
                  std::function<api::RefreshConfigurationResponse(
                      const api::RefreshConfigurationRequest&, const sim::CallContext&)>(
                      [this](const api::RefreshConfigurationRequest&, const sim::CallContext&) {
                        return api::RefreshConfigurationResponse{HandleRefresh("http")};
                      }));
  env.rpc().Serve(api::kComputeStatus,
                  std::function<api::ComputeStatusResponse(const api::ComputeStatusRequest&,
                                                           const sim::CallContext&)>(
                      [this](const api::ComputeStatusRequest&, const sim::CallContext&) {
                        return HandleStatus();
                      }));
  env.rpc().Serve(
      kTerminate,
      std::function<TerminateResponse(const TerminateRequest&, const sim::CallContext&)>(
          [this](const TerminateRequest& request, const sim::CallContext&) {
            return HandleTerminate(request);
          }));

  env.Spawn("configurator", [this] { ConfiguratorLoop(); });
  if (options_.workload.enabled) env.Spawn("postgres-workload", [this] { WorkloadLoop(); });
  if (options_.fetch_spec_at_start) StartupFetch();
  env.shutdown_requested().Wait();
  postgres_running_ = false;
}

ComputeSnapshot ComputeCtl::Snapshot() const {
  ComputeSnapshot snapshot = counters_;
  snapshot.incarnation = env_ == nullptr ? 0 : env_->incarnation();
  snapshot.status = status_;
  snapshot.spec = current_spec_;
  snapshot.last_acked_lsn = last_acked_lsn_;
  snapshot.postgres_running = postgres_running_;
  snapshot.configurator_running = configurator_running_;
  return snapshot;
}

void ComputeCtl::SetStatus(ComputeStatus to, const char* cause) {
  SIM_CHECK(env_ != nullptr);
  const ComputeStatus from = status_;
  status_ = to;
  env_->Emit(
      events::kStatus,
      {sim::TraceField::Str("tenant", options_.tenant_id),
       sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
       sim::TraceField::Str("from", api::ComputeStatusName(from)),
       sim::TraceField::Str("to", api::ComputeStatusName(to)), sim::TraceField::Str("cause", cause),
       sim::TraceField::Int("spec_version",
                            current_spec_ ? static_cast<int64_t>(current_spec_->version) : 0)});
  // Condition-variable semantics: wake everyone waiting for "the next change"; later waiters
  // wait for the change after this one.
  std::shared_ptr<sim::Event> fired = std::move(status_changed_);
  status_changed_ = std::make_shared<sim::Event>(env_->scheduler());
  fired->Set();
}

bool ComputeCtl::WaitStatusChange(sim::Instant deadline) {
  std::shared_ptr<sim::Event> change = status_changed_;
  const int woken =
      sim::WaitAny(env_->scheduler(), {change.get(), &env_->shutdown_requested()}, deadline);
  return woken == 0;
}

std::optional<std::string> ComputeCtl::SpecProblem(const api::ComputeSpec& spec) const {
  if (spec.tenant_id != options_.tenant_id) return "spec for another tenant";
  if (spec.shards.empty()) return "spec without shards";
  const size_t expected_shards = spec.shard_count == 0 ? 1 : spec.shard_count;
  if (spec.shards.size() != expected_shards) return "shard list does not match shard_count";
  for (const api::ShardLocation& shard : spec.shards) {
    if (options_.pageservers.find(shard.node_id) == options_.pageservers.end()) {
      return "unknown pageserver node " + std::to_string(shard.node_id);
    }
  }
  return std::nullopt;
}

bool ComputeCtl::ApplySpec(const api::ComputeSpec& spec, const char* via) {
  SIM_CHECK(!current_spec_ || spec.version >= current_spec_->version);
  const bool starting = !postgres_running_;
  env_->Sleep(starting ? options_.postgres_start_duration : options_.reload_duration);
  std::optional<std::string> problem = SpecProblem(spec);
  if (!problem && starting && start_fails_) problem = "postgres failed to start (injected)";
  if (!problem && !starting && reload_fails_) problem = "postgres reload failed (injected)";
  if (!problem && IsTermination(status_)) problem = "compute is terminating";
  if (problem) {
    env_->Emit(events::kReconfigureFailed,
               {sim::TraceField::Str("tenant", options_.tenant_id),
                sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
                sim::TraceField::Int("version", static_cast<int64_t>(spec.version)),
                sim::TraceField::Str("shards", FormatShards(spec.shards)),
                sim::TraceField::Str("via", via), sim::TraceField::Str("reason", *problem)});
    return false;
  }
  // The pg reload: from now on every new connection uses the new pageserver conninfo.
  current_spec_ = spec;
  postgres_running_ = true;
  connect_failures_.clear();
  env_->Emit(
      events::kReconfigured,
      {sim::TraceField::Str("tenant", options_.tenant_id),
       sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
       sim::TraceField::Int("version", static_cast<int64_t>(spec.version)),
       sim::TraceField::Str("shards", FormatShards(spec.shards)),
       sim::TraceField::Int("shard_count", spec.shard_count),
       sim::TraceField::Int("stripe_size", spec.stripe_size), sim::TraceField::Str("via", via)});
  return true;
}

void ComputeCtl::StartupFetch() {
  for (uint32_t attempt = 0; attempt < options_.startup_fetch_attempts; ++attempt) {
    if (status_ != ComputeStatus::kEmpty) return;  // a /configure came first
    auto result =
        env_->rpc().Call(options_.control_plane, api::kGetSpec,
                         api::GetSpecRequest{options_.tenant_id}, options_.get_spec_timeout);
    const int64_t code = result.ok() ? static_cast<int64_t>(result->status) : 0;
    const bool has_spec = result.ok() && result->status == Http::kOk && result->spec.has_value();
    const bool no_spec = result.ok() && (result->status == Http::kNotFound ||
                                         (result->status == Http::kOk && !result->spec));
    env_->Emit(
        events::kSpecFetch,
        {sim::TraceField::Str("tenant", options_.tenant_id),
         sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
         sim::TraceField::Str("purpose", "startup"),
         sim::TraceField::Str("outcome", has_spec ? "spec" : (no_spec ? "no-spec" : "error")),
         sim::TraceField::Int("status", code),
         sim::TraceField::Int("version",
                              has_spec ? static_cast<int64_t>(result->spec->version) : 0),
         sim::TraceField::Str("shards", has_spec ? FormatShards(result->spec->shards) : "")});
    if (no_spec) return;  // wait for a /configure
    if (has_spec) {
      if (status_ != ComputeStatus::kEmpty) return;
      const api::ComputeSpec spec = *result->spec;
      SetStatus(ComputeStatus::kInit, "startup-spec");
      const bool ok = ApplySpec(spec, "start");
      if (IsTermination(status_)) return;
      SetStatus(ok ? ComputeStatus::kRunning : ComputeStatus::kFailed,
                ok ? "started" : "start-failed");
      return;
    }
    env_->Sleep(sim::Duration::Seconds(1));
  }
}

void ComputeCtl::ConfiguratorLoop() {
  configurator_running_ = true;
  const bool exits_on_failed = defects_.On(kDefectConfiguratorExitsOnFailed);
  while (!env_->shutdown_requested().is_set()) {
    if (options_.lakebase_mode) {
      // Lakebase: loops on its own while a status is pending. Upstream also stops waiting on
      // Failed (and then exits): that is the defect; fixed, Failed just waits for a signal.
      const bool actionable = status_ == ComputeStatus::kConfigurationPending ||
                              status_ == ComputeStatus::kRefreshConfigurationPending ||
                              (exits_on_failed && status_ == ComputeStatus::kFailed);
      if (!actionable) {
        WaitStatusChange(sim::Instant::Max());
        continue;
      }
    } else if (status_ != ComputeStatus::kConfigurationPending) {
      // Classic: one wait for a change made by someone else, then act on whatever it is. A
      // pending status the configurator set itself is not a wake-up.
      if (!WaitStatusChange(sim::Instant::Max())) continue;
    }
    if (status_ == ComputeStatus::kConfigurationPending) {
      RunConfiguration();
    } else if (status_ == ComputeStatus::kRefreshConfigurationPending) {
      RunRefresh();
    } else if (status_ == ComputeStatus::kFailed && exits_on_failed) {
      SIM_MARK("compute.configurator_exits_on_failed");
      env_->Emit(events::kConfiguratorExit,
                 {sim::TraceField::Str("tenant", options_.tenant_id),
                  sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
                  sim::TraceField::Str("reason", "failed-status")});
      break;
    }
  }
  configurator_running_ = false;
}

void ComputeCtl::RunConfiguration() {
  SIM_CHECK(status_ == ComputeStatus::kConfigurationPending);
  SIM_CHECK(pending_spec_.has_value());
  const api::ComputeSpec spec = *pending_spec_;
  pending_spec_.reset();
  SetStatus(ComputeStatus::kConfiguration, "configurator");
  const bool ok = ApplySpec(spec, "configure");
  if (IsTermination(status_)) return;
  SIM_CHECK(status_ == ComputeStatus::kConfiguration);
  SetStatus(ok ? ComputeStatus::kRunning : ComputeStatus::kFailed,
            ok ? "configured" : "configure-failed");
}

void ComputeCtl::RunRefresh() {
  SIM_CHECK(status_ == ComputeStatus::kRefreshConfigurationPending);
  SetStatus(ComputeStatus::kRefreshConfiguration, "configurator");
  auto result =
      env_->rpc().Call(options_.control_plane, api::kGetSpec,
                       api::GetSpecRequest{options_.tenant_id}, options_.get_spec_timeout);
  const int64_t code = result.ok() ? static_cast<int64_t>(result->status) : 0;
  const bool no_spec = result.ok() && (result->status == Http::kNotFound ||
                                       (result->status == Http::kOk && !result->spec));
  const bool has_spec = result.ok() && result->status == Http::kOk && result->spec.has_value() &&
                        result->spec->tenant_id == options_.tenant_id;
  env_->Emit(
      events::kSpecFetch,
      {sim::TraceField::Str("tenant", options_.tenant_id),
       sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
       sim::TraceField::Str("purpose", "refresh"),
       sim::TraceField::Str("outcome", has_spec ? "spec" : (no_spec ? "no-spec" : "error")),
       sim::TraceField::Int("status", code),
       sim::TraceField::Int("version", has_spec ? static_cast<int64_t>(result->spec->version) : 0),
       sim::TraceField::Str("shards", has_spec ? FormatShards(result->spec->shards) : "")});
  if (IsTermination(status_)) return;
  SIM_CHECK(status_ == ComputeStatus::kRefreshConfiguration);
  if (no_spec) {
    // The compute is no longer attached to any storage: compute_ctl exits at once (exit(1)).
    SIM_MARK("compute.exit_no_spec");
    env_->Emit(events::kExit,
               {sim::TraceField::Str("tenant", options_.tenant_id),
                sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
                sim::TraceField::Str("reason", "no-spec")});
    env_->Exit();
  }
  if (!has_spec) {
    // Overloaded or unreachable control plane: back off before the next attempt.
    env_->Sleep(options_.fetch_error_backoff);
    if (IsTermination(status_)) return;
    SetStatus(ComputeStatus::kRefreshConfigurationPending, "fetch-failed");
    return;
  }
  const api::ComputeSpec& spec = *result->spec;
  if (current_spec_ &&
      (SameConninfo(*current_spec_, spec) || spec.version < current_spec_->version)) {
    // Nothing new yet: wait for the control plane to update the spec.
    SetStatus(ComputeStatus::kRunning, "same-spec");
    env_->Sleep(options_.same_spec_backoff);
    return;
  }
  const bool ok = ApplySpec(spec, "refresh");
  if (IsTermination(status_)) return;
  SetStatus(ok ? ComputeStatus::kRunning : ComputeStatus::kRefreshConfigurationPending,
            ok ? "refreshed" : "refresh-reconfigure-failed");
}

api::ConfigureResponse ComputeCtl::HandleConfigure(const api::ConfigureRequest& request) {
  const ComputeStatus from = status_;
  Http answer = Http::kOk;
  if (from != ComputeStatus::kEmpty && from != ComputeStatus::kRunning) {
    answer = Http::kPreconditionFailed;
  } else if (request.spec.tenant_id != options_.tenant_id) {
    answer = Http::kBadRequest;
  } else if (current_spec_ && request.spec.version < current_spec_->version) {
    // A late or duplicated push: never go back to an older spec.
    SIM_MARK("compute.configure_stale_version");
    answer = Http::kConflict;
  } else {
    pending_spec_ = request.spec;
    SetStatus(ComputeStatus::kConfigurationPending, "configure");
    const sim::Instant deadline = env_->DeadlineAfter(options_.configure_wait_max);
    // Bounded by the deadline: each wait ends at a status change or the deadline.
    while (status_ == ComputeStatus::kConfigurationPending ||
           status_ == ComputeStatus::kConfiguration) {
      if (!WaitStatusChange(deadline)) break;
    }
    const bool applied = current_spec_ && current_spec_->version >= request.spec.version &&
                         (status_ == ComputeStatus::kRunning ||
                          status_ == ComputeStatus::kRefreshConfigurationPending ||
                          status_ == ComputeStatus::kRefreshConfiguration);
    answer = applied ? Http::kOk : Http::kInternalError;
  }
  env_->Emit(events::kConfigure,
             {sim::TraceField::Str("tenant", options_.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Int("version", static_cast<int64_t>(request.spec.version)),
              sim::TraceField::Str("shards", FormatShards(request.spec.shards)),
              sim::TraceField::Str("from_status", api::ComputeStatusName(from)),
              sim::TraceField::Int("status", static_cast<int64_t>(answer))});
  return api::ConfigureResponse{answer};
}

Http ComputeCtl::HandleRefresh(const char* source) {
  const ComputeStatus from = status_;
  Http answer = Http::kOk;
  if (from == ComputeStatus::kRunning || from == ComputeStatus::kFailed ||
      from == ComputeStatus::kRefreshConfigurationPending) {
    SetStatus(ComputeStatus::kRefreshConfigurationPending, "refresh-request");
  } else if (from != ComputeStatus::kInit) {
    answer = Http::kInternalError;
  }
  env_->Emit(events::kRefreshRequest,
             {sim::TraceField::Str("tenant", options_.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Str("source", source),
              sim::TraceField::Str("from_status", api::ComputeStatusName(from)),
              sim::TraceField::Int("status", static_cast<int64_t>(answer))});
  return answer;
}

api::ComputeStatusResponse ComputeCtl::HandleStatus() const {
  return api::ComputeStatusResponse{Http::kOk, status_, current_spec_};
}

TerminateResponse ComputeCtl::HandleTerminate(const TerminateRequest& request) {
  if (status_ == ComputeStatus::kTerminated) return TerminateResponse{Http::kOk};
  if (IsTermination(status_)) {
    // Another /terminate is running: wait for it (bounded).
    const sim::Instant deadline = env_->DeadlineAfter(options_.configure_wait_max);
    while (status_ != ComputeStatus::kTerminated) {
      if (!WaitStatusChange(deadline)) break;
    }
    return TerminateResponse{status_ == ComputeStatus::kTerminated ? Http::kOk
                                                                   : Http::kInternalError};
  }
  SetStatus(request.immediate ? ComputeStatus::kTerminationPendingImmediate
                              : ComputeStatus::kTerminationPendingFast,
            "terminate");
  postgres_running_ = false;  // no new queries; a fast shutdown still checkpoints
  if (!request.immediate) env_->Sleep(options_.terminate_fast_duration);
  SetStatus(ComputeStatus::kTerminated, "terminate");
  env_->Emit(events::kTerminated,
             {sim::TraceField::Str("tenant", options_.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Str("mode", request.immediate ? "immediate" : "fast")});
  return TerminateResponse{Http::kOk};
}

}  // namespace storsim::compute
