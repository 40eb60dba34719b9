// The controller's shard split (shard_split.h): begin, pageserver split, complete and the
// in-memory switch to the children with a compute notification of the new count; the abort on a
// pageserver failure, at once when the split node restarts mid-split, and when a node that has
// already split restarts before the rest finish; the start-up abort of a half-done split; and
// bug #2's switch: with the fix the step-down waits for an in-flight split, with the defect the
// new leader aborts it while the old leader completes it and the tenant loses every row.
#include "model/controller/shard_split.h"

#include <gtest/gtest.h>

#include <iostream>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/pageserver/split_api.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

const api::TenantShardId kParent{"t1", 0, 0};
const api::TenantShardId kChild0{"t1", 0, 2};
const api::TenantShardId kChild1{"t1", 1, 2};

bool StartedUp(ControllerInstance& instance) {
  ControllerSnapshot snapshot = instance.controller->Snapshot();
  return snapshot.startup_complete && snapshot.status == LeadershipStatus::kLeader;
}

std::vector<api::TenantShardId> TenantRows(persistence::ControllerTables& tables) {
  std::vector<api::TenantShardId> rows;
  for (const auto& [id, row] : tables.shards()) {
    if (id.tenant_id == "t1") rows.push_back(id);
  }
  return rows;
}

class ShardSplitTest : public ::testing::Test {
 protected:
  ShardSplitTest() {
    pageserver_ = &harness_.AddPageserver(1);
    harness_.AddPageserver(2);
    cplane_ = &harness_.AddControlPlane();
    harness_.simulation().RunFor(Duration::Millis(100));
    ServeSplit(*pageserver_);
    ServeSplit(harness_.pageserver(2));
  }
  // The fake pageserver's split: after the node's delay (`split_delay_`, or its entry in
  // `node_split_delay_`), the children replace the parent at its generation (as model/pageserver
  // does), or 503 when `split_fails_`.
  void ServeSplit(FakePageserver& pageserver) {
    sim::Env* env = &pageserver.process->env();
    FakePageserver* node = &pageserver;
    env->rpc().Serve(
        pageserver::kShardSplit,
        std::function<pageserver::ShardSplitResponse(const pageserver::ShardSplitRequest&,
                                                     const sim::CallContext&)>(
            [this, env, node](const pageserver::ShardSplitRequest& request,
                              const sim::CallContext&) {
              auto delay = node_split_delay_.find(node->node_id);
              env->Sleep(delay == node_split_delay_.end() ? split_delay_ : delay->second);
              pageserver::ShardSplitResponse response;
              auto it = node->slots.find(request.parent);
              if (split_fails_ || it == node->slots.end()) {
                response.status =
                    split_fails_ ? api::Http::kServiceUnavailable : api::Http::kNotFound;
                return response;
              }
              response.children =
                  pageserver::SplitChildren(request.parent, request.new_shard_count);
              for (const api::TenantShardId& child : response.children) {
                api::LocationConfig config = it->second;
                config.shard_number = child.shard_number;
                config.shard_count = child.shard_count;
                node->slots[child] = config;
              }
              node->slots.erase(request.parent);
              return response;
            }));
  }
  ControllerInstance& StartLeader(const std::string& address, api::Defects defects = {}) {
    ControllerInstance& instance = harness_.AddController(address, {}, std::move(defects));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil([&] { return StartedUp(instance); }, Duration::Seconds(30)));
    return instance;
  }
  // Creates t1 (unsharded) attached on node 1 with a secondary on node 2.
  void CreateTenant(ControllerInstance& leader) {
    auto created = harness_.Call(
        leader.process->id(), api::kTenantCreate,
        api::TenantCreateRequest{"t1", 0, 0, persistence::PlacementPolicy::Attached(1), {}});
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->status, api::Http::kOk);
    ASSERT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = leader.controller->Snapshot();
          return snapshot.reconcilers_in_flight == 0 && snapshot.shards.count(kParent) &&
                 snapshot.shards.at(kParent).intent.attached == api::NodeId{1} &&
                 pageserver_->slots.count(kParent);
        },
        Duration::Seconds(30)));
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& line : harness_.log()) std::cerr << line << "\n";
    for (const sim::TraceEvent& event : harness_.events()) {
      if (event.kind.substr(0, 4) == "ctl.") std::cerr << event.ToString() << "\n";
    }
  }

  Harness harness_;
  FakePageserver* pageserver_ = nullptr;
  FakeControlPlane* cplane_ = nullptr;
  Duration split_delay_ = Duration::Millis(50);
  std::map<api::NodeId, Duration> node_split_delay_;
  bool split_fails_ = false;
};

TEST_F(ShardSplitTest, SplitPersistsSwitchesMemoryAndNotifiesTheNewCount) {
  ControllerInstance& leader = StartLeader("ctl-a");
  CreateTenant(leader);
  auto split =
      harness_.Call(leader.process->id(), kTenantShardSplit, TenantShardSplitRequest{"t1", 2});
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->status, api::Http::kOk);
  ASSERT_EQ(split->shards.size(), 2u);
  EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{kChild0, kChild1}));
  for (const api::TenantShardId& child : {kChild0, kChild1}) {
    const persistence::TenantShardRow& row = harness_.tables().shards().at(child);
    EXPECT_EQ(row.splitting, persistence::SplitState::kIdle);
    EXPECT_EQ(row.generation, harness_.tables().shards().at(child).generation);
  }
  ControllerSnapshot snapshot = leader.controller->Snapshot();
  EXPECT_EQ(snapshot.shards.count(kParent), 0u);
  ASSERT_EQ(snapshot.shards.count(kChild0), 1u);
  EXPECT_EQ(snapshot.shards.at(kChild0).intent.attached, api::NodeId{1});
  // The compute was told about two shards (the control plane derives the count from them).
  ASSERT_EQ(cplane_->applied.count("t1"), 1u);
  EXPECT_EQ(cplane_->applied.at("t1").shards.size(), 2u);
  EXPECT_TRUE(cplane_->applied.at("t1").stripe_size.has_value());
  // The children get their secondary on node 2; the parent's secondary is gone.
  ASSERT_TRUE(
      harness_.RunUntil([&] { return leader.controller->Snapshot().reconcilers_in_flight == 0; },
                        Duration::Seconds(30)));
  EXPECT_EQ(
      harness_.Call(leader.process->id(), kTenantShardSplit, TenantShardSplitRequest{"t1", 3})
          ->status,
      api::Http::kBadRequest);
  // A retry of the same split answers with the children.
  auto again =
      harness_.Call(leader.process->id(), kTenantShardSplit, TenantShardSplitRequest{"t1", 2});
  EXPECT_EQ(again->status, api::Http::kOk);
  EXPECT_EQ(again->shards.size(), 2u);
}

TEST_F(ShardSplitTest, PageserverFailureAbortsAndTheParentIsReattached) {
  ControllerInstance& leader = StartLeader("ctl-a");
  CreateTenant(leader);
  split_fails_ = true;
  auto split =
      harness_.Call(leader.process->id(), kTenantShardSplit, TenantShardSplitRequest{"t1", 2});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->status, api::Http::kServiceUnavailable);
  EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{kParent}));
  EXPECT_EQ(harness_.tables().shards().at(kParent).splitting, persistence::SplitState::kIdle);
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        ControllerSnapshot snapshot = leader.controller->Snapshot();
        return snapshot.reconcilers_in_flight == 0 && pageserver_->slots.count(kParent) &&
               snapshot.shards.at(kParent).observed.locations.count(1) &&
               snapshot.shards.at(kParent).observed.locations.at(1).has_value();
      },
      Duration::Seconds(30)));
  EXPECT_EQ(harness_.EventsOf(events::kSplit, leader.process->id()).back().Str("phase"), "abort");
}

// The split node's process dies mid-split (the simulated crash loses the reply) and its new
// process re-attaches: the split must not wait out its 30 s call timeout with the parents marked
// splitting, but abort at once (upstream sees the reset connection and rolls back).
TEST_F(ShardSplitTest, PageserverRestartDuringTheSplitAbortsAtOnce) {
  ControllerInstance& leader = StartLeader("ctl-a");
  CreateTenant(leader);
  split_delay_ = Duration::Seconds(100);  // no answer: the process that got the call is gone
  std::optional<absl::StatusOr<TenantShardSplitResponse>> split;
  const sim::ProcessId to = leader.process->id();
  harness_.Async([to, &split](sim::Env& env) {
    split = env.rpc().Call(to, kTenantShardSplit, TenantShardSplitRequest{"t1", 2},
                           Duration::Seconds(120));
  });
  harness_.simulation().RunFor(Duration::Seconds(2));
  ASSERT_FALSE(split.has_value());
  EXPECT_EQ(harness_.tables().shards().at(kParent).splitting, persistence::SplitState::kSplitting);
  auto reattached = harness_.Call(to, api::kReAttach, api::ReAttachRequest{1, std::nullopt, false});
  ASSERT_TRUE(reattached.ok());
  ASSERT_EQ(reattached->status, api::Http::kOk);
  ASSERT_TRUE(harness_.RunUntil([&] { return split.has_value(); }, Duration::Seconds(3)));
  ASSERT_TRUE(split->ok());
  EXPECT_EQ((*split)->status, api::Http::kServiceUnavailable);
  EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{kParent}));
  EXPECT_EQ(harness_.tables().shards().at(kParent).splitting, persistence::SplitState::kIdle);
  bool saw_node_failure = false;
  for (const sim::TraceEvent& event : harness_.EventsOf(events::kSplit, to)) {
    if (event.Str("phase") == "pageserver" &&
        event.Str("result").find("restarted") != std::string_view::npos) {
      saw_node_failure = true;
    }
  }
  EXPECT_TRUE(saw_node_failure);
  EXPECT_EQ(harness_.EventsOf(events::kSplit, to).back().Str("phase"), "abort");
  // The parent is reconciled again (splitting cleared: a reconcile may run).
  EXPECT_TRUE(harness_.RunUntil(
      [&] {
        ControllerSnapshot snapshot = leader.controller->Snapshot();
        return snapshot.reconcilers_in_flight == 0 &&
               snapshot.shards.at(kParent).observed.locations.count(1) &&
               snapshot.shards.at(kParent).observed.locations.at(1).has_value();
      },
      Duration::Seconds(30)));
}

// A two-shard tenant with a shard on each node: node A splits its parent at once, node B takes
// seconds (a large tenant). Node A's pageserver restarts meanwhile and re-attaches: the controller
// answers with what it knows (the parent, not the children), so node A drops the children and
// attaches the parent again. Completing would name children that nothing holds; the split must
// abort instead (a restart of the node a call is still running on is the test above). With
// ctl-split-completes-after-node-restart it completes: rows and memory name the children.
class ShardSplitNodeRestartTest : public ShardSplitTest,
                                  public ::testing::WithParamInterface<bool> {};
INSTANTIATE_TEST_SUITE_P(Hazard, ShardSplitNodeRestartTest, ::testing::Bool());

TEST_P(ShardSplitNodeRestartTest, ARestartOfANodeThatAlreadySplitAbortsTheSplit) {
  const bool defect = GetParam();
  ControllerInstance& leader = StartLeader(
      "ctl-a", defect ? api::Defects({kDefectSplitCompletesAfterNodeRestart}) : api::Defects());
  auto created = harness_.Call(
      leader.process->id(), api::kTenantCreate,
      api::TenantCreateRequest{"t1", 2, 0, persistence::PlacementPolicy::Attached(1), {}});
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, api::Http::kOk);
  const api::TenantShardId shard0{"t1", 0, 2};
  const api::TenantShardId shard1{"t1", 1, 2};
  std::optional<api::NodeId> node_a;
  std::optional<api::NodeId> node_b;
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        ControllerSnapshot snapshot = leader.controller->Snapshot();
        if (snapshot.reconcilers_in_flight != 0 || !snapshot.shards.count(shard0) ||
            !snapshot.shards.count(shard1)) {
          return false;
        }
        node_a = snapshot.shards.at(shard0).intent.attached;
        node_b = snapshot.shards.at(shard1).intent.attached;
        return node_a && node_b && harness_.pageserver(*node_a).slots.count(shard0) &&
               harness_.pageserver(*node_b).slots.count(shard1);
      },
      Duration::Seconds(30)));
  ASSERT_NE(*node_a, *node_b) << "the scheduler spreads a tenant's two shards";
  node_split_delay_[*node_b] = Duration::Seconds(8);
  std::optional<absl::StatusOr<TenantShardSplitResponse>> split;
  const sim::ProcessId to = leader.process->id();
  harness_.Async([to, &split](sim::Env& env) {
    split = env.rpc().Call(to, kTenantShardSplit, TenantShardSplitRequest{"t1", 4},
                           Duration::Seconds(60));
  });
  harness_.simulation().RunFor(Duration::Seconds(2));  // node A has split, node B has not
  ASSERT_FALSE(split.has_value());
  ASSERT_TRUE(harness_.pageserver(*node_a).slots.count(api::TenantShardId{"t1", 0, 4}));
  auto reattached =
      harness_.Call(to, api::kReAttach, api::ReAttachRequest{*node_a, std::nullopt, false});
  ASSERT_TRUE(reattached.ok());
  ASSERT_EQ(reattached->status, api::Http::kOk);
  ASSERT_TRUE(harness_.RunUntil([&] { return split.has_value(); }, Duration::Seconds(30)));
  ASSERT_TRUE(split->ok());
  if (defect) {
    EXPECT_EQ((*split)->status, api::Http::kOk);
    EXPECT_EQ(TenantRows(harness_.tables()).size(), 4u);
    return;
  }
  EXPECT_EQ((*split)->status, api::Http::kServiceUnavailable);
  EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{shard0, shard1}));
  for (const api::TenantShardId& parent : {shard0, shard1}) {
    EXPECT_EQ(harness_.tables().shards().at(parent).splitting, persistence::SplitState::kIdle);
  }
  bool saw_restart = false;
  for (const sim::TraceEvent& event : harness_.EventsOf(events::kSplit, to)) {
    if (event.Str("result").find("restarted after its split") != std::string_view::npos) {
      saw_restart = true;
    }
  }
  EXPECT_TRUE(saw_restart);
  EXPECT_EQ(harness_.EventsOf(events::kSplit, to).back().Str("phase"), "abort");
}

TEST_F(ShardSplitTest, StartupAbortsAHalfDoneSplit) {
  persistence::TenantShardRow parent = ShardRow("t1", 3, 1);
  ASSERT_TRUE(harness_.tables().InsertTenantShards({parent}).ok());
  ASSERT_TRUE(harness_.tables().BeginShardSplit("t1", 0, 2).ok());
  ASSERT_EQ(TenantRows(harness_.tables()).size(), 3u);
  ControllerInstance& leader = StartLeader("ctl-a");
  EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{kParent}));
  EXPECT_EQ(harness_.tables().shards().at(kParent).splitting, persistence::SplitState::kIdle);
  EXPECT_EQ(leader.controller->Snapshot().shards.count(kParent), 1u);
}

class ShardSplitStepDownTest : public ShardSplitTest, public ::testing::WithParamInterface<bool> {};

// Bug #2: a roll's step-down arrives while the split waits for the pageserver.
TEST_P(ShardSplitStepDownTest, StepDownDuringSplit) {
  const bool defect = GetParam();
  ControllerInstance& a =
      StartLeader("ctl-a", defect ? api::Defects({kDefectStepDownIgnoresSplits}) : api::Defects());
  CreateTenant(a);
  split_delay_ = Duration::Seconds(2);
  const sim::ProcessId to = a.process->id();
  harness_.Async([to](sim::Env& env) {
    (void)env.rpc().Call(to, kTenantShardSplit, TenantShardSplitRequest{"t1", 2},
                         Duration::Seconds(60));
  });
  harness_.simulation().RunFor(Duration::Millis(500));
  ControllerInstance& b = harness_.AddController("ctl-b");
  b.process->Start();
  ASSERT_TRUE(harness_.RunUntil([&] { return StartedUp(b); }, Duration::Seconds(30)));
  harness_.simulation().RunFor(Duration::Seconds(5));
  uint64_t served_at = 0;
  uint64_t done_at = 0;
  for (const sim::TraceEvent& event : harness_.events()) {
    if (event.process != a.process->id()) continue;
    if (event.kind == events::kStepDownServed) served_at = event.sequence;
    if (event.kind == events::kSplit && event.Str("phase") == "done") done_at = event.sequence;
  }
  ASSERT_GT(served_at, 0u);
  if (!defect) {
    // The step-down waited for the split: the new leader loaded the children.
    EXPECT_GT(served_at, done_at);
    EXPECT_EQ(TenantRows(harness_.tables()), (std::vector<api::TenantShardId>{kChild0, kChild1}));
    EXPECT_EQ(b.controller->Snapshot().shards.count(kChild0), 1u);
  } else {
    // The new leader aborted (children gone), then the old one completed (parents gone).
    EXPECT_TRUE(TenantRows(harness_.tables()).empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Bug2, ShardSplitStepDownTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("DefectOn") : std::string("DefectOff");
                         });

}  // namespace
}  // namespace storsim::controller::testing
