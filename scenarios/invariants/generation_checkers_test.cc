// S4, S5, S7, S9 checkers fire on violating histories and accept legal ones.
#include "scenarios/invariants/generation_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using testing::Feed;

DbView GenerationsView(std::map<std::string, int64_t>* generations) {
  DbView view;
  view.shard_generation = [generations](const std::string& shard) -> std::optional<int64_t> {
    auto it = generations->find(shard);
    if (it == generations->end()) return std::nullopt;
    return it->second;
  };
  return view;
}

TEST(GenerationCheckerTest, AGenerationHandedOutTwiceIsAViolation) {
  std::map<std::string, int64_t> db{{"t1", 3}};
  Collector collector;
  GenerationChecker checker(collector.sink(), GenerationsView(&db));
  Feed(checker, {
      Event(1, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 2}, {"node", 1}, {"via", "reconcile"}, {"incarnation", 1}}),
      Event(2, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 3}, {"node", 2}, {"via", "reconcile"}, {"incarnation", 1}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(3, 2, "ctl.generation", {{"shard", "t1"}, {"generation", 3}, {"node", 1}, {"via", "reconcile"}, {"incarnation", 1}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S4");
}

TEST(GenerationCheckerTest, TwoPageserverIncarnationsAttachingOneGenerationIsAViolation) {
  std::map<std::string, int64_t> db;
  Collector collector;
  GenerationChecker checker(collector.sink(), GenerationsView(&db));
  Feed(checker, {
      Event(1, 5, "ps.attach", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 4}}),
      Event(2, 5, "ps.attach", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 4}}),
      Event(3, 6, "ps.attach", {{"node", 2}, {"inc", 1}, {"shard", "t1"}, {"gen", 5}}),
  });
  EXPECT_TRUE(collector.violations.empty());
  checker.OnEvent(Event(4, 5, "ps.attach", {{"node", 1}, {"inc", 2}, {"shard", "t1"}, {"gen", 4}}));
  EXPECT_EQ(collector.violations.size(), 1u);
}

TEST(GenerationCheckerTest, MemoryAboveDatabaseIsAViolation) {
  std::map<std::string, int64_t> db{{"t1", 3}};
  Collector collector;
  GenerationChecker checker(collector.sink(), GenerationsView(&db));
  checker.OnEvent(Event(1, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 3}, {"valid", 1}, {"memory_generation", 3}}));
  EXPECT_TRUE(collector.violations.empty());
  checker.OnEvent(Event(2, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 3}, {"valid", 0}, {"memory_generation", 4}}));
  EXPECT_EQ(collector.violations.size(), 1u);
}

TEST(PageserverMonotonicityCheckerTest, LowerGenerationOnAnAttachedSlotIsAViolation) {
  Collector collector;
  PageserverMonotonicityChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 5}, {"status", 200}}),
      Event(2, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 4}, {"status", 400}}),
      Event(3, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedStale"}, {"gen", 5}, {"status", 200}}),
      Event(4, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "Secondary"}, {"gen", 0}, {"status", 200}}),
      Event(5, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedSingle"}, {"gen", 7}, {"status", 200}}),
      Event(6, 5, "ps.local_reconcile", {{"node", 1}, {"shard", "t1"}, {"action", "attach"}, {"gen", 8}, {"local_gen", 7}}),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(Event(7, 5, "ps.location_config", {{"node", 1}, {"shard", "t1"}, {"mode", "AttachedMulti"}, {"gen", 6}, {"status", 200}}));
  checker.OnEvent(Event(8, 5, "ps.local_reconcile", {{"node", 1}, {"shard", "t1"}, {"action", "attach"}, {"gen", 6}, {"local_gen", 7}}));
  EXPECT_EQ(collector.violations.size(), 2u) << collector.Describe();
}

TEST(IndexVisibilityCheckerTest, LoadingAFutureIndexIsAViolation) {
  Collector collector;
  IndexVisibilityChecker checker(collector.sink());
  Feed(checker, {
      Event(1, 5, "ps.index_load", {{"node", 1}, {"shard", "t1"}, {"gen", 5}, {"index_gen", 4}}),
      Event(2, 5, "ps.index_load", {{"node", 1}, {"shard", "t1"}, {"gen", 5}, {"index_gen", -1}}),
  });
  EXPECT_TRUE(collector.violations.empty());
  checker.OnEvent(Event(3, 5, "ps.index_load", {{"node", 1}, {"shard", "t1"}, {"gen", 5}, {"index_gen", 6}}));
  EXPECT_EQ(collector.violations.size(), 1u);
}

TEST(ValidateCheckerTest, ValidAgainstAnOlderDatabaseGenerationIsAViolation) {
  std::map<std::string, int64_t> db{{"t1", 5}};
  Collector collector;
  ValidateChecker checker(collector.sink(), GenerationsView(&db));
  checker.OnEvent(Event(0, 1, "ctl.intent", {{"shard", "t1"}}));
  checker.OnEvent(Event(100, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 5}, {"valid", 1}}));
  EXPECT_TRUE(collector.violations.empty());
  // The database moves on; a validate racing with the change is tolerated...
  db["t1"] = 6;
  checker.OnEvent(Event(200, 1, "ctl.generation", {{"shard", "t1"}}));
  checker.OnEvent(Event(300, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 5}, {"valid", 1}}));
  EXPECT_TRUE(collector.violations.empty());
  // ...but not seconds later.
  checker.OnEvent(Event(5000, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 5}, {"valid", 1}}));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "S9");
  // An answer that admits it read a different generation is always wrong.
  checker.OnEvent(Event(5001, 1, "ctl.validate", {{"shard", "t1"}, {"generation", 6}, {"valid", 1}, {"db_generation", 7}}));
  EXPECT_EQ(collector.violations.size(), 2u);
}

}  // namespace
}  // namespace storsim::invariants
