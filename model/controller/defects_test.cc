// Each switchable controller defect (defects.h) changes behaviour: every test runs a scenario
// with the defect off (upstream's fixed behaviour) and on, and checks the difference.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "model/controller/compute_hook.h"
#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

const api::TenantShardId kShard{"t1", 0, 0};

class DefectTest : public ::testing::TestWithParam<bool> {
 protected:
  bool defect() const { return GetParam(); }
  api::Defects DefectsIf(const char* name) const {
    return defect() ? api::Defects({name}) : api::Defects();
  }
  ControllerInstance& Start(api::Defects defects, PersistenceFactory persistence = nullptr) {
    ControllerInstance& instance =
        harness_.AddController("ctl-a", {}, std::move(defects), std::move(persistence));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = instance.controller->Snapshot();
          return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
        },
        Duration::Seconds(30)));
    return instance;
  }
  void MigrateAsync(ControllerInstance& instance, api::NodeId node) {
    const sim::ProcessId to = instance.process->id();
    harness_.Async([to, node](sim::Env& env) {
      (void)env.rpc().Call(to, api::kTenantShardMigrate, api::TenantShardMigrateRequest{kShard, node},
                           Duration::Seconds(60));
    });
  }
  // Sets t1's placement policy through the API and waits for the answer.
  void SetPolicy(ControllerInstance& instance, persistence::PlacementPolicy placement) {
    bool answered = false;
    const sim::ProcessId to = instance.process->id();
    harness_.Async([to, placement, &answered](sim::Env& env) {
      (void)env.rpc().Call(to, api::kTenantPolicy, api::TenantPolicyRequest{"t1", placement},
                           Duration::Seconds(60));
      answered = true;
    });
    EXPECT_TRUE(harness_.RunUntil([&] { return answered; }, Duration::Seconds(90)));
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& line : harness_.log()) std::cerr << line << "\n";
    for (const sim::TraceEvent& event : harness_.events()) {
      if (event.kind.substr(0, 4) == "ctl.") std::cerr << event.ToString() << "\n";
    }
  }
  bool SlotIs(FakePageserver& pageserver, api::LocationMode mode) {
    return pageserver.slots.count(kShard) && pageserver.slots.at(kShard).mode == mode;
  }
  Harness harness_;
};

// #4: migrations before the step-down request.
TEST_P(DefectTest, MigrationsBeforeStepDown) {
  harness_.AddPageserver(1);
  Start({});
  ControllerInstance& b = harness_.AddController("ctl-b", {}, DefectsIf(kDefectMigrationsBeforeStepDown));
  b.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(10));
  auto migrations = harness_.EventsOf(events::kMigrations, b.process->id());
  auto sends = harness_.EventsOf(events::kStepDownSend, b.process->id());
  ASSERT_EQ(migrations.size(), 1u);
  ASSERT_FALSE(sends.empty());
  EXPECT_EQ(migrations[0].sequence < sends[0].sequence, defect());
}

// #1 (one shared task): a retried step-down answers before in-flight reconcilers finished.
// Reconcilers are cancelled by step-down, so the slow one is a migration whose LSN wait ignores
// cancellation (defect #12 on in both arms) until the destination catches up.
TEST_P(DefectTest, StepDownNotShared) {
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  api::Defects defects = DefectsIf(kDefectStepDownNotShared);
  defects.Enable(kDefectLsnWaitIgnoresCancel);
  ControllerInstance& a = Start(defects);
  ps2.lsn = 50;
  MigrateAsync(a, 2);
  ASSERT_TRUE(harness_.RunUntil([&] { return SlotIs(ps2, api::LocationMode::kAttachedMulti); },
                                Duration::Seconds(30)));
  ASSERT_EQ(a.controller->Snapshot().reconcilers_in_flight, 1);
  const sim::ProcessId to = a.process->id();
  for (int i = 0; i < 2; ++i) {
    harness_.Async([to](sim::Env& env) {
      (void)env.rpc().Call(to, api::kStepDown, api::StepDownRequest{"peer"}, Duration::Seconds(30));
    });
    harness_.simulation().RunFor(Duration::Millis(200));
  }
  harness_.simulation().RunFor(Duration::Seconds(1));
  // Fixed: nobody is answered while the reconciler runs. Defect: the retry is.
  EXPECT_EQ(harness_.EventsOf(events::kStepDownServed, a.process->id()).size(), defect() ? 1u : 0u);
  ps2.lsn = 100;  // caught up: the migration ends, the shared task answers
  harness_.simulation().RunFor(Duration::Seconds(5));
  EXPECT_EQ(harness_.EventsOf(events::kStepDownServed, a.process->id()).size(), 2u);
}

// #1 (no exit on slow step-down): the old leader exits when reconcilers take > 10 s.
TEST_P(DefectTest, StepDownExitsWhenSlow) {
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  api::Defects defects = DefectsIf(kDefectStepDownExitsWhenSlow);
  defects.Enable(kDefectLsnWaitIgnoresCancel);
  ControllerInstance& a = Start(defects);
  ps2.lsn = 50;
  MigrateAsync(a, 2);
  ASSERT_TRUE(harness_.RunUntil([&] { return SlotIs(ps2, api::LocationMode::kAttachedMulti); },
                                Duration::Seconds(30)));
  const sim::ProcessId to = a.process->id();
  harness_.Async([to](sim::Env& env) {
    (void)env.rpc().Call(to, api::kStepDown, api::StepDownRequest{"peer"}, Duration::Seconds(60));
  });
  harness_.simulation().RunFor(Duration::Seconds(15));
  EXPECT_EQ(a.process->up(), !defect());
  ps2.lsn = 100;
  harness_.simulation().RunFor(Duration::Seconds(5));
  EXPECT_EQ(harness_.EventsOf(events::kStepDownServed, a.process->id()).size(), defect() ? 0u : 1u);
}

// #7: after a refresh shows the attached location is right, the compute is still notified.
TEST_P(DefectTest, SkipNotifyAfterRefresh) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.process->Crash();
  ControllerInstance& a = Start(DefectsIf(kDefectSkipNotifyAfterRefresh));
  ps1.process->Start();
  ASSERT_TRUE(harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false}).ok());
  ps1.slots[kShard] = Attached(2);
  harness_.simulation().RunFor(Duration::Seconds(40));
  EXPECT_EQ(cplane.received.size(), defect() ? 0u : 1u);
}

// #17: node activation writes listed configs into observed state instead of marking unknown.
TEST_P(DefectTest, ActivationEditsObservedInPlace) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.process->Crash();
  ControllerInstance& a = Start(DefectsIf(kDefectActivationEditsObservedInPlace));
  ps1.process->Start();
  ASSERT_TRUE(harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false}).ok());
  ps1.slots[kShard] = Attached(2);
  harness_.simulation().RunFor(Duration::Seconds(40));
  const bool refreshed = std::any_of(harness_.log().begin(), harness_.log().end(),
                                     [](const std::string& line) { return line == "ps1 get t1"; });
  EXPECT_EQ(refreshed, !defect());
}

// #8: a failed notification stays pending and is retried by the background reconcile, even
// though the reconcile in between failed on the secondary's node (down, then offline).
TEST_P(DefectTest, PendingNotifyDroppedOnFailure) {
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ControllerInstance& a = Start(DefectsIf(kDefectPendingNotifyDroppedOnFailure));
  cplane.script = {api::Http::kBadRequest};  // the first notification fails (fatal)
  ps2.process->Crash();  // the secondary's node: calls fail, then it goes Offline
  ASSERT_TRUE(harness_.Call(a.process->id(), api::kTenantCreate,
                            api::TenantCreateRequest{"t1", 0, 0, persistence::PlacementPolicy::Attached(1), {}})
                  .ok());
  harness_.simulation().RunFor(Duration::Seconds(90));
  EXPECT_EQ(cplane.applied.count("t1"), defect() ? 0u : 1u);
  EXPECT_EQ(a.controller->Snapshot().shards.at(kShard).pending_compute_notification, false);
}

// #11: the live-migration notify loop gives up when the origin dies, and the migration finishes.
TEST_P(DefectTest, NotifyIgnoresOriginDeath) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a = Start(DefectsIf(kDefectNotifyIgnoresOriginDeath));
  harness_.simulation().RunFor(Duration::Seconds(5));
  for (int i = 0; i < 1000; ++i) cplane.script.push_back(api::Http::kLocked);
  MigrateAsync(a, 2);
  ASSERT_TRUE(harness_.RunUntil([&] { return SlotIs(ps2, api::LocationMode::kAttachedMulti); },
                                Duration::Seconds(30)));
  ps1.process->Crash();
  harness_.simulation().RunFor(Duration::Seconds(60));
  EXPECT_EQ(SlotIs(ps2, api::LocationMode::kAttachedSingle), !defect());
}

// #12: a migration stuck waiting for LSNs is superseded by a newer intent (a migration to a
// third node: the intent must differ from what the controller observed for a reconcile to spawn).
TEST_P(DefectTest, LsnWaitIgnoresCancel) {
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakePageserver& ps3 = harness_.AddPageserver(3);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a = Start(DefectsIf(kDefectLsnWaitIgnoresCancel));
  ps2.lsn = 50;  // the destination never catches up with the origin's 100
  MigrateAsync(a, 2);
  ASSERT_TRUE(harness_.RunUntil([&] { return SlotIs(ps2, api::LocationMode::kAttachedMulti); },
                                Duration::Seconds(30)));
  MigrateAsync(a, 3);  // change of mind: somewhere else
  harness_.simulation().RunFor(Duration::Seconds(60));
  EXPECT_EQ(SlotIs(ps3, api::LocationMode::kAttachedSingle), !defect());
}

// #13: all availability updates of a round are applied before transitions are handled.
TEST_P(DefectTest, TransitionsPerNode) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddPageserver(3);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a = Start(DefectsIf(kDefectTransitionsPerNode));
  ASSERT_EQ(a.controller->Snapshot().shards.at(kShard).intent.secondary,
            std::vector<api::NodeId>{2});
  ps1.process->Crash();
  ps2.process->Crash();
  harness_.simulation().RunFor(Duration::Seconds(50));
  int64_t first_failover = -1;
  for (const sim::TraceEvent& event : harness_.EventsOf(events::kIntent, a.process->id())) {
    if (event.Str("reason") == "node_offline" && event.Int("attached") != -1) {
      first_failover = event.Int("attached");
      break;
    }
  }
  EXPECT_EQ(first_failover, defect() ? 2 : 3);
}

// #14: drain waits for migrations already leaving the node before reporting it drained.
TEST_P(DefectTest, DrainIgnoresOutgoingMigrations) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerInstance& a = Start(DefectsIf(kDefectDrainIgnoresOutgoing));
  ps2.download_delay = Duration::Seconds(20);
  MigrateAsync(a, 2);
  harness_.simulation().RunFor(Duration::Seconds(2));
  auto drain = harness_.Call(a.process->id(), api::kNodeDrain, api::NodeRequest{1});
  ASSERT_TRUE(drain.ok());
  ASSERT_EQ(drain->status, api::Http::kAccepted);
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        return a.controller->Snapshot().nodes.at(1).policy == NodeSchedulingPolicy::kPauseForRestart;
      },
      Duration::Seconds(60)));
  // At the moment the node is reported drained, is the shard still attached there?
  EXPECT_EQ(api::IsAttached(ps1.slots.at(kShard).mode), defect());
}

// #15: every queued location call is attempted even when an earlier one fails.
TEST_P(DefectTest, ReconcileAbortsOnFirstError) {
  harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakePageserver& ps3 = harness_.AddPageserver(3);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 1, persistence::PlacementPolicy::Attached(2))})
                  .ok());
  ps2.fail_puts = true;
  Start(DefectsIf(kDefectReconcileAbortsOnFirstError));
  harness_.simulation().RunFor(Duration::Seconds(30));
  EXPECT_EQ(SlotIs(ps3, api::LocationMode::kSecondary), !defect());
}

// Left by #15: a tenant detached while its attached node fails its calls keeps that location;
// attached again on the same node, the location looks right. Fixed: the reconcile increments
// the generation anyway, which names the node in generation_pageserver again.
TEST_P(DefectTest, AttachKeepsNullGenerationPageserver) {
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 2, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ControllerInstance& instance = Start(DefectsIf(kDefectAttachKeepsNullGenerationPageserver));
  ASSERT_TRUE(SlotIs(ps2, api::LocationMode::kAttachedSingle));
  ps2.fail_puts = true;  // the detach fails: the attachment stays
  SetPolicy(instance, persistence::PlacementPolicy::Detached());
  ASSERT_TRUE(SlotIs(ps2, api::LocationMode::kAttachedSingle));
  EXPECT_FALSE(harness_.tables().shards().at(kShard).generation_pageserver.has_value());
  ps2.fail_puts = false;
  SetPolicy(instance, persistence::PlacementPolicy::Attached(0));
  harness_.simulation().RunFor(Duration::Seconds(30));
  EXPECT_TRUE(SlotIs(ps2, api::LocationMode::kAttachedSingle));
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation_pageserver.has_value(), !defect());
}

// chaos 8737: the policy write to Detached commits but the controller sees a timeout (the
// database paused). Fixed: the controller counts the name as possibly cleared, and attaching
// again increments the generation, which names the node. Upstream keeps it NULL.
class CommitsThenTimesOut : public BorrowedPersistence {
 public:
  CommitsThenTimesOut(persistence::Persistence& target, const bool& armed)
      : BorrowedPersistence(target), armed_(armed) {}
  absl::Status UpdateTenantShard(const persistence::TenantFilter& filter,
                                 const persistence::TenantShardUpdate& update) override {
    absl::Status status = BorrowedPersistence::UpdateTenantShard(filter, update);
    return armed_ && status.ok() ? absl::DeadlineExceededError("timeout: postgres.txn") : status;
  }

 private:
  const bool& armed_;
};

TEST_P(DefectTest, PolicyWriteTimesOutAfterCommitting) {
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 2, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  bool times_out = false;
  persistence::ControllerTables& tables = harness_.tables();
  ControllerInstance& instance =
      Start(DefectsIf(kDefectAttachKeepsNullGenerationPageserver), [&tables, &times_out](sim::Env&) {
        return std::make_unique<CommitsThenTimesOut>(tables, times_out);
      });
  ASSERT_TRUE(SlotIs(ps2, api::LocationMode::kAttachedSingle));
  times_out = true;
  SetPolicy(instance, persistence::PlacementPolicy::Detached());
  EXPECT_FALSE(harness_.tables().shards().at(kShard).generation_pageserver.has_value());
  times_out = false;
  SetPolicy(instance, persistence::PlacementPolicy::Attached(0));
  harness_.simulation().RunFor(Duration::Seconds(30));
  EXPECT_TRUE(SlotIs(ps2, api::LocationMode::kAttachedSingle));
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation_pageserver.has_value(), !defect());
}

// #10: a detached shard leaves the compute hook's cache.
TEST_P(DefectTest, DetachKeepsComputeCache) {
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ControllerOptions options = harness_.DefaultOptions("ctl-a");
  api::Defects defects = DefectsIf(kDefectDetachKeepsComputeCache);
  bool done = false;
  sim::Process& process = harness_.simulation().AddProcess("hook", [&](sim::Env& env) {
    Context context(env, options, defects);
    ComputeHook hook(context);
    const api::TenantShardId s0{"s", 0, 2};
    const api::TenantShardId s1{"s", 1, 2};
    hook.Notify(s0, 8, std::nullopt, 1, CancelToken());
    hook.Notify(s1, 8, std::nullopt, 2, CancelToken());
    hook.HandleDetach(s1);
    hook.Notify(s0, 8, std::nullopt, 3, CancelToken());
    done = true;
    env.shutdown_requested().Wait();
  });
  process.Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return done; }, Duration::Seconds(60)));
  // Fixed: the tenant is incomplete after the detach, nothing more is sent. Defect: a request
  // still naming the detached shard's old node.
  ASSERT_EQ(cplane.received.size(), defect() ? 2u : 1u);
  if (defect()) {
    EXPECT_EQ(cplane.received[1].shards, (std::vector<api::ShardLocation>{{3, 0}, {2, 1}}));
  }
}

INSTANTIATE_TEST_SUITE_P(OffAndOn, DefectTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("DefectOn") : std::string("DefectOff");
                         });

TEST(ControllerDefectsTest, ListIsCompleteAndUnique) {
  std::vector<api::DefectInfo> defects = ControllerDefects();
  EXPECT_EQ(defects.size(), 39u);
  std::set<std::string> names;
  for (const api::DefectInfo& info : defects) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(info.component, "controller");
    EXPECT_FALSE(info.upstream.empty());
    EXPECT_FALSE(info.invariant.empty());
  }
}

}  // namespace
}  // namespace storsim::controller::testing
