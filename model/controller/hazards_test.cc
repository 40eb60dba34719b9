// The code-reading hazards of SPEC.md §3.3 and §12 that are upstream's default behaviour: a
// stepped-down instance's heartbeat loop detaches shards it does not know, and its drain task
// still writes the node policy to the DB. Also: the same seed gives the same trace.
#include <gtest/gtest.h>

#include "model/controller/controller_test_util.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

bool Ready(ControllerInstance& instance) {
  ControllerSnapshot snapshot = instance.controller->Snapshot();
  return snapshot.startup_complete && snapshot.status == LeadershipStatus::kLeader &&
         snapshot.reconcilers_in_flight == 0;
}

// A leader A, stepped down by B; B creates tenant "fresh". Returns the node it is attached on.
api::NodeId HandOverAndCreate(Harness& harness, ControllerInstance*& a, ControllerInstance*& b,
                              ControllerOptions options) {
  a = &harness.AddController("ctl-a", options);
  a->process->Start();
  EXPECT_TRUE(harness.RunUntil([&] { return Ready(*a); }, Duration::Seconds(30)));
  b = &harness.AddController("ctl-b", options);
  b->process->Start();
  EXPECT_TRUE(harness.RunUntil([&] { return Ready(*b); }, Duration::Seconds(30)));
  auto created = harness.Call(b->process->id(), api::kTenantCreate,
                              api::TenantCreateRequest{"fresh", 0, 0,
                                                       persistence::PlacementPolicy::Attached(0), {}});
  EXPECT_TRUE(created.ok());
  EXPECT_EQ(created->shards.size(), 1u);
  return created->shards.empty() || !created->shards[0].attached ? 0 : *created->shards[0].attached;
}

class StaleHeartbeatTest : public ::testing::TestWithParam<bool> {};

TEST_P(StaleHeartbeatTest, SteppedDownInstanceDetachesUnknownShardOnActivation) {
  const bool stop_heartbeats = GetParam();
  Harness harness;
  FakePageserver& ps1 = harness.AddPageserver(1);
  FakePageserver& ps2 = harness.AddPageserver(2);
  harness.AddControlPlane();
  ControllerOptions options;
  options.stop_heartbeats_on_step_down = stop_heartbeats;
  ControllerInstance* a = nullptr;
  ControllerInstance* b = nullptr;
  const api::NodeId node = HandOverAndCreate(harness, a, b, options);
  ASSERT_NE(node, 0u);
  FakePageserver& holder = node == 1 ? ps1 : ps2;
  const api::TenantShardId fresh{"fresh", 0, 0};
  ASSERT_TRUE(holder.slots.count(fresh));
  // The stale instance loses the node for > 30 s, then sees it come back.
  harness.simulation().network().Partition(a->process->id(), holder.process->id());
  harness.simulation().RunFor(Duration::Seconds(45));
  harness.simulation().network().Heal(a->process->id(), holder.process->id());
  harness.simulation().RunFor(Duration::Seconds(15));
  const bool detached_by_stale = !harness.EventsOf(events::kDetachUnknown, a->process->id()).empty();
  EXPECT_EQ(detached_by_stale, !stop_heartbeats);
  EXPECT_EQ(holder.slots.count(fresh) == 0, !stop_heartbeats);
}

INSTANTIATE_TEST_SUITE_P(UpstreamAndFixed, StaleHeartbeatTest, ::testing::Bool());

TEST(HazardTest, SteppedDownDrainStillWritesPolicy) {
  Harness harness;
  FakePageserver& ps2 = harness.AddPageserver(2);
  harness.AddPageserver(1);
  harness.AddControlPlane();
  ASSERT_TRUE(harness.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a = harness.AddController("ctl-a");
  a.process->Start();
  ASSERT_TRUE(harness.RunUntil([&] { return Ready(a); }, Duration::Seconds(30)));
  ps2.download_delay = Duration::Seconds(60);  // keep the drain's move in flight
  auto drain = harness.Call(a.process->id(), api::kNodeDrain, api::NodeRequest{1});
  ASSERT_TRUE(drain.ok());
  ASSERT_EQ(drain->status, api::Http::kAccepted);
  harness.simulation().RunFor(Duration::Seconds(1));
  ASSERT_TRUE(harness.Call(a.process->id(), api::kStepDown, api::StepDownRequest{"peer"}).ok());
  const sim::Instant stepped_down = harness.simulation().Now();
  harness.simulation().RunFor(Duration::Seconds(20));
  // After its step-down response, A still wrote the node's policy (S3 should flag this).
  bool wrote_after = false;
  for (const sim::TraceEvent& event : harness.EventsOf(events::kDbWrite, a.process->id())) {
    if (event.at > stepped_down && event.Str("op") == "update_node_scheduling_policy") {
      wrote_after = true;
    }
  }
  EXPECT_TRUE(wrote_after);
  EXPECT_EQ(harness.tables().nodes().at(1).scheduling_policy, NodeSchedulingPolicy::kPauseForRestart);
}

uint64_t RunDrainScenario(uint64_t seed) {
  Harness harness(seed);
  harness.AddPageserver(1);
  harness.AddPageserver(2);
  harness.AddControlPlane();
  for (const char* tenant : {"a", "b", "c"}) {
    SIM_CHECK(harness.tables().InsertTenantShards({ShardRow(tenant, 1, 1)}).ok());
  }
  ControllerInstance& a = harness.AddController("ctl-a");
  a.process->Start();
  harness.simulation().RunFor(Duration::Seconds(5));
  SIM_CHECK(harness.Call(a.process->id(), api::kNodeDrain, api::NodeRequest{1}).ok());
  harness.simulation().RunFor(Duration::Seconds(60));
  return harness.simulation().trace().hash();
}

TEST(HazardTest, SameSeedSameTrace) {
  EXPECT_EQ(RunDrainScenario(7), RunDrainScenario(7));
}

}  // namespace
}  // namespace storsim::controller::testing
