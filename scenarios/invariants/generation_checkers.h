// Generation invariants (SPEC.md §10 S4, S5, S7, S9).
//
// S4  GenerationChecker: per shard, every generation the database hands out (ctl.generation) is a
//     new, larger value, never below the committed one; each generation is attached by at most one
//     (node, pageserver incarnation); the controller's memory generation never exceeds the DB's.
// S5  PageserverMonotonicityChecker: an attached slot never accepts an attachment at a lower
//     generation, and a restarted pageserver never attaches below its persisted generation.
// S7  IndexVisibilityChecker: an attachment in generation g only loads an index with generation
//     <= g.
// S9  ValidateChecker: /validate never answers valid=true unless the committed DB generation
//     equals the requested one (a DB change within `race_window` before the answer is tolerated:
//     the handler read the DB before it changed).
// G1  GratuitousGenerationChecker (scenarios/README.md): the controller never takes a new
//     generation g for (shard, node) while that node's current incarnation already holds the
//     shard AttachedSingle at g - 1, the shard's latest generation (nothing to fence, nothing to
//     re-establish: the increment only tears the attachment down and rebuilds it).
// F1  FailoverTargetChecker (scenarios/README.md): a controller instance never makes a node the
//     intended attachment of a shard after it concluded, in a heartbeat round, that the node is
//     unavailable, until a later round finds it available again.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "scenarios/invariants/checker.h"
#include "sim/time.h"

namespace storsim::invariants {

class GenerationChecker : public Checker {
 public:
  GenerationChecker(ViolationSink sink, DbView db) : Checker("S4", std::move(sink)), db_(db) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"generations_issued", issued_count_}};
  }

 private:
  DbView db_;
  std::map<std::string, std::map<int64_t, std::string>> issued_;  // shard -> gen -> by whom
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> attached_by_;
  int64_t issued_count_ = 0;
};

class PageserverMonotonicityChecker : public Checker {
 public:
  explicit PageserverMonotonicityChecker(ViolationSink sink) : Checker("S5", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  // (node, shard) -> the generation the attached slot holds.
  std::map<std::pair<int64_t, std::string>, int64_t> attached_;
};

class IndexVisibilityChecker : public Checker {
 public:
  explicit IndexVisibilityChecker(ViolationSink sink) : Checker("S7", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;
};

class ValidateChecker : public Checker {
 public:
  ValidateChecker(ViolationSink sink, DbView db,
                  sim::Duration race_window = sim::Duration::Seconds(1))
      : Checker("S9", std::move(sink)), db_(db), race_window_(race_window) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  DbView db_;
  sim::Duration race_window_;
  // shard -> (committed generation, when it was first seen).
  std::map<std::string, std::pair<std::optional<int64_t>, sim::Instant>> seen_;
};

class GratuitousGenerationChecker : public Checker {
 public:
  explicit GratuitousGenerationChecker(ViolationSink sink) : Checker("G1", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  struct Slot {
    std::string mode;
    int64_t generation = -1;
  };
  // node -> its current pageserver incarnation; (node, shard) -> that incarnation's slot.
  std::map<int64_t, int64_t> incarnation_;
  std::map<std::pair<int64_t, std::string>, Slot> slots_;
  // (node, shard) with a demotion (Secondary, Detached) sent that the node has not yet applied.
  std::set<std::pair<int64_t, std::string>> demoting_;
  // Per (controller process, shard), its reconciles of the shard: when the latest started, the
  // sequences started and not ended, and, when the latest started over a running one, the
  // generation it started from: it works from the state copied at its spawn, before the running
  // one's result is applied (upstream's spawn_reconciler copies generation and observed state,
  // then waits for the cancelled predecessor). A reconcile acts on the observed state of its
  // start: a generation handed out after that (a re-attach racing it) is not one it could have
  // seen. Also shard -> when its latest generation was taken.
  struct Reconciles {
    sim::Instant latest_started;
    std::set<int64_t> running;
    std::optional<int64_t> stale_start_generation;
  };
  std::map<std::pair<int32_t, std::string>, Reconciles> reconciles_;
  std::map<std::string, sim::Instant> latest_taken_;
  // instance (process, incarnation) -> when it began loading the database (ctl.migrations);
  // shard -> instance -> when that instance last took a generation for it or had a location
  // call accepted. An instance cannot know what another one did after it began loading (the
  // step-down protocol's unfenced dual-leader window: S2's dual-actor metric accounts for it).
  using InstanceKey = std::pair<int32_t, int64_t>;
  std::map<InstanceKey, sim::Instant> loading_since_;
  std::map<std::string, std::map<InstanceKey, sim::Instant>> last_acted_;
  // tenant -> when a policy write away from Attached cleared generation_pageserver of its shards
  // (attempted: a write that failed may have committed); shard -> when an increment last named a
  // pageserver for it. Cleared later than named: the DB names nobody, and an increment that names
  // the holder re-establishes what the DB lost, which is not gratuitous.
  std::map<std::string, sim::Instant> name_cleared_;
  std::map<std::string, sim::Instant> named_;
  // (controller process, shard, node) whose latest refresh by that controller was answered with
  // no configuration: the node said its slot was in transition, so the reconciler could not
  // count on what the slot became a moment later.
  std::set<std::tuple<int32_t, std::string, int64_t>> refreshed_unknown_;
};

class FailoverTargetChecker : public Checker {
 public:
  explicit FailoverTargetChecker(ViolationSink sink) : Checker("F1", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  using InstanceKey = std::pair<int32_t, int64_t>;  // controller (process id, incarnation)
  // Per instance: the nodes its heartbeat verdicts hold unavailable, and each shard's intended
  // attachment as its last ctl.intent said (-1: none).
  std::map<InstanceKey, std::set<int64_t>> judged_down_;
  std::map<InstanceKey, std::map<std::string, int64_t>> attached_;
};

}  // namespace storsim::invariants
