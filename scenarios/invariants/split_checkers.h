// Shard-split safety (SPEC.md §10 S15): "tenant rows never disappear (not both abort and complete
// of one split)", stated generally so that any way of losing rows trips it, not only the one of
// bug #2.
//
// S15  ShardRowsChecker: for every tenant that exists — its rows were seen in the database and no
//      delete of it was requested since (api.invoke ctl.tenant.delete, or the controller's
//      delete_tenant write, which only the delete API issues) — the database always holds a
//      complete set of shard rows for it: for some shard count c, the rows (n, c) for every shard
//      number n < max(c, 1). During a split both the parents' set and the children's set are
//      complete; after an abort the parents' is, after a complete the children's is. A tenant with
//      no rows at all, or with only a partial set of each count (the parents deleted by a
//      "complete" after an "abort" deleted the children), violates it.
//
// Evaluated after every committed transaction of the fake Postgres ("db.commit", and
// "db.recovered" after a restart), from the committed tables (DbView::shard_rows); without a
// database view the checker is silent. Each tenant is reported once.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

class ShardRowsChecker : public Checker {
 public:
  ShardRowsChecker(ViolationSink sink, DbView db) : Checker("S15", std::move(sink)), db_(db) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"S15 evaluations", evaluations_}, {"S15 tenants tracked", tracked_peak_}};
  }

  // Whether (number, count) rows hold a complete set of some count (exported for tests).
  static bool HasCompleteSet(const std::vector<std::pair<int64_t, int64_t>>& rows);

 private:
  void Evaluate(sim::Instant at);
  void Remember(const std::string& tenant, std::string what);

  DbView db_;
  std::set<std::string> tracked_;   // tenants whose rows must stay complete
  std::set<std::string> deleting_;  // a delete was requested: rows may go
  std::set<std::string> reported_;
  // Recent split writes per tenant, for the violation message (at most kHistoryMax each).
  std::map<std::string, std::deque<std::string>> history_;
  int64_t evaluations_ = 0;
  int64_t tracked_peak_ = 0;
  static constexpr size_t kHistoryMax = 8;
};

}  // namespace storsim::invariants
