// S6, S8, S10, S13 checkers fire on violating histories and accept legal ones.
#include "scenarios/invariants/storage_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

TEST(StorageParsingTest, ShardAndKeyGeneration) {
  const ShardParts sharded = ParseShard("t1-0102");
  EXPECT_EQ(sharded.tenant, "t1");
  EXPECT_EQ(sharded.shard_number, 1);
  EXPECT_EQ(sharded.shard_count, 2);
  EXPECT_EQ(ParseShard("t1").tenant, "t1");
  EXPECT_EQ(KeyGeneration("tenants/t1/timelines/1/index_part.json-0000000a"), 10);
  EXPECT_EQ(KeyGeneration("tenants/t1/heatmap.json"), std::nullopt);
}

TEST(NoOverwriteCheckerTest, WrongSuffixOrSecondWriterIsAViolation) {
  Collector collector;
  NoOverwriteChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 3, "s3.put", {{"key", "a-00000002"}, {"node", 1}, {"incarnation", 1}, {"generation", 2}}),
      Event(2, 3, "s3.put", {{"key", "a-00000002"}, {"node", 1}, {"incarnation", 1}, {"generation", 2}}),
      Event(3, 3, "s3.put", {{"key", "heatmap"}, {"node", 2}, {"incarnation", 1}, {"generation", 3}}),
      Event(4, 3, "s3.put", {{"key", "heatmap"}, {"node", 1}, {"incarnation", 1}, {"generation", 2}}),
      Event(5, 3, "s3.put", {{"key", "harness-00000001"}, {"node", -1}, {"incarnation", 1}, {"generation", 0}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(6, 3, "s3.put", {{"key", "b-00000003"}, {"node", 1}, {"incarnation", 1}, {"generation", 2}}));
  checker.OnEvent(Event(7, 3, "s3.put", {{"key", "a-00000002"}, {"node", 1}, {"incarnation", 2}, {"generation", 2}}));
  EXPECT_EQ(collector.violations.size(), 2u);
}

TEST(LayerPresenceCheckerTest, AMissingLayerIsAViolation) {
  Collector collector;
  LayerPresenceChecker checker(collector.sink());
  checker.OnEvent(Event(1, 3, "ps.activate", {{"node", 1}}));
  EXPECT_TRUE(collector.violations.empty());
  checker.OnEvent(Event(2, 3, "ps.layer_missing", {{"node", 1}, {"shard", "t1"}, {"gen", 3}, {"key", "layer-00000002"}}));
  EXPECT_EQ(collector.violations.size(), 1u);
}

// A database view whose committed generation of every shard is `generation`.
DbView CommittedAt(const int64_t* generation) {
  DbView db;
  db.shard_generation = [generation](const std::string&) -> std::optional<int64_t> {
    return *generation;
  };
  return db;
}

TEST(LayerPresenceCheckerTest, AFencedOutAttachmentFindingALayerMissingIsLegal) {
  Collector collector;
  int64_t committed = 4;
  LayerPresenceChecker checker(collector.sink(), CommittedAt(&committed));
  // Generation 3 woke up after generation 4 was committed (and deleted what 3's index names).
  checker.OnEvent(Event(1, 3, "ps.layer_missing", {{"node", 1}, {"shard", "t1"}, {"gen", 3}, {"key", "layer-00000002"}}));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // The current generation finding a layer missing is still a violation.
  checker.OnEvent(Event(2, 3, "ps.layer_missing", {{"node", 2}, {"shard", "t1"}, {"gen", 4}, {"key", "layer-00000002"}}));
  EXPECT_EQ(collector.violations.size(), 1u);
  // Without a database view the trace's handed-out generations fence too.
  LayerPresenceChecker trace_only(collector.sink());
  Feed(trace_only, {
      Event(3, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 6}, {"node", 2}}),
      Event(4, 3, "ps.layer_missing", {{"node", 1}, {"shard", "t1"}, {"gen", 5}, {"key", "layer-00000005"}}),
  });
  EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
  trace_only.OnEvent(Event(5, 3, "ps.layer_missing", {{"node", 2}, {"shard", "t1"}, {"gen", 6}, {"key", "layer-00000005"}}));
  EXPECT_EQ(collector.violations.size(), 2u);
}

TEST(WalRetentionCheckerTest, AWalGapSeenByAFencedOutAttachmentIsLegal) {
  Collector collector;
  int64_t committed = 2;
  WalRetentionChecker checker(collector.sink(), CommittedAt(&committed));
  Feed(checker, {
      Event(1, 5, "ps.index_upload", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"dcl", 40}}),
      Event(2, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 41}}),
  });
  committed = 3;  // node 2 took over at generation 3, from the index at 40
  checker.OnEvent(Event(3, 5, "ps.wal_gap", {{"node", 1}, {"shard", "t1"}, {"gen", 2}, {"from_lsn", 31}, {"trimmed_below", 41}}));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(4, 6, "ps.wal_gap", {{"node", 2}, {"shard", "t1"}, {"gen", 3}, {"from_lsn", 31}, {"trimmed_below", 41}}));
  EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
}

TEST(WalRetentionCheckerTest, UnvalidatedFeedbackAndOverTrimmingAreViolations) {
  Collector collector;
  WalRetentionChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.index_upload", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"dcl", 40}}),
      Event(2, 5, "ps.remote_lsn_visible", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"lsn", 40}}),
      Event(3, 5, "ps.feedback", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"lsn", 40}}),
      Event(4, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 41}}),
      // A newer generation starts from an older index: trimming must now stay below it.
      Event(5, 6, "ps.index_upload", {{"node", 2}, {"inc", 1}, {"shard", "t1"}, {"gen", 3}, {"dcl", 30}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(6, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 41}}));
  checker.OnEvent(Event(7, 6, "ps.feedback", {{"node", 2}, {"inc", 1}, {"shard", "t1"}, {"gen", 3}, {"lsn", 30}}));
  checker.OnEvent(Event(8, 6, "ps.wal_gap", {{"node", 2}, {"shard", "t1"}, {"from_lsn", 31}, {"trimmed_below", 41}}));
  EXPECT_EQ(collector.violations.size(), 3u) << collector.Describe();
}

// shard-split 503: a split of t1 to 2 shards was aborted after the pageserver had written the
// children's index at dcl 98; the retry begins, and while it prepares (before it writes fresh
// indexes) the safekeeper trims past 98. That stale child index bounds nothing; once the retry
// writes the children's index, trimming past the fresh one is a violation again, and so is
// trimming past the stale one when the fresh index comes at an older generation.
TEST(WalRetentionCheckerTest, AnAbortedSplitsChildIndexBoundsNothingOnceTheSplitBeginsAgain) {
  for (bool fresh_is_older : {false, true}) {
    SCOPED_TRACE(fresh_is_older);
    Collector collector;
    WalRetentionChecker checker(collector.sink());
    Feed(checker, {
        Event(1, 5, "ps.index_upload", {{"node", 1}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", 1}, {"dcl", 98}}),
        Event(2, 5, "ps.index_upload", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"dcl", 140}}),
    });
    checker.OnEvent(Event(3, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 139}}));
    EXPECT_EQ(collector.violations.size(), 1u) << "the stale child index counts before the retry";
    checker.OnEvent(Event(4, 4, "ctl.split", {{"tenant", "t1"}, {"old_count", 0}, {"new_count", 2}, {"phase", "begin"}, {"result", "ok"}}));
    checker.OnEvent(Event(5, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 139}}));
    EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
    checker.OnEvent(Event(6, 5, "ps.index_upload", {{"node", 1}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", fresh_is_older ? 0 : 2}, {"dcl", 140}}));
    checker.OnEvent(Event(7, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 139}}));
    EXPECT_EQ(collector.violations.size(), fresh_is_older ? 2u : 1u) << collector.Describe();
    checker.OnEvent(Event(8, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 145}}));
    EXPECT_EQ(collector.violations.size(), fresh_is_older ? 3u : 2u) << collector.Describe();
  }
}

// The aborted attempt's child lives on in its fenced generation (its abort's detach never
// landed) and keeps uploading: that index is not the retry's fresh one, and no future attachment
// of the child (generation 4 now) loads it. An upload at the child's generation ends the
// set-aside.
TEST(WalRetentionCheckerTest, AFencedOrphanOfTheAbortedSplitDoesNotEndTheSetAside) {
  Collector collector;
  WalRetentionChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.attach", {{"node", 2}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", 3}}),
      Event(2, 5, "ps.index_upload", {{"node", 2}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", 3}, {"dcl", 209}}),
      Event(3, 4, "ctl.generation", {{"shard", "t1-0002"}, {"generation", 4}}),
      Event(4, 4, "ctl.split", {{"tenant", "t1"}, {"old_count", 0}, {"new_count", 2}, {"phase", "begin"}, {"result", "ok"}}),
      Event(5, 5, "ps.index_upload", {{"node", 2}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", 3}, {"dcl", 240}}),
      Event(6, 5, "ps.index_upload", {{"node", 2}, {"inc", 1}, {"shard", "t1"}, {"gen", 4}, {"dcl", 242}}),
  });
  checker.OnEvent(Event(7, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 243}}));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics().at("s10_fenced_uploads_while_set_aside"), 1);
  checker.OnEvent(Event(8, 5, "ps.index_upload", {{"node", 2}, {"inc", 1}, {"shard", "t1-0002"}, {"gen", 4}, {"dcl", 241}}));
  checker.OnEvent(Event(9, 9, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 243}}));
  EXPECT_EQ(collector.violations.size(), 1u) << "the retry's fresh index bounds trimming again";
}

TEST(DeletionBlockingCheckerTest, DeletingWhileMultiOrStaleIsAViolation) {
  Collector collector;
  DeletionBlockingChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"status", 200}}),
      Event(2, 5, "ps.deletion_execute", {{"node", 1}, {"shard", "t1"}, {"gen", 2}, {"keys", 3}}),
      Event(3, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"status", 400}}),
      Event(4, 5, "ps.deletion_execute", {{"node", 1}, {"shard", "t1"}, {"gen", 2}, {"keys", 3}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(5, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedMulti"}, {"status", 200}}));
  checker.OnEvent(Event(6, 5, "ps.deletion_execute", {{"node", 1}, {"shard", "t1"}, {"gen", 2}, {"keys", 1}}));
  EXPECT_EQ(collector.violations.size(), 1u);
}

}  // namespace
}  // namespace storsim::invariants
