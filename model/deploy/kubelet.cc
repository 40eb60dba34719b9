// The kubelet half of ControllerDeployment: a "kubelet" process whose fibers probe each pod
// (startup, readiness, liveness over api::kProbe), keep the Service's endpoints equal to the ready
// pods, stop containers that fail liveness or startup, and restart exited containers with
// CrashLoopBackOff. Probes run in the kubelet process because an RPC needs a calling process; the
// decisions they lead to are Kubernetes' and are traced as harness events.
#include <algorithm>

#include "model/api/controller_api.h"
#include "model/deploy/controller_deployment.h"
#include "model/deploy/events.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/rpc.h"

namespace storsim::deploy {
namespace {

using sim::TraceField;

const char* ProbeKindName(int kind) {
  switch (kind) {
    case 0:
      return "startup";
    case 1:
      return "readiness";
    case 2:
      return "liveness";
  }
  return "unknown";
}

std::string EndpointList(const std::vector<sim::ProcessId>& ready) {
  std::string text;
  for (sim::ProcessId pid : ready) {
    if (!text.empty()) text += ",";
    text += std::to_string(pid);
  }
  return text;
}

}  // namespace

void ControllerDeployment::KubeletMain(sim::Env& env) {
  // The kubelet keeps no state of its own: after a restart it resumes probing every live pod.
  for (size_t i = 0; i < slots_.size(); ++i) {
    const int slot = static_cast<int>(i);
    env.Spawn("sync-" + std::to_string(i), [this, &env, slot] { SyncLoop(env, slot); });
    if (slots_[i].phase == PodPhase::kRunning && !slots_[i].killing && !slots_[i].restart_pending) {
      ++slots_[i].epoch;
      SpawnProbers(slot);
    }
  }
  env.shutdown_requested().Wait();
}

void ControllerDeployment::SyncLoop(sim::Env& env, int slot) {
  // Runs for the kubelet's incarnation (its fibers die with it); one check per sync period.
  while (!env.shutdown_requested().is_set()) {
    SyncSlot(slot);
    env.Sleep(options_.sync_period);
  }
}

// Reconciles one slot with its process: a container seen down is restarted after its back-off
// (or, for a terminating pod, the pod leaves the slot); a process restarted from outside (a fault)
// is adopted as a container restart.
void ControllerDeployment::SyncSlot(int slot_index) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  sim::Process& process = *slot.process;
  const sim::Instant now = simulation_.Now();
  if (slot.phase == PodPhase::kTerminating) {
    // Still the container we stopped: wait (the kernel kills it when the grace runs out). A new
    // incarnation means a fault restarted the process after our container ended: that process
    // runs outside Kubernetes' knowledge, and the slot stays taken while it runs (FreeSlot).
    if (process.up() && process.incarnation() == slot.incarnation) return;
    if (process.up()) SIM_MARK("k8s sees a deleted pod's process restarted from outside");
    slot.phase = PodPhase::kEmpty;
    EmitPod(events::kPodExit, slot_index, {TraceField::Int("expected", 1)});
    EmitPod(events::kPodGone, slot_index, {});
    changed_.Set();
    return;
  }
  if (slot.phase != PodPhase::kRunning) return;
  if (process.up()) {
    if (process.incarnation() != slot.incarnation) AdoptExternalRestart(slot_index);
    return;
  }
  if (!slot.restart_pending) {
    // The container exited (crash, exit(1), a liveness kill completing).
    EmitPod(events::kPodExit, slot_index, {TraceField::Int("expected", slot.killing ? 1 : 0)});
    if (now - slot.container_started_at >= options_.restart_backoff_reset) slot.backoff_step = 0;
    sim::Duration backoff = sim::Duration::Zero();
    if (slot.backoff_step > 0) {
      backoff = options_.restart_backoff_initial;
      for (int i = 1; i < slot.backoff_step && backoff < options_.restart_backoff_max; ++i) {
        backoff = backoff * 2;
      }
      backoff = std::min(backoff, options_.restart_backoff_max);
    }
    ++slot.backoff_step;
    slot.restart_pending = true;
    slot.restart_due = now + backoff;
    ++slot.epoch;
    SetReady(slot_index, false);
    EmitPod(events::kPodRestart, slot_index,
            {TraceField::Str("reason", slot.killing ? slot.kill_reason : "exited"),
             TraceField::Int("restart_count", slot.restarts + 1),
             TraceField::Int("backoff_ns", backoff.nanos())});
    slot.killing = false;
  }
  if (slot.restart_pending && now >= slot.restart_due) {
    ++slot.restarts;
    StartContainer(slot_index, "restart");
  }
}

void ControllerDeployment::AdoptExternalRestart(int slot_index) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_MARK("k8s adopts a container restarted from outside");
  SetReady(slot_index, false);
  ++slot.restarts;
  EmitPod(events::kPodRestart, slot_index,
          {TraceField::Str("reason", "external"), TraceField::Int("restart_count", slot.restarts),
           TraceField::Int("backoff_ns", 0)});
  slot.incarnation = slot.process->incarnation();
  slot.restart_pending = false;
  slot.killing = false;
  slot.container_started_at = simulation_.Now();
  ResetProbeState(slot);
  SpawnProbers(slot_index);
  changed_.Set();
}

void ControllerDeployment::StartContainer(int slot_index, const char* reason) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kRunning);
  SIM_CHECK_MSG(!slot.process->up(), "a container starts only in a slot whose process is down");
  if (hook_) {
    hook_(PodStartInfo{
        .slot = slot_index, .revision = slot.revision, .process = slot.process, .reason = reason});
  }
  slot.process->Start();
  slot.incarnation = slot.process->incarnation();
  slot.restart_pending = false;
  slot.killing = false;
  slot.container_started_at = simulation_.Now();
  ResetProbeState(slot);
  EmitPod(events::kPodStart, slot_index,
          {TraceField::Str("reason", reason), TraceField::Int("restart_count", slot.restarts)});
  SpawnProbers(slot_index);
  changed_.Set();
}

void ControllerDeployment::ResetProbeState(Slot& slot) {
  ++slot.epoch;
  slot.started = !options_.startup_probe.enabled;
  slot.startup_failures = 0;
  slot.readiness_failures = 0;
  slot.readiness_successes = 0;
  slot.liveness_failures = 0;
}

void ControllerDeployment::SpawnProbers(int slot_index) {
  if (!kubelet_->up()) return;  // the kubelet's main spawns them when it comes back
  const Slot& slot = slots_[static_cast<size_t>(slot_index)];
  const uint64_t epoch = slot.epoch;
  const ProbeOptions* probes[] = {&options_.startup_probe, &options_.readiness_probe,
                                  &options_.liveness_probe};
  for (int kind = 0; kind < 3; ++kind) {
    if (!probes[kind]->enabled) continue;
    kubelet_->SpawnFiber(
        options_.kubelet_name + "/" + ProbeKindName(kind) + "-" + slot.process->name(),
        [this, slot_index, epoch, kind] {
          ProbeLoop(slot_index, epoch, static_cast<ProbeKind>(kind));
        });
  }
}

void ControllerDeployment::ProbeLoop(int slot_index, uint64_t epoch, ProbeKind kind) {
  const ProbeOptions& probe = kind == ProbeKind::kStartup     ? options_.startup_probe
                              : kind == ProbeKind::kReadiness ? options_.readiness_probe
                                                              : options_.liveness_probe;
  const api::Probe what = kind == ProbeKind::kStartup     ? api::Probe::kStatus
                          : kind == ProbeKind::kReadiness ? api::Probe::kReady
                                                          : api::Probe::kLive;
  sim::Env& env = kubelet_->env();
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(probe.period > sim::Duration::Zero());
  env.Sleep(probe.initial_delay);
  // Bounded by the container's life: a restart, stop or kill bumps the epoch and this ends.
  while (slot.epoch == epoch) {
    const bool gated = kind != ProbeKind::kStartup && !slot.started;
    if (kind == ProbeKind::kStartup && slot.started) return;
    if (!gated) {
      absl::StatusOr<api::StatusResponse> answer =
          env.rpc().Call(slot.process->id(), api::kProbe, api::ProbeRequest{what}, probe.timeout);
      if (slot.epoch != epoch) return;
      // An answer from a container that has since exited or been restarted from outside says
      // nothing about the current one; the sync loop handles the change within a sync period.
      const bool current = slot.process->up() && slot.process->incarnation() == slot.incarnation;
      if (current) ApplyProbe(slot_index, kind, answer.ok() && api::IsSuccess(answer->status));
      if (slot.epoch != epoch) return;
    }
    env.Sleep(probe.period);
  }
}

void ControllerDeployment::ApplyProbe(int slot_index, ProbeKind kind, bool ok) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kRunning && !slot.killing);
  auto threshold = [&](int failures) {
    EmitPod(events::kProbeThreshold, slot_index,
            {TraceField::Str("probe", ProbeKindName(static_cast<int>(kind))),
             TraceField::Int("failures", failures)});
  };
  switch (kind) {
    case ProbeKind::kStartup:
      if (ok) {
        slot.started = true;
        return;
      }
      if (++slot.startup_failures >= options_.startup_probe.failure_threshold) {
        threshold(slot.startup_failures);
        KillContainer(slot_index, "startup");
      }
      return;
    case ProbeKind::kReadiness:
      // The kubelet of a lost node still probes, but its reports do not reach the API server.
      if (slot.node_lost) return;
      if (ok) {
        slot.readiness_failures = 0;
        if (++slot.readiness_successes >= options_.readiness_probe.success_threshold) {
          SetReady(slot_index, true);
        }
        return;
      }
      slot.readiness_successes = 0;
      if (++slot.readiness_failures == options_.readiness_probe.failure_threshold) {
        threshold(slot.readiness_failures);
      }
      if (slot.readiness_failures >= options_.readiness_probe.failure_threshold) {
        SetReady(slot_index, false);
      }
      return;
    case ProbeKind::kLiveness:
      if (ok) {
        slot.liveness_failures = 0;
        return;
      }
      if (++slot.liveness_failures < options_.liveness_probe.failure_threshold) return;
      threshold(slot.liveness_failures);
      if (defects_.On(kDefectLivenessOff)) {
        slot.liveness_failures = 0;  // planted defect: the failure is ignored
        return;
      }
      KillContainer(slot_index, "liveness");
      return;
  }
}

void ControllerDeployment::KillContainer(int slot_index, const char* reason) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kRunning && !slot.killing);
  SIM_MARK("k8s kills a container after failed probes");
  slot.killing = true;
  slot.kill_reason = reason;
  ++slot.epoch;
  SetReady(slot_index, false);
  EmitPod(events::kPodStop, slot_index,
          {TraceField::Int("grace_ns", options_.termination_grace.nanos()),
           TraceField::Str("reason", reason)});
  slot.process->Stop(options_.termination_grace);
  changed_.Set();
}

void ControllerDeployment::SetReady(int slot_index, bool ready) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(!ready || (slot.phase == PodPhase::kRunning && !slot.killing && slot.process->up()));
  if (slot.ready == ready) return;
  slot.ready = ready;
  EmitPod(events::kPodReady, slot_index, {TraceField::Int("ready", ready ? 1 : 0)});
  const sim::ProcessId pid = slot.process->id();
  service_.SetReady(pid, ready);
  const std::vector<sim::ProcessId>& endpoints = service_.ready();
  SIM_CHECK((std::find(endpoints.begin(), endpoints.end(), pid) != endpoints.end()) == ready);
  simulation_.Emit(events::kServiceEndpoints,
                   {TraceField::Str("service", service_.name()), TraceField::Int("pid", pid),
                    TraceField::Int("ready", ready ? 1 : 0),
                    TraceField::Int("count", static_cast<int64_t>(endpoints.size())),
                    TraceField::Str("endpoints", EndpointList(endpoints))});
  changed_.Set();
}

void ControllerDeployment::EmitPod(std::string_view kind, int slot_index,
                                   std::vector<sim::TraceField> extra) {
  const Slot& slot = slots_[static_cast<size_t>(slot_index)];
  std::vector<sim::TraceField> fields = {
      TraceField::Str("deployment", options_.name),
      TraceField::Int("slot", slot_index),
      TraceField::Str("pod", slot.process->name()),
      TraceField::Int("pid", slot.process->id()),
      TraceField::Int("incarnation", static_cast<int64_t>(slot.incarnation)),
      TraceField::Int("revision", slot.revision)};
  for (sim::TraceField& field : extra) fields.push_back(std::move(field));
  simulation_.Emit(kind, std::move(fields));
}

}  // namespace storsim::deploy
