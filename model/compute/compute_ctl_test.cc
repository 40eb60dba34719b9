// compute_ctl's state machine (SPEC §8.2): one test per transition of the table, the classic
// and lakebase configurator loops, and the configurator-exits-on-failed defect. The control
// plane is a scripted spec store (compute_test_fakes.h); the workload is off here.
#include "model/compute/compute_ctl.h"

#include <gtest/gtest.h>

#include "model/compute/compute_test_fakes.h"
#include "model/compute/events.h"

namespace storsim::compute {
namespace {

using api::ComputeStatus;
using sim::Duration;
using testing::ComputeHarness;
using testing::EventsOf;
using testing::MakeSpec;
using testing::StatusPath;

constexpr int kOk = 200;

api::ComputeSpec OnNode(api::NodeId node, uint64_t version) {
  return MakeSpec("t1", version, {{node, 0}});
}

// A running compute on pageserver 1 (spec v1) fetched at startup.
void StartRunning(ComputeHarness& harness) {
  harness.spec_store.spec = OnNode(1, 1);
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(2));
  ASSERT_EQ(harness.Status(), ComputeStatus::kRunning);
}

// The time of the first status event of `tenant` going `to` with `cause` at or after `from`.
sim::Instant StatusTime(const ComputeHarness& harness, const char* to, const char* cause,
                        sim::Instant from = sim::Instant::Zero()) {
  for (const sim::TraceEvent& event : EventsOf(harness.world.sink, events::kStatus)) {
    if (event.at >= from && event.Str("to") == to &&
        (cause == nullptr || event.Str("cause") == cause)) {
      return event.at;
    }
  }
  return sim::Instant::Max();
}

TEST(ComputeCtlTest, StartupWithSpecGoesInitThenRunning) {
  ComputeHarness harness;
  StartRunning(harness);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"), "Init>Running");
  const ComputeSnapshot snapshot = harness.Snapshot();
  ASSERT_TRUE(snapshot.spec.has_value());
  EXPECT_EQ(*snapshot.spec, OnNode(1, 1));
  EXPECT_TRUE(snapshot.postgres_running);
  auto applied = EventsOf(harness.world.sink, events::kReconfigured);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].Str("via"), "start");
  EXPECT_EQ(applied[0].Str("shards"), "0@1");
}

TEST(ComputeCtlTest, StartupWithoutSpecStaysEmptyAndConfigureStartsPostgres) {
  ComputeHarness harness;
  harness.spec_store.status = api::Http::kNotFound;
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(2));
  EXPECT_EQ(harness.Status(), ComputeStatus::kEmpty);
  EXPECT_FALSE(harness.Snapshot().postgres_running);
  EXPECT_EQ(harness.Configure(OnNode(2, 1)), kOk);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"), "ConfigurationPending>Configuration>Running");
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 1));
}

TEST(ComputeCtlTest, ConfigureFromRunningReloadsWithTheNewPageserver) {
  ComputeHarness harness;
  StartRunning(harness);
  EXPECT_EQ(harness.Configure(OnNode(2, 2)), kOk);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"),
            "Init>Running>ConfigurationPending>Configuration>Running");
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
  auto applied = EventsOf(harness.world.sink, events::kReconfigured);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].Str("via"), "configure");
}

TEST(ComputeCtlTest, ConfigureAnswersOnlyAfterTheSpecIsApplied) {
  ComputeHarness harness;
  harness.options.reload_duration = Duration::Seconds(3);
  StartRunning(harness);
  int answer = -1;
  harness.ConfigureAsync(OnNode(2, 2), &answer);
  harness.RunFor(Duration::Seconds(2));
  EXPECT_EQ(answer, -1);
  EXPECT_EQ(harness.Status(), ComputeStatus::kConfiguration);
  harness.RunFor(Duration::Seconds(2));
  EXPECT_EQ(answer, kOk);
}

TEST(ComputeCtlTest, FailedReloadGoesFailedAndAnswers500) {
  ComputeHarness harness;
  StartRunning(harness);
  harness.compute->SetReloadFails(true);
  EXPECT_EQ(harness.Configure(OnNode(2, 2)), 500);
  EXPECT_EQ(harness.Status(), ComputeStatus::kFailed);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(1, 1));  // still the old conninfo
  EXPECT_EQ(EventsOf(harness.world.sink, events::kReconfigureFailed).size(), 1u);
}

TEST(ComputeCtlTest, UnknownPageserverInSpecFailsTheConfiguration) {
  ComputeHarness harness;
  StartRunning(harness);
  EXPECT_EQ(harness.Configure(OnNode(9, 2)), 500);
  EXPECT_EQ(harness.Status(), ComputeStatus::kFailed);
}

TEST(ComputeCtlTest, ConfigureAnswers412InFailed) {
  ComputeHarness harness;
  StartRunning(harness);
  harness.compute->SetReloadFails(true);
  ASSERT_EQ(harness.Configure(OnNode(2, 2)), 500);
  EXPECT_EQ(harness.Configure(OnNode(2, 3)), 412);
  EXPECT_EQ(harness.Status(), ComputeStatus::kFailed);
}

TEST(ComputeCtlTest, ConfigureAnswers412InInit) {
  ComputeHarness harness;
  harness.options.postgres_start_duration = Duration::Seconds(5);
  harness.spec_store.spec = OnNode(1, 1);
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(1));
  ASSERT_EQ(harness.Status(), ComputeStatus::kInit);
  EXPECT_EQ(harness.Configure(OnNode(2, 2), Duration::Seconds(1)), 412);
  harness.RunFor(Duration::Seconds(5));
  EXPECT_EQ(harness.Snapshot().spec, OnNode(1, 1));
}

TEST(ComputeCtlTest, ConfigureAnswers412InConfigurationAndRefreshConfiguration) {
  ComputeHarness harness;
  harness.options.reload_duration = Duration::Seconds(3);
  StartRunning(harness);
  int first = -1;
  harness.ConfigureAsync(OnNode(2, 2), &first);
  harness.RunFor(Duration::Seconds(1));
  ASSERT_EQ(harness.Status(), ComputeStatus::kConfiguration);
  EXPECT_EQ(harness.Configure(OnNode(1, 3), Duration::Seconds(1)), 412);
  harness.RunFor(Duration::Seconds(3));
  EXPECT_EQ(first, kOk);
  // Now during a refresh: the spec store answers slowly.
  harness.spec_store.delay = Duration::Seconds(4);
  ASSERT_EQ(harness.Refresh(), kOk);
  ASSERT_EQ(harness.Status(), ComputeStatus::kRefreshConfiguration);
  EXPECT_EQ(harness.Configure(OnNode(1, 3), Duration::Seconds(1)), 412);
}

TEST(ComputeCtlTest, ConfigureWithAnOlderVersionAnswers409) {
  ComputeHarness harness;
  StartRunning(harness);
  ASSERT_EQ(harness.Configure(OnNode(2, 5)), kOk);
  EXPECT_EQ(harness.Configure(OnNode(1, 4)), 409);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 5));
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
}

TEST(ComputeCtlTest, RefreshFromRunningWithTheSameSpecReturnsToRunningAndBacksOff5s) {
  ComputeHarness harness;
  harness.options.lakebase_mode = true;
  StartRunning(harness);
  const sim::Instant asked = harness.world.simulation.Now();
  EXPECT_EQ(harness.Refresh(), kOk);
  // A second request right away: the configurator sleeps 5 s after the same-spec answer.
  EXPECT_EQ(harness.Refresh(Duration::Seconds(10)), kOk);
  const sim::Instant same = StatusTime(harness, "Running", "same-spec", asked);
  const sim::Instant next = StatusTime(harness, "RefreshConfiguration", nullptr, same);
  ASSERT_NE(same, sim::Instant::Max());
  ASSERT_NE(next, sim::Instant::Max());
  EXPECT_GE(next - same, Duration::Seconds(5));
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(1, 1));
  EXPECT_EQ(EventsOf(harness.world.sink, events::kReconfigured).size(), 1u);  // no reload
}

TEST(ComputeCtlTest, RefreshWithANewSpecReconfiguresAndRuns) {
  ComputeHarness harness;
  StartRunning(harness);
  harness.spec_store.spec = OnNode(2, 2);
  EXPECT_EQ(harness.Refresh(Duration::Seconds(2)), kOk);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"),
            "Init>Running>RefreshConfigurationPending>RefreshConfiguration>Running");
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
  auto applied = EventsOf(harness.world.sink, events::kReconfigured);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].Str("via"), "refresh");
}

TEST(ComputeCtlTest, RefreshFromFailedIsServicedWhenTheDefectIsOff) {
  ComputeHarness harness;
  harness.options.lakebase_mode = true;
  StartRunning(harness);
  harness.compute->SetReloadFails(true);
  ASSERT_EQ(harness.Configure(OnNode(2, 2)), 500);
  ASSERT_EQ(harness.Status(), ComputeStatus::kFailed);
  harness.compute->SetReloadFails(false);
  harness.spec_store.spec = OnNode(2, 2);
  EXPECT_EQ(harness.Refresh(Duration::Seconds(5)), kOk);
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
  EXPECT_NE(StatusPath(harness.world.sink, "t1")
                .find("Failed>RefreshConfigurationPending>RefreshConfiguration>Running"),
            std::string::npos);
}

TEST(ComputeCtlTest, FetchFailureSleeps5sThenGoesBackToPending) {
  ComputeHarness harness;  // classic mode: the configurator then waits for a new signal
  StartRunning(harness);
  harness.spec_store.status = api::Http::kServiceUnavailable;
  const sim::Instant asked = harness.world.simulation.Now();
  ASSERT_EQ(harness.Refresh(Duration::Seconds(20)), kOk);
  const sim::Instant refreshing = StatusTime(harness, "RefreshConfiguration", nullptr, asked);
  const sim::Instant pending = StatusTime(harness, "RefreshConfigurationPending", "fetch-failed");
  ASSERT_NE(pending, sim::Instant::Max());
  EXPECT_GE(pending - refreshing, Duration::Seconds(5));
  EXPECT_EQ(harness.Status(), ComputeStatus::kRefreshConfigurationPending);
  // Classic mode: nothing happens until someone signals again.
  EXPECT_EQ(harness.spec_store.requests, 2u);  // startup + one refresh
  // RefreshConfigurationPending + POST -> RefreshConfigurationPending (200), which wakes it.
  harness.spec_store.status = api::Http::kOk;
  harness.spec_store.spec = OnNode(2, 2);
  EXPECT_EQ(harness.Refresh(Duration::Seconds(2)), kOk);
  auto requests = EventsOf(harness.world.sink, events::kRefreshRequest);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Str("from_status"), "RefreshConfigurationPending");
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
}

TEST(ComputeCtlTest, FailedReloadDuringRefreshGoesBackToPending) {
  ComputeHarness harness;
  StartRunning(harness);
  harness.spec_store.spec = OnNode(2, 2);
  harness.compute->SetReloadFails(true);
  ASSERT_EQ(harness.Refresh(Duration::Seconds(3)), kOk);
  EXPECT_EQ(harness.Status(), ComputeStatus::kRefreshConfigurationPending);
  EXPECT_NE(StatusTime(harness, "RefreshConfigurationPending", "refresh-reconfigure-failed"),
            sim::Instant::Max());
  EXPECT_EQ(harness.Snapshot().spec, OnNode(1, 1));
  harness.compute->SetReloadFails(false);
  ASSERT_EQ(harness.Refresh(Duration::Seconds(3)), kOk);
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
}

TEST(ComputeCtlTest, NoSpecDuringRefreshMakesTheProcessExit) {
  ComputeHarness harness;
  StartRunning(harness);
  harness.spec_store.status = api::Http::kNotFound;
  ASSERT_EQ(harness.Refresh(Duration::Seconds(2)), kOk);
  EXPECT_FALSE(harness.compute_process->up());
  auto exits = EventsOf(harness.world.sink, events::kExit);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].Str("reason"), "no-spec");
}

TEST(ComputeCtlTest, RefreshInInitIsANoOp) {
  ComputeHarness harness;
  harness.options.postgres_start_duration = Duration::Seconds(5);
  harness.spec_store.spec = OnNode(1, 1);
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(1));
  ASSERT_EQ(harness.Status(), ComputeStatus::kInit);
  EXPECT_EQ(harness.Refresh(), kOk);
  EXPECT_EQ(harness.Status(), ComputeStatus::kInit);
  harness.RunFor(Duration::Seconds(5));
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"), "Init>Running");
}

TEST(ComputeCtlTest, RefreshAnswers500FromEmptyConfigurationAndRefreshConfiguration) {
  ComputeHarness harness;
  harness.options.reload_duration = Duration::Seconds(3);
  harness.spec_store.status = api::Http::kNotFound;
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(1));
  ASSERT_EQ(harness.Status(), ComputeStatus::kEmpty);
  EXPECT_EQ(harness.Refresh(), 500);
  ASSERT_EQ(harness.Configure(OnNode(1, 1)), kOk);
  int answer = -1;
  harness.ConfigureAsync(OnNode(2, 2), &answer);
  harness.RunFor(Duration::Seconds(1));
  ASSERT_EQ(harness.Status(), ComputeStatus::kConfiguration);
  EXPECT_EQ(harness.Refresh(), 500);
  harness.RunFor(Duration::Seconds(3));
  ASSERT_EQ(answer, kOk);
  harness.spec_store.status = api::Http::kOk;
  harness.spec_store.spec = OnNode(2, 2);
  harness.spec_store.delay = Duration::Seconds(4);
  ASSERT_EQ(harness.Refresh(), kOk);
  ASSERT_EQ(harness.Status(), ComputeStatus::kRefreshConfiguration);
  EXPECT_EQ(harness.Refresh(), 500);
  EXPECT_EQ(harness.Status(), ComputeStatus::kRefreshConfiguration);
}

TEST(ComputeCtlTest, TerminateFastEndsInTerminatedAndRefusesEverything) {
  ComputeHarness harness;
  StartRunning(harness);
  EXPECT_EQ(harness.Terminate(false), kOk);
  EXPECT_EQ(harness.Status(), ComputeStatus::kTerminated);
  EXPECT_FALSE(harness.Snapshot().postgres_running);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"), "Init>Running>TerminationPendingFast>Terminated");
  EXPECT_EQ(harness.Configure(OnNode(2, 2), Duration::Seconds(1)), 412);
  EXPECT_EQ(harness.Refresh(), 500);
}

TEST(ComputeCtlTest, TerminateImmediateEndsInTerminated) {
  ComputeHarness harness;
  StartRunning(harness);
  EXPECT_EQ(harness.Terminate(true), kOk);
  EXPECT_EQ(StatusPath(harness.world.sink, "t1"),
            "Init>Running>TerminationPendingImmediate>Terminated");
  auto terminated = EventsOf(harness.world.sink, events::kTerminated);
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(terminated[0].Str("mode"), "immediate");
}

// Failed, then Postgres keeps asking for a refresh while the spec store has the right spec.
ComputeSnapshot FailedThenRefreshed(bool defect_on) {
  ComputeHarness harness;
  harness.options.lakebase_mode = true;
  if (defect_on) harness.defects.Enable(kDefectConfiguratorExitsOnFailed);
  harness.spec_store.spec = OnNode(1, 1);
  harness.Build();
  harness.Start();
  harness.RunFor(Duration::Seconds(2));
  harness.compute->SetReloadFails(true);
  harness.Configure(OnNode(2, 2));
  harness.compute->SetReloadFails(false);
  harness.spec_store.spec = OnNode(2, 2);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(harness.Refresh(Duration::Seconds(4)), kOk);
  EXPECT_EQ(EventsOf(harness.world.sink, events::kConfiguratorExit).size(), defect_on ? 1u : 0u);
  return harness.Snapshot();
}

TEST(ComputeCtlTest, DefectConfiguratorExitsOnFailedLeavesTheRefreshUnserviced) {
  const ComputeSnapshot fixed = FailedThenRefreshed(false);
  EXPECT_EQ(fixed.status, ComputeStatus::kRunning);
  EXPECT_EQ(fixed.spec, OnNode(2, 2));
  EXPECT_TRUE(fixed.configurator_running);
  const ComputeSnapshot broken = FailedThenRefreshed(true);
  EXPECT_EQ(broken.status, ComputeStatus::kRefreshConfigurationPending);
  EXPECT_EQ(broken.spec, OnNode(1, 1));
  EXPECT_FALSE(broken.configurator_running);
}

TEST(ComputeCtlTest, DefectListNamesTheHazard) {
  auto defects = ComputeDefects();
  ASSERT_EQ(defects.size(), 1u);
  EXPECT_EQ(defects[0].name, kDefectConfiguratorExitsOnFailed);
  EXPECT_EQ(defects[0].component, "compute");
}

}  // namespace
}  // namespace storsim::compute
