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

// ---- G1 ----

sim::TraceEvent PsLocationConfig(int64_t at, int64_t node, int64_t inc, const char* mode,
                                 int64_t gen, int64_t status = 200) {
  return Event(at, static_cast<int32_t>(10 + node), "ps.location_config",
               {{"node", node}, {"inc", inc}, {"shard", "t1"}, {"mode", mode}, {"gen", gen},
                {"status", status}, {"action", "fresh"}});
}

sim::TraceEvent CtlGeneration(int64_t at, int64_t node, int64_t gen) {
  return Event(at, 1, "ctl.generation",
               {{"shard", "t1"}, {"generation", gen}, {"node", node}, {"via", "reconcile"},
                {"incarnation", 1}});
}

// Node 1 (incarnation 1) was handed generation 3 of t1 and holds it AttachedSingle.
std::vector<sim::TraceEvent> NodeOneHoldsGenerationThree() {
  return {
      Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
      CtlGeneration(1, 1, 3),
      PsLocationConfig(2, 1, 1, "AttachedSingle", 3),
  };
}

TEST(GratuitousGenerationCheckerTest, ReissuingToTheHolderOfTheLatestGenerationIsAViolation) {
  Collector collector;
  GratuitousGenerationChecker checker(collector.sink());
  Feed(checker, NodeOneHoldsGenerationThree());
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(CtlGeneration(3, 1, 4));  // node 1 already holds generation 3, the latest
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "G1");
}

TEST(GratuitousGenerationCheckerTest, IncrementsThatFenceOrReestablishAreLegal) {
  Collector collector;
  GratuitousGenerationChecker checker(collector.sink());
  Feed(checker, {
      Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
      Event(0, 12, "ps.start", {{"node", 2}, {"inc", 1}}),
      CtlGeneration(1, 1, 3),
      PsLocationConfig(2, 1, 1, "AttachedSingle", 3),
      // A migration: the destination gets a new generation (it held none).
      CtlGeneration(3, 2, 4),
      PsLocationConfig(4, 2, 1, "AttachedMulti", 4),
      PsLocationConfig(5, 1, 1, "Secondary", 0),
      // Back to node 1, which holds only a secondary.
      CtlGeneration(6, 1, 5),
      PsLocationConfig(7, 1, 1, "AttachedSingle", 5),
      // Node 1 restarts: its new incarnation holds nothing until re-attach answers.
      Event(8, 11, "ps.start", {{"node", 1}, {"inc", 2}}),
      Event(9, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 6}, {"node", 1}, {"via", "re_attach"}, {"incarnation", 1}}),
      Event(10, 11, "ps.local_reconcile", {{"node", 1}, {"inc", 2}, {"shard", "t1"}, {"action", "attach"}, {"gen", 6}, {"local_gen", 5}}),
      // A refused call changes nothing; the node's AttachedMulti at an older generation is fenced.
      PsLocationConfig(11, 2, 1, "AttachedSingle", 4, 400),
      CtlGeneration(12, 2, 7),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  // A slot of the previous incarnation does not count: only the current one holds anything.
  checker.OnEvent(PsLocationConfig(13, 1, 1, "AttachedSingle", 7));
  checker.OnEvent(CtlGeneration(14, 1, 8));
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

// generations 2162: the tenant is detached while its attached node is unavailable (the detach is
// skipped, the location stays) and attached again; the policy write cleared generation_pageserver,
// so the increment for the holder names it in the DB again. Once named, the same increment is
// gratuitous again.
TEST(GratuitousGenerationCheckerTest, AnIncrementThatNamesTheHolderAfterAPolicyClearedItIsLegal) {
  Collector collector;
  GratuitousGenerationChecker checker(collector.sink());
  Feed(checker, NodeOneHoldsGenerationThree());
  Feed(checker, {
      Event(3, 1, "ctl.db_write", {{"tenant", "t1"}, {"shard", ""}, {"placement", "\"Detached\""}, {"op", "update_tenant_shard"}, {"result", "ok"}}),
      Event(4, 1, "ctl.db_write", {{"tenant", "t1"}, {"shard", ""}, {"placement", "{\"Attached\":1}"}, {"op", "update_tenant_shard"}, {"result", "ok"}}),
      CtlGeneration(5, 1, 4),
      PsLocationConfig(6, 1, 1, "AttachedSingle", 4),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
  checker.OnEvent(CtlGeneration(7, 1, 5));
  EXPECT_EQ(collector.violations.size(), 1u) << collector.Describe();
}

// db-outage 4577: a promotion queued at a paused node is applied when it resumes; the refresh of
// the reconcile after it is answered while the slot is being rebuilt (no configuration), so the
// reconcile cannot count on the attachment. A refresh that saw the attachment gives no excuse.
TEST(GratuitousGenerationCheckerTest, AnIncrementAfterARefreshAnsweredMidTransitionIsLegal) {
  for (const char* refreshed_mode : {"", "AttachedSingle"}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    Feed(checker, {
        Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
        CtlGeneration(1, 1, 2),
        Event(2, 1, "ctl.reconcile.start", {{"shard", "t1"}, {"sequence", 3}, {"incarnation", 1}}),
        PsLocationConfig(3, 1, 1, "AttachedSingle", 2),
        Event(4, 1, "ctl.location_config.refresh", {{"shard", "t1"}, {"node", 1}, {"result", "ok"}, {"mode", refreshed_mode}, {"generation", -1}, {"incarnation", 1}}),
        CtlGeneration(5, 1, 3),
    });
    EXPECT_EQ(collector.violations.size(), std::string(refreshed_mode).empty() ? 0u : 1u)
        << "refreshed mode '" << refreshed_mode << "': " << collector.Describe();
  }
}

// drain-cancel 54: a fill's reconcile starts, the node's restart re-attach hands out g - 1 a
// moment later, and the reconcile (acting on the observed state of its start) takes g: a race,
// not a gratuitous increment. A reconcile started after the re-attach saw it.
TEST(GratuitousGenerationCheckerTest, AReconcileThatStartedBeforeTheHoldersGenerationIsExcused) {
  for (bool started_before : {true, false}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = {Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}})};
    if (started_before) events.push_back(Event(1, 1, "ctl.reconcile.start", {{"shard", "t1"}}));
    events.push_back(Event(2, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 5}, {"node", 1}, {"via", "re_attach"}, {"incarnation", 1}}));
    events.push_back(Event(3, 11, "ps.local_reconcile", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"action", "attach"}, {"gen", 5}, {"local_gen", 4}}));
    if (!started_before) events.push_back(Event(4, 1, "ctl.reconcile.start", {{"shard", "t1"}}));
    events.push_back(CtlGeneration(5, 1, 6));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.empty(), started_before) << collector.Describe();
  }
}

// chaos 1804: reconcile 5 attached node 1 at generation 4 and was waiting on its notification when
// a policy write spawned reconcile 6 from the shard as it was before reconcile 5's result (at
// generation 3); its increment to 5 is excused. Spawned after reconcile 5 ended, or starting
// from generation 4, the same increment is gratuitous.
TEST(GratuitousGenerationCheckerTest, AReconcileSpawnedOverARunningOneIsExcused) {
  struct Case {
    bool over_running;
    int64_t start_generation;
    bool excused;
  };
  for (const Case& c : {Case{true, 3, true}, Case{false, 3, false}, Case{true, 4, false}}) {
    SCOPED_TRACE(::testing::Message() << c.over_running << " " << c.start_generation);
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    auto start = [](int64_t at, int64_t sequence, int64_t generation) {
      return Event(at, 1, "ctl.reconcile.start",
                   {{"shard", "t1"}, {"sequence", sequence}, {"generation", generation}});
    };
    auto end = [](int64_t at, int64_t sequence) {
      return Event(at, 1, "ctl.reconcile.end", {{"shard", "t1"}, {"sequence", sequence}});
    };
    std::vector<sim::TraceEvent> events = {
        Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
        start(1, 5, 3),
        CtlGeneration(2, 1, 4),
        PsLocationConfig(3, 1, 1, "AttachedSingle", 4),
    };
    if (!c.over_running) events.push_back(end(4, 5));
    events.push_back(start(5, 6, c.start_generation));
    if (c.over_running) events.push_back(end(5, 5));
    events.push_back(CtlGeneration(6, 1, 5));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.empty(), c.excused) << collector.Describe();
  }
}

// shard-split 395: a split on the pageserver replaces the parent's slot by its children; after
// the split aborts, re-attaching the parent takes a new generation, which is not gratuitous.
TEST(GratuitousGenerationCheckerTest, ReattachingAParentAfterItsSplitIsLegal) {
  for (bool split : {true, false}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = {
        Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
        CtlGeneration(1, 1, 2),
        PsLocationConfig(2, 1, 1, "AttachedSingle", 2),
    };
    if (split) {
      events.push_back(Event(3, 11, "ps.split", {{"node", 1}, {"inc", 1}, {"shard", "t1"}, {"gen", 2}, {"children", "t1-0002,t1-0102"}, {"status", 200}, {"result", "split"}}));
    }
    events.push_back(CtlGeneration(4, 1, 3));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), split ? 0u : 1u) << collector.Describe();
  }
}

// generations 941: a detach of the attachment is on its way (its reconcile was cancelled) when the
// next reconcile refreshes the location, finds it in transition and takes a new generation. Once
// the node applied the demotion the slot is gone anyway; with no demotion sent it is G1.
TEST(GratuitousGenerationCheckerTest, AnAttachmentWithADemotionOnItsWayIsExcused) {
  for (bool demoting : {true, false}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    std::vector<sim::TraceEvent> events = {
        Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}}),
        CtlGeneration(1, 1, 3),
        PsLocationConfig(2, 1, 1, "AttachedSingle", 3),
    };
    if (demoting) {
      events.push_back(Event(3, 1, "ctl.location_config.send", {{"shard", "t1"}, {"node", 1}, {"mode", "Detached"}}));
    }
    events.push_back(CtlGeneration(4, 1, 4));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), demoting ? 0u : 1u) << collector.Describe();
  }
}

// db-outage 17: a takeover whose step-down failed leaves the old leader acting for a moment; it
// migrates the shard to node 1 at g - 1 after the new leader began loading the database, and the
// new leader, knowing only the older placement, later takes g for node 1. The new leader could
// not know; had the old leader's generation come before the load, it would have. (db-outage 270:
// the same with the old leader's location call making node 1 AttachedSingle.)
TEST(GratuitousGenerationCheckerTest, AnotherLeadersGenerationAfterThisOneLoadedIsExcused) {
  for (bool loaded_first : {true, false}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    const sim::TraceEvent loaded =
        Event(loaded_first ? 2 : 5, 2, "ctl.migrations", {{"incarnation", 1}});
    std::vector<sim::TraceEvent> events = {Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}})};
    if (loaded_first) events.push_back(loaded);
    // The old leader (process 1) takes g - 1 = 5 for node 1, which attaches.
    events.push_back(Event(3, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 5}, {"node", 1}, {"via", "live_migration"}, {"incarnation", 1}}));
    events.push_back(PsLocationConfig(4, 1, 1, "AttachedSingle", 5));
    if (!loaded_first) events.push_back(loaded);
    // The new leader (process 2) takes 6 for the same node.
    events.push_back(Event(6, 2, "ctl.generation", {{"shard", "t1"}, {"generation", 6}, {"node", 1}, {"via", "live_migration"}, {"incarnation", 1}}));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), loaded_first ? 0u : 1u) << collector.Describe();
  }
}

TEST(GratuitousGenerationCheckerTest, AnotherLeadersLocationCallAfterThisOneLoadedIsExcused) {
  for (bool loaded_first : {true, false}) {
    Collector collector;
    GratuitousGenerationChecker checker(collector.sink());
    const sim::TraceEvent loaded =
        Event(loaded_first ? 3 : 6, 2, "ctl.migrations", {{"incarnation", 1}});
    std::vector<sim::TraceEvent> events = {Event(0, 11, "ps.start", {{"node", 1}, {"inc", 1}})};
    // The old leader (process 1) takes 5 for node 1 (AttachedMulti), then cuts over.
    events.push_back(Event(1, 1, "ctl.generation", {{"shard", "t1"}, {"generation", 5}, {"node", 1}, {"via", "live_migration"}, {"incarnation", 1}}));
    events.push_back(PsLocationConfig(2, 1, 1, "AttachedMulti", 5));
    if (loaded_first) events.push_back(loaded);
    events.push_back(PsLocationConfig(4, 1, 1, "AttachedSingle", 5));
    events.push_back(Event(5, 1, "ctl.location_config.result", {{"shard", "t1"}, {"node", 1}, {"mode", "AttachedSingle"}, {"generation", 5}, {"result", "ok"}, {"incarnation", 1}}));
    if (!loaded_first) events.push_back(loaded);
    events.push_back(Event(7, 2, "ctl.generation", {{"shard", "t1"}, {"generation", 6}, {"node", 1}, {"via", "reconcile"}, {"incarnation", 1}}));
    Feed(checker, events);
    EXPECT_EQ(collector.violations.size(), loaded_first ? 0u : 1u) << collector.Describe();
  }
}

// ---- F1 ----

sim::TraceEvent Intent(int64_t at, int64_t attached, const char* reason, int64_t inc = 1) {
  return Event(at, 1, "ctl.intent",
               {{"shard", "t1"}, {"attached", attached}, {"secondaries", ""}, {"sequence", at},
                {"reason", reason}, {"incarnation", inc}});
}

sim::TraceEvent Verdict(int64_t at, const char* down, const char* up, int64_t inc = 1) {
  return Event(at, 1, "ctl.heartbeat.verdict",
               {{"down", down}, {"up", up}, {"incarnation", inc}});
}

TEST(FailoverTargetCheckerTest, FailingOverOntoANodeJudgedDownIsAViolation) {
  Collector collector;
  FailoverTargetChecker checker(collector.sink());
  Feed(checker, {
      Intent(0, 1, "startup"),
      Verdict(5, "1,2", "3"),  // nodes 1 and 2 both missed the round
  });
  checker.OnEvent(Intent(6, 2, "node_offline"));
  ASSERT_EQ(collector.violations.size(), 1u);
  EXPECT_EQ(collector.violations[0].invariant, "F1");
}

TEST(FailoverTargetCheckerTest, PlacementsOnNodesJudgedUpAreLegal) {
  Collector collector;
  FailoverTargetChecker checker(collector.sink());
  Feed(checker, {
      Intent(0, 1, "startup"),
      Verdict(5, "1,2", "3"),
      Intent(6, 3, "node_offline"),
      Intent(7, 3, "policy"),           // unchanged attachment: not a placement
      Verdict(10, "1", "2,3"),          // node 2 is back
      Intent(11, 2, "migrate"),
      Intent(12, -1, "policy"),
      // Another instance (a restarted controller) has its own verdicts.
      Intent(13, 1, "startup", 2),
      Intent(14, 3, "node_offline", 2),
  });
  EXPECT_TRUE(collector.violations.empty()) << collector.Describe();
}

}  // namespace
}  // namespace storsim::invariants
