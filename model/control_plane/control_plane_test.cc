// The control plane with a real compute (compute_ctl) and fake storage: notify-attach answered
// 2xx only after the compute applied the spec; 423 persists without applying; injected 429 /
// 503 / 404 / slow answers; a concurrent notification is locked and the newest spec wins; the
// push and pull race; GetSpec 404 makes a detached compute exit; restarts rebuild from disk.
#include "model/control_plane/control_plane.h"

#include <gtest/gtest.h>

#include "model/compute/compute_ctl.h"
#include "model/compute/compute_test_fakes.h"
#include "model/compute/events.h"
#include "model/control_plane/events.h"

namespace storsim::control_plane {
namespace {

using api::ComputeStatus;
using api::Http;
using compute::testing::EventsOf;
using sim::Duration;

api::NotifyAttachRequest Placement(api::NodeId node, const std::string& tenant = "t1") {
  api::NotifyAttachRequest request;
  request.tenant_id = tenant;
  request.shards = {{node, 0}};
  return request;
}

class ControlPlaneHarness {
 public:
  explicit ControlPlaneHarness(bool lakebase = false) {
    cplane = std::make_unique<ControlPlane>(options);
    cplane_process =
        &world.simulation.AddProcess("cplane", [this](sim::Env& env) { cplane->Run(env); });
    compute_options = world.ComputeOptionsFor("t1", cplane_process->id());
    compute_options.lakebase_mode = lakebase;
  }

  // Builds the compute and registers tenant t1 with it.
  void Build() {
    compute = std::make_unique<compute::ComputeCtl>(compute_options, api::Defects());
    compute_process = &world.AddCompute("compute-t1", *compute);
    cplane->AddTenant("t1", compute_process->id());
  }
  void Start() {
    world.StartStorage();
    cplane_process->Start();
    compute_process->Start();
    world.simulation.RunFor(Duration::Seconds(1));
  }

  // Sends a notification from a driver ("the controller"); the answer lands in *answer (-1 while
  // pending, 0 on a transport error).
  std::shared_ptr<int> NotifyAsync(api::NotifyAttachRequest request,
                                   Duration timeout = Duration::Seconds(30)) {
    auto answer = std::make_shared<int>(-1);
    const sim::ProcessId to = cplane_process->id();
    world.Spawn([to, request, timeout, answer](sim::Env& env) {
      auto result = env.rpc().Call(to, api::kNotifyAttach, request, timeout);
      *answer = result.ok() ? static_cast<int>(result->status) : 0;
    });
    return answer;
  }
  int Notify(api::NotifyAttachRequest request, Duration run_for = Duration::Seconds(12)) {
    auto answer = NotifyAsync(std::move(request));
    world.simulation.RunFor(run_for);
    return *answer;
  }
  std::optional<api::ComputeSpec> GetSpec(const std::string& tenant = "t1") {
    auto spec = std::make_shared<std::optional<api::ComputeSpec>>();
    const sim::ProcessId to = cplane_process->id();
    world.Drive(
        [to, tenant, spec](sim::Env& env) {
          auto result =
              env.rpc().Call(to, api::kGetSpec, api::GetSpecRequest{tenant}, Duration::Seconds(5));
          if (result.ok()) *spec = result->spec;
        },
        Duration::Seconds(1));
    return *spec;
  }
  int RefreshCompute() {
    auto answer = std::make_shared<int>(-1);
    const sim::ProcessId to = compute_process->id();
    world.Spawn([to, answer](sim::Env& env) {
      auto result = env.rpc().Call(to, api::kRefreshConfiguration,
                                   api::RefreshConfigurationRequest{}, Duration::Seconds(3));
      *answer = result.ok() ? static_cast<int>(result->status) : 0;
    });
    world.simulation.RunFor(Duration::Millis(100));
    return *answer;
  }
  TenantRecord Record(const std::string& tenant = "t1") const {
    return cplane->Snapshot().tenants.at(tenant).record;
  }
  std::optional<api::ComputeSpec> ComputeSpec() const { return compute->Snapshot().spec; }

  compute::testing::TestWorld world;
  ControlPlaneOptions options;
  std::unique_ptr<ControlPlane> cplane;
  sim::Process* cplane_process = nullptr;
  compute::ComputeOptions compute_options;
  std::unique_ptr<compute::ComputeCtl> compute;
  sim::Process* compute_process = nullptr;
};

api::NodeId NodeOf(const std::optional<api::ComputeSpec>& spec) {
  return spec && spec->shards.size() == 1 ? spec->shards[0].node_id : 0;
}

TEST(ControlPlaneTest, NotifyAttachIsAnsweredOnlyAfterTheComputeAppliedTheSpec) {
  ControlPlaneHarness harness;
  harness.compute_options.postgres_start_duration = Duration::Seconds(3);
  harness.compute_options.reload_duration = Duration::Seconds(2);
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.compute->Snapshot().status, ComputeStatus::kEmpty);  // nothing stored yet
  auto answer = harness.NotifyAsync(Placement(1));
  harness.world.simulation.RunFor(Duration::Millis(2500));
  EXPECT_EQ(*answer, -1);  // Postgres is still starting
  harness.world.simulation.RunFor(Duration::Seconds(2));
  ASSERT_EQ(*answer, 200);
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 1u);
  ASSERT_EQ(harness.Notify(Placement(2)), 200);
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
  EXPECT_EQ(harness.ComputeSpec()->version, 2u);
  // Every 200 comes after the compute's reconfiguration to that version.
  const auto& events = harness.world.sink.events();
  int answered_ok = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].kind != std::string_view(events::kNotifyAnswered)) continue;
    ASSERT_EQ(events[i].Int("status"), 200);
    ++answered_ok;
    bool reconfigured_before = false;
    for (size_t j = 0; j < i; ++j) {
      if (events[j].kind == std::string_view(compute::events::kReconfigured) &&
          events[j].Int("version") == events[i].Int("spec_version")) {
        reconfigured_before = true;
      }
    }
    EXPECT_TRUE(reconfigured_before) << events[i].ToString();
    EXPECT_EQ(events[i].Str("outcome"), "applied");
  }
  EXPECT_EQ(answered_ok, 2);
  auto received = EventsOf(harness.world.sink, events::kNotifyReceived);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].Str("tenant"), "t1");
  EXPECT_EQ(received[1].Str("shards"), "0@2");
  EXPECT_EQ(received[1].Int("seq"), 2);
  const TenantRecord record = harness.Record();
  EXPECT_EQ(record.applied_version, 2u);
  EXPECT_EQ(record.last_applied, Placement(2));
  EXPECT_EQ(record.last_applied_seq, 2u);
  EXPECT_EQ(EventsOf(harness.world.sink, events::kSpecChanged).size(), 2u);
}

TEST(ControlPlaneTest, LockedPersistsTheSpecButDoesNotApplyItUntilUnlocked) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.cplane->SetNotifyFaults(NotifyFaults{.status = Http::kLocked});
  EXPECT_EQ(harness.Notify(Placement(2), Duration::Seconds(5)), 423);
  TenantRecord record = harness.Record();
  ASSERT_TRUE(record.spec.has_value());
  EXPECT_EQ(record.spec->version, 2u);
  EXPECT_EQ(record.applied_version, 1u);
  EXPECT_TRUE(record.apply_later);
  EXPECT_EQ(record.last_applied, Placement(1));
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 1u);  // not applied
  EXPECT_EQ(NodeOf(harness.GetSpec()), 2u);      // but persisted: a pull sees it
  harness.cplane->SetNotifyFaults(NotifyFaults{});
  harness.world.simulation.RunFor(Duration::Seconds(3));
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
  record = harness.Record();
  EXPECT_EQ(record.applied_version, 2u);
  EXPECT_FALSE(record.apply_later);
  EXPECT_EQ(record.last_applied, Placement(2));
}

TEST(ControlPlaneTest, InjectedErrorsAreAnsweredAndStoreNothing) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  for (Http status : {Http::kTooManyRequests, Http::kServiceUnavailable, Http::kNotFound}) {
    harness.cplane->SetNotifyFaults(NotifyFaults{.status = status});
    EXPECT_EQ(harness.Notify(Placement(2), Duration::Seconds(1)), static_cast<int>(status));
    EXPECT_EQ(harness.Record().spec->version, 1u);
  }
  EXPECT_EQ(harness.Record().received_seq, 4u);
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 1u);
  auto answered = EventsOf(harness.world.sink, events::kNotifyAnswered);
  ASSERT_EQ(answered.size(), 4u);
  EXPECT_EQ(answered[1].Str("outcome"), "fault");
  // A per-tenant fault overrides the global one; odds below 100 % let some through.
  harness.cplane->SetNotifyFaults(NotifyFaults{});
  harness.cplane->SetTenantNotifyFaults(
      "t1", NotifyFaults{.status = Http::kServiceUnavailable, .percent = 50});
  int ok = 0;
  int unavailable = 0;
  for (int i = 0; i < 20; ++i) {
    const int code = harness.Notify(Placement(i % 2 == 0 ? 2 : 1), Duration::Seconds(2));
    ok += code == 200;
    unavailable += code == 503;
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(unavailable, 0);
  EXPECT_EQ(ok + unavailable, 20);
}

TEST(ControlPlaneTest, SlowAnswerOutlivesTheCallersTimeoutButStillApplies) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.cplane->SetNotifyFaults(
      NotifyFaults{.delay_min = Duration::Seconds(12), .delay_max = Duration::Seconds(12)});
  auto answer = harness.NotifyAsync(Placement(2), Duration::Seconds(10));
  harness.world.simulation.RunFor(Duration::Seconds(11));
  EXPECT_EQ(*answer, 0);  // the controller's 10 s timeout
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 1u);
  harness.world.simulation.RunFor(Duration::Seconds(3));
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
  auto answered = EventsOf(harness.world.sink, events::kNotifyAnswered);
  ASSERT_EQ(answered.size(), 2u);
  EXPECT_EQ(answered[1].Int("status"), 200);
  EXPECT_GE(answered[1].Int("elapsed_ms"), 12'000);
}

TEST(ControlPlaneTest, UnknownTenantAnswers404UntilItIsCreated) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  EXPECT_EQ(harness.Notify(Placement(1, "t2"), Duration::Seconds(1)), 404);
  auto answered = EventsOf(harness.world.sink, events::kNotifyAnswered);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].Str("outcome"), "unknown-tenant");
  harness.cplane->AddTenant("t2", std::nullopt);  // created, no compute yet
  EXPECT_EQ(harness.Notify(Placement(1, "t2"), Duration::Seconds(1)), 200);
  auto applied = EventsOf(harness.world.sink, events::kSpecApplied);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].Str("via"), "no-compute");
  EXPECT_EQ(NodeOf(harness.GetSpec("t2")), 1u);
}

TEST(ControlPlaneTest, ShardedPlacementBecomesAShardedSpec) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  api::NotifyAttachRequest request;
  request.tenant_id = "t1";
  request.stripe_size = 8;
  request.shards = {{2, 1}, {1, 0}};  // any order on the wire
  ASSERT_EQ(harness.Notify(request), 200);
  const auto spec = harness.ComputeSpec();
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->shard_count, 2);
  EXPECT_EQ(spec->stripe_size, 8u);
  EXPECT_EQ(spec->shards, (std::vector<api::ShardLocation>{{1, 0}, {2, 1}}));
  auto changed = EventsOf(harness.world.sink, events::kSpecChanged);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].Str("shards"), "0@1,1@2");
  EXPECT_EQ(changed[0].Int("shard_count"), 2);
  // The same placement again changes nothing but is still pushed and answered 200.
  ASSERT_EQ(harness.Notify(request), 200);
  EXPECT_EQ(EventsOf(harness.world.sink, events::kSpecChanged).size(), 1u);
  EXPECT_EQ(harness.Record().spec->version, 1u);
  EXPECT_EQ(harness.Record().last_applied_seq, 2u);
}

TEST(ControlPlaneTest, MalformedPlacementAnswers400) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  api::NotifyAttachRequest request = Placement(1);
  request.shards.push_back({2, 1});  // two shards without a stripe size
  EXPECT_EQ(harness.Notify(request, Duration::Seconds(1)), 400);
  request.stripe_size = 8;
  request.shards[1].shard_number = 0;  // duplicate shard number
  EXPECT_EQ(harness.Notify(request, Duration::Seconds(1)), 400);
  EXPECT_FALSE(harness.Record().spec.has_value());
}

TEST(ControlPlaneTest, ConcurrentNotificationIsLockedAndTheNewestSpecWins) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.cplane->SetNotifyFaults(
      NotifyFaults{.delay_min = Duration::Seconds(3), .delay_max = Duration::Seconds(3)});
  auto first = harness.NotifyAsync(Placement(2));
  harness.world.simulation.RunFor(Duration::Seconds(1));
  auto second = harness.NotifyAsync(Placement(1));
  harness.world.simulation.RunFor(Duration::Seconds(1));
  EXPECT_EQ(*second, 423);  // the first one is still being handled
  EXPECT_EQ(*first, -1);
  harness.world.simulation.RunFor(Duration::Seconds(5));
  EXPECT_EQ(*first, 200);
  // The push sends the newest stored spec: the compute ends on node 1, version 3.
  ASSERT_TRUE(harness.ComputeSpec().has_value());
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 1u);
  EXPECT_EQ(harness.ComputeSpec()->version, 3u);
  const TenantRecord record = harness.Record();
  EXPECT_EQ(record.applied_version, 3u);
  EXPECT_EQ(record.last_applied_seq, 3u);
  EXPECT_FALSE(record.apply_later);
}

TEST(ControlPlaneTest, PushRacingARefreshEndsWithTheNewestSpecApplied) {
  ControlPlaneHarness harness(/*lakebase=*/true);
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  // The pull is slow and answers what was stored when it was asked (node 1).
  harness.cplane->SetGetSpecFault(std::nullopt, Duration::Seconds(2));
  ASSERT_EQ(harness.RefreshCompute(), 200);
  ASSERT_EQ(harness.compute->Snapshot().status, ComputeStatus::kRefreshConfiguration);
  auto answer = harness.NotifyAsync(Placement(2));
  harness.world.simulation.RunFor(Duration::Seconds(12));
  EXPECT_EQ(*answer, 200);
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
  EXPECT_EQ(harness.ComputeSpec()->version, 2u);
  EXPECT_EQ(harness.compute->Snapshot().status, ComputeStatus::kRunning);
  bool saw_412 = false;
  for (const sim::TraceEvent& push : EventsOf(harness.world.sink, events::kPush)) {
    saw_412 = saw_412 || push.Int("status") == 412;
  }
  EXPECT_TRUE(saw_412);
  // The refresh fetched the old spec (same conninfo) and did not reload.
  bool same_spec = false;
  for (const sim::TraceEvent& status : EventsOf(harness.world.sink, compute::events::kStatus)) {
    same_spec = same_spec || status.Str("cause") == "same-spec";
  }
  EXPECT_TRUE(same_spec);
}

TEST(ControlPlaneTest, DetachedComputeGets404AndExits) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.cplane->DetachCompute("t1");
  EXPECT_FALSE(harness.GetSpec().has_value());
  ASSERT_EQ(harness.RefreshCompute(), 200);
  harness.world.simulation.RunFor(Duration::Seconds(1));
  EXPECT_FALSE(harness.compute_process->up());
  ASSERT_EQ(EventsOf(harness.world.sink, compute::events::kExit).size(), 1u);
}

TEST(ControlPlaneTest, DownComputeCountsAsAppliedAndPullsTheSpecWhenItStarts) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.compute_process->Crash();
  EXPECT_EQ(harness.Notify(Placement(2), Duration::Seconds(1)), 200);
  auto applied = EventsOf(harness.world.sink, events::kSpecApplied);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].Str("via"), "compute-down");
  harness.compute_process->Start();
  harness.world.simulation.RunFor(Duration::Seconds(2));
  EXPECT_EQ(harness.compute->Snapshot().status, ComputeStatus::kRunning);
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
}

TEST(ControlPlaneTest, RestartRebuildsEveryRecordFromDisk) {
  ControlPlaneHarness harness;
  harness.Build();
  harness.Start();
  ASSERT_EQ(harness.Notify(Placement(1)), 200);
  harness.cplane->SetNotifyFaults(NotifyFaults{.status = Http::kLocked});
  ASSERT_EQ(harness.Notify(Placement(2), Duration::Seconds(1)), 423);
  const TenantRecord before = harness.Record();
  harness.cplane_process->Crash();
  harness.cplane_process->Start();
  harness.world.simulation.RunFor(Duration::Seconds(1));
  EXPECT_EQ(harness.Record(), before);
  EXPECT_EQ(harness.cplane->Snapshot().incarnation, 2u);
  EXPECT_EQ(NodeOf(harness.GetSpec()), 2u);
  // Unlocked after the restart, the applier still owes the push.
  harness.cplane->SetNotifyFaults(NotifyFaults{});
  harness.world.simulation.RunFor(Duration::Seconds(3));
  EXPECT_EQ(NodeOf(harness.ComputeSpec()), 2u);
}

}  // namespace
}  // namespace storsim::control_plane
