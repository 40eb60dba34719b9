// Pageserver shard split (split_api.h): the children are attached at the parent's generation with
// the parent's data (through a copy of its index that references the parent's layers), ingest
// the rest of the WAL, survive a restart, never delete the ancestral layers they share, and a
// retry of a split that happened answers 200; refusals leave the parent running.
#include <gtest/gtest.h>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver_test_util.h"

namespace storsim::pageserver::testing {
namespace {

using api::LocationMode;
using sim::Duration;

const api::TenantShardId kParent{"tenant-a", 0, 0};
const api::TenantShardId kChild0{"tenant-a", 0, 2};
const api::TenantShardId kChild1{"tenant-a", 1, 2};

ShardSplitResponse Split(sim::Env& env, Harness& harness, const api::TenantShardId& parent,
                         uint8_t count) {
  auto reply = env.rpc().Call(harness.ps_process().id(), kShardSplit,
                              ShardSplitRequest{parent, count}, Duration::Seconds(30));
  EXPECT_TRUE(reply.ok());
  return reply.ok() ? *reply : ShardSplitResponse{api::Http::kInternalError, {}};
}

TEST(PageserverSplit, ChildrenCarryTheParentsDataAndGeneration) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(
        harness.PutConfig(env, 0, kParent, Harness::Attached(LocationMode::kAttachedSingle, 3)),
        api::Http::kOk);
    for (int i = 0; i < 30; ++i)
      last = harness.Append(env, "tenant-a", i % 10, "v" + std::to_string(i));
  }));
  ASSERT_TRUE(harness.WaitActive(0, kParent));
  harness.RunFor(Duration::Seconds(10));
  // The controller's rows: the children copy the parent's generation.
  harness.controller.generation[kChild0] = 3;
  harness.controller.generation[kChild1] = 3;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(Split(env, harness, kParent, 1).status, api::Http::kBadRequest);  // not a split
    ShardSplitResponse response = Split(env, harness, kParent, 2);
    EXPECT_EQ(response.status, api::Http::kOk);
    EXPECT_EQ(response.children, (std::vector<api::TenantShardId>{kChild0, kChild1}));
    // A retry of a split that already happened.
    EXPECT_EQ(Split(env, harness, kParent, 2).status, api::Http::kOk);
  }));
  EXPECT_FALSE(harness.Slot(0, kParent).has_value());
  for (const api::TenantShardId& child : {kChild0, kChild1}) {
    ASSERT_TRUE(harness.WaitActive(0, child)) << child.ToString();
    EXPECT_EQ(harness.Slot(0, child)->mode, LocationMode::kAttachedSingle);
    EXPECT_EQ(harness.Slot(0, child)->generation, api::Generation(3));
    EXPECT_TRUE(harness.StorageHas(
        IndexKey(child, harness.ps().options().timeline_id, api::Generation(3))));
  }
  // Each child serves its own keys (stripe 0 counts as 1: key k lives on shard k % 2), old data
  // from the ancestral layers and new writes ingested after the split.
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (uint64_t key = 0; key < 10; ++key) {
      const api::TenantShardId& child = key % 2 == 0 ? kChild0 : kChild1;
      api::GetPageResponse page = harness.GetPage(env, 0, child, key, last);
      EXPECT_EQ(page.status, api::Http::kOk) << key;
      EXPECT_EQ(page.value, "v" + std::to_string(20 + key)) << key;
    }
    last = harness.Append(env, "tenant-a", 3, "after");
    api::GetPageResponse page = harness.GetPage(env, 0, kChild1, 3, last);
    EXPECT_EQ(page.value, "after");
  }));
  std::vector<sim::TraceEvent> splits = harness.EventsOf(events::kShardSplit);
  ASSERT_EQ(splits.size(), 3u);
  EXPECT_EQ(splits[1].Str("result"), "split");
  EXPECT_EQ(splits[2].Str("result"), "already_split");
}

// A large tenant (split_prepare): the split answers only after it prepared the children, and the
// parent keeps its slot, attached, meanwhile.
TEST(PageserverSplit, PreparingTheChildrenTakesSplitPrepare) {
  PageserverOptions options = Harness::DefaultOptions();
  options.split_prepare = Duration::Seconds(12);
  Harness harness(1, options);
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(
        harness.PutConfig(env, 0, kParent, Harness::Attached(LocationMode::kAttachedSingle, 3)),
        api::Http::kOk);
  }));
  ASSERT_TRUE(harness.WaitActive(0, kParent));
  harness.RunFor(Duration::Seconds(10));
  harness.controller.generation[kChild0] = 3;
  harness.controller.generation[kChild1] = 3;
  sim::Instant asked;
  sim::Instant answered;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    env.Spawn("test.watch", [&] {
      env.Sleep(Duration::Seconds(11));
      EXPECT_EQ(harness.Slot(0, kParent)->mode, LocationMode::kAttachedSingle);
    });
    asked = env.Now();
    EXPECT_EQ(Split(env, harness, kParent, 2).status, api::Http::kOk);
    answered = env.Now();
  }));
  EXPECT_GE(answered - asked, Duration::Seconds(12));
  EXPECT_LT(answered - asked, Duration::Seconds(13));
  EXPECT_FALSE(harness.Slot(0, kParent).has_value());
}

TEST(PageserverSplit, ChildrenKeepAncestralLayersThroughCompactionAndRestart) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(
        harness.PutConfig(env, 0, kParent, Harness::Attached(LocationMode::kAttachedSingle, 1)),
        api::Http::kOk);
    for (int i = 0; i < 40; ++i) harness.Append(env, "tenant-a", i % 8, "p" + std::to_string(i));
  }));
  ASSERT_TRUE(harness.WaitActive(0, kParent));
  harness.RunFor(Duration::Seconds(10));
  harness.controller.generation[kChild0] = 1;
  harness.controller.generation[kChild1] = 1;
  ASSERT_TRUE(harness.Run(
      [&](sim::Env& env) { EXPECT_EQ(Split(env, harness, kParent, 2).status, api::Http::kOk); }));
  // The children write and compact for a while; deletions are validated and executed.
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 60; ++i) {
      last = harness.Append(env, "tenant-a", 100 + i % 6, "c" + std::to_string(i));
      env.Sleep(Duration::Millis(200));
    }
  }));
  harness.RunFor(Duration::Seconds(30));
  // Every layer either child's index references is still in remote storage.
  for (const sim::TraceEvent& event : harness.EventsOf(events::kLayerMissing)) {
    ADD_FAILURE() << "missing layer " << event.Str("key");
  }
  // A restart: the children re-attach (the controller now knows them) and reload.
  harness.controller.attached_node[kChild0] = 1;
  harness.controller.attached_node[kChild1] = 1;
  harness.ps_process().Crash();
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitActive(0, kChild0));
  ASSERT_TRUE(harness.WaitActive(0, kChild1));
  EXPECT_TRUE(harness.EventsOf(events::kLayerMissing).empty());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (uint64_t key = 0; key < 8; ++key) {
      const api::TenantShardId& child = key % 2 == 0 ? kChild0 : kChild1;
      api::GetPageResponse page = harness.GetPage(env, 0, child, key, last);
      EXPECT_EQ(page.status, api::Http::kOk) << key;
      EXPECT_EQ(page.value, "p" + std::to_string(32 + key)) << key;
    }
  }));
}

TEST(PageserverSplit, RefusalsLeaveTheParentRunning) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(Split(env, harness, kParent, 2).status, api::Http::kNotFound);  // no such slot
    EXPECT_EQ(
        harness.PutConfig(env, 0, kParent, Harness::Attached(LocationMode::kAttachedMulti, 2)),
        api::Http::kOk);
  }));
  ASSERT_TRUE(harness.WaitActive(0, kParent));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(Split(env, harness, kParent, 2).status, api::Http::kConflict);  // not Single
  }));
  EXPECT_EQ(harness.Slot(0, kParent)->mode, LocationMode::kAttachedMulti);
  EXPECT_FALSE(harness.Slot(0, kChild0).has_value());
}

}  // namespace
}  // namespace storsim::pageserver::testing
