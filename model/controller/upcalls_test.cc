// Re-attach and validate upcalls (SPEC.md §4.1), including the validate defect (bug #3) and the
// re_attach Deleting policy discrepancy between DB and memory.
#include <gtest/gtest.h>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

class UpcallsTest : public ::testing::Test {
 protected:
  void Start(api::Defects defects = {}) {
    harness_.AddPageserver(1);
    harness_.AddPageserver(2);
    harness_.AddControlPlane();
    ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 3, 1), ShardRow("t2", 5, 2)}).ok());
    controller_ = &harness_.AddController("ctl-a", {}, std::move(defects));
    controller_->process->Start();
    ASSERT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = controller_->controller->Snapshot();
          return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
        },
        Duration::Seconds(30)));
    harness_.simulation().RunFor(Duration::Seconds(2));
  }
  persistence::Generation DbGeneration(const std::string& tenant) {
    return harness_.tables().shards().at(api::TenantShardId{tenant, 0, 0}).generation;
  }
  Harness harness_;
  ControllerInstance* controller_ = nullptr;
};

TEST_F(UpcallsTest, ReAttachBumpsGenerationsAndReturnsAttachedAndSecondary) {
  Start();
  const api::TenantShardId t1{"t1", 0, 0};
  const api::TenantShardId t2{"t2", 0, 0};
  // Start-up attached t1 on node 1 and t2 on node 2 (seeded from generation_pageserver), each
  // with a secondary on the other node.
  ControllerSnapshot before = controller_->controller->Snapshot();
  ASSERT_EQ(before.shards.at(t1).intent.attached, 1u);
  ASSERT_EQ(before.shards.at(t2).intent.secondary, std::vector<api::NodeId>{1});
  const persistence::Generation g1 = DbGeneration("t1");
  auto reply = harness_.Call(controller_->process->id(), api::kReAttach, api::ReAttachRequest{1, {}, false});
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->status, api::Http::kOk);
  ASSERT_EQ(reply->tenants.size(), 2u);
  EXPECT_EQ(reply->tenants[0].id, t1);
  EXPECT_EQ(reply->tenants[0].mode, api::LocationMode::kAttachedSingle);
  EXPECT_EQ(reply->tenants[0].generation, g1.Next());
  EXPECT_EQ(reply->tenants[1].id, t2);
  EXPECT_EQ(reply->tenants[1].mode, api::LocationMode::kSecondary);
  EXPECT_FALSE(reply->tenants[1].generation.has_value());
  EXPECT_EQ(DbGeneration("t1"), g1.Next());
  ControllerSnapshot after = controller_->controller->Snapshot();
  EXPECT_EQ(after.shards.at(t1).generation, g1.Next());
  EXPECT_EQ(after.nodes.at(1).availability, api::NodeAvailability::kWarmingUp);
}

TEST_F(UpcallsTest, ReAttachOfDeletingNodeIsPauseInDbButActiveInMemory) {
  Start();
  ASSERT_TRUE(harness_.tables().UpdateNodeSchedulingPolicy(2, NodeSchedulingPolicy::kDeleting).ok());
  auto reply = harness_.Call(controller_->process->id(), api::kReAttach, api::ReAttachRequest{2, {}, false});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(harness_.tables().nodes().at(2).scheduling_policy, NodeSchedulingPolicy::kPause);
  EXPECT_EQ(controller_->controller->Snapshot().nodes.at(2).policy, NodeSchedulingPolicy::kActive);
}

TEST_F(UpcallsTest, ValidateNeedsMemoryAndDatabaseToAgree) {
  Start();
  const api::TenantShardId t1{"t1", 0, 0};
  const persistence::Generation g = DbGeneration("t1");
  auto valid = harness_.Call(controller_->process->id(), api::kValidate,
                             api::ValidateRequest{{{t1, g}, {api::TenantShardId{"nope", 0, 0}, g}}});
  ASSERT_TRUE(valid.ok());
  ASSERT_EQ(valid->tenants.size(), 1u);  // the unknown shard is omitted
  EXPECT_TRUE(valid->tenants[0].valid);
  // The DB moves on behind the controller's back (a migration in flight elsewhere).
  ASSERT_TRUE(harness_.tables().IncrementGeneration(t1, 2).ok());
  auto stale = harness_.Call(controller_->process->id(), api::kValidate, api::ValidateRequest{{{t1, g}}});
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->tenants.size(), 1u);
  EXPECT_FALSE(stale->tenants[0].valid);  // DB differs
  auto ahead = harness_.Call(controller_->process->id(), api::kValidate,
                             api::ValidateRequest{{{t1, g.Next()}}});
  ASSERT_TRUE(ahead.ok());
  EXPECT_FALSE(ahead->tenants[0].valid);  // memory differs
}

TEST_F(UpcallsTest, DefectValidateTrustsMemoryApprovesStaleGeneration) {
  Start(api::Defects({kDefectValidateTrustsMemory}));
  const api::TenantShardId t1{"t1", 0, 0};
  const persistence::Generation g = DbGeneration("t1");
  ASSERT_TRUE(harness_.tables().IncrementGeneration(t1, 2).ok());
  auto stale = harness_.Call(controller_->process->id(), api::kValidate,
                             api::ValidateRequest{{{t1, g}, {api::TenantShardId{"nope", 0, 0}, g}}});
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->tenants.size(), 2u);
  EXPECT_TRUE(stale->tenants[0].valid);
  EXPECT_TRUE(stale->tenants[1].valid);
}

}  // namespace
}  // namespace storsim::controller::testing
