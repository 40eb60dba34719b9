// Reconciler behaviour (SPEC.md §5.3, §6.2–6.6): attach with a new generation and notify, skip
// the increment when observed matches, the refresh of unknown observed state (and bug #6), the
// live-migration step order, and failover after max_offline.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

const api::TenantShardId kShard{"t1", 0, 0};

bool Idle(ControllerInstance& instance) {
  ControllerSnapshot snapshot = instance.controller->Snapshot();
  return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
}

// Index of the first log line at or after `from` containing `needle`; npos when none.
size_t Find(const std::vector<std::string>& log, size_t from, const std::string& needle) {
  for (size_t i = from; i < log.size(); ++i) {
    if (log[i].find(needle) != std::string::npos) return i;
  }
  return std::string::npos;
}

class ReconcileTest : public ::testing::Test {
 protected:
  ControllerInstance& StartController(api::Defects defects = {}) {
    ControllerInstance& instance = harness_.AddController("ctl-a", {}, std::move(defects));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil([&] { return Idle(instance); }, Duration::Seconds(30)));
    return instance;
  }
  void Create(ControllerInstance& instance, const std::string& tenant, uint32_t secondaries) {
    auto created = harness_.Call(instance.process->id(), api::kTenantCreate,
                                 api::TenantCreateRequest{tenant, 0, 0,
                                                          persistence::PlacementPolicy::Attached(secondaries), {}});
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->status, api::Http::kOk);
  }
  Harness harness_;
};

TEST_F(ReconcileTest, CreateAttachesWithNewGenerationAndNotifies) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ControllerInstance& a = StartController();
  Create(a, "t1", 1);
  const auto& row = harness_.tables().shards().at(kShard);
  EXPECT_EQ(row.generation, persistence::Generation(1));
  ASSERT_TRUE(row.generation_pageserver.has_value());
  FakePageserver& attached = *row.generation_pageserver == 1 ? ps1 : ps2;
  FakePageserver& secondary = *row.generation_pageserver == 1 ? ps2 : ps1;
  ASSERT_TRUE(attached.slots.count(kShard));
  EXPECT_EQ(attached.slots.at(kShard).mode, api::LocationMode::kAttachedSingle);
  EXPECT_EQ(attached.slots.at(kShard).generation, persistence::Generation(1));
  ASSERT_TRUE(secondary.slots.count(kShard));
  EXPECT_EQ(secondary.slots.at(kShard).mode, api::LocationMode::kSecondary);
  ASSERT_TRUE(cplane.applied.count("t1"));
  EXPECT_EQ(cplane.applied.at("t1").shards, (std::vector<api::ShardLocation>{{attached.node_id, 0}}));
  // Observed == intent afterwards: nothing left to do.
  harness_.simulation().RunFor(Duration::Seconds(25));
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation, persistence::Generation(1));
}

TEST_F(ReconcileTest, RestartSkipsIncrementWhenObservedMatches) {
  harness_.AddPageserver(1);
  harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ControllerInstance& a = StartController();
  Create(a, "t1", 1);
  const size_t log_before = harness_.log().size();
  a.process->Restart();
  harness_.simulation().RunFor(Duration::Millis(1));
  ASSERT_TRUE(harness_.RunUntil([&] { return Idle(a); }, Duration::Seconds(30)));
  harness_.simulation().RunFor(Duration::Seconds(25));
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation, persistence::Generation(1));
  EXPECT_EQ(Find(harness_.log(), log_before, " put "), std::string::npos);
}

// A node that was down while the controller started comes back: its shard's observed state is
// unknown. The reconciler refreshes it and finds it right (no increment); defect #6 increments.
class UnknownObservedTest : public ReconcileTest,
                            public ::testing::WithParamInterface<bool> {};

TEST_P(UnknownObservedTest, RefreshAvoidsSpuriousIncrement) {
  const bool defect = GetParam();
  FakePageserver& ps1 = harness_.AddPageserver(1);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.slots[kShard] = Attached(1);
  ps1.process->Crash();
  ControllerInstance& a = StartController(defect ? api::Defects({kDefectNoRefreshUnknownObserved})
                                                 : api::Defects());
  ps1.process->Start();
  // The node re-attaches, as a restarted pageserver does (its slot keeps g1 in this fake).
  auto reply = harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false});
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->tenants.size(), 1u);
  ps1.slots[kShard] = Attached(2);  // what a real pageserver would attach with
  harness_.simulation().RunFor(Duration::Seconds(40));
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation,
            persistence::Generation(defect ? 3 : 2));
  EXPECT_EQ(Find(harness_.log(), 0, "ps1 get") != std::string::npos, !defect);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutDefect, UnknownObservedTest, ::testing::Bool());

TEST_F(ReconcileTest, LiveMigrationStepOrder) {
  harness_.AddPageserver(1);
  harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ControllerInstance& a = StartController();
  Create(a, "t1", 1);
  const api::NodeId origin = *harness_.tables().shards().at(kShard).generation_pageserver;
  const api::NodeId destination = origin == 1 ? 2 : 1;
  const std::string o = "ps" + std::to_string(origin);
  const std::string d = "ps" + std::to_string(destination);
  const size_t start = harness_.log().size();
  auto migrated = harness_.Call(a.process->id(), api::kTenantShardMigrate,
                                api::TenantShardMigrateRequest{kShard, destination});
  ASSERT_TRUE(migrated.ok());
  ASSERT_EQ(migrated->status, api::Http::kOk);
  const std::vector<std::string>& log = harness_.log();
  const std::vector<std::string> steps = {
      o + " put t1 AttachedStale g1", o + " lsns", d + " download",
      d + " put t1 AttachedMulti g2", d + " wait_lsn", d + " lsns",
      "cplane notify t1 0:" + std::to_string(destination), o + " put t1 Secondary",
      d + " put t1 AttachedSingle g2"};
  size_t at = start;
  for (const std::string& step : steps) {
    const size_t found = Find(log, at, step);
    ASSERT_NE(found, std::string::npos) << "missing step in order: " << step;
    at = found + 1;
  }
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation_pageserver, destination);
}

TEST_F(ReconcileTest, FailoverAfterMaxOffline) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  FakeControlPlane& cplane = harness_.AddControlPlane();
  ControllerInstance& a = StartController();
  Create(a, "t1", 1);
  FakePageserver& origin = harness_.tables().shards().at(kShard).generation_pageserver == 1u ? ps1 : ps2;
  FakePageserver& other = &origin == &ps1 ? ps2 : ps1;
  origin.process->Crash();
  harness_.simulation().RunFor(Duration::Seconds(25));
  EXPECT_EQ(a.controller->Snapshot().shards.at(kShard).intent.attached, origin.node_id);
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        return other.slots.count(kShard) &&
               other.slots.at(kShard).mode == api::LocationMode::kAttachedSingle;
      },
      Duration::Seconds(30)));
  EXPECT_EQ(other.slots.at(kShard).generation, persistence::Generation(2));
  EXPECT_EQ(a.controller->Snapshot().nodes.at(origin.node_id).availability,
            api::NodeAvailability::kOffline);
  ASSERT_TRUE(harness_.RunUntil([&] { return cplane.applied.at("t1").shards.front().node_id ==
                                             other.node_id; },
                                Duration::Seconds(5)));
}

}  // namespace
}  // namespace storsim::controller::testing
