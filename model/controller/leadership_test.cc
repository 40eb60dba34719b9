// Leadership behaviour (SPEC.md §3.2–3.7): probes per state, 503 from a candidate, forwarding
// from a stepped-down instance, step-down handover then CAS, CAS failure exits, the self-restart
// check, naive and lease protocols, and the double INSERT hazard.
#include <gtest/gtest.h>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

api::Http Probe(Harness& harness, sim::Process* process, api::Probe probe) {
  auto reply = harness.Call(process->id(), api::kProbe, api::ProbeRequest{probe});
  EXPECT_TRUE(reply.ok());
  return reply.ok() ? reply->status : api::Http::kInternalError;
}

bool StartedUp(ControllerInstance& instance) {
  ControllerSnapshot snapshot = instance.controller->Snapshot();
  return snapshot.startup_complete && snapshot.status == LeadershipStatus::kLeader;
}

// Adds pageservers 1..`pageservers` and a control plane to a fresh `harness`, then starts "ctl-a"
// as the first leader and waits for its start-up (the loops below need a harness per variant).
ControllerInstance& StartFirstLeader(Harness& harness, int pageservers = 1) {
  for (int node = 1; node <= pageservers; ++node) harness.AddPageserver(node);
  harness.AddControlPlane();
  ControllerInstance& a = harness.AddController("ctl-a");
  a.process->Start();
  EXPECT_TRUE(harness.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  return a;
}

// The index of the first line of the harness log from `from` on that starts with `prefix`.
std::optional<size_t> FirstLogLine(Harness& harness, std::string_view prefix, size_t from = 0) {
  for (size_t i = from; i < harness.log().size(); ++i) {
    if (harness.log()[i].rfind(prefix, 0) == 0) return i;
  }
  return std::nullopt;
}

class LeadershipTest : public ::testing::Test {
 protected:
  LeadershipTest() {
    harness_.AddPageserver(1);
    harness_.AddPageserver(2);
    harness_.AddControlPlane();
  }
  ControllerInstance& StartLeader(const std::string& address, api::Defects defects = {}) {
    ControllerInstance& instance = harness_.AddController(address, {}, std::move(defects));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil([&] { return StartedUp(instance); }, Duration::Seconds(30)));
    return instance;
  }
  Harness harness_;
};

TEST_F(LeadershipTest, FirstLeaderInsertsRowAndProbesPass) {
  ControllerInstance& a = StartLeader("ctl-a");
  ASSERT_EQ(harness_.tables().leaders().size(), 1u);
  EXPECT_EQ(harness_.tables().leaders().begin()->address, "ctl-a");
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kStatus), api::Http::kOk);
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kReady), api::Http::kOk);
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kLive), api::Http::kOk);
}

TEST_F(LeadershipTest, CandidateAnswers503UntilStepDownBudgetRunsOut) {
  ControllerInstance& a = StartLeader("ctl-a");
  ControllerInstance& b = harness_.AddController("ctl-b");
  harness_.simulation().network().Partition(a.process->id(), b.process->id());
  b.process->Start();
  const sim::Instant started = harness_.simulation().Now();
  harness_.simulation().RunFor(Duration::Seconds(2));
  EXPECT_EQ(b.controller->Snapshot().status, LeadershipStatus::kCandidate);
  EXPECT_EQ(Probe(harness_, b.process, api::Probe::kStatus), api::Http::kOk);
  EXPECT_EQ(Probe(harness_, b.process, api::Probe::kReady), api::Http::kServiceUnavailable);
  EXPECT_EQ(Probe(harness_, b.process, api::Probe::kLive), api::Http::kServiceUnavailable);
  auto describe = harness_.Call(b.process->id(), api::kTenantDescribe, api::TenantDescribeRequest{"t"});
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ(describe->status, api::Http::kServiceUnavailable);
  EXPECT_FALSE(harness_.EventsOf(events::kHttp503, b.process->id()).empty());
  // Nine 1 s attempts and ~10.4 s of backoff, then B proceeds unilaterally.
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(40)));
  const Duration took = harness_.simulation().Now() - started;
  EXPECT_GE(took, Duration::Seconds(19));
  EXPECT_LE(took, Duration::Seconds(22));
  EXPECT_EQ(harness_.EventsOf(events::kStepDownSend, b.process->id()).size(), 9u);
  // The old leader never heard of it: two Leaders in memory (§3.6 window 1).
  EXPECT_EQ(a.controller->Snapshot().status, LeadershipStatus::kLeader);
  EXPECT_EQ(harness_.tables().leaders().begin()->address, "ctl-b");
}

TEST_F(LeadershipTest, StepDownHandsOverObservedStateThenCas) {
  ControllerInstance& a = StartLeader("ctl-a");
  auto created = harness_.Call(a.process->id(), api::kTenantCreate,
                               api::TenantCreateRequest{"t1", 0, 0, persistence::PlacementPolicy::Attached(1), {}});
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, api::Http::kOk);
  harness_.simulation().RunFor(Duration::Seconds(1));
  const size_t lists_before = std::count_if(harness_.log().begin(), harness_.log().end(),
                                            [](const std::string& line) { return line.find(" list") != std::string::npos; });
  ControllerInstance& b = harness_.AddController("ctl-b");
  b.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(30)));
  EXPECT_EQ(a.controller->Snapshot().status, LeadershipStatus::kSteppedDown);
  EXPECT_EQ(harness_.tables().leaders().begin()->address, "ctl-b");
  // Handover, not a scan: no new location listing.
  const size_t lists_after = std::count_if(harness_.log().begin(), harness_.log().end(),
                                           [](const std::string& line) { return line.find(" list") != std::string::npos; });
  EXPECT_EQ(lists_before, lists_after);
  const api::TenantShardId shard{"t1", 0, 0};
  EXPECT_EQ(b.controller->Snapshot().shards.at(shard).observed,
            a.controller->Snapshot().shards.at(shard).observed);
  // Order: step-down reply, then the CAS from prev = A.
  size_t reply_at = 0;
  size_t cas_at = 0;
  for (const sim::TraceEvent& event : harness_.events()) {
    if (event.process != b.process->id()) continue;
    if (event.kind == events::kStepDownReply && event.Str("result") == "ok") reply_at = event.sequence;
    if (event.kind == events::kLeaderCas) {
      cas_at = event.sequence;
      EXPECT_EQ(event.Str("prev_address"), "ctl-a");
      EXPECT_EQ(event.Str("result"), "ok");
    }
  }
  EXPECT_GT(reply_at, 0u);
  EXPECT_GT(cas_at, reply_at);
  // The stepped-down instance is ready but not live, and forwards to the new leader.
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kReady), api::Http::kOk);
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kLive), api::Http::kServiceUnavailable);
  auto describe = harness_.Call(a.process->id(), api::kTenantDescribe, api::TenantDescribeRequest{"t1"});
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ(describe->status, api::Http::kOk);
  ASSERT_EQ(describe->shards.size(), 1u);
  auto forwards = harness_.EventsOf(events::kForward, a.process->id());
  ASSERT_FALSE(forwards.empty());
  EXPECT_EQ(forwards.back().Str("target"), "ctl-b");
}

TEST_F(LeadershipTest, UpcallsAreGatedAndForwardedLikeTheApi) {
  ControllerInstance& a = StartLeader("ctl-a");
  ControllerInstance& b = harness_.AddController("ctl-b");
  harness_.simulation().network().Partition(a.process->id(), b.process->id());
  b.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(2));
  auto refused = harness_.Call(b.process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, api::Http::kServiceUnavailable);  // candidate
  harness_.simulation().network().Heal(a.process->id(), b.process->id());
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(40)));
  // A never heard the step-down (partitioned): step it down now, then it forwards to B.
  ASSERT_TRUE(harness_.Call(a.process->id(), api::kStepDown, api::StepDownRequest{"x"}).ok());
  auto forwarded = harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false});
  ASSERT_TRUE(forwarded.ok());
  EXPECT_EQ(forwarded->status, api::Http::kOk);
  EXPECT_EQ(b.controller->Snapshot().nodes.at(1).availability, api::NodeAvailability::kWarmingUp);
  // The leader dies: the proxy's transport error is a 500.
  b.process->Crash();
  auto failed = harness_.Call(a.process->id(), api::kValidate, api::ValidateRequest{});
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, api::Http::kInternalError);
}

TEST_F(LeadershipTest, TenantHandlersTimeOutWith408BeforeStartupCompletes) {
  ControllerOptions options;
  options.start_as_candidate = false;  // Leader from the start, still starting up
  options.timings.startup_wait_for_handlers = Duration::Seconds(1);
  harness_.simulation().process(harness_.directory().Resolve("ps-1").value()).Crash();
  ControllerInstance& a = harness_.AddController("ctl-a", options);
  a.process->Start();
  harness_.simulation().RunFor(Duration::Millis(10));
  ASSERT_EQ(a.controller->Snapshot().status, LeadershipStatus::kLeader);
  auto created = harness_.Call(a.process->id(), api::kTenantCreate,
                               api::TenantCreateRequest{"t", 0, 0, persistence::PlacementPolicy::Attached(0), {}});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, api::Http::kRequestTimeout);  // the scan of ps-1 takes ~5 s
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  created = harness_.Call(a.process->id(), api::kTenantCreate,
                          api::TenantCreateRequest{"t", 0, 0, persistence::PlacementPolicy::Attached(0), {}});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, api::Http::kOk);
}

TEST_F(LeadershipTest, SteppedDownWithOwnRowAnswers503AndStepDownIsShared) {
  ControllerInstance& a = StartLeader("ctl-a");
  auto first = harness_.Call(a.process->id(), api::kStepDown, api::StepDownRequest{"client"});
  auto second = harness_.Call(a.process->id(), api::kStepDown, api::StepDownRequest{"client"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->status, api::Http::kOk);
  EXPECT_EQ(second->status, api::Http::kOk);
  EXPECT_EQ(harness_.EventsOf(events::kStepDownBegin, a.process->id()).size(), 1u);
  auto describe = harness_.Call(a.process->id(), api::kTenantDescribe, api::TenantDescribeRequest{"t"});
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ(describe->status, api::Http::kServiceUnavailable);
  auto refused = harness_.EventsOf(events::kHttp503, a.process->id());
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().Str("reason"), "self_leader");
}

TEST_F(LeadershipTest, LosingCasExitsTheProcess) {
  StartLeader("ctl-a");
  ControllerInstance& b = harness_.AddController("ctl-b");
  ControllerInstance& c = harness_.AddController("ctl-c");
  b.process->Start();
  c.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(20));
  const bool b_leads = b.process->up() && StartedUp(b);
  const bool c_leads = c.process->up() && StartedUp(c);
  EXPECT_NE(b_leads, c_leads);
  EXPECT_NE(b.process->up(), c.process->up());
  EXPECT_EQ(harness_.EventsOf(events::kExit).size(), 1u);
  ASSERT_EQ(harness_.tables().leaders().size(), 1u);
  EXPECT_EQ(harness_.tables().leaders().begin()->address, b_leads ? "ctl-b" : "ctl-c");
}

// db-outage 1887: a candidate is stopped (a rollout supersedes its revision) after the old leader
// answered its step-down, while its start-up waits on a paused node. Fixed: it exits without the
// CAS, the row keeps naming the old leader (whose restart in place skips step-down). Upstream
// (ctl-stopping-candidate-takes-leadership): it takes the row, then exits, so the row names a
// dead process.
TEST_F(LeadershipTest, CandidateStoppedMidStartupLeavesTheRow) {
  for (bool defect : {false, true}) {
    SCOPED_TRACE(defect);
    Harness harness;
    ControllerInstance& a = StartFirstLeader(harness, 2);
    harness.pageserver(2).process->Pause();  // B's start-up heartbeat round waits on it
    ControllerInstance& b = harness.AddController(
        "ctl-b", {}, defect ? api::Defects({kDefectStoppingCandidateTakesLeadership}) : api::Defects());
    b.process->Start();
    ASSERT_TRUE(harness.RunUntil(
        [&] { return a.controller->Snapshot().status == LeadershipStatus::kSteppedDown; },
        Duration::Seconds(10)));
    EXPECT_EQ(b.controller->Snapshot().status, LeadershipStatus::kCandidate);
    b.process->Stop(Duration::Seconds(30));
    ASSERT_TRUE(harness.RunUntil([&] { return !b.process->up(); }, Duration::Seconds(40)));
    ASSERT_EQ(harness.tables().leaders().size(), 1u);
    EXPECT_EQ(harness.tables().leaders().begin()->address, defect ? "ctl-b" : "ctl-a");
    EXPECT_EQ(harness.EventsOf(events::kLeaderCas, b.process->id()).empty(), !defect);
    if (defect) continue;
    // The old leader's pod restarts in place and leads again without a step-down round.
    a.process->Restart();
    harness.simulation().RunFor(Duration::Millis(1));
    ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
    EXPECT_TRUE(harness.EventsOf(events::kStepDownSend, a.process->id()).empty());
  }
}

// db-outage 2559: after an unfenced takeover the start-up notifications wait for the re-sync, but
// a start-up reconcile that demotes a stale attached location must still tell the control plane
// where the shard is before it does (S12). B cannot reach A, takes over unilaterally, finds t1
// attached on node 1 (a stale generation A never knew of) and node 2, and makes node 1 Secondary
// only after a notification naming node 2.
TEST_F(LeadershipTest, UnfencedTakeoverNotifiesBeforeItDemotes) {
  Harness harness;
  FakePageserver& ps1 = harness.AddPageserver(1);
  FakePageserver& ps2 = harness.AddPageserver(2);
  harness.AddControlPlane();
  ASSERT_TRUE(harness.tables().InsertTenantShards({ShardRow("t1", 2, 2)}).ok());
  ps2.slots[api::TenantShardId{"t1", 0, 0}] = Attached(2);
  ControllerInstance& a = harness.AddController("ctl-a");
  a.process->Start();
  ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  ps1.slots[api::TenantShardId{"t1", 0, 0}] = Attached(1);
  ControllerInstance& b = harness.AddController("ctl-b");
  harness.simulation().network().Partition(a.process->id(), b.process->id());
  const size_t log_start = harness.log().size();
  b.process->Start();
  ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(40)));
  harness.simulation().RunFor(Duration::Seconds(5));
  const std::optional<size_t> notified = FirstLogLine(harness, "cplane notify t1 0:2", log_start);
  const std::optional<size_t> demoted = FirstLogLine(harness, "ps1 put t1", log_start);
  ASSERT_TRUE(demoted.has_value()) << "B never demoted node 1's stale attachment";
  ASSERT_TRUE(notified.has_value());
  EXPECT_LT(*notified, *demoted);
}

// db-outage 9715: the database places t1 at generation 3 on node 1, which the start-up scan cannot
// reach; node 2 still holds an AttachedStale location at generation 2, so the start-up intent is
// node 2. Fixed: no start-up notification names that stale attachment; the first notification
// of t1 comes from the reconcile that re-attached node 2 at a new generation. Upstream
// (ctl-startup-notifies-stale-attachment): node 2 is announced before anything is attached there.
TEST_F(LeadershipTest, StartupAnnouncesNoAttachmentOlderThanTheDatabase) {
  for (bool defect : {false, true}) {
    SCOPED_TRACE(defect);
    Harness harness;
    FakePageserver& ps1 = harness.AddPageserver(1);
    FakePageserver& ps2 = harness.AddPageserver(2);
    harness.AddControlPlane();
    ASSERT_TRUE(harness.tables().InsertTenantShards({ShardRow("t1", 3, 1)}).ok());
    ps1.slots[api::TenantShardId{"t1", 0, 0}] = Attached(3);
    ps2.slots[api::TenantShardId{"t1", 0, 0}] = Attached(2, api::LocationMode::kAttachedStale);
    ps1.process->Pause();
    ps2.put_delay = Duration::Seconds(2);  // the re-attach is logged 2 s after it was sent
    ControllerInstance& a = harness.AddController(
        "ctl-a", {}, defect ? api::Defects({kDefectStartupNotifiesStaleAttachment}) : api::Defects());
    a.process->Start();
    ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(60)));
    harness.simulation().RunFor(Duration::Seconds(5));
    const std::optional<size_t> notified = FirstLogLine(harness, "cplane notify t1 0:2");
    const std::optional<size_t> attached = FirstLogLine(harness, "ps2 put t1 AttachedSingle g4");
    ASSERT_TRUE(notified.has_value());
    ASSERT_TRUE(attached.has_value()) << "node 2 was never re-attached at a new generation";
    EXPECT_EQ(*notified > *attached, !defect);
  }
}

// db-outage 3993: B took over without an answer from A (partitioned), then its pod restarted in
// place before its re-sync ran. The new incarnation finds its own row (no step-down) but its
// predecessor's takeover was unfenced, so it runs the re-sync itself. A restart in place long
// after the takeover (beyond the re-sync delay) does not.
TEST_F(LeadershipTest, RestartSoonAfterAnUnfencedTakeoverRunsTheResync) {
  for (bool soon : {true, false}) {
    SCOPED_TRACE(soon);
    Harness harness;
    ControllerInstance& a = StartFirstLeader(harness);
    ControllerInstance& b = harness.AddController("ctl-b");
    harness.simulation().network().Partition(a.process->id(), b.process->id());
    b.process->Start();
    ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(40)));
    const sim::Duration delay = harness.DefaultOptions("ctl-b").timings.takeover_resync_delay;
    harness.simulation().RunFor(soon ? Duration::Seconds(5) : delay + Duration::Seconds(5));
    const size_t resyncs_before = harness.EventsOf(events::kTakeoverResync, b.process->id()).size();
    EXPECT_EQ(resyncs_before, soon ? 0u : 1u);
    b.process->Restart();
    harness.simulation().RunFor(Duration::Millis(1));
    ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(30)));
    EXPECT_TRUE(harness.EventsOf(events::kStepDownSend, b.process->id()).size() == 9u);
    harness.simulation().RunFor(delay + Duration::Seconds(5));
    EXPECT_EQ(harness.EventsOf(events::kTakeoverResync, b.process->id()).size(),
              resyncs_before + (soon ? 1u : 0u));
  }
}

// db-outage 1822: A's pod is down while B asks it to step down (refused); A restarts in place,
// finds its own row, re-takes it (a new started_at) and then answers B's next request. Fixed: B
// re-reads the row after the answer and its CAS names A's new row. Upstream
// (ctl-cas-names-first-leader-read): B's CAS names the row it read first, fails, and B exits.
TEST_F(LeadershipTest, StepDownAnsweredByARestartedLeaderCasesOnTheNewRow) {
  for (bool defect : {false, true}) {
    SCOPED_TRACE(defect);
    Harness harness;
    ControllerInstance& a = StartFirstLeader(harness);
    a.process->Crash();
    ControllerInstance& b = harness.AddController(
        "ctl-b", {}, defect ? api::Defects({kDefectCasNamesFirstLeaderRead}) : api::Defects());
    b.process->Start();
    harness.simulation().RunFor(Duration::Millis(500));  // B's first requests are refused
    ASSERT_FALSE(harness.EventsOf(events::kStepDownSend, b.process->id()).empty());
    a.process->Start();  // restart in place: its own row, no step-down, a new started_at
    ASSERT_TRUE(harness.RunUntil([&] { return StartedUp(b) || !b.process->up(); },
                                 Duration::Seconds(40)));
    EXPECT_EQ(b.process->up(), !defect);
    ASSERT_EQ(harness.tables().leaders().size(), 1u);
    EXPECT_EQ(harness.tables().leaders().begin()->address, defect ? "ctl-a" : "ctl-b");
    if (defect) {
      EXPECT_EQ(harness.EventsOf(events::kExit, b.process->id()).back().Str("reason"),
                "leader CAS failed");
    }
  }
}

TEST_F(LeadershipTest, RestartOfSameLeaderSkipsStepDown) {
  ControllerInstance& a = StartLeader("ctl-a");
  a.process->Restart();
  const sim::Instant restarted = harness_.simulation().Now();
  harness_.simulation().RunFor(Duration::Millis(1));  // the new incarnation's Run has begun
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  EXPECT_LT(harness_.simulation().Now() - restarted, Duration::Seconds(5));
  EXPECT_TRUE(harness_.EventsOf(events::kStepDownSend).empty());
  EXPECT_EQ(harness_.tables().leaders().size(), 1u);
}

TEST_F(LeadershipTest, DefectNoSelfRestartCheckStepsDownItself) {
  ControllerInstance& a = StartLeader("ctl-a", api::Defects({kDefectNoSelfRestartCheck}));
  a.process->Restart();
  const sim::Instant restarted = harness_.simulation().Now();
  harness_.simulation().RunFor(Duration::Millis(1));  // the new incarnation's Run has begun
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(40)));
  // It asked itself (a candidate: 503 at once) nine times, ~10.4 s of backoff, before going on
  // unilaterally.
  EXPECT_GE(harness_.simulation().Now() - restarted, Duration::Seconds(10));
  EXPECT_EQ(harness_.EventsOf(events::kStepDownSend).size(), 9u);
}

TEST_F(LeadershipTest, DefectLiveIgnoresLeadership) {
  ControllerInstance& a = StartLeader("ctl-a", api::Defects({kDefectLiveIgnoresLeadership}));
  ASSERT_TRUE(harness_.Call(a.process->id(), api::kStepDown, api::StepDownRequest{"x"}).ok());
  EXPECT_EQ(Probe(harness_, a.process, api::Probe::kLive), api::Http::kOk);
}

TEST_F(LeadershipTest, TwoFirstEverCandidatesBothInsert) {
  ControllerInstance& a = harness_.AddController("ctl-a");
  ControllerInstance& b = harness_.AddController("ctl-b");
  a.process->Start();
  b.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(10));
  // The CAS only guards the UPDATE path: an empty table takes two INSERTs (SPEC §3.6 item 4).
  EXPECT_EQ(harness_.tables().leaders().size(), 2u);
  EXPECT_FALSE(harness_.tables().GetLeader().ok());
}

TEST_F(LeadershipTest, NaiveProtocolLeadsFromStartWithoutRow) {
  ControllerOptions options;
  options.protocol = LeadershipProtocol::kNaive;
  ControllerInstance& a = harness_.AddController("ctl-a", options);
  a.process->Start();
  harness_.simulation().RunFor(Duration::Millis(1));
  EXPECT_EQ(a.controller->Snapshot().status, LeadershipStatus::kLeader);
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  EXPECT_TRUE(harness_.tables().leaders().empty());
}

TEST_F(LeadershipTest, LeaseTakenAfterLocalExpiryAndHolderStepsDownOnResume) {
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerOptions options;
  options.protocol = LeadershipProtocol::kLeaseFenced;
  ControllerInstance& a = harness_.AddController("ctl-a", options);
  a.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  EXPECT_EQ(a.controller->Snapshot().term, 1u);
  ControllerInstance& b = harness_.AddController("ctl-b", options);
  b.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(10));
  EXPECT_EQ(b.controller->Snapshot().status, LeadershipStatus::kCandidate);  // A renews
  a.process->Pause();
  const sim::Instant paused = harness_.simulation().Now();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(40)));
  EXPECT_GE(harness_.simulation().Now() - paused, Duration::Seconds(13));
  EXPECT_EQ(b.controller->Snapshot().term, 2u);
  EXPECT_EQ(harness_.lease().Get().holder, "ctl-b");
  a.process->Resume();
  ASSERT_TRUE(harness_.RunUntil(
      [&] { return a.controller->Snapshot().status == LeadershipStatus::kSteppedDown; },
      Duration::Seconds(10)));
  // Fencing: every location config carries its sender's term; the new leader re-sends the
  // attachment with term 2 (same generation, no increment needed).
  auto a_sends = harness_.EventsOf(events::kLocationConfigSend, a.process->id());
  auto b_sends = harness_.EventsOf(events::kLocationConfigSend, b.process->id());
  ASSERT_FALSE(a_sends.empty());
  ASSERT_FALSE(b_sends.empty());
  for (const sim::TraceEvent& event : a_sends) EXPECT_EQ(event.Int("term"), 1);
  for (const sim::TraceEvent& event : b_sends) EXPECT_EQ(event.Int("term"), 2);
}

TEST_F(LeadershipTest, LeaseFollowerIsReadyForwardsAndTakesOverOnGracefulStop) {
  // A RollingUpdate under the lease protocol: the new pod must be Ready while the old one holds
  // the lease (else Kubernetes never stops the old pod), and take over soon after the old pod's
  // SIGTERM releases the lease.
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ControllerOptions options;
  options.protocol = LeadershipProtocol::kLease;
  ControllerInstance& a = harness_.AddController("ctl-a", options);
  a.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(a); }, Duration::Seconds(30)));
  ControllerInstance& b = harness_.AddController("ctl-b", options);
  b.process->Start();
  harness_.simulation().RunFor(Duration::Seconds(5));
  EXPECT_EQ(b.controller->Snapshot().status, LeadershipStatus::kCandidate);
  EXPECT_EQ(Probe(harness_, b.process, api::Probe::kReady), api::Http::kOk);
  EXPECT_EQ(Probe(harness_, b.process, api::Probe::kLive), api::Http::kOk);
  auto status = harness_.Call(b.process->id(), api::kNodeStatus, api::NodeRequest{1});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->status, api::Http::kOk);  // forwarded to the holder
  EXPECT_FALSE(harness_.EventsOf(events::kForward, b.process->id()).empty());
  // Graceful stop: the holder releases, the follower acquires at its next poll.
  a.process->Stop(Duration::Seconds(30));
  const sim::Instant stopped = harness_.simulation().Now();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(5)));
  EXPECT_LE(harness_.simulation().Now() - stopped, Duration::Seconds(1));
  EXPECT_EQ(harness_.lease().Get().holder, "ctl-b");
  EXPECT_NE(a.controller->Snapshot().status, LeadershipStatus::kLeader);
  ASSERT_TRUE(harness_.RunUntil([&] { return !a.process->up(); }, Duration::Seconds(35)));
}

}  // namespace
}  // namespace storsim::controller::testing
