// The convergence check accepts a settled system and names each way one is not.
#include "scenarios/invariants/convergence_checker.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

ShardConvergence Settled() {
  ShardConvergence shard;
  shard.shard = "t1";
  shard.tenant = "t1";
  shard.intended_node = 2;
  shard.attached_single = {{2, 7}};
  shard.db_generation = 7;
  shard.db_generation_pageserver = 2;
  shard.compute_running = true;
  shard.compute_node = 2;
  return shard;
}

TEST(ConvergenceCheckerTest, ASettledSystemPasses) {
  ConvergenceSnapshot snapshot{1, {Settled()}};
  EXPECT_TRUE(ConvergenceProblems(snapshot).empty());
  ShardConvergence detached = Settled();
  detached.intended_node.reset();
  detached.attached_single.clear();
  EXPECT_TRUE(ConvergenceProblems({1, {detached}}).empty());
}

TEST(ConvergenceCheckerTest, EachUnsettledAspectIsReported) {
  std::vector<ConvergenceSnapshot> broken;
  broken.push_back({0, {Settled()}});
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].attached_single = {{1, 7}};
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].attached_single = {{2, 7}, {3, 6}};
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].db_generation = 8;
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].attached_other = {{1, "AttachedStale"}};
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].pending_notification = true;
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].compute_node = 1;
  // DB/intent consistency (PR #12745): generation_pageserver NULL, or another node.
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].db_generation_pageserver.reset();
  broken.push_back({1, {Settled()}});
  broken.back().shards[0].db_generation_pageserver = 3;
  for (size_t i = 0; i < broken.size(); ++i) {
    EXPECT_EQ(ConvergenceProblems(broken[i]).size(), 1u) << "case " << i;
  }
}

TEST(ConvergenceCheckerTest, FinishReportsL1Once) {
  testing::Collector collector;
  ConvergenceChecker checker(collector.sink(), [] {
    ConvergenceSnapshot snapshot{1, {Settled()}};
    snapshot.shards[0].pending_notification = true;
    snapshot.shards[0].compute_node = 3;
    return snapshot;
  });
  checker.Finish(sim::Instant::Zero());
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "L1");
  EXPECT_NE(collector.violations[0].detail.find("and 1 more"), std::string::npos);
}

}  // namespace
}  // namespace storsim::invariants
