// Two races found by the default sweep, each with the state the controller must not lose:
//  - a reconciler that supersedes a running one must act on what that one did, not on the
//    snapshot taken before joining it (hazard `ctl-superseding-reconciler-stale-snapshot`, off by
//    default; sweep signatures S12 chaos 1194 and S10 chaos 2448);
//  - a re-attach forgets what was observed on the restarted node before (hazard
//    `ctl-re-attach-keeps-stale-observed`; sweep signature S4 pageserver-failover 1226);
//  - the start-up compute notifications announce the placements found at start-up, ordered
//    before any later placement, never an intent no reconciler has attached yet (model fix;
//    sweep signature S14 controller-roll 2430).
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

const api::TenantShardId kShard{"t1", 0, 0};

class RaceTest : public ::testing::Test {
 protected:
  ControllerInstance& Start(api::Defects defects) {
    ControllerInstance& instance = harness_.AddController("ctl-a", {}, std::move(defects));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = instance.controller->Snapshot();
          return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
        },
        Duration::Seconds(30)));
    return instance;
  }
  void MigrateAsync(ControllerInstance& instance, const api::TenantShardId& shard,
                    api::NodeId node) {
    const sim::ProcessId to = instance.process->id();
    harness_.Async([to, shard, node](sim::Env& env) {
      (void)env.rpc().Call(to, api::kTenantShardMigrate, api::TenantShardMigrateRequest{shard, node},
                           Duration::Seconds(60));
    });
  }
  static bool SlotIs(const FakePageserver& pageserver, const api::TenantShardId& shard,
                     api::LocationMode mode) {
    return pageserver.slots.count(shard) && pageserver.slots.at(shard).mode == mode;
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& line : harness_.log()) std::cerr << line << "\n";
    for (const sim::TraceEvent& event : harness_.events()) {
      if (event.kind.substr(0, 4) == "ctl.") std::cerr << event.ToString() << "\n";
    }
  }
  Harness harness_;
};

class StaleSnapshotTest : public RaceTest, public ::testing::WithParamInterface<bool> {};

// t1 on node 1 (secondary 2) migrates to 3; the reconciler then hangs detaching node 2. The
// operator moves t1 back to 1. The superseding reconciler must see that node 1 is Secondary and
// node 3 AttachedSingle at generation 2, and live-migrate 3 -> 1 at generation 3. On the stale
// snapshot (hazard on) node 1 still looks AttachedSingle at generation 1, so nothing is
// attached and node 3 — the only real attachment — is demoted to Secondary.
TEST_P(StaleSnapshotTest, SupersedingReconcilerSeesWhatTheJoinedOneDid) {
  const bool hazard = GetParam();
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakePageserver& ps3 = harness_.AddPageserver(3);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ps1.slots[kShard] = Attached(1);
  ControllerInstance& a =
      Start(hazard ? api::Defects({kDefectSupersedingReconcilerStaleSnapshot}) : api::Defects());
  ASSERT_TRUE(SlotIs(ps2, kShard, api::LocationMode::kSecondary));
  ps2.put_delay = Duration::Seconds(120);  // node 2 stalls: its detach hangs
  MigrateAsync(a, kShard, 3);
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        return SlotIs(ps3, kShard, api::LocationMode::kAttachedSingle) &&
               SlotIs(ps1, kShard, api::LocationMode::kSecondary);
      },
      Duration::Seconds(30)));
  harness_.simulation().RunFor(Duration::Seconds(1));
  ASSERT_EQ(a.controller->Snapshot().reconcilers_in_flight, 1);  // stuck on node 2
  MigrateAsync(a, kShard, 1);
  harness_.simulation().RunFor(Duration::Seconds(20));
  if (hazard) {
    EXPECT_TRUE(SlotIs(ps1, kShard, api::LocationMode::kSecondary));
    EXPECT_TRUE(SlotIs(ps3, kShard, api::LocationMode::kSecondary));
  } else {
    ASSERT_TRUE(SlotIs(ps1, kShard, api::LocationMode::kAttachedSingle));
    EXPECT_EQ(ps1.slots.at(kShard).generation, Generation(3));
    EXPECT_TRUE(SlotIs(ps3, kShard, api::LocationMode::kSecondary));
  }
}

INSTANTIATE_TEST_SUITE_P(FixedAndUpstream, StaleSnapshotTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("HazardOn") : std::string("HazardOff");
                         });

class ReAttachObservedTest : public RaceTest, public ::testing::WithParamInterface<bool> {};

// t1 is attached on node 1 with a warm secondary on node 2. Node 2 restarts and re-attaches:
// what the controller observed there before the restart is no longer known, so the entry
// becomes uncertain (and a reconcile re-establishes the secondary). With the hazard on the
// pre-restart entry stays, which is how a restarted node once attached was later chosen as a
// live-migration origin and re-attached at its old generation (sweep: pageserver-failover S4).
TEST_P(ReAttachObservedTest, ReAttachForgetsPreRestartObservedState) {
  const bool hazard = GetParam();
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a =
      Start(hazard ? api::Defects({kDefectReAttachKeepsStaleObserved}) : api::Defects());
  ASSERT_TRUE(SlotIs(ps2, kShard, api::LocationMode::kSecondary));
  ASSERT_TRUE(a.controller->Snapshot().shards.at(kShard).observed.locations.at(2).has_value());
  auto reattached =
      harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{2, {}, false});
  ASSERT_TRUE(reattached.ok());
  ASSERT_EQ(reattached->tenants.size(), 1u);
  EXPECT_EQ(reattached->tenants[0].mode, api::LocationMode::kSecondary);
  const ObservedState observed = a.controller->Snapshot().shards.at(kShard).observed;
  ASSERT_TRUE(observed.locations.count(2));
  EXPECT_EQ(observed.locations.at(2).has_value(), hazard);
}

INSTANTIATE_TEST_SUITE_P(FixedAndUpstream, ReAttachObservedTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("HazardOn") : std::string("HazardOff");
                         });

// Tenants a and b are stably attached on node 1 at start-up. The control plane answers the
// first start-up notification (tenant a) with 503 three times, so b's waits for seconds; in
// that window the operator moves b to node 2, whose migration stalls before its notification
// (node 2 never catches up). The start-up notification for b must still name node 1, where b
// is attached; naming node 2 would point computes at a node attached in AttachedMulti at best.
TEST_F(RaceTest, StartupNotificationNamesStartupPlacement) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  const api::TenantShardId a_shard{"a", 0, 0};
  const api::TenantShardId b_shard{"b", 0, 0};
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards(
                      {ShardRow("a", 1, 1, persistence::PlacementPolicy::Attached(0)),
                       ShardRow("b", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.slots[a_shard] = Attached(1);
  ps1.slots[b_shard] = Attached(1);
  ps2.lsn = 50;  // below node 1's 100: a migration to node 2 waits at §5.3 step 6
  cplane.script = {api::Http::kServiceUnavailable, api::Http::kServiceUnavailable,
                   api::Http::kServiceUnavailable};
  ControllerInstance& instance = harness_.AddController("ctl-a");
  instance.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return instance.controller->Snapshot().startup_complete; },
                                Duration::Seconds(30)));
  MigrateAsync(instance, b_shard, 2);
  ASSERT_TRUE(harness_.RunUntil([&] { return SlotIs(ps2, b_shard, api::LocationMode::kAttachedMulti); },
                                Duration::Seconds(30)));
  harness_.simulation().RunFor(Duration::Seconds(20));
  std::vector<api::NotifyAttachRequest> for_b;
  for (const api::NotifyAttachRequest& request : cplane.received) {
    if (request.tenant_id == "b") for_b.push_back(request);
  }
  ASSERT_EQ(for_b.size(), 1u);  // only the start-up one: the migration has not notified
  EXPECT_EQ(for_b[0].shards, (std::vector<api::ShardLocation>{{1, 0}}));
  EXPECT_TRUE(SlotIs(ps1, b_shard, api::LocationMode::kAttachedStale));
}

class StartupNotifyStepDownTest : public RaceTest, public ::testing::WithParamInterface<bool> {};

// Start-up notifications for tenants a and b are held up by 503s for a; the instance steps
// down meanwhile. By default it sends nothing more after serving the step-down (S3); with the
// hazard on (upstream's process-wide token) it still notifies b afterwards.
TEST_P(StartupNotifyStepDownTest, StepDownStopsStartupNotifications) {
  const bool hazard = GetParam();
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards(
                      {ShardRow("a", 1, 1, persistence::PlacementPolicy::Attached(0)),
                       ShardRow("b", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.slots[api::TenantShardId{"a", 0, 0}] = Attached(1);
  ps1.slots[api::TenantShardId{"b", 0, 0}] = Attached(1);
  cplane.script = {api::Http::kServiceUnavailable, api::Http::kServiceUnavailable,
                   api::Http::kServiceUnavailable, api::Http::kServiceUnavailable};
  ControllerInstance& instance = harness_.AddController(
      "ctl-a", {},
      hazard ? api::Defects({kDefectStartupNotifySurvivesStepDown}) : api::Defects());
  instance.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return instance.controller->Snapshot().startup_complete; },
                                Duration::Seconds(30)));
  ASSERT_TRUE(harness_.Call(instance.process->id(), api::kStepDown, api::StepDownRequest{"peer"})
                  .ok());
  const sim::Instant stepped_down = harness_.simulation().Now();
  harness_.simulation().RunFor(Duration::Seconds(30));
  int sends_after = 0;
  for (const sim::TraceEvent& event :
       harness_.EventsOf(events::kNotifySend, instance.process->id())) {
    if (event.at > stepped_down) ++sends_after;
  }
  if (hazard) {
    EXPECT_GT(sends_after, 0);
  } else {
    EXPECT_EQ(sends_after, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(FixedAndUpstream, StartupNotifyStepDownTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("HazardOn") : std::string("HazardOff");
                         });

}  // namespace
}  // namespace storsim::controller::testing
