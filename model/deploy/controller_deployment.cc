// The Deployment controller half of ControllerDeployment: rollouts (RollingUpdate with maxSurge 1
// and maxUnavailable 0, Recreate), run in harness fibers in true time. The kubelet half (probes,
// container restarts, Service endpoints) is in kubelet.cc.
#include "model/deploy/controller_deployment.h"

#include <algorithm>

#include "model/deploy/events.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::deploy {
namespace {

using sim::TraceField;

constexpr int kMaxSurge = 1;
// A rollout iteration either acts or waits for a change; changes come at most once per probe
// period per pod, so this bound is far above any real rollout and only stops a livelock.
constexpr int kRolloutStepsMax = 200'000;

}  // namespace

const char* StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kRollingUpdate:
      return "RollingUpdate";
    case Strategy::kRecreate:
      return "Recreate";
  }
  return "unknown";
}

const char* PodPhaseName(PodPhase phase) {
  switch (phase) {
    case PodPhase::kEmpty:
      return "Empty";
    case PodPhase::kRunning:
      return "Running";
    case PodPhase::kTerminating:
      return "Terminating";
  }
  return "unknown";
}

const char* RolloutPhaseName(RolloutPhase phase) {
  switch (phase) {
    case RolloutPhase::kNone:
      return "None";
    case RolloutPhase::kProgressing:
      return "Progressing";
    case RolloutPhase::kComplete:
      return "Complete";
    case RolloutPhase::kTimedOut:
      return "TimedOut";
    case RolloutPhase::kSuperseded:
      return "Superseded";
  }
  return "unknown";
}

ControllerDeployment::ControllerDeployment(sim::Simulation& simulation,
                                           api::ServiceEndpoints& service,
                                           std::vector<sim::Process*> slots,
                                           DeploymentOptions options, api::Defects defects)
    : simulation_(simulation),
      service_(service),
      options_(std::move(options)),
      defects_(std::move(defects)),
      changed_(simulation.scheduler()) {
  SIM_CHECK_MSG(options_.replicas >= 1, "a Deployment has at least one replica");
  SIM_CHECK_MSG(static_cast<int>(slots.size()) >= options_.replicas,
                "fewer pod slots than replicas");
  SIM_CHECK(options_.readiness_probe.success_threshold >= 1);
  for (sim::Process* process : slots) {
    SIM_CHECK(process != nullptr);
    for (const Slot& other : slots_) SIM_CHECK_MSG(other.process != process, "slot used twice");
    Slot slot;
    slot.process = process;
    slots_.push_back(slot);
  }
  kubelet_ =
      &simulation_.AddProcess(options_.kubelet_name, [this](sim::Env& env) { KubeletMain(env); });
}

void ControllerDeployment::Start() {
  SIM_CHECK_MSG(!started_, "ControllerDeployment::Start called twice");
  started_ = true;
  kubelet_->Start();
  TriggerRollout(Strategy::kRollingUpdate);
}

void ControllerDeployment::TriggerRollout(Strategy strategy) {
  SIM_CHECK_MSG(started_, "TriggerRollout before Start");
  SIM_CHECK_MSG(strategy != Strategy::kRollingUpdate ||
                    static_cast<int>(slots_.size()) >= options_.replicas + kMaxSurge,
                "RollingUpdate needs replicas + 1 pod slots");
  const uint64_t rollout_id = ++rollout_id_;
  const int64_t revision = ++revision_;
  changed_.Set();  // a superseded rollout fiber wakes and ends
  simulation_.SpawnKernel("k8s-rollout", [this, rollout_id, strategy, revision] {
    RunRollout(rollout_id, strategy, revision);
  });
}

void ControllerDeployment::ScheduleRollout(sim::Instant at, Strategy strategy) {
  simulation_.SpawnKernel("k8s-rollout-timer", [this, at, strategy] {
    if (at > simulation_.Now()) simulation_.scheduler().SleepUntil(at);
    TriggerRollout(strategy);
  });
}

std::vector<PodStatus> ControllerDeployment::Snapshot() const {
  std::vector<PodStatus> pods;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    pods.push_back(PodStatus{.slot = static_cast<int>(i),
                             .name = slot.process->name(),
                             .pid = slot.process->id(),
                             .phase = slot.phase,
                             .revision = slot.revision,
                             .incarnation = slot.incarnation,
                             .started = slot.started,
                             .ready = slot.ready,
                             .restart_pending = slot.restart_pending,
                             .restarts = slot.restarts});
  }
  return pods;
}

int ControllerDeployment::ReadyCount() const {
  return static_cast<int>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& slot) { return slot.ready; }));
}

void ControllerDeployment::RunRollout(uint64_t rollout_id, Strategy strategy, int64_t revision) {
  const sim::Instant start = simulation_.Now();
  int old_pods = 0;
  for (const Slot& slot : slots_) {
    if (slot.phase == PodPhase::kRunning && slot.revision != revision) ++old_pods;
  }
  rollout_ = RolloutStatus{.revision = revision,
                           .strategy = strategy,
                           .phase = RolloutPhase::kProgressing,
                           .started_at = start};
  simulation_.Emit(
      events::kRolloutStart,
      {TraceField::Str("deployment", options_.name), TraceField::Int("revision", revision),
       TraceField::Str("strategy", StrategyName(strategy)), TraceField::Int("old_pods", old_pods)});
  RolloutPhase outcome = RolloutPhase::kTimedOut;
  for (int step = 0; step < kRolloutStepsMax; ++step) {
    if (rollout_id != rollout_id_) {
      outcome = RolloutPhase::kSuperseded;
      break;
    }
    changed_.Reset();
    const Counts counts = Count(revision);
    if (counts.old_running == 0 && counts.terminating == 0 &&
        counts.new_running == options_.replicas && counts.new_ready == options_.replicas) {
      outcome = RolloutPhase::kComplete;
      break;
    }
    const bool acted = strategy == Strategy::kRollingUpdate ? RollingStep(revision, counts)
                                                            : RecreateStep(revision, counts);
    if (acted) continue;
    const sim::Duration waited = simulation_.Now() - start;
    if (waited >= options_.rollout_timeout) break;
    if (!rollout_.stalled && waited >= options_.progress_deadline) {
      rollout_.stalled = true;
      SIM_MARK("k8s rollout stalled");
      simulation_.Emit(events::kRolloutStalled, {TraceField::Str("deployment", options_.name),
                                                 TraceField::Int("revision", revision),
                                                 TraceField::Int("waited_ns", waited.nanos())});
    }
    const sim::Instant deadline =
        start + (rollout_.stalled ? options_.rollout_timeout : options_.progress_deadline);
    changed_.Wait(deadline);
  }
  // A superseded rollout leaves the status to its successor, which has already written it.
  if (outcome != RolloutPhase::kSuperseded) {
    rollout_.phase = outcome;
    rollout_.ended_at = simulation_.Now();
  }
  simulation_.Emit(
      events::kRolloutEnd,
      {TraceField::Str("deployment", options_.name), TraceField::Int("revision", revision),
       TraceField::Str("strategy", StrategyName(strategy)),
       TraceField::Str("outcome", outcome == RolloutPhase::kComplete     ? "complete"
                                  : outcome == RolloutPhase::kSuperseded ? "superseded"
                                                                         : "timeout"),
       TraceField::Int("duration_ns", (simulation_.Now() - start).nanos())});
}

ControllerDeployment::Counts ControllerDeployment::Count(int64_t revision) const {
  Counts counts;
  for (const Slot& slot : slots_) {
    if (slot.phase == PodPhase::kTerminating) ++counts.terminating;
    if (slot.phase != PodPhase::kRunning) continue;
    ++counts.running;
    if (slot.revision == revision) {
      ++counts.new_running;
      if (slot.ready) ++counts.new_ready;
    } else {
      ++counts.old_running;
    }
  }
  SIM_CHECK(counts.running == counts.old_running + counts.new_running);
  return counts;
}

// One action of a RollingUpdate (maxSurge 1, maxUnavailable 0), as the Deployment controller
// computes it: scale the new ReplicaSet up while the surge allows, and scale an old pod down only
// if the pods that would remain still count `replicas` available ones
// (running - replicas - new-but-unready > 0). Returns whether it acted.
bool ControllerDeployment::RollingStep(int64_t revision, const Counts& counts) {
  if (counts.new_running < options_.replicas && counts.running < options_.replicas + kMaxSurge) {
    const int slot = FreeSlot();
    if (slot >= 0) {
      StartPod(slot, revision, "rollout");
      return true;
    }
    SIM_MARK("k8s rollout waits for a free pod slot");
  }
  const int new_unready = counts.new_running - counts.new_ready;
  const int scale_down_max = counts.running - options_.replicas - new_unready;
  if (counts.old_running == 0 || scale_down_max <= 0) return false;
  // Old pods that are not ready go first (cleanupUnhealthyReplicas), then the oldest slot order.
  int victim = -1;
  for (int pass = 0; pass < 2 && victim < 0; ++pass) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& slot = slots_[i];
      if (slot.phase != PodPhase::kRunning || slot.revision == revision) continue;
      if (pass == 0 && slot.ready) continue;
      victim = static_cast<int>(i);
      break;
    }
  }
  SIM_CHECK(victim >= 0);
  StopPod(victim);
  return true;
}

// One action of a Recreate rollout: stop every old pod, wait until all are gone, then start the
// new ones. Returns whether it acted.
bool ControllerDeployment::RecreateStep(int64_t revision, const Counts& counts) {
  if (counts.old_running > 0) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].phase == PodPhase::kRunning && slots_[i].revision != revision) {
        StopPod(static_cast<int>(i));
      }
    }
    return true;
  }
  if (counts.terminating > 0) return false;
  if (counts.new_running < options_.replicas) {
    const int slot = FreeSlot();
    if (slot < 0) return false;
    StartPod(slot, revision, "rollout");
    return true;
  }
  return false;
}

int ControllerDeployment::FreeSlot() const {
  const int count = static_cast<int>(slots_.size());
  for (int offset = 1; offset <= count; ++offset) {
    const int index = ((last_started_slot_ + offset) % count + count) % count;
    const Slot& slot = slots_[static_cast<size_t>(index)];
    // A slot whose process runs outside Kubernetes' knowledge (restarted by a fault after its pod
    // was deleted) is not free: its address is still taken.
    if (slot.phase == PodPhase::kEmpty && !slot.process->up()) return index;
  }
  return -1;
}

void ControllerDeployment::StartPod(int slot_index, int64_t revision, const char* reason) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kEmpty && !slot.process->up());
  slot.phase = PodPhase::kRunning;
  slot.revision = revision;
  slot.backoff_step = 0;
  slot.restarts = 0;
  slot.evicted = false;
  slot.node_lost = false;
  ++slot.loss_id;
  last_started_slot_ = slot_index;
  StartContainer(slot_index, reason);
}

void ControllerDeployment::StopPod(int slot_index) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kRunning);
  slot.phase = PodPhase::kTerminating;
  slot.restart_pending = false;
  ++slot.epoch;  // probes stop
  SetReady(slot_index, false);
  EmitPod(events::kPodStop, slot_index,
          {TraceField::Int("grace_ns", options_.termination_grace.nanos()),
           TraceField::Str("reason", "rollout")});
  if (slot.process->up()) slot.process->Stop(options_.termination_grace);
  changed_.Set();
}

void ControllerDeployment::LoseNode(int slot_index) {
  Slot& slot = slots_.at(static_cast<size_t>(slot_index));
  SIM_CHECK_MSG(slot.phase == PodPhase::kRunning, "LoseNode of a slot without a running pod");
  if (slot.node_lost) return;
  slot.node_lost = true;
  const uint64_t loss = ++slot.loss_id;
  EmitPod(events::kNodeLost, slot_index, {});
  simulation_.SpawnKernel("k8s-node-lifecycle", [this, slot_index, loss] {
    Slot& lost = slots_[static_cast<size_t>(slot_index)];
    auto still_lost = [&] {
      return lost.node_lost && lost.loss_id == loss && lost.phase == PodPhase::kRunning;
    };
    simulation_.scheduler().SleepUntil(simulation_.Now() + options_.node_monitor_grace);
    if (!still_lost()) return;
    SetReady(slot_index, false);  // the node controller sets Ready=Unknown
    simulation_.scheduler().SleepUntil(simulation_.Now() + options_.pod_eviction_timeout);
    if (!still_lost()) return;
    EvictPod(slot_index);
  });
}

void ControllerDeployment::RecoverNode(int slot_index) {
  Slot& slot = slots_.at(static_cast<size_t>(slot_index));
  if (!slot.node_lost) return;
  slot.node_lost = false;
  ++slot.loss_id;
  EmitPod(events::kNodeRecovered, slot_index, {});
  if (slot.evicted) {
    // The kubelet sees its pod was deleted and stops the container it kept running.
    slot.evicted = false;
    if (slot.process->up()) {
      SIM_MARK("k8s stops an evicted pod that ran on unsupervised");
      EmitPod(events::kPodStop, slot_index,
              {TraceField::Int("grace_ns", options_.termination_grace.nanos()),
               TraceField::Str("reason", "evicted")});
      slot.process->Stop(options_.termination_grace);
    }
    return;
  }
  // Not evicted: the next readiness probe's result reaches the Service again.
  slot.readiness_failures = 0;
  slot.readiness_successes = 0;
}

void ControllerDeployment::EvictPod(int slot_index) {
  Slot& slot = slots_[static_cast<size_t>(slot_index)];
  SIM_CHECK(slot.phase == PodPhase::kRunning && slot.node_lost);
  SIM_MARK("k8s evicts a pod of a lost node");
  SetReady(slot_index, false);
  slot.phase = PodPhase::kEmpty;  // deleted; the process (if up) keeps the slot taken
  slot.evicted = true;
  slot.restart_pending = false;
  slot.killing = false;
  ++slot.epoch;
  EmitPod(events::kPodEvicted, slot_index, {});
  EmitPod(events::kPodGone, slot_index, {});
  changed_.Set();
  RepairReplicas();
}

void ControllerDeployment::RepairReplicas() {
  // A running rollout replaces missing pods itself (it woke on changed_).
  if (rollout_.phase == RolloutPhase::kProgressing) return;
  const Counts counts = Count(revision_);
  for (int missing = options_.replicas - counts.new_running; missing > 0; --missing) {
    const int slot = FreeSlot();
    if (slot < 0) {
      SIM_MARK("k8s has no free slot for a replacement pod");
      return;
    }
    StartPod(slot, revision_, "replace");
  }
}

}  // namespace storsim::deploy
