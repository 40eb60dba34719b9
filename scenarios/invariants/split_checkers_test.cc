// S15 (ShardRowsChecker): violating and legal shard-split histories against a scripted database
// view. Each history is a list of (rows after the transaction, trace events).
#include "scenarios/invariants/split_checkers.h"

#include <gtest/gtest.h>

#include "scenarios/invariants/checker_test_util.h"
#include "scenarios/invariants/storage_checkers.h"

namespace storsim::invariants {
namespace {

using testing::Collector;
using testing::Event;
using Rows = std::map<std::string, std::vector<std::pair<int64_t, int64_t>>>;

// A database whose rows the test sets before each committed transaction's event.
struct ScriptedDb {
  Rows rows;
  DbView View() {
    DbView view;
    view.shard_rows = [this] { return rows; };
    return view;
  }
};

std::vector<std::pair<int64_t, int64_t>> Set(int64_t count) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t n = 0; n < std::max<int64_t>(count, 1); ++n) out.push_back({n, count});
  return out;
}

std::vector<std::pair<int64_t, int64_t>> Union(std::vector<std::pair<int64_t, int64_t>> a,
                                               const std::vector<std::pair<int64_t, int64_t>>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

sim::TraceEvent Commit(int64_t at_ms, const char* op) {
  return Event(at_ms, 0, "db.commit", {{"op", op}, {"client", 5}, {"lsn", at_ms}});
}

sim::TraceEvent Write(int64_t at_ms, int32_t process, const char* op, const char* tenant) {
  return Event(at_ms, process, "ctl.db_write",
               {{"op", op}, {"tenant", tenant}, {"result", "ok"}, {"incarnation", 1}});
}

TEST(ShardRowsCheckerTest, CompleteSetRecognised) {
  EXPECT_TRUE(ShardRowsChecker::HasCompleteSet(Set(0)));
  EXPECT_TRUE(ShardRowsChecker::HasCompleteSet(Set(4)));
  EXPECT_TRUE(ShardRowsChecker::HasCompleteSet(Union(Set(2), Set(4))));
  EXPECT_TRUE(ShardRowsChecker::HasCompleteSet(Union(Set(2), {{0, 4}})));  // mid-insert view
  EXPECT_FALSE(ShardRowsChecker::HasCompleteSet({}));
  EXPECT_FALSE(ShardRowsChecker::HasCompleteSet({{0, 4}, {1, 4}, {3, 4}}));
  EXPECT_FALSE(ShardRowsChecker::HasCompleteSet({{1, 2}, {2, 4}}));
}

// Bug #2: the new leader aborts the split (children deleted), the old one completes it (parents
// deleted) ⇒ no rows left.
TEST(ShardRowsCheckerTest, AbortThenCompleteLosesEveryRow) {
  ScriptedDb db;
  Collector collector;
  ShardRowsChecker checker(collector.sink(), db.View());
  db.rows["t1"] = Set(2);
  db.rows["t2"] = Set(0);
  checker.OnEvent(Commit(10, "insert_tenant_shards"));
  db.rows["t1"] = Union(Set(2), Set(4));
  checker.OnEvent(Commit(20, "begin_shard_split"));
  checker.OnEvent(Write(20, 4, "begin_shard_split", "t1"));
  db.rows["t1"] = Set(2);
  checker.OnEvent(Commit(30, "abort_shard_split"));
  checker.OnEvent(Write(30, 5, "abort_shard_split", "t1"));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  db.rows.erase("t1");
  checker.OnEvent(Commit(40, "complete_shard_split"));
  ASSERT_EQ(collector.violations.size(), 1u) << collector.Describe();
  EXPECT_EQ(collector.violations[0].invariant, "S15");
  EXPECT_NE(collector.violations[0].detail.find("t1"), std::string::npos);
  EXPECT_NE(collector.violations[0].detail.find("abort_shard_split"), std::string::npos);
  // Reported once.
  checker.OnEvent(Commit(50, "list_nodes"));
  EXPECT_EQ(collector.violations.size(), 1u);
}

// A partial set (one child missing, parents gone) is a violation even with rows left.
TEST(ShardRowsCheckerTest, PartialChildrenWithoutParents) {
  ScriptedDb db;
  Collector collector;
  ShardRowsChecker checker(collector.sink(), db.View());
  db.rows["t1"] = Set(2);
  checker.OnEvent(Commit(10, "insert_tenant_shards"));
  db.rows["t1"] = {{0, 4}, {1, 4}, {3, 4}};
  checker.OnEvent(Commit(20, "complete_shard_split"));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_NE(collector.violations[0].detail.find("0/4,1/4,3/4"), std::string::npos);
}

// Legal: begin + complete, begin + abort, a database restart, and an API delete.
TEST(ShardRowsCheckerTest, LegalSplitsAndDeletesPass) {
  ScriptedDb db;
  Collector collector;
  ShardRowsChecker checker(collector.sink(), db.View());
  db.rows["t1"] = Set(2);
  db.rows["t2"] = Set(4);
  checker.OnEvent(Commit(10, "insert_tenant_shards"));
  db.rows["t1"] = Union(Set(2), Set(4));
  checker.OnEvent(Commit(20, "begin_shard_split"));
  db.rows["t1"] = Set(4);
  checker.OnEvent(Commit(30, "complete_shard_split"));
  db.rows["t2"] = Union(Set(4), Set(8));
  checker.OnEvent(Commit(40, "begin_shard_split"));
  db.rows["t2"] = Set(4);
  checker.OnEvent(Commit(50, "abort_shard_split"));
  checker.OnEvent(Event(60, 0, "db.recovered", {{"records", 9}}));
  // Deleted through the API: its rows may go.
  checker.OnEvent(
      Event(70, 9, "api.invoke", {{"call", 1}, {"method", "ctl.tenant.delete"}, {"tenant", "t2"}}));
  db.rows.erase("t2");
  checker.OnEvent(Commit(80, "delete_tenant"));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // Re-created: tracked again, and losing it again is caught.
  checker.OnEvent(
      Event(90, 9, "api.invoke", {{"call", 2}, {"method", "ctl.tenant.create"}, {"tenant", "t2"}}));
  db.rows["t2"] = Set(0);
  checker.OnEvent(Commit(100, "insert_tenant_shards"));
  db.rows.erase("t2");
  checker.OnEvent(Commit(110, "detach"));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_NE(collector.violations[0].detail.find("t2"), std::string::npos);
}

// Without a database view the checker has nothing to judge.
TEST(ShardRowsCheckerTest, SilentWithoutDatabase) {
  Collector collector;
  ShardRowsChecker checker(collector.sink(), DbView{});
  checker.OnEvent(Commit(10, "complete_shard_split"));
  EXPECT_TRUE(collector.violations.empty());
}

// S10 after a split: the parent's last index bounds trimming only while the parent has a row (an
// aborted split re-attaches it); once the split completed, only the children's indexes do.
TEST(WalRetentionAfterSplitTest, ParentIndexBoundsTrimOnlyWhileItsRowExists) {
  for (const bool parent_row : {false, true}) {
    ScriptedDb db;
    db.rows["t1"] = parent_row ? Set(0) : Set(2);
    Collector collector;
    WalRetentionChecker checker(collector.sink(), db.View());
    checker.OnEvent(Event(10, 8, "ps.index_upload",
                          {{"node", 2}, {"inc", 1}, {"shard", "t1"}, {"gen", 3}, {"dcl", 100}}));
    for (const char* child : {"t1-0002", "t1-0102"}) {
      checker.OnEvent(Event(20, 8, "ps.index_upload",
                            {{"node", 2}, {"inc", 1}, {"shard", child}, {"gen", 3}, {"dcl", 300}}));
    }
    checker.OnEvent(Event(30, 2, "sk.trim", {{"tenant", "t1"}, {"trimmed_below", 250}}));
    EXPECT_EQ(collector.violations.size(), parent_row ? 1u : 0u) << collector.Describe();
  }
}

}  // namespace
}  // namespace storsim::invariants
