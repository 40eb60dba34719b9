// Pageserver start-up and location_config rules: nothing activates and location_config answers
// 503 before re-attach; local reconciliation of re-attach answers; generation rules of PUT
// location_config (lower ⇒ 400, same ⇒ in place, higher ⇒ fresh); controller-term fencing; index
// selection never loads an index above the attachment's generation.
#include <gtest/gtest.h>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver_test_util.h"

namespace storsim::pageserver::testing {
namespace {

using api::LocationMode;
using sim::Duration;

const api::TenantShardId kShard{"tenant-a", 0, 0};

TEST(PageserverStartup, NoTenantActivatesAndLocationConfigIsRefusedBeforeReAttach) {
  Harness harness;
  harness.controller.generation[kShard] = 1;
  harness.controller.attached_node[kShard] = 1;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Slot(0, kShard).has_value());
  // Restart while the controller refuses re-attach.
  harness.controller.answer_re_attach = false;
  harness.ps_process().Crash();
  harness.ps_process().Start();
  harness.RunFor(Duration::Seconds(20));
  EXPECT_FALSE(harness.ps().Snapshot().re_attached);
  EXPECT_TRUE(harness.ps().Snapshot().slots.empty());  // no tenant active
  EXPECT_GT(harness.controller.re_attach_calls, 5);     // retried, backoff capped at 3 s
  EXPECT_LE(harness.controller.re_attach_calls, 25);
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 9)),
              api::Http::kServiceUnavailable);
    EXPECT_EQ(harness.GetPage(env, 0, kShard, 1, 0).status, api::Http::kNotFound);
  }));
  harness.controller.answer_re_attach = true;
  ASSERT_TRUE(harness.WaitReAttached());
  std::optional<SlotSnapshot> slot = harness.Slot(0, kShard);
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(slot->mode, LocationMode::kAttachedSingle);
  EXPECT_EQ(slot->generation, api::Generation(3));  // incremented by each re-attach
  ASSERT_TRUE(harness.WaitActive(0, kShard));
}

TEST(PageserverStartup, ReAttachReconcilesLocalDisk) {
  Harness harness;
  const api::TenantShardId kept{"tenant-kept", 0, 0};
  const api::TenantShardId gone{"tenant-gone", 0, 0};
  const api::TenantShardId demoted{"tenant-demoted", 0, 0};
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kept, Harness::Attached(LocationMode::kAttachedSingle, 3)),
              api::Http::kOk);
    EXPECT_EQ(harness.PutConfig(env, 0, gone, Harness::Attached(LocationMode::kAttachedSingle, 1)),
              api::Http::kOk);
    EXPECT_EQ(harness.PutConfig(env, 0, demoted, Harness::Attached(LocationMode::kAttachedSingle, 7)),
              api::Http::kOk);
  }));
  harness.RunFor(Duration::Seconds(5));
  const std::string gone_config = "ps/locations/" + gone.ToString();
  ASSERT_TRUE(harness.ps_process().disk().Exists(gone_config));
  // The controller now knows `kept` at 3 -> 4, nothing of `gone`, and `demoted` at 4 (< 7).
  harness.controller.generation[kept] = 3;
  harness.controller.attached_node[kept] = 1;
  harness.controller.generation[demoted] = 3;
  harness.controller.attached_node[demoted] = 1;
  harness.ps_process().Crash();
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitReAttached());
  EXPECT_EQ(harness.Slot(0, kept)->mode, LocationMode::kAttachedSingle);
  EXPECT_EQ(harness.Slot(0, kept)->generation, api::Generation(4));
  EXPECT_FALSE(harness.Slot(0, gone).has_value());
  EXPECT_FALSE(harness.ps_process().disk().Exists(gone_config));
  EXPECT_EQ(harness.Slot(0, demoted)->mode, LocationMode::kSecondary);  // local 7 > returned 4
  std::vector<sim::TraceEvent> reconciles = harness.EventsOf(events::kLocalReconcile);
  ASSERT_EQ(reconciles.size(), 3u);
}

TEST(PageserverLocationConfig, GenerationRules) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 5)),
              api::Http::kOk);
    // Lower generation: refused, slot untouched.
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedMulti, 4)),
              api::Http::kBadRequest);
    EXPECT_EQ(harness.Slot(0, kShard)->generation, api::Generation(5));
    // Same generation: in place.
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 5),
                                Duration::Seconds(1)),
              api::Http::kOk);
    EXPECT_EQ(harness.Slot(0, kShard)->mode, LocationMode::kAttachedStale);
    // Higher generation: fresh slot.
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedMulti, 6)),
              api::Http::kOk);
    EXPECT_EQ(harness.Slot(0, kShard)->generation, api::Generation(6));
  }));
  std::vector<std::string> actions;
  for (const sim::TraceEvent& event : harness.EventsOf(events::kLocationConfig)) {
    actions.emplace_back(event.Str("action"));
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"fresh", "refused_lower_gen", "in_place", "fresh"}));
  // Detached: the slot and its local data go away.
  harness.RunFor(Duration::Seconds(3));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, api::LocationConfig{}), api::Http::kOk);
  }));
  EXPECT_FALSE(harness.Slot(0, kShard).has_value());
  EXPECT_TRUE(harness.ps_process().disk().List(LocalShardPrefix(kShard)).empty());
}

TEST(PageserverLocationConfig, ControllerTermFencing) {
  PageserverOptions options = Harness::DefaultOptions();
  options.check_controller_term = true;
  Harness harness(3, options);
  harness.controller.controller_term = 4;
  ASSERT_TRUE(harness.WaitReAttached());
  EXPECT_EQ(harness.ps().Snapshot().controller_term, 4u);
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard,
                                Harness::Attached(LocationMode::kAttachedSingle, 1, 3)),
              api::Http::kBadRequest);
    EXPECT_EQ(harness.PutConfig(env, 0, kShard,
                                Harness::Attached(LocationMode::kAttachedSingle, 1, 6)),
              api::Http::kOk);
    EXPECT_EQ(harness.PutConfig(env, 0, kShard,
                                Harness::Attached(LocationMode::kAttachedSingle, 2, 5)),
              api::Http::kBadRequest);
  }));
  // The highest term is persisted.
  harness.controller.controller_term = 0;
  harness.ps_process().Crash();
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitReAttached());
  EXPECT_EQ(harness.ps().Snapshot().controller_term, 6u);
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard,
                                Harness::Attached(LocationMode::kAttachedSingle, 3, 5)),
              api::Http::kBadRequest);
  }));
}

TEST(PageserverLocationConfig, WithoutFencingAnyTermIsAccepted) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 1, 6)),
              api::Http::kOk);
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 2, 5)),
              api::Http::kOk);
  }));
}

// Writes an index object for `generation` with a recognisable disk_consistent_lsn.
void PutIndex(Harness& harness, sim::Env& env, uint32_t generation, api::Lsn dcl) {
  IndexPart index;
  index.generation = api::Generation(generation);
  index.disk_consistent_lsn = dcl;
  auto client = harness.Storage(env);
  ASSERT_TRUE(client.Put(IndexKey(kShard, 1, api::Generation(generation)), EncodeIndex(index)).ok());
}

int64_t LoadedIndexGeneration(Harness& harness) {
  std::vector<sim::TraceEvent> loads = harness.EventsOf(events::kIndexLoad);
  SIM_CHECK(!loads.empty());
  return loads.back().Int("index_gen");
}

TEST(PageserverAttach, NeverLoadsAnIndexAboveItsGeneration) {
  Harness harness;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    PutIndex(harness, env, 2, 20);
    PutIndex(harness, env, 7, 70);  // a newer attachment's index: must never be loaded at 5
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 5)),
              api::Http::kOk);
  }));
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kIndexLoad).empty(); }));
  EXPECT_EQ(LoadedIndexGeneration(harness), 2);  // found by LIST: max generation <= 5
  ASSERT_TRUE(harness.RunUntil([&] {
    return harness.Slot(0, kShard)->timeline.state == TimelineState::kActive;
  }));
  EXPECT_EQ(harness.Slot(0, kShard)->timeline.disk_consistent_lsn, 20u);
  // At 8, g-1 = 7 is the normal case.
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 8)),
              api::Http::kOk);
  }));
  ASSERT_TRUE(harness.RunUntil([&] { return harness.EventsOf(events::kIndexLoad).size() == 2; }));
  EXPECT_EQ(LoadedIndexGeneration(harness), 7);
  for (const sim::TraceEvent& event : harness.EventsOf(events::kIndexLoad)) {
    EXPECT_LE(event.Int("index_gen"), event.Int("gen"));  // S7
  }
}

TEST(PageserverApi, ListGetLsnsAndWaitLsn) {
  Harness harness;
  harness.controller.attached_node[kShard] = 1;
  ASSERT_TRUE(harness.WaitActive(0, kShard));
  const sim::ProcessId ps = harness.ps_process().id();
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    auto list = env.rpc().Call(ps, api::kListLocationConfigs, api::ListLocationConfigsRequest{},
                               Duration::Seconds(5));
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->shards.size(), 1u);
    ASSERT_TRUE(list->shards[0].second.has_value());
    EXPECT_EQ(list->shards[0].second->generation, api::Generation(1));
    auto missing = env.rpc().Call(ps, api::kGetLocationConfig,
                                  api::GetLocationConfigRequest{api::TenantShardId{"nope", 0, 0}},
                                  Duration::Seconds(5));
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->status, api::Http::kNotFound);
    api::Lsn last = 0;
    for (int i = 0; i < 5; ++i) last = harness.Append(env, "tenant-a", i, "l");
    auto waited = env.rpc().Call(
        ps, api::kWaitLsn, api::WaitLsnRequest{kShard, {{1, last}}, Duration::Seconds(10)},
        Duration::Seconds(15));
    ASSERT_TRUE(waited.ok());
    EXPECT_EQ(waited->status, api::Http::kOk);
    auto lsns = env.rpc().Call(ps, api::kTimelineLsns, api::TimelineLsnsRequest{kShard},
                               Duration::Seconds(5));
    ASSERT_TRUE(lsns.ok());
    ASSERT_EQ(lsns->timelines.size(), 1u);
    EXPECT_EQ(lsns->timelines[0].last_record_lsn, last);
    auto too_far = env.rpc().Call(
        ps, api::kWaitLsn, api::WaitLsnRequest{kShard, {{1, last + 10}}, Duration::Seconds(2)},
        Duration::Seconds(15));
    ASSERT_TRUE(too_far.ok());
    EXPECT_EQ(too_far->status, api::Http::kRequestTimeout);
    auto utilization = env.rpc().Call(ps, api::kUtilization, api::UtilizationRequest{},
                                      Duration::Seconds(5));
    ASSERT_TRUE(utilization.ok());
    EXPECT_EQ(utilization->shard_count, 1u);
  }));
}

}  // namespace
}  // namespace storsim::pageserver::testing
