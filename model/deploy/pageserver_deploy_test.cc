// PageserverDeploy against a scripted fake controller (the node policy FSM of SPEC §7.1 with
// timed drains and fills, re-attach, heartbeats) and fake pageservers that re-attach on start:
// the happy path in order, fills refused until re-attach, drain and fill timeouts with
// cancellation, retries against an unreachable controller, and the no-cancel defect.
#include "model/deploy/pageserver_deploy.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/controller_api.h"
#include "model/api/upcall_api.h"
#include "model/deploy/controller_deployment.h"
#include "model/deploy/defects.h"
#include "model/deploy/events.h"
#include "sim/env.h"
#include "sim/rpc.h"

namespace storsim::deploy {
namespace {

using api::Http;
using api::NodeSchedulingPolicy;
using sim::Duration;
using sim::Instant;

struct PingRequest {};
struct PingResponse {};
constexpr sim::RpcMethod<PingRequest, PingResponse> kPing{"test.ping"};

struct FakeNode {
  NodeSchedulingPolicy policy = NodeSchedulingPolicy::kActive;
  api::NodeAvailability availability = api::NodeAvailability::kActive;
  bool operation = false;   // a drain or fill of this node runs
  uint64_t token = 0;       // bumped to end the running operation's timer early
  sim::ProcessId pid = -1;  // the pageserver, for heartbeats
};

// The fake controller's table and script. Operations end after a fixed time unless cancelled.
struct FakeController {
  Duration drain_duration = Duration::Seconds(5);  // Duration::Max(): never finishes
  Duration fill_duration = Duration::Seconds(5);
  std::map<api::NodeId, FakeNode> nodes;
  int drains_accepted = 0;
  int fills_accepted = 0;
  int fills_refused = 0;
  int cancels = 0;

  bool AnyOperation() const {
    for (const auto& [id, node] : nodes) {
      if (node.operation) return true;
    }
    return false;
  }
};

void FakeControllerMain(sim::Env& env, FakeController& controller) {
  using Handler =
      std::function<api::StatusResponse(const api::NodeRequest&, const sim::CallContext&)>;
  // Starts a drain or fill: the policy changes now, the operation ends after `duration`.
  auto start = [&env, &controller](api::NodeId id, bool drain) {
    FakeNode& node = controller.nodes.at(id);
    node.policy = drain ? NodeSchedulingPolicy::kDraining : NodeSchedulingPolicy::kFilling;
    node.operation = true;
    const uint64_t token = ++node.token;
    const Duration duration = drain ? controller.drain_duration : controller.fill_duration;
    env.Spawn("operation", [&env, &controller, id, drain, token, duration] {
      if (duration == Duration::Max()) return;
      env.Sleep(duration);
      FakeNode& node = controller.nodes.at(id);
      if (node.token != token || !node.operation) return;
      node.operation = false;
      node.policy = drain ? NodeSchedulingPolicy::kPauseForRestart : NodeSchedulingPolicy::kActive;
    });
  };
  auto begin = [&controller, start](const api::NodeRequest& request, bool drain) {
    auto it = controller.nodes.find(request.node_id);
    if (it == controller.nodes.end()) return api::StatusResponse{Http::kNotFound};
    FakeNode& node = it->second;
    const NodeSchedulingPolicy running =
        drain ? NodeSchedulingPolicy::kDraining : NodeSchedulingPolicy::kFilling;
    if (node.availability != api::NodeAvailability::kActive) {
      if (!drain) ++controller.fills_refused;
      return api::StatusResponse{Http::kServiceUnavailable};
    }
    if (node.operation && node.policy == running) return api::StatusResponse{Http::kConflict};
    if (controller.AnyOperation() || node.policy != NodeSchedulingPolicy::kActive) {
      if (!drain) ++controller.fills_refused;
      return api::StatusResponse{Http::kPreconditionFailed};
    }
    start(request.node_id, drain);
    ++(drain ? controller.drains_accepted : controller.fills_accepted);
    return api::StatusResponse{Http::kAccepted};
  };
  auto cancel = [&controller](const api::NodeRequest& request, bool drain) {
    auto it = controller.nodes.find(request.node_id);
    if (it == controller.nodes.end()) return api::StatusResponse{Http::kNotFound};
    FakeNode& node = it->second;
    const NodeSchedulingPolicy running =
        drain ? NodeSchedulingPolicy::kDraining : NodeSchedulingPolicy::kFilling;
    if (!node.operation || node.policy != running)
      return api::StatusResponse{Http::kPreconditionFailed};
    node.operation = false;
    ++node.token;
    node.policy = NodeSchedulingPolicy::kActive;
    ++controller.cancels;
    return api::StatusResponse{Http::kOk};
  };
  env.rpc().Serve(api::kNodeDrain,
                  Handler([begin](const api::NodeRequest& r, const sim::CallContext&) {
                    return begin(r, true);
                  }));
  env.rpc().Serve(api::kNodeFill,
                  Handler([begin](const api::NodeRequest& r, const sim::CallContext&) {
                    return begin(r, false);
                  }));
  env.rpc().Serve(api::kNodeCancelDrain,
                  Handler([cancel](const api::NodeRequest& r, const sim::CallContext&) {
                    return cancel(r, true);
                  }));
  env.rpc().Serve(api::kNodeCancelFill,
                  Handler([cancel](const api::NodeRequest& r, const sim::CallContext&) {
                    return cancel(r, false);
                  }));
  env.rpc().Serve(
      api::kNodeStatus,
      std::function<api::NodeStatusResponse(
          const api::NodeRequest&, const sim::CallContext&)>([&controller](
                                                                 const api::NodeRequest& request,
                                                                 const sim::CallContext&) {
        auto it = controller.nodes.find(request.node_id);
        if (it == controller.nodes.end()) return api::NodeStatusResponse{Http::kNotFound};
        return api::NodeStatusResponse{Http::kOk, it->second.policy, it->second.availability, 0};
      }));
  // Re-attach (SPEC §2): Draining/PauseForRestart/Filling become Active, running operations end.
  env.rpc().Serve(
      api::kReAttach,
      std::function<api::ReAttachResponse(const api::ReAttachRequest&, const sim::CallContext&)>(
          [&controller](const api::ReAttachRequest& request, const sim::CallContext&) {
            FakeNode& node = controller.nodes.at(request.node_id);
            if (node.policy != NodeSchedulingPolicy::kPause) {
              node.policy = NodeSchedulingPolicy::kActive;
            }
            node.operation = false;
            ++node.token;
            node.availability = api::NodeAvailability::kActive;
            return api::ReAttachResponse{};
          }));
  // Heartbeats: a node that does not answer is Offline at once (upstream waits 30 s; the tests
  // only need the fill to be refused while the pageserver is down).
  for (int round = 0; round < 100'000 && !env.shutdown_requested().is_set(); ++round) {
    for (auto& [id, node] : controller.nodes) {
      const bool alive = env.rpc().Call(node.pid, kPing, PingRequest{}, Duration::Seconds(1)).ok();
      if (!alive) node.availability = api::NodeAvailability::kOffline;
    }
    env.Sleep(Duration::Seconds(1));
  }
}

// A pageserver that answers heartbeats at once and re-attaches after `reattach_delay`.
void FakePageserverMain(sim::Env& env, api::NodeId node_id, sim::ProcessId controller,
                        Duration reattach_delay, Duration stop_delay) {
  env.rpc().Serve(kPing,
                  std::function<PingResponse(const PingRequest&, const sim::CallContext&)>(
                      [](const PingRequest&, const sim::CallContext&) { return PingResponse{}; }));
  env.Sleep(reattach_delay);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto response = env.rpc().Call(controller, api::kReAttach, api::ReAttachRequest{node_id},
                                   Duration::Seconds(1));
    if (response.ok() && response->status == Http::kOk) break;
    env.Sleep(Duration::Seconds(1));
  }
  env.shutdown_requested().Wait();
  env.Sleep(stop_delay);  // graceful shutdown
}

Instant At(int64_t seconds) { return Instant::Zero() + Duration::Seconds(seconds); }

class PageserverDeployTest : public ::testing::Test {
 protected:
  void Build(int nodes, PageserverDeployOptions options = {}, api::Defects defects = {},
             bool controller_ready = true) {
    simulation_ = std::make_unique<sim::Simulation>(sim::SimulationOptions{.seed = 5});
    simulation_->trace().AddObserver(&sink_);
    controller_process_ = &simulation_->AddProcess(
        "controller-0", [this](sim::Env& env) { FakeControllerMain(env, controller_); });
    std::vector<PageserverTarget> targets;
    for (int i = 1; i <= nodes; ++i) {
      const api::NodeId id = static_cast<api::NodeId>(i);
      sim::Process& process =
          simulation_->AddProcess("pageserver-" + std::to_string(i), [this, id](sim::Env& env) {
            FakePageserverMain(env, id, controller_process_->id(), reattach_delay_, stop_delay_);
          });
      controller_.nodes[id].pid = process.id();
      targets.push_back({id, &process});
      pageservers_.push_back(&process);
    }
    service_ = std::make_unique<api::ServiceEndpoints>("storage-controller");
    if (controller_ready) service_->SetReady(controller_process_->id(), true);
    deploy_ = std::make_unique<PageserverDeploy>(*simulation_, *service_, targets, options,
                                                 std::move(defects));
    controller_process_->Start();
    for (sim::Process* process : pageservers_) process->Start();
  }

  std::vector<sim::TraceEvent> Events(std::string_view kind, int64_t node = -1) const {
    std::vector<sim::TraceEvent> found;
    for (const sim::TraceEvent& event : sink_.events()) {
      if (event.kind == kind && (node < 0 || event.Int("node_id", -1) == node)) {
        found.push_back(event);
      }
    }
    return found;
  }
  std::optional<sim::TraceEvent> First(std::string_view kind, int64_t node,
                                       std::string_view phase = "") const {
    for (const sim::TraceEvent& event : Events(kind, node)) {
      if (phase.empty() || event.Str("phase") == phase) return event;
    }
    return std::nullopt;
  }

  sim::MemoryTraceSink sink_;
  FakeController controller_;
  Duration reattach_delay_ = Duration::Seconds(3);
  Duration stop_delay_ = Duration::Millis(300);
  sim::Process* controller_process_ = nullptr;
  std::vector<sim::Process*> pageservers_;
  std::unique_ptr<api::ServiceEndpoints> service_;
  std::unique_ptr<PageserverDeploy> deploy_;
  std::unique_ptr<sim::Simulation> simulation_;  // declared last: destroyed first
};

TEST_F(PageserverDeployTest, DrainsRestartsAndFillsEveryPageserverInOrder) {
  Build(3);
  deploy_->ScheduleDeploy(At(5));
  simulation_->RunUntil(At(300));
  ASSERT_EQ(deploy_->status().passes_completed, 1);
  ASSERT_EQ(Events(events::kPassEnd).size(), 1u);
  EXPECT_EQ(Events(events::kPassEnd)[0].Int("drained"), 3);
  EXPECT_EQ(Events(events::kPassEnd)[0].Int("filled"), 3);
  Instant previous_end = Instant::Zero();
  for (int64_t node = 1; node <= 3; ++node) {
    auto node_start = First(events::kNodeStart, node);
    auto drain_end = First(events::kDrainEnd, node);
    auto stop = First(events::kRestart, node, "stop");
    auto down = First(events::kRestart, node, "down");
    auto start = First(events::kRestart, node, "start");
    auto fill_end = First(events::kFillEnd, node);
    auto node_end = First(events::kNodeEnd, node);
    ASSERT_TRUE(node_start && drain_end && stop && down && start && fill_end && node_end);
    EXPECT_GE(node_start->at, previous_end) << "one pageserver at a time, in order";
    EXPECT_EQ(drain_end->Str("outcome"), "paused_for_restart");
    EXPECT_GE(drain_end->Int("elapsed_ns"), Duration::Seconds(5).nanos());
    EXPECT_LE(drain_end->at, stop->at) << "restart only after the drain finished";
    EXPECT_LT(stop->at, down->at);
    EXPECT_LE(down->at, start->at);
    EXPECT_LT(start->at, fill_end->at);
    EXPECT_EQ(fill_end->Str("outcome"), "active");
    EXPECT_EQ(node_end->Int("restarted"), 1);
    previous_end = node_end->at;
    EXPECT_EQ(pageservers_[static_cast<size_t>(node - 1)]->incarnation(), 2u);
    EXPECT_EQ(controller_.nodes.at(static_cast<api::NodeId>(node)).policy,
              NodeSchedulingPolicy::kActive);
  }
  // The fill is refused until the restarted pageserver re-attached (3 s after its start): the
  // retries are the synchronisation.
  EXPECT_GE(controller_.fills_refused, 3);
  EXPECT_EQ(controller_.fills_accepted, 3);
  EXPECT_EQ(controller_.drains_accepted, 3);
  EXPECT_EQ(controller_.cancels, 0);
  EXPECT_FALSE(deploy_->status().running);
  for (const NodeDeployResult& result : deploy_->status().last_pass) {
    EXPECT_EQ(result.drain, "paused_for_restart");
    EXPECT_EQ(result.fill, "active");
    EXPECT_TRUE(result.drain_cancel.empty() && result.fill_cancel.empty());
  }
}

TEST_F(PageserverDeployTest, DrainTimeoutCancelsTheDrainAndStillRestarts) {
  PageserverDeployOptions options;
  options.drain_timeout = Duration::Seconds(30);
  Build(1, options);
  controller_.drain_duration = Duration::Max();
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  simulation_->RunUntil(At(200));
  auto drain_end = First(events::kDrainEnd, 1);
  ASSERT_TRUE(drain_end);
  EXPECT_EQ(drain_end->Str("outcome"), "timeout");
  EXPECT_GE(drain_end->Int("elapsed_ns"), Duration::Seconds(30).nanos());
  EXPECT_LE(drain_end->Int("elapsed_ns"), Duration::Seconds(32).nanos());
  auto cancel = First(events::kCancel, 1);
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->Str("op"), "drain");
  EXPECT_EQ(cancel->Str("outcome"), "cancelled");
  EXPECT_EQ(controller_.cancels, 1);
  EXPECT_TRUE(First(events::kRestart, 1, "start").has_value()) << "RFC 033: restart anyway";
  EXPECT_EQ(deploy_->status().last_pass.at(0).fill, "active");
  EXPECT_EQ(controller_.nodes.at(1).policy, NodeSchedulingPolicy::kActive);
}

TEST_F(PageserverDeployTest, FillTimeoutCancelsTheFillAndMovesOn) {
  PageserverDeployOptions options;
  options.fill_timeout = Duration::Seconds(30);
  Build(2, options);
  controller_.fill_duration = Duration::Max();
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  simulation_->RunUntil(At(300));
  ASSERT_EQ(deploy_->status().passes_completed, 1);
  for (int64_t node = 1; node <= 2; ++node) {
    auto fill_end = First(events::kFillEnd, node);
    ASSERT_TRUE(fill_end);
    EXPECT_EQ(fill_end->Str("outcome"), "timeout");
    auto cancel = First(events::kCancel, node);
    ASSERT_TRUE(cancel);
    EXPECT_EQ(cancel->Str("op"), "fill");
    EXPECT_EQ(cancel->Str("outcome"), "cancelled");
    EXPECT_EQ(controller_.nodes.at(static_cast<api::NodeId>(node)).policy,
              NodeSchedulingPolicy::kActive)
        << "L4: no node is left Filling";
  }
  EXPECT_LT(First(events::kCancel, 1)->sequence, First(events::kNodeStart, 2)->sequence);
}

TEST_F(PageserverDeployTest, NoCancelDefectLeavesTheNodeFilling) {
  PageserverDeployOptions options;
  options.fill_timeout = Duration::Seconds(30);
  Build(1, options, api::Defects({kDefectNoCancelOnTimeout}));
  controller_.fill_duration = Duration::Max();
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  simulation_->RunUntil(At(200));
  ASSERT_EQ(deploy_->status().passes_completed, 1);
  EXPECT_EQ(First(events::kCancel, 1)->Str("outcome"), "skipped");
  EXPECT_EQ(controller_.cancels, 0);
  EXPECT_EQ(controller_.nodes.at(1).policy, NodeSchedulingPolicy::kFilling);
}

TEST_F(PageserverDeployTest, UnreachableControllerIsRetriedWithinBounds) {
  PageserverDeployOptions options;
  options.drain_timeout = Duration::Seconds(20);
  options.fill_timeout = Duration::Seconds(20);
  Build(2, options, {}, /*controller_ready=*/false);
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  // Per node: 20 s of drain retries, the cancel's 10 attempts (~31 s of back-off), the restart,
  // 20 s of fill retries.
  simulation_->RunUntil(At(170));
  ASSERT_EQ(deploy_->status().passes_completed, 1);
  EXPECT_LE(Events(events::kPassEnd).at(0).at, At(160));
  const std::vector<sim::TraceEvent> requests = Events(events::kRequest);
  EXPECT_LE(requests.size(), 2u * (10 + 10 + 10));
  for (const sim::TraceEvent& request : requests) EXPECT_EQ(request.Str("result"), "no_endpoint");
  for (const NodeDeployResult& result : deploy_->status().last_pass) {
    EXPECT_EQ(result.drain, "refused");
    EXPECT_EQ(result.drain_cancel, "failed");
    EXPECT_TRUE(result.restarted);
    EXPECT_EQ(result.fill, "refused");
  }
  // Drain retries back off: 0.5 s, 1 s, 2 s, 4 s, then 5 s.
  std::vector<sim::TraceEvent> drains;
  for (const sim::TraceEvent& request : requests) {
    if (request.Str("op") == "drain" && request.Int("node_id") == 1) drains.push_back(request);
  }
  ASSERT_GE(drains.size(), 6u);
  EXPECT_EQ(drains[1].at - drains[0].at, Duration::Millis(500));
  EXPECT_EQ(drains[4].at - drains[3].at, Duration::Seconds(4));
  EXPECT_EQ(drains[5].at - drains[4].at, Duration::Seconds(5));
}

TEST_F(PageserverDeployTest, ControllerThatComesBackLateStillGetsTheDrain) {
  Build(1, {}, {}, /*controller_ready=*/false);
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  simulation_->RunUntil(At(15));
  service_->SetReady(controller_process_->id(), true);  // the controller became ready
  simulation_->RunUntil(At(200));
  ASSERT_EQ(deploy_->status().passes_completed, 1);
  EXPECT_EQ(deploy_->status().last_pass.at(0).drain, "paused_for_restart");
  EXPECT_EQ(deploy_->status().last_pass.at(0).fill, "active");
  EXPECT_GE(Events(events::kRequest, 1).size(), 5u);
}

TEST_F(PageserverDeployTest, DeployerCrashRunsThePassAgain) {
  Build(2);
  simulation_->RunUntil(At(5));  // every pageserver has re-attached
  deploy_->Deploy();
  simulation_->RunUntil(At(8));  // in the first node's drain
  deploy_->process().Crash();
  deploy_->process().Start();  // the CI job is retried
  simulation_->RunUntil(At(300));
  EXPECT_EQ(deploy_->status().passes_completed, 1);
  EXPECT_EQ(Events(events::kPassStart).size(), 2u);
  EXPECT_EQ(Events(events::kPassEnd).size(), 1u);
  // The second run found node 1 already Draining (409) or drained and carried on.
  EXPECT_EQ(deploy_->status().last_pass.at(0).drain, "paused_for_restart");
  EXPECT_EQ(deploy_->status().last_pass.at(1).fill, "active");
}

TEST_F(PageserverDeployTest, PageserverThatIgnoresTheStopIsKilledAfterTheGrace) {
  stop_delay_ = Duration::Seconds(60);
  Build(1);
  simulation_->RunUntil(At(5));
  deploy_->Deploy();
  simulation_->RunUntil(At(120));
  auto stop = First(events::kRestart, 1, "stop");
  auto down = First(events::kRestart, 1, "down");
  ASSERT_TRUE(stop && down);
  EXPECT_GE(down->at - stop->at, Duration::Seconds(10));
  EXPECT_LE(down->at - stop->at, Duration::Seconds(10) + Duration::Millis(200));
  EXPECT_EQ(deploy_->status().last_pass.at(0).fill, "active");
}

TEST_F(PageserverDeployTest, SameSeedGivesTheSameTrace) {
  uint64_t fingerprints[2] = {};
  for (uint64_t& fingerprint : fingerprints) {
    Build(2);
    deploy_->ScheduleDeploy(At(5));
    simulation_->RunUntil(At(200));
    fingerprint = simulation_->Fingerprint();
    simulation_.reset();  // the simulation goes first: its fibers may point at the deployer
    deploy_.reset();
    pageservers_.clear();
    controller_ = FakeController{};
  }
  EXPECT_EQ(fingerprints[0], fingerprints[1]);
}

TEST(DeployDefectsTest, ListsEachDefectOnceWithItsInvariant) {
  std::vector<api::DefectInfo> defects = DeployDefects();
  ASSERT_EQ(defects.size(), 2u);
  EXPECT_EQ(defects[0].name, kDefectLivenessOff);
  EXPECT_EQ(defects[1].name, kDefectNoCancelOnTimeout);
  for (const api::DefectInfo& defect : defects) {
    EXPECT_EQ(defect.component, "deploy");
    EXPECT_FALSE(defect.invariant.empty());
    EXPECT_FALSE(defect.summary.empty());
  }
}

}  // namespace
}  // namespace storsim::deploy
