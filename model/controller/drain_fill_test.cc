// Drain and fill (SPEC.md §7.1–7.2): preconditions and codes, drain moves attached shards that
// have secondaries and ends in PauseForRestart, cancel ends in Active, fill moves shards back.
#include <gtest/gtest.h>

#include <optional>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

class DrainFillTest : public ::testing::Test {
 protected:
  DrainFillTest() {
    ps1_ = &harness_.AddPageserver(1);
    ps2_ = &harness_.AddPageserver(2);
    harness_.AddControlPlane();
    // Three HA tenants attached on node 1 (secondaries on node 2) and one non-HA tenant.
    for (const char* tenant : {"ha1", "ha2", "ha3"}) {
      EXPECT_TRUE(harness_.tables().InsertTenantShards({ShardRow(tenant, 1, 1)}).ok());
    }
    EXPECT_TRUE(harness_.tables()
                    .InsertTenantShards({ShardRow("solo", 1, 1, persistence::PlacementPolicy::Attached(0))})
                    .ok());
    controller_ = &harness_.AddController("ctl-a");
    controller_->process->Start();
    EXPECT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = controller_->controller->Snapshot();
          return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
        },
        Duration::Seconds(30)));
  }
  api::Http Request(sim::RpcMethod<api::NodeRequest, api::StatusResponse> method, api::NodeId node) {
    auto reply = harness_.Call(controller_->process->id(), method, api::NodeRequest{node});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply->status : api::Http::kInternalError;
  }
  NodeSchedulingPolicy Policy(api::NodeId node) {
    return controller_->controller->Snapshot().nodes.at(node).policy;
  }
  size_t AttachedOn(api::NodeId node) {
    size_t count = 0;
    for (const auto& [id, shard] : controller_->controller->Snapshot().shards) {
      if (shard.intent.attached == node) ++count;
    }
    return count;
  }
  Harness harness_;
  FakePageserver* ps1_ = nullptr;
  FakePageserver* ps2_ = nullptr;
  ControllerInstance* controller_ = nullptr;
};

TEST_F(DrainFillTest, DrainPreconditions) {
  EXPECT_EQ(Request(api::kNodeDrain, 9), api::Http::kNotFound);
  EXPECT_EQ(Request(api::kNodeCancelDrain, 1), api::Http::kPreconditionFailed);
  ASSERT_TRUE(harness_.Call(controller_->process->id(), api::kNodeConfigure,
                            api::NodeConfigureRequest{1, NodeSchedulingPolicy::kPause})
                  .ok());
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kPreconditionFailed);  // Pause: 412
  ASSERT_TRUE(harness_.Call(controller_->process->id(), api::kNodeConfigure,
                            api::NodeConfigureRequest{1, NodeSchedulingPolicy::kActive})
                  .ok());
  ps2_->process->Crash();
  harness_.simulation().RunFor(Duration::Seconds(45));
  EXPECT_EQ(Request(api::kNodeDrain, 2), api::Http::kServiceUnavailable);  // unavailable
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kPreconditionFailed);  // nowhere to go
}

TEST_F(DrainFillTest, DrainMovesHaShardsAndEndsPausedForRestart) {
  ASSERT_EQ(AttachedOn(1), 4u);
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kAccepted);
  EXPECT_EQ(Policy(1), NodeSchedulingPolicy::kDraining);
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kPreconditionFailed);  // one op at a time
  ASSERT_TRUE(harness_.RunUntil([&] { return Policy(1) == NodeSchedulingPolicy::kPauseForRestart; },
                                Duration::Seconds(60)));
  EXPECT_EQ(AttachedOn(1), 1u);  // the non-HA tenant stays
  for (const char* tenant : {"ha1", "ha2", "ha3"}) {
    const api::TenantShardId shard{tenant, 0, 0};
    ASSERT_TRUE(ps2_->slots.count(shard));
    EXPECT_EQ(ps2_->slots.at(shard).mode, api::LocationMode::kAttachedSingle);
    EXPECT_EQ(ps1_->slots.at(shard).mode, api::LocationMode::kSecondary);
  }
  EXPECT_EQ(harness_.tables().nodes().at(1).scheduling_policy, NodeSchedulingPolicy::kPauseForRestart);
  auto ends = harness_.EventsOf(events::kOperation);
  ASSERT_FALSE(ends.empty());
  EXPECT_EQ(ends.back().Str("result"), "done");
}

TEST_F(DrainFillTest, CancelledDrainEndsActive) {
  ps2_->download_delay = Duration::Seconds(60);  // slow secondary warm-up keeps moves in flight
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kAccepted);
  harness_.simulation().RunFor(Duration::Seconds(1));
  EXPECT_EQ(Request(api::kNodeCancelFill, 1), api::Http::kPreconditionFailed);
  EXPECT_EQ(Request(api::kNodeCancelDrain, 1), api::Http::kOk);
  ASSERT_TRUE(harness_.RunUntil([&] { return !controller_->controller->Snapshot().operation; },
                                Duration::Seconds(10)));
  EXPECT_EQ(Policy(1), NodeSchedulingPolicy::kActive);
  EXPECT_EQ(harness_.tables().nodes().at(1).scheduling_policy, NodeSchedulingPolicy::kActive);
  EXPECT_EQ(harness_.EventsOf(events::kOperation).back().Str("result"), "cancelled");
}

TEST_F(DrainFillTest, FillAfterRestartMovesShardsBack) {
  EXPECT_EQ(Request(api::kNodeDrain, 1), api::Http::kAccepted);
  ASSERT_TRUE(harness_.RunUntil([&] { return Policy(1) == NodeSchedulingPolicy::kPauseForRestart; },
                                Duration::Seconds(60)));
  EXPECT_EQ(Request(api::kNodeFill, 1), api::Http::kPreconditionFailed);  // not Active yet
  // The pageserver restarts and re-attaches: policy back to Active, WarmingUp, then Active.
  auto reattach = harness_.Call(controller_->process->id(), api::kReAttach,
                                api::ReAttachRequest{1, {}, false});
  ASSERT_TRUE(reattach.ok());
  EXPECT_EQ(Policy(1), NodeSchedulingPolicy::kActive);
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        return controller_->controller->Snapshot().nodes.at(1).availability ==
               api::NodeAvailability::kActive;
      },
      Duration::Seconds(10)));
  const size_t before = AttachedOn(1);
  EXPECT_EQ(Request(api::kNodeFill, 1), api::Http::kAccepted);
  EXPECT_EQ(Policy(1), NodeSchedulingPolicy::kFilling);
  ASSERT_TRUE(harness_.RunUntil([&] { return !controller_->controller->Snapshot().operation; },
                                Duration::Seconds(60)));
  EXPECT_EQ(Policy(1), NodeSchedulingPolicy::kActive);
  EXPECT_GT(AttachedOn(1), before);
  EXPECT_EQ(harness_.EventsOf(events::kOperation).back().Str("result"), "done");
}

// L4 race: two drains of different nodes arrive together. Both pass the "no operation" check
// before either's DB write completes; the loser must not leave its node Draining with no drain
// running (it is refused 412 before writing anything).
TEST_F(DrainFillTest, ConcurrentDrainsLeaveNoOrphanDraining) {
  std::optional<api::Http> first;
  std::optional<api::Http> second;
  const sim::ProcessId controller = controller_->process->id();
  harness_.Async([&, controller](sim::Env& env) {
    auto reply = env.rpc().Call(controller, api::kNodeDrain, api::NodeRequest{1}, Duration::Seconds(60));
    first = reply.ok() ? reply->status : api::Http::kInternalError;
  });
  harness_.Async([&, controller](sim::Env& env) {
    auto reply = env.rpc().Call(controller, api::kNodeDrain, api::NodeRequest{2}, Duration::Seconds(60));
    second = reply.ok() ? reply->status : api::Http::kInternalError;
  });
  ASSERT_TRUE(harness_.RunUntil([&] { return first && second; }, Duration::Seconds(60)));
  // Exactly one is accepted, the other refused with 412 (one operation at a time).
  EXPECT_EQ((*first == api::Http::kAccepted) + (*second == api::Http::kAccepted), 1);
  EXPECT_EQ((*first == api::Http::kPreconditionFailed) + (*second == api::Http::kPreconditionFailed), 1);
  const api::NodeId loser = *first == api::Http::kAccepted ? 2 : 1;
  EXPECT_EQ(Policy(loser), NodeSchedulingPolicy::kActive);
  EXPECT_EQ(harness_.tables().nodes().at(loser).scheduling_policy, NodeSchedulingPolicy::kActive);
  ASSERT_TRUE(harness_.RunUntil([&] { return !controller_->controller->Snapshot().operation; },
                                Duration::Seconds(120)));
  // Once the drain ends no node is Draining (a Draining node with no drain is the L4 defect).
  for (const auto& [id, node] : controller_->controller->Snapshot().nodes) {
    EXPECT_NE(node.policy, NodeSchedulingPolicy::kDraining) << "node " << id;
  }
}

}  // namespace
}  // namespace storsim::controller::testing

namespace storsim::controller::testing {
namespace {

// SPEC §12's code-reading hazard: no drain or fill survives a controller restart, so a node
// persisted Draining would stay so forever. By default start-up puts it back to Active (DB and
// memory); the switch keeps the persisted policy with no task.
NodeSchedulingPolicy PolicyAfterRestartWithPersistedDraining(bool hazard) {
  Harness harness;
  harness.AddPageserver(1);
  harness.AddPageserver(2);
  harness.AddControlPlane();
  ControllerInstance& controller = harness.AddController(
      "ctl-a", {},
      hazard ? api::Defects({kDefectPersistedOperationWithoutTask}) : api::Defects());
  controller.process->Start();
  EXPECT_TRUE(harness.RunUntil(
      [&] {
        ControllerSnapshot snapshot = controller.controller->Snapshot();
        return snapshot.startup_complete && snapshot.nodes.count(1) != 0;
      },
      Duration::Seconds(30)));
  EXPECT_TRUE(harness.tables().UpdateNodeSchedulingPolicy(1, NodeSchedulingPolicy::kDraining).ok());
  controller.process->Crash();
  controller.process->Start();
  // The snapshot still shows the previous incarnation's start-up: give the new one time to load
  // the nodes again and finish (a restart re-runs the whole start-up sequence).
  (void)harness.RunUntil([] { return false; }, Duration::Seconds(20));
  EXPECT_TRUE(harness.RunUntil(
      [&] {
        ControllerSnapshot snapshot = controller.controller->Snapshot();
        return snapshot.startup_complete && snapshot.nodes.count(1) != 0;
      },
      Duration::Seconds(30)));
  NodeSchedulingPolicy memory = controller.controller->Snapshot().nodes.at(1).policy;
  auto rows = harness.tables().ListNodes();
  EXPECT_TRUE(rows.ok());
  for (const persistence::NodeRow& row : *rows) {
    if (row.node_id == 1) {
      EXPECT_EQ(row.scheduling_policy, memory);  // DB and memory agree
    }
  }
  return memory;
}

TEST(PersistedOperationTest, RestartPutsAPersistedDrainingNodeBackToActive) {
  EXPECT_EQ(PolicyAfterRestartWithPersistedDraining(false), NodeSchedulingPolicy::kActive);
}

TEST(PersistedOperationTest, TheHazardKeepsThePersistedDrainingWithNoTask) {
  EXPECT_EQ(PolicyAfterRestartWithPersistedDraining(true), NodeSchedulingPolicy::kDraining);
}

}  // namespace
}  // namespace storsim::controller::testing
