// Pageserver deletions and remote_consistent_lsn: a list executes only when validated for its
// exact generation (dropped otherwise), the generation-minus-one relabel after restart, blocking
// in AttachedMulti/Stale until Single, remote_consistent_lsn fed back only after validation, and
// the upload barrier (bug #16, defect "upload-barrier-missing").
#include <gtest/gtest.h>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver_test_util.h"

namespace storsim::pageserver::testing {
namespace {

using api::LocationMode;
using sim::Duration;

const api::TenantShardId kShard{"tenant-a", 0, 0};

void AttachThroughReAttach(Harness& harness) {
  harness.controller.generation[kShard] = 0;
  harness.controller.attached_node[kShard] = 1;
  ASSERT_TRUE(harness.WaitActive(0, kShard));
}

// Appends enough records for four flushed layers and hence one compaction.
void WriteForCompaction(Harness& harness) {
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 40; ++i) {
      harness.Append(env, "tenant-a", i % 6, "d" + std::to_string(i));
      env.Sleep(Duration::Millis(300));  // one flush per ~8 records
    }
  }));
}

// Keys of layers written by the first compaction's inputs (uploaded, then unlinked).
std::vector<std::string> UploadedLayerKeys(Harness& harness) {
  std::vector<std::string> keys;
  for (const sim::TraceEvent& event : harness.EventsOf(events::kLayerUpload)) {
    keys.emplace_back(event.Str("key"));
  }
  return keys;
}

size_t LiveCount(Harness& harness, const std::vector<std::string>& keys) {
  size_t live = 0;
  for (const std::string& key : keys) live += harness.StorageHas(key) ? 1 : 0;
  return live;
}

TEST(PageserverDeletion, ExecutesWhenValidated) {
  Harness harness;
  AttachThroughReAttach(harness);
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(10));
  ASSERT_FALSE(harness.EventsOf(events::kCompaction).empty());
  ASSERT_FALSE(harness.EventsOf(events::kDeletionExecute).empty());
  EXPECT_TRUE(harness.EventsOf(events::kDeletionDropped).empty());
  const std::vector<std::string> uploaded = UploadedLayerKeys(harness);
  // Only the layers the newest index references are left.
  EXPECT_LT(LiveCount(harness, uploaded), uploaded.size());
  EXPECT_EQ(harness.ps().Snapshot().deletion_queue.lists_pending, 0u);
}

TEST(PageserverDeletion, ListIsDroppedWhenValidateRefuses) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.generation[kShard] = 2;  // another node got a newer generation
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(10));
  ASSERT_FALSE(harness.EventsOf(events::kCompaction).empty());
  EXPECT_TRUE(harness.EventsOf(events::kDeletionExecute).empty());
  ASSERT_FALSE(harness.EventsOf(events::kDeletionDropped).empty());
  const std::vector<std::string> uploaded = UploadedLayerKeys(harness);
  EXPECT_EQ(LiveCount(harness, uploaded), uploaded.size());  // leaked, never deleted
  // Nothing was validated, so nothing reached the safekeeper either.
  EXPECT_EQ(harness.Slot(0, kShard)->timeline.remote_consistent_lsn_visible, 0u);
}

TEST(PageserverDeletion, ListOfPreviousGenerationIsRelabelledAfterRestart) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;  // lists stay pending on disk
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(5));
  ASSERT_GT(harness.ps().Snapshot().deletion_queue.lists_pending, 0u);
  harness.ps_process().Crash();
  harness.controller.answer_validate = true;
  harness.ps_process().Start();  // re-attach: generation 1 -> 2
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kDeletionExecute).empty(); }));
  std::vector<sim::TraceEvent> relabels = harness.EventsOf(events::kDeletionRelabel);
  ASSERT_FALSE(relabels.empty());
  EXPECT_EQ(relabels[0].Int("from_gen"), 1);
  EXPECT_EQ(relabels[0].Int("to_gen"), 2);
  EXPECT_TRUE(harness.EventsOf(events::kDeletionDropped).empty());
}

TEST(PageserverDeletion, OlderListIsNotRelabelledAndIsDropped) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(5));
  ASSERT_GT(harness.ps().Snapshot().deletion_queue.lists_pending, 0u);
  harness.ps_process().Crash();
  harness.controller.answer_validate = true;
  harness.controller.generation[kShard] = 5;  // someone else held 6..: re-attach gives 6
  harness.ps_process().Start();
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kDeletionDropped).empty(); }));
  EXPECT_TRUE(harness.EventsOf(events::kDeletionRelabel).empty());
  EXPECT_TRUE(harness.EventsOf(events::kDeletionExecute).empty());
}

TEST(PageserverDeletion, BlockedInMultiAndReleasedInSingle) {
  Harness harness;
  harness.controller.generation[kShard] = 1;
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedMulti, 1)),
              api::Http::kOk);
  }));
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(10));
  ASSERT_FALSE(harness.EventsOf(events::kCompaction).empty());  // compaction runs in Multi
  EXPECT_TRUE(harness.EventsOf(events::kDeletionExecute).empty());
  EXPECT_GT(harness.Slot(0, kShard)->timeline.blocked_deletions, 0u);
  const std::vector<std::string> uploaded = UploadedLayerKeys(harness);
  EXPECT_EQ(LiveCount(harness, uploaded), uploaded.size());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 1)),
              api::Http::kOk);
  }));
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kDeletionExecute).empty(); }));
  EXPECT_FALSE(harness.EventsOf(events::kDeletionReleased).empty());
  EXPECT_EQ(harness.Slot(0, kShard)->timeline.blocked_deletions, 0u);
  EXPECT_LT(LiveCount(harness, UploadedLayerKeys(harness)), UploadedLayerKeys(harness).size());
}

TEST(PageserverDeletion, ValidatedListIsHeldWhenTheShardWentStale) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;
  WriteForCompaction(harness);
  harness.RunFor(Duration::Seconds(5));
  ASSERT_GT(harness.ps().Snapshot().deletion_queue.lists_pending, 0u);
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 1)),
              api::Http::kOk);
  }));
  harness.controller.answer_validate = true;
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kDeletionBlocked).empty(); }));
  EXPECT_TRUE(harness.EventsOf(events::kDeletionExecute).empty());  // S13
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 1)),
              api::Http::kOk);
  }));
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kDeletionExecute).empty(); }));
}

TEST(PageserverRemoteLsn, NotFedBackBeforeValidation) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 20; ++i) harness.Append(env, "tenant-a", i, "r");
  }));
  harness.RunFor(Duration::Seconds(10));
  std::optional<SlotSnapshot> slot = harness.Slot(0, kShard);
  ASSERT_GT(slot->timeline.remote_consistent_lsn_projected, 0u);
  EXPECT_EQ(slot->timeline.remote_consistent_lsn_visible, 0u);
  EXPECT_TRUE(harness.EventsOf(events::kFeedback).empty());
  safekeeper::SafekeeperSnapshot sk = harness.safekeeper.Snapshot();
  ASSERT_EQ(sk.timelines.size(), 1u);
  EXPECT_TRUE(sk.timelines[0].feedback.empty());
  EXPECT_EQ(sk.timelines[0].trimmed_below, 1u);
  harness.controller.answer_validate = true;
  ASSERT_TRUE(harness.RunUntil([&] { return !harness.EventsOf(events::kFeedback).empty(); }));
  slot = harness.Slot(0, kShard);
  EXPECT_GT(slot->timeline.remote_consistent_lsn_visible, 0u);
  harness.RunFor(Duration::Seconds(3));
  sk = harness.safekeeper.Snapshot();
  ASSERT_EQ(sk.timelines[0].feedback.size(), 1u);
  // S10: trimmed only up to the validated value.
  EXPECT_LE(sk.timelines[0].trimmed_below - 1, slot->timeline.remote_consistent_lsn_visible);
  EXPECT_GT(sk.timelines[0].trimmed_below, 1u);
}

TEST(PageserverRemoteLsn, DiscardedInStale) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 20; ++i) harness.Append(env, "tenant-a", i, "r");
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 1),
                                Duration::Seconds(5)),
              api::Http::kOk);
  }));
  harness.controller.answer_validate = true;
  harness.RunFor(Duration::Seconds(10));
  EXPECT_GT(harness.Slot(0, kShard)->timeline.remote_consistent_lsn_projected, 0u);
  EXPECT_EQ(harness.Slot(0, kShard)->timeline.remote_consistent_lsn_visible, 0u);
  EXPECT_TRUE(harness.EventsOf(events::kFeedback).empty());
}

// Bug #16: a future layer of the same generation is deleted and the same key re-uploaded.
// Returns whether the newest index references a key that is missing from storage.
bool RunFutureLayerScenario(bool barrier_missing) {
  api::Defects defects;
  if (barrier_missing) defects.Enable(kDefectUploadBarrierMissing);
  PageserverOptions options = Harness::DefaultOptions();
  options.checkpoint_timeout = Duration::Minutes(10);  // flush by size only: same layer ranges
  Harness harness(9, options, defects);
  harness.controller.increment_on_re_attach = false;  // the pre-generations world
  harness.controller.generation[kShard] = 1;
  harness.controller.attached_node[kShard] = 1;
  SIM_CHECK(harness.RunUntil([&] {
    std::optional<SlotSnapshot> slot = harness.Slot(0, kShard);
    return slot && slot->timeline.state == TimelineState::kActive &&
           slot->timeline.upload_queue == 0 && slot->timeline.remote_consistent_lsn_projected == 0 &&
           !harness.EventsOf(events::kIndexUpload).empty();
  }));
  harness.storage_state.faults.outage = true;  // the layer is flushed locally, never indexed
  SIM_CHECK(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 8; ++i) harness.Append(env, "tenant-a", i, "f");
  }));
  SIM_CHECK(harness.RunUntil([&] { return harness.Slot(0, kShard)->timeline.disk_consistent_lsn == 8; }));
  harness.ps_process().Crash();
  harness.storage_state.faults.outage = false;
  harness.ps_process().Start();
  SIM_CHECK(harness.RunUntil([&] { return !harness.EventsOf(events::kFutureLayer).empty(); }));
  harness.RunFor(Duration::Seconds(20));
  // The newest index in storage, and whether every layer it references exists (S8).
  IndexPart index;
  SIM_CHECK(harness.Run([&](sim::Env& env) {
    auto client = harness.Storage(env);
    auto bytes = client.Get(IndexKey(kShard, 1, api::Generation(1)));
    SIM_CHECK(bytes.ok());
    index = DecodeIndex(bytes->bytes);
  }));
  SIM_CHECK(!index.layers.empty());
  for (const LayerDesc& desc : index.layers) {
    if (!harness.StorageHas(LayerKey(desc, 1))) return true;
  }
  return false;
}

TEST(PageserverUploadBarrier, BarrierKeepsTheIndexComplete) {
  EXPECT_FALSE(RunFutureLayerScenario(/*barrier_missing=*/false));
}

TEST(PageserverUploadBarrier, DefectLetsTheIndexReferenceAMissingObject) {
  EXPECT_TRUE(RunFutureLayerScenario(/*barrier_missing=*/true));
}

TEST(PageserverDefects, ListsTheUploadBarrierDefect) {
  std::vector<api::DefectInfo> defects = PageserverDefects();
  ASSERT_EQ(defects.size(), 1u);
  EXPECT_EQ(defects[0].name, kDefectUploadBarrierMissing);
  EXPECT_EQ(defects[0].invariant, "S8");
}

TEST(PageserverDeletion, ValidatesInChunks) {
  PageserverOptions options = Harness::DefaultOptions();
  options.validate_chunk_shards = 2;
  Harness harness(4, options);
  std::vector<api::TenantShardId> shards;
  for (int i = 0; i < 3; ++i) {
    shards.push_back(api::TenantShardId{"tenant-" + std::to_string(i), 0, 0});
    harness.controller.attached_node[shards.back()] = 1;
  }
  ASSERT_TRUE(harness.WaitReAttached());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 3; ++i) harness.Append(env, "tenant-" + std::to_string(i), 1, "c");
  }));
  harness.RunFor(Duration::Seconds(10));
  size_t largest = 0;
  for (const api::ValidateRequest& request : harness.controller.validate_requests) {
    EXPECT_LE(request.tenants.size(), 2u);
    largest = std::max(largest, request.tenants.size());
  }
  EXPECT_EQ(largest, 2u);
  for (const api::TenantShardId& shard : shards) {
    EXPECT_GT(harness.Slot(0, shard)->timeline.remote_consistent_lsn_visible, 0u);
  }
}

TEST(PageserverDeletion, ValidListOfAnOlderGenerationIsStillDropped) {
  Harness harness;
  AttachThroughReAttach(harness);
  harness.controller.answer_validate = false;
  WriteForCompaction(harness);  // a list in generation 1 stays pending
  harness.RunFor(Duration::Seconds(5));
  ASSERT_GT(harness.ps().Snapshot().deletion_queue.lists_pending, 0u);
  harness.ps_process().Crash();
  harness.controller.generation[kShard] = 2;  // re-attach gives 3: no relabel of 1
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitActive(0, kShard));
  WriteForCompaction(harness);  // a list in generation 3
  ASSERT_TRUE(harness.RunUntil([&] {
    return harness.ps().Snapshot().deletion_queue.lists_pending >= 2;
  }));
  harness.controller.answer_validate = true;
  ASSERT_TRUE(harness.RunUntil([&] {
    return harness.ps().Snapshot().deletion_queue.lists_pending == 0;
  }));
  // One validation for generation 3 (valid): the generation-3 list runs, the generation-1 list,
  // though its shard was answered valid, is dropped.
  std::vector<sim::TraceEvent> dropped = harness.EventsOf(events::kDeletionDropped);
  std::vector<sim::TraceEvent> executed = harness.EventsOf(events::kDeletionExecute);
  ASSERT_FALSE(dropped.empty());
  ASSERT_FALSE(executed.empty());
  for (const sim::TraceEvent& event : dropped) {
    EXPECT_EQ(event.Int("gen"), 1);
    EXPECT_EQ(event.Int("validated_gen"), 3);
    EXPECT_EQ(event.Int("valid"), 1);
  }
  for (const sim::TraceEvent& event : executed) EXPECT_EQ(event.Int("gen"), 3);
}

// The validator flushes every deletion_flush_period, or earlier once deletion_flush_keys are
// pending.
TEST(PageserverDeletion, FlushesOnKeyCountOrPeriod) {
  for (const bool by_count : {true, false}) {
    PageserverOptions options = Harness::DefaultOptions();
    options.deletion_flush_period = Duration::Minutes(10);
    options.deletion_flush_keys = by_count ? 2 : 16384;
    Harness harness(6, options);
    AttachThroughReAttach(harness);
    WriteForCompaction(harness);
    harness.RunFor(Duration::Seconds(20));
    ASSERT_FALSE(harness.EventsOf(events::kDeletionEnqueue).empty());
    EXPECT_EQ(harness.EventsOf(events::kDeletionExecute).empty(), !by_count) << by_count;
    if (!by_count) {
      harness.RunFor(Duration::Minutes(10));
      EXPECT_FALSE(harness.EventsOf(events::kDeletionExecute).empty());
    }
  }
}

}  // namespace
}  // namespace storsim::pageserver::testing
