// ControllerDeployment: the Kubernetes Deployment that runs the storage controller's pods
// (SPEC.md §1, §3.2–3.5, bug #1 of §12). Kubernetes is not a process under test, so the rollout
// logic runs in harness fibers (Simulation::SpawnKernel, true time); probes need an RPC identity,
// so they are sent by a dedicated "kubelet" process this class adds to the simulation. The
// kubelet's fibers also notice exited containers and restart them (restartPolicy Always, with
// CrashLoopBackOff). All of Kubernetes' state (pods, revisions, readiness) lives in this object,
// not on the kubelet's disk: a crash of the kubelet process only stops probing until it restarts.
//
// How a scenario uses it:
//
//   api::ServiceEndpoints& service = ...;            // shared with pageservers, cplane, deployer
//   sim::Process& pod0 = simulation.AddProcess("controller-0", controller_main);
//   sim::Process& pod1 = simulation.AddProcess("controller-1", controller_main);
//   auto deployment = std::make_shared<deploy::ControllerDeployment>(
//       simulation, service, std::vector<sim::Process*>{&pod0, &pod1}, options);
//   run.Keep(deployment);                            // must outlive the simulation's teardown
//   deployment->SetPodStartHook([&](const deploy::PodStartInfo& pod) { ...configure main... });
//   deployment->Start();                             // kubelet up; revision 1 pods created
//   deployment->ScheduleRollout(at, deploy::Strategy::kRollingUpdate);   // a roll at `at`
//   run.RunFor(...);
//   deployment->rollout_status();                    // revision, phase, start/end instants
//
// Pod slots: each slot is one sim::Process the harness created; a pod's address is its process
// name. A container restart (liveness, crash) reuses the pod's slot (same address, next
// incarnation); a new pod of a rollout takes a free slot (a slot whose process is down and that
// holds no pod), searched round-robin after the last slot used, so consecutive revisions get
// different addresses as new pods do in Kubernetes. RollingUpdate needs replicas + 1 slots.
//
// Strategies (maxSurge 1 and maxUnavailable 0 are fixed, as SPEC §1 says):
//   RollingUpdate  start one new pod; once it is ready, gracefully stop one old pod (its endpoint
//                  is removed at once, like a terminating pod's); repeat; old not-ready pods are
//                  stopped first. Done when every pod is new and ready and old ones are gone.
//   Recreate       gracefully stop every old pod, wait until they are gone, then start new pods
//                  (the naive flow of §3.5: a gap with no controller at all).
// Node loss (SPEC §3.6 window 2, RFC 037: a pod that survives outside Kubernetes' control):
// LoseNode(slot) says the pod's node stopped reporting to the API server. Its kubelet keeps
// running locally (liveness and crash restarts go on), but readiness changes no longer reach the
// Service; after node_monitor_grace (40 s) the pod is marked not ready, after a further
// pod_eviction_timeout (300 s) it is deleted and the ReplicaSet starts a replacement in a free slot
// while the old process runs on, unsupervised, still holding its slot. RecoverNode(slot) heals
// it: an evicted pod's container is then stopped, a pod not yet evicted is probed as before.
// LoseNode models only Kubernetes' side: pair it with network faults on the pod's process.
//
// A rollout triggered while another runs supersedes it (the older one ends "superseded"; pods of
// every revision but the newest count as old), as a new Deployment revision does.
//
// Probes (defaults chosen for the model; Kubernetes' own default period is 10 s):
//   startup    Probe::kStatus  period 1 s, timeout 1 s, failure threshold 30  (gates the others)
//   readiness  Probe::kReady   period 1 s, timeout 1 s, failure threshold 3, success threshold 1
//   liveness   Probe::kLive    period 10 s, timeout 1 s, failure threshold 3 (then the container
//                              is stopped and restarted: PR #11703). The stop is graceful, not
//                              Process::Restart, because the kubelet sends SIGTERM and waits the
//                              grace period; the start goes through the back-off below.
// A probe succeeds iff the RPC returns and its status is 2xx; refused and timed-out probes fail.
// An exited container is restarted after a back-off of 0, 10 s, 20 s, ... capped at 300 s; the
// back-off resets once a container ran 10 minutes. The kubelet checks containers every 1 s.
//
// Invariants:
//   1. The Service's endpoints are exactly the pods whose `ready` is true. A pod becomes ready
//      only while Running and up; stopping, killing or evicting it clears `ready` at once, and a
//      process that went down by itself is noticed within one sync period (as the kubelet would).
//   2. This class starts a slot's process only when the process is down and the slot's pod (if
//      any) has no live container; a process restarted from outside is adopted, never doubled.
//   3. At most one rollout fiber acts: every other one sees it was superseded before acting.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/api/defects.h"
#include "model/api/service.h"
#include "sim/simulation.h"
#include "sim/sync.h"
#include "sim/time.h"

namespace storsim::deploy {

enum class Strategy : uint8_t { kRollingUpdate, kRecreate };
const char* StrategyName(Strategy strategy);

struct ProbeOptions {
  bool enabled = true;
  sim::Duration initial_delay = sim::Duration::Zero();
  sim::Duration period = sim::Duration::Seconds(1);
  sim::Duration timeout = sim::Duration::Seconds(1);
  int failure_threshold = 3;
  int success_threshold = 1;  // readiness only; the others use 1 as Kubernetes requires
};

struct DeploymentOptions {
  std::string name = "storage-controller";
  std::string kubelet_name = "kubelet";
  int replicas = 1;
  ProbeOptions startup_probe{.period = sim::Duration::Seconds(1), .failure_threshold = 30};
  ProbeOptions readiness_probe{.period = sim::Duration::Seconds(1), .failure_threshold = 3};
  ProbeOptions liveness_probe{.period = sim::Duration::Seconds(10), .failure_threshold = 3};
  sim::Duration termination_grace = sim::Duration::Seconds(30);  // terminationGracePeriodSeconds
  sim::Duration sync_period = sim::Duration::Seconds(1);         // kubelet container checks
  sim::Duration restart_backoff_initial = sim::Duration::Seconds(10);
  sim::Duration restart_backoff_max = sim::Duration::Seconds(300);
  sim::Duration restart_backoff_reset = sim::Duration::Minutes(10);
  sim::Duration progress_deadline = sim::Duration::Seconds(600);     // progressDeadlineSeconds
  sim::Duration node_monitor_grace = sim::Duration::Seconds(40);     // node-monitor-grace-period
  sim::Duration pod_eviction_timeout = sim::Duration::Seconds(300);  // unreachable toleration
  sim::Duration rollout_timeout = sim::Duration::Minutes(30);        // the model's bound on a roll
};

enum class PodPhase : uint8_t { kEmpty, kRunning, kTerminating };
const char* PodPhaseName(PodPhase phase);

// One pod slot, for checkers and tests.
struct PodStatus {
  int slot = 0;
  std::string name;
  sim::ProcessId pid = -1;
  PodPhase phase = PodPhase::kEmpty;
  int64_t revision = 0;
  uint64_t incarnation = 0;  // the container incarnation Kubernetes started or adopted
  bool started = false;      // startup probe passed
  bool ready = false;
  bool restart_pending = false;
  int restarts = 0;  // container restarts of this pod, in total
};

enum class RolloutPhase : uint8_t { kNone, kProgressing, kComplete, kTimedOut, kSuperseded };
const char* RolloutPhaseName(RolloutPhase phase);

struct RolloutStatus {
  int64_t revision = 0;
  Strategy strategy = Strategy::kRollingUpdate;
  RolloutPhase phase = RolloutPhase::kNone;
  bool stalled = false;  // the progress deadline passed
  sim::Instant started_at;
  sim::Instant ended_at;  // meaningful once phase is not kProgressing
};

// Given to the pod-start hook just before a container's process starts.
struct PodStartInfo {
  int slot = 0;
  int64_t revision = 0;
  sim::Process* process = nullptr;
  const char* reason = "";  // "rollout", "replace" (after an eviction) or "restart"
};

// The defects this component can plant (SPEC §12 style): see DeployDefects() in defects.h.
inline constexpr char kDefectLivenessOff[] = "k8s-liveness-off";

class ControllerDeployment {
 public:
  // `slots` are processes the harness added and has not started. The kubelet process is added to
  // `simulation` here (named options.kubelet_name). Precondition: at least options.replicas
  // slots, every slot a distinct process. `service` and this object must outlive `simulation`.
  ControllerDeployment(sim::Simulation& simulation, api::ServiceEndpoints& service,
                       std::vector<sim::Process*> slots, DeploymentOptions options,
                       api::Defects defects = {});
  ControllerDeployment(const ControllerDeployment&) = delete;
  ControllerDeployment& operator=(const ControllerDeployment&) = delete;

  // Called before every container start (to set per-revision flags of the pod's main).
  void SetPodStartHook(std::function<void(const PodStartInfo&)> hook) { hook_ = std::move(hook); }

  // Starts the kubelet and creates the first revision's pods (a rollout with no old pods).
  // Precondition: called once, from the main stack or a harness fiber.
  void Start();
  // A new revision is rolled out with `strategy`, starting now; supersedes a running rollout.
  // Precondition: Start was called; RollingUpdate needs replicas + 1 slots.
  void TriggerRollout(Strategy strategy);
  // TriggerRollout at true time `at` (now if `at` has passed), from a harness fiber.
  void ScheduleRollout(sim::Instant at, Strategy strategy);

  // Node loss and recovery of the node running `slot`'s pod (see the file comment). LoseNode's
  // precondition: the slot holds a Running pod; both are no-ops when already in that state.
  void LoseNode(int slot);
  void RecoverNode(int slot);

  // The latest rollout (revision 1 is the one Start made).
  const RolloutStatus& rollout_status() const { return rollout_; }
  std::vector<PodStatus> Snapshot() const;
  int ReadyCount() const;
  sim::Process& kubelet() { return *kubelet_; }
  const api::ServiceEndpoints& service() const { return service_; }

 private:
  enum class ProbeKind : uint8_t { kStartup, kReadiness, kLiveness };
  struct Slot {
    sim::Process* process = nullptr;
    PodPhase phase = PodPhase::kEmpty;
    int64_t revision = 0;
    uint64_t incarnation = 0;
    uint64_t epoch = 0;  // probe fibers of an older epoch end at their next wake
    bool started = false;
    bool ready = false;
    int startup_failures = 0;
    int readiness_failures = 0;
    int readiness_successes = 0;
    int liveness_failures = 0;
    bool killing = false;  // stopped by a failed probe; restarted once down
    const char* kill_reason = "";
    bool restart_pending = false;
    sim::Instant restart_due;
    sim::Instant container_started_at;
    int backoff_step = 0;  // restarts since the back-off last reset
    int restarts = 0;
    bool node_lost = false;  // readiness reports do not reach the API server
    bool evicted = false;    // deleted while its node was lost; the process may still run
    uint64_t loss_id = 0;    // bumped by LoseNode and RecoverNode; a stale timer does nothing
  };
  struct Counts {
    int running = 0;  // pods in kRunning, of any revision
    int old_running = 0;
    int new_running = 0;
    int new_ready = 0;
    int terminating = 0;
  };

  // --- kubelet (kubelet.cc) ---
  void KubeletMain(sim::Env& env);
  void SyncLoop(sim::Env& env, int slot);
  void SyncSlot(int slot);
  void SpawnProbers(int slot);
  void ProbeLoop(int slot, uint64_t epoch, ProbeKind kind);
  void ApplyProbe(int slot, ProbeKind kind, bool ok);
  void KillContainer(int slot, const char* reason);
  void StartContainer(int slot, const char* reason);
  void AdoptExternalRestart(int slot);
  void SetReady(int slot, bool ready);
  void ResetProbeState(Slot& slot);
  void EmitPod(std::string_view kind, int slot, std::vector<sim::TraceField> extra);

  // --- rollout (controller_deployment.cc) ---
  void RunRollout(uint64_t rollout_id, Strategy strategy, int64_t revision);
  Counts Count(int64_t revision) const;
  bool RollingStep(int64_t revision, const Counts& counts);
  bool RecreateStep(int64_t revision, const Counts& counts);
  int FreeSlot() const;
  void StartPod(int slot, int64_t revision, const char* reason);
  void EvictPod(int slot);
  // ReplicaSet: outside a rollout, start pods of the current revision up to `replicas`.
  void RepairReplicas();
  void StopPod(int slot);

  sim::Simulation& simulation_;
  api::ServiceEndpoints& service_;
  DeploymentOptions options_;
  api::Defects defects_;
  std::vector<Slot> slots_;
  sim::Process* kubelet_ = nullptr;
  std::function<void(const PodStartInfo&)> hook_;
  // Set on every change a rollout may wait for (readiness, a pod gone or started, a trigger).
  sim::Event changed_;
  uint64_t rollout_id_ = 0;
  int64_t revision_ = 0;
  int last_started_slot_ = -1;
  bool started_ = false;
  RolloutStatus rollout_;
};

}  // namespace storsim::deploy
