// ControllerDeployment against scripted fake controller pods: rolling update order and the "never
// zero ready pods" property, the Recreate gap, liveness restarts, CrashLoopBackOff, Service
// endpoints following readiness, adoption of a restart done from outside, and determinism.
#include "model/deploy/controller_deployment.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/controller_api.h"
#include "model/deploy/defects.h"
#include "model/deploy/events.h"
#include "sim/env.h"
#include "sim/rpc.h"

namespace storsim::deploy {
namespace {

using sim::Duration;
using sim::Instant;

// What a fake pod answers; the test changes it while the run goes on.
struct PodScript {
  Duration ready_after = Duration::Seconds(3);  // /ready is 200 once the incarnation ran this long
  bool ready = true;                            // false: /ready is 503 whatever the age
  bool live = true;
  bool status = true;          // /status (the startup probe)
  bool exit_at_start = false;  // the container exits 100 ms after it starts (a crash loop)
  Duration stop_delay = Duration::Zero();  // graceful shutdown takes this long
  int starts = 0;
};

void FakePodMain(sim::Env& env, PodScript& script) {
  ++script.starts;
  if (script.exit_at_start) {
    env.Sleep(Duration::Millis(100));
    env.Exit();
  }
  const Instant started = env.Now();
  env.rpc().Serve(
      api::kProbe,
      std::function<api::StatusResponse(const api::ProbeRequest&, const sim::CallContext&)>(
          [&env, &script, started](const api::ProbeRequest& request, const sim::CallContext&) {
            bool ok = script.status;
            if (request.probe == api::Probe::kReady) {
              ok = script.ready && env.Now() - started >= script.ready_after;
            } else if (request.probe == api::Probe::kLive) {
              ok = script.live;
            }
            return api::StatusResponse{ok ? api::Http::kOk : api::Http::kServiceUnavailable};
          }));
  env.shutdown_requested().Wait();
  env.Sleep(script.stop_delay);
}

Instant At(int64_t seconds) { return Instant::Zero() + Duration::Seconds(seconds); }

class ControllerDeploymentTest : public ::testing::Test {
 protected:
  void Build(DeploymentOptions options = {}, api::Defects defects = {}, int slots = 2) {
    simulation_ = std::make_unique<sim::Simulation>(sim::SimulationOptions{.seed = 11});
    simulation_->trace().AddObserver(&sink_);
    std::vector<sim::Process*> processes;
    for (int i = 0; i < slots; ++i) {
      processes.push_back(&simulation_->AddProcess(
          "controller-" + std::to_string(i),
          [this, i](sim::Env& env) { FakePodMain(env, scripts_[static_cast<size_t>(i)]); }));
    }
    service_ = std::make_unique<api::ServiceEndpoints>("storage-controller");
    deployment_ = std::make_unique<ControllerDeployment>(*simulation_, *service_, processes,
                                                         options, std::move(defects));
  }
  sim::Process& Pod(int slot) {
    return *simulation_->FindProcess("controller-" + std::to_string(slot));
  }

  std::vector<sim::TraceEvent> Events(std::string_view kind) const {
    std::vector<sim::TraceEvent> found;
    for (const sim::TraceEvent& event : sink_.events()) {
      if (event.kind == kind) found.push_back(event);
    }
    return found;
  }
  // The first event of `kind` whose integer `key` equals `value` (and `after` or later).
  std::optional<sim::TraceEvent> First(std::string_view kind, std::string_view key, int64_t value,
                                       Instant after = Instant::Zero()) const {
    for (const sim::TraceEvent& event : sink_.events()) {
      if (event.kind == kind && event.at >= after && event.Int(key, -1) == value) return event;
    }
    return std::nullopt;
  }

  sim::MemoryTraceSink sink_;
  std::array<PodScript, 3> scripts_;
  std::unique_ptr<api::ServiceEndpoints> service_;
  std::unique_ptr<ControllerDeployment> deployment_;
  std::unique_ptr<sim::Simulation> simulation_;  // declared last: destroyed first
};

TEST_F(ControllerDeploymentTest, StartCreatesTheFirstRevisionAndPublishesItOnceReady) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(2));
  EXPECT_TRUE(service_->ready().empty()) << "ready only after /ready answers 200 (3 s)";
  simulation_->RunUntil(At(10));
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  EXPECT_EQ(deployment_->rollout_status().revision, 1);
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);
  EXPECT_FALSE(Pod(1).up());
}

TEST_F(ControllerDeploymentTest, RollingUpdateStopsTheOldPodOnlyOnceTheNewOneIsReady) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  scripts_[1].ready_after = Duration::Seconds(5);
  deployment_->TriggerRollout(Strategy::kRollingUpdate);
  simulation_->RunUntil(At(70));

  auto start_new = First(events::kPodStart, "slot", 1);
  auto ready_new = First(events::kPodReady, "slot", 1);
  auto stop_old = First(events::kPodStop, "slot", 0);
  auto gone_old = First(events::kPodGone, "slot", 0);
  ASSERT_TRUE(start_new && ready_new && stop_old && gone_old);
  EXPECT_EQ(ready_new->Int("ready"), 1);
  EXPECT_GE(ready_new->at - start_new->at, Duration::Seconds(5));
  EXPECT_LE(ready_new->at, stop_old->at);
  EXPECT_LT(stop_old->at, gone_old->at);
  EXPECT_EQ(stop_old->Str("reason"), "rollout");
  // maxUnavailable 0: once the first pod was ready, the Service never had zero endpoints.
  std::vector<sim::TraceEvent> endpoint_changes = Events(events::kServiceEndpoints);
  ASSERT_GE(endpoint_changes.size(), 3u);
  for (size_t i = 1; i < endpoint_changes.size(); ++i) {
    EXPECT_GE(endpoint_changes[i].Int("count"), 1) << endpoint_changes[i].ToString();
  }
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(1).id()});
  EXPECT_FALSE(Pod(0).up());
  EXPECT_EQ(deployment_->rollout_status().revision, 2);
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);

  // The next revision goes back to the free slot, as a fresh pod (a new incarnation).
  deployment_->TriggerRollout(Strategy::kRollingUpdate);
  simulation_->RunUntil(At(120));
  auto start_third = First(events::kPodStart, "revision", 3);
  ASSERT_TRUE(start_third);
  EXPECT_EQ(start_third->Int("slot"), 0);
  EXPECT_EQ(start_third->Int("incarnation"), 2);
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);
}

TEST_F(ControllerDeploymentTest, RollingUpdateWaitsForeverForANewPodThatNeverGetsReady) {
  DeploymentOptions options;
  options.progress_deadline = Duration::Seconds(60);
  Build(options);
  deployment_->Start();
  simulation_->RunUntil(At(10));
  scripts_[1].ready = false;
  deployment_->TriggerRollout(Strategy::kRollingUpdate);
  simulation_->RunUntil(At(100));
  EXPECT_FALSE(First(events::kPodStop, "slot", 0).has_value()) << "old pod must keep serving";
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  EXPECT_EQ(Events(events::kRolloutStalled).size(), 1u);
  EXPECT_TRUE(deployment_->rollout_status().stalled);
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kProgressing);
  // Once the new pod answers, the roll finishes.
  scripts_[1].ready = true;
  simulation_->RunUntil(At(110));
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(1).id()});
}

TEST_F(ControllerDeploymentTest, RecreateStopsTheOldPodFirstAndLeavesAGap) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  scripts_[0].stop_delay = Duration::Seconds(2);
  scripts_[1].ready_after = Duration::Seconds(4);
  deployment_->TriggerRollout(Strategy::kRecreate);
  simulation_->RunUntil(At(60));

  auto stop_old = First(events::kPodStop, "slot", 0);
  auto gone_old = First(events::kPodGone, "slot", 0);
  auto start_new = First(events::kPodStart, "slot", 1);
  ASSERT_TRUE(stop_old && gone_old && start_new);
  EXPECT_LT(stop_old->at, gone_old->at);
  EXPECT_LE(gone_old->at, start_new->at);
  // The gap: from the old endpoint's removal to the new one's addition.
  auto empty = First(events::kServiceEndpoints, "count", 0);
  auto back = First(events::kServiceEndpoints, "count", 1, stop_old->at);
  ASSERT_TRUE(empty && back);
  const Duration gap = back->at - empty->at;
  EXPECT_GE(gap, Duration::Seconds(6)) << "stop delay 2 s + readiness 4 s";
  EXPECT_LE(gap, Duration::Seconds(9));
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);
  EXPECT_EQ(deployment_->rollout_status().strategy, Strategy::kRecreate);
}

TEST_F(ControllerDeploymentTest, FailingLivenessRestartsThePodInPlace) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(15));
  scripts_[0].live = false;
  simulation_->RunUntil(At(60));
  auto threshold = First(events::kProbeThreshold, "slot", 0);
  auto stop = First(events::kPodStop, "slot", 0);
  ASSERT_TRUE(threshold && stop);
  EXPECT_EQ(threshold->Str("probe"), "liveness");
  EXPECT_EQ(stop->Str("reason"), "liveness");
  // Three failures ten seconds apart: the first within a period of the change, the kill 20 s later.
  EXPECT_GE(stop->at - At(15), Duration::Seconds(20));
  EXPECT_LE(stop->at - At(15), Duration::Seconds(31));
  auto restart = First(events::kPodStart, "incarnation", 2);
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->Int("slot"), 0) << "a container restart keeps the pod's slot and address";
  EXPECT_EQ(restart->Str("reason"), "restart");
  scripts_[0].live = true;
  simulation_->RunUntil(At(200));
  EXPECT_EQ(Pod(0).incarnation(), 2u) << "a live pod is left alone";
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  EXPECT_FALSE(Pod(1).up());
}

TEST_F(ControllerDeploymentTest, LivenessOffDefectNeverRestartsAFailingPod) {
  Build({}, api::Defects({kDefectLivenessOff}));
  deployment_->Start();
  simulation_->RunUntil(At(15));
  scripts_[0].live = false;
  simulation_->RunUntil(At(200));
  EXPECT_FALSE(Events(events::kProbeThreshold).empty());
  EXPECT_TRUE(Events(events::kPodStop).empty());
  EXPECT_EQ(Pod(0).incarnation(), 1u);
}

TEST_F(ControllerDeploymentTest, ExitedContainerIsRestartedWithCrashLoopBackOff) {
  Build();
  scripts_[0].exit_at_start = true;
  deployment_->Start();
  simulation_->RunUntil(At(120));
  std::vector<sim::TraceEvent> restarts = Events(events::kPodRestart);
  ASSERT_GE(restarts.size(), 4u);
  const int64_t expected_backoff_seconds[] = {0, 10, 20, 40};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(restarts[i].Str("reason"), "exited");
    EXPECT_EQ(restarts[i].Int("backoff_ns"),
              Duration::Seconds(expected_backoff_seconds[i]).nanos());
  }
  // Starts at about 0, 1, 12, 33 and 74 s; the next would be after 150 s.
  EXPECT_EQ(scripts_[0].starts, 5);
  std::vector<sim::TraceEvent> starts = Events(events::kPodStart);
  ASSERT_EQ(starts.size(), 5u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_GE(starts[i + 1].at - starts[i].at, Duration::Seconds(expected_backoff_seconds[i]));
  }
  EXPECT_TRUE(service_->ready().empty());
}

TEST_F(ControllerDeploymentTest, ServiceEndpointsFollowReadiness) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  ASSERT_EQ(service_->ready().size(), 1u);
  scripts_[0].ready = false;
  simulation_->RunUntil(At(20));
  auto removed = First(events::kServiceEndpoints, "count", 0);
  ASSERT_TRUE(removed);
  // Three failed probes one second apart.
  EXPECT_GE(removed->at - At(10), Duration::Seconds(2));
  EXPECT_LE(removed->at - At(10), Duration::Seconds(4));
  EXPECT_TRUE(service_->ready().empty());
  scripts_[0].ready = true;
  simulation_->RunUntil(At(30));
  auto added = First(events::kServiceEndpoints, "count", 1, At(20));
  ASSERT_TRUE(added);
  EXPECT_LE(added->at - At(20), Duration::Seconds(2)) << "one success makes it ready again";
  EXPECT_EQ(Pod(0).incarnation(), 1u) << "readiness never restarts a pod";
}

TEST_F(ControllerDeploymentTest, RestartFromOutsideIsAdoptedAndReprobed) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  Pod(0).Restart();  // a fault: crash and start at once
  simulation_->RunUntil(At(11) + Duration::Millis(500));
  auto adopted = First(events::kPodRestart, "slot", 0);
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->Str("reason"), "external");
  EXPECT_TRUE(service_->ready().empty()) << "the new container has not answered /ready yet";
  simulation_->RunUntil(At(20));
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  EXPECT_EQ(Pod(0).incarnation(), 2u) << "k8s must not start it a second time";
}

TEST_F(ControllerDeploymentTest, FailingStartupProbeGatesReadinessAndKillsTheContainer) {
  Build();
  scripts_[0].status = false;
  scripts_[0].ready_after = Duration::Zero();
  deployment_->Start();
  simulation_->RunUntil(At(25));
  EXPECT_TRUE(service_->ready().empty()) << "readiness is not probed before startup passes";
  EXPECT_TRUE(Events(events::kPodStop).empty());
  simulation_->RunUntil(At(40));
  auto stop = First(events::kPodStop, "slot", 0);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->Str("reason"), "startup");
  EXPECT_GE(stop->at, At(29));  // 30 failures one second apart
  scripts_[0].status = true;
  simulation_->RunUntil(At(50));
  EXPECT_EQ(Pod(0).incarnation(), 2u);
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
}

TEST_F(ControllerDeploymentTest, NewerRolloutSupersedesOneThatIsStuck) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  scripts_[1].ready = false;
  deployment_->TriggerRollout(Strategy::kRollingUpdate);  // revision 2: never ready
  simulation_->RunUntil(At(30));
  scripts_[1].ready = true;
  deployment_->TriggerRollout(Strategy::kRollingUpdate);  // revision 3
  simulation_->RunUntil(At(90));
  std::vector<sim::TraceEvent> ends = Events(events::kRolloutEnd);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[1].Int("revision"), 2);
  EXPECT_EQ(ends[1].Str("outcome"), "superseded");
  EXPECT_EQ(ends[2].Int("revision"), 3);
  EXPECT_EQ(ends[2].Str("outcome"), "complete");
  // The unready revision-2 pod went first; revision 3 then took its slot; the revision-1 pod kept
  // serving until revision 3 was ready.
  auto stop_unready = First(events::kPodStop, "revision", 2);
  auto start_third = First(events::kPodStart, "revision", 3);
  auto stop_first = First(events::kPodStop, "revision", 1);
  ASSERT_TRUE(stop_unready && start_third && stop_first);
  EXPECT_EQ(stop_unready->Int("slot"), 1);
  EXPECT_LT(stop_unready->at, start_third->at);
  EXPECT_EQ(start_third->Int("slot"), 1);
  EXPECT_LT(start_third->at, stop_first->at);
  for (const sim::TraceEvent& change : Events(events::kServiceEndpoints)) {
    if (change.at > At(5)) {
      EXPECT_GE(change.Int("count"), 1) << change.ToString();
    }
  }
  EXPECT_EQ(deployment_->rollout_status().revision, 3);
  EXPECT_EQ(deployment_->rollout_status().phase, RolloutPhase::kComplete);
}

TEST_F(ControllerDeploymentTest, KubeletCrashStopsProbingUntilItIsBack) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  deployment_->kubelet().Crash();
  scripts_[0].ready = false;
  simulation_->RunUntil(At(30));
  EXPECT_EQ(service_->ready().size(), 1u) << "nobody probes: the endpoint goes stale";
  deployment_->kubelet().Start();
  simulation_->RunUntil(At(36));
  EXPECT_TRUE(service_->ready().empty());
  EXPECT_EQ(Pod(0).incarnation(), 1u);
}

TEST_F(ControllerDeploymentTest, LostNodePodIsEvictedAndReplacedWhileItsProcessRunsOn) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  deployment_->LoseNode(0);
  scripts_[0].ready = false;
  simulation_->RunUntil(At(45));
  EXPECT_EQ(service_->ready().size(), 1u) << "reports from a lost node do not reach the Service";
  simulation_->RunUntil(At(55));
  EXPECT_TRUE(service_->ready().empty()) << "not ready after the 40 s node grace";
  EXPECT_TRUE(Events(events::kPodEvicted).empty());
  simulation_->RunUntil(At(360));
  auto evicted = First(events::kPodEvicted, "slot", 0);
  auto replacement = First(events::kPodStart, "slot", 1);
  ASSERT_TRUE(evicted && replacement);
  EXPECT_GE(evicted->at - At(10), Duration::Seconds(340));
  EXPECT_EQ(replacement->Str("reason"), "replace");
  EXPECT_EQ(replacement->Int("revision"), 1);
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(1).id()});
  EXPECT_TRUE(Pod(0).up()) << "Kubernetes cannot stop a process it lost contact with";
  deployment_->RecoverNode(0);
  simulation_->RunUntil(At(370));
  auto stop = First(events::kPodStop, "slot", 0);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->Str("reason"), "evicted");
  EXPECT_FALSE(Pod(0).up());
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(1).id()});
}

TEST_F(ControllerDeploymentTest, NodeRecoveredBeforeEvictionKeepsItsPod) {
  Build();
  deployment_->Start();
  simulation_->RunUntil(At(10));
  deployment_->LoseNode(0);
  simulation_->RunUntil(At(60));
  EXPECT_TRUE(service_->ready().empty());
  deployment_->RecoverNode(0);
  simulation_->RunUntil(At(63));
  EXPECT_EQ(service_->ready(), std::vector<sim::ProcessId>{Pod(0).id()});
  simulation_->RunUntil(At(500));
  EXPECT_TRUE(Events(events::kPodEvicted).empty());
  EXPECT_FALSE(Pod(1).up());
}

TEST_F(ControllerDeploymentTest, SameSeedGivesTheSameTrace) {
  uint64_t fingerprints[2] = {};
  for (uint64_t& fingerprint : fingerprints) {
    Build();
    deployment_->Start();
    simulation_->RunUntil(At(10));
    deployment_->TriggerRollout(Strategy::kRollingUpdate);
    simulation_->RunUntil(At(60));
    fingerprint = simulation_->Fingerprint();
    simulation_.reset();  // the simulation goes first: its fibers may point at the deployment
    deployment_.reset();
  }
  EXPECT_EQ(fingerprints[0], fingerprints[1]);
}

}  // namespace
}  // namespace storsim::deploy
