// LIN: the Wing–Gong–Lowe search catches stale reads and two nodes at one generation, accepts
// concurrent legal histories, and the checker partitions the API history per shard.
#include "scenarios/invariants/linearizability.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using Kind = ShardOperation::Kind;
using Verdict = LinearizabilityResult::Verdict;
using testing::Collector;
using testing::Event;
using testing::Feed;

sim::Instant Ms(int64_t ms) { return sim::Instant::Zero() + sim::Duration::Millis(ms); }

ShardOperation Read(int64_t from, int64_t to, int64_t node, int64_t generation) {
  return {Kind::kRead, Ms(from), Ms(to), node, generation, 1};
}
ShardOperation Migrated(int64_t from, int64_t to, int64_t node) {
  return {Kind::kMigrated, Ms(from), Ms(to), node, -1, 2};
}
ShardOperation Move(int64_t at, int64_t node) { return {Kind::kMove, Ms(at), Ms(at), node, -1, -1}; }

Verdict Check(const std::vector<ShardOperation>& history) {
  return CheckShardHistory(history, 100'000).verdict;
}

TEST(LinearizabilityTest, StaleReadAfterANewerReadIsCaught) {
  const std::vector<ShardOperation> history = {Move(0, 1), Read(10, 20, 1, 5), Move(30, 2),
                                               Read(40, 50, 2, 6), Read(60, 70, 1, 5)};
  const LinearizabilityResult result = CheckShardHistory(history, 100'000);
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  ASSERT_TRUE(result.stuck.has_value());
  EXPECT_EQ(result.stuck->invoke, Ms(60));
  // The generation alone going back is caught too, even with the same node.
  EXPECT_EQ(Check({Move(0, 1), Read(10, 20, 1, 6), Read(30, 40, 1, 5)}), Verdict::kNotLinearizable);
}

TEST(LinearizabilityTest, TwoNodesForOneGenerationWithoutAMoveIsCaught) {
  EXPECT_EQ(Check({Move(0, 1), Read(10, 20, 1, 5), Read(30, 40, 2, 5)}), Verdict::kNotLinearizable);
  // With the leader's move between them it is legal (intent moves before the generation does).
  EXPECT_EQ(Check({Move(0, 1), Read(10, 20, 1, 5), Move(25, 2), Read(30, 40, 2, 5)}),
            Verdict::kLinearizable);
}

TEST(LinearizabilityTest, ConcurrentLegalHistoriesAreAccepted) {
  // Reads overlapping the move may see either side; the search orders them.
  EXPECT_EQ(Check({Move(0, 1), Read(10, 50, 1, 5), Read(20, 40, 2, 6), Move(30, 2),
                   Read(25, 60, 1, 5)}),
            Verdict::kLinearizable);
  // Two overlapping reads whose generations disagree: the older one linearizes first.
  EXPECT_EQ(Check({Move(0, 1), Read(10, 40, 1, 6), Read(20, 30, 1, 5)}), Verdict::kLinearizable);
}

TEST(LinearizabilityTest, CompletedMigrateIsVisibleUnlessALaterMoveExists) {
  EXPECT_EQ(Check({Move(0, 1), Migrated(10, 30, 2), Move(12, 2), Read(40, 50, 2, 6)}),
            Verdict::kLinearizable);
  EXPECT_EQ(Check({Move(0, 1), Migrated(10, 30, 2), Move(12, 2), Read(40, 50, 1, 6)}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(Check({Move(0, 1), Migrated(10, 30, 2), Move(12, 2), Move(35, 1), Read(40, 50, 1, 6)}),
            Verdict::kLinearizable);
  // A migrate answered 200 that the leader never carried out.
  EXPECT_EQ(Check({Move(0, 1), Migrated(10, 30, 2)}), Verdict::kNotLinearizable);
}

TEST(LinearizabilityTest, SearchBudgetGivesUndecided) {
  std::vector<ShardOperation> history = {Move(0, 1)};
  for (int k = 0; k < 12; ++k) history.push_back(Read(10, 1000, 1, 5));
  history.push_back(Read(2000, 2001, 2, 5));
  EXPECT_EQ(CheckShardHistory(history, 50).verdict, Verdict::kUndecided);
  EXPECT_EQ(CheckShardHistory(history, 1'000'000).verdict, Verdict::kNotLinearizable);
}

// A describe of tenant t with placements answered over [from, to].
std::vector<sim::TraceEvent> Describe(int64_t call, int64_t from, int64_t to, std::string placement,
                                      std::string generations) {
  return {Event(from, 20, "api.invoke", {{"call", call}, {"method", "ctl.tenant.describe"}, {"tenant", "t"}}),
          Event(to, 20, "api.return",
                {{"call", call}, {"method", "ctl.tenant.describe"}, {"result", "ok"}, {"status", 200},
                 {"placement", std::move(placement)}, {"generations", std::move(generations)}})};
}

TEST(LinearizabilityCheckerTest, HistoryIsPartitionedPerShardAndTheBadShardNamed) {
  Collector collector;
  LinearizabilityChecker checker(collector.sink());
  Feed(checker, {Event(0, 4, "ctl.status", {{"status", "Leader"}}),
                 Event(1, 4, "ctl.intent", {{"shard", "t-0002"}, {"attached", 1}}),
                 Event(1, 4, "ctl.intent", {{"shard", "t-0102"}, {"attached", 2}}),
                 Event(5, 3, "ctl.intent", {{"shard", "t-0102"}, {"attached", 1}})});  // not leader
  Feed(checker, Describe(100, 10, 20, "t-0002@1,t-0102@2", "t-0002:5,t-0102:7"));
  Feed(checker, Describe(200, 30, 40, "t-0002@1,t-0102@1", "t-0002:5,t-0102:7"));
  const auto histories = checker.Histories();
  ASSERT_EQ(histories.size(), 2u);
  EXPECT_EQ(histories.at("t-0002").size(), 3u);  // move + two reads
  checker.Finish(Ms(100));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "LIN");
  EXPECT_NE(collector.violations[0].detail.find("t-0102:"), std::string::npos);
  EXPECT_EQ(collector.violations[0].detail.find("t-0002:"), std::string::npos);
  EXPECT_EQ(checker.Metrics()["LIN shards checked"], 2);
}

TEST(LinearizabilityCheckerTest, LeaderChangeAndAmbiguousCallsAreHandled) {
  Collector collector;
  LinearizabilityChecker checker(collector.sink());
  Feed(checker, {Event(0, 4, "ctl.status", {{"status", "Leader"}}),
                 Event(1, 4, "ctl.intent", {{"shard", "t"}, {"attached", 1}}),
                 Event(2, 5, "ctl.intent", {{"shard", "t"}, {"attached", 2}})});  // candidate
  Feed(checker, Describe(100, 10, 20, "t@1", "t:5"));
  // A migrate that timed out constrains nothing.
  Feed(checker, {Event(21, 20, "api.invoke", {{"call", 150}, {"method", "ctl.tenant.migrate"}, {"shard", "t"}, {"node", 3}}),
                 Event(22, 20, "api.return", {{"call", 150}, {"method", "ctl.tenant.migrate"}, {"result", "timeout"}, {"status", 0}}),
                 Event(25, 4, "ctl.status", {{"status", "SteppedDown"}}),
                 Event(26, 5, "ctl.status", {{"status", "Leader"}})});
  // The new leader's intent (loaded before it led) explains node 2 at the same generation.
  Feed(checker, Describe(200, 30, 40, "t@2", "t:5"));
  checker.Finish(Ms(100));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  EXPECT_EQ(checker.Metrics()["LIN calls without effect constraint (error or ambiguous)"], 1);
}

}  // namespace
}  // namespace storsim::invariants
