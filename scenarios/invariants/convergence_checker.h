// Convergence (SPEC.md §11 L1, with the parts of L6 and L7 it implies): after the faults healed
// and the quiet period passed, the system must have settled where the controller intends:
//   - some controller instance is Leader;
//   - every shard with an attached intent has exactly one AttachedSingle location, on the
//     intended node, whose generation is the database's, and no AttachedMulti/Stale leftovers;
//   - the database agrees with the intent: the shard row's generation_pageserver (the node the
//     controller proxies requests to, and the one re-attach hands the shard back to) is the
//     intended node (DB/intent consistency, PR #12745);
//   - no shard still waits for a compute notification (L6);
//   - the tenant's compute reads the shard from the intended node (L1 "compute conninfo ==
//     intent", L7).
// It reads a const snapshot of the cluster taken at the end of the run (a plain value, so this
// library does not depend on the model); checking is a pure function of that snapshot.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

struct ShardConvergence {
  std::string shard;                        // TenantShardId::ToString()
  std::string tenant;
  int shard_number = 0;
  std::optional<int64_t> intended_node;     // the leader's intent (nullopt: not attached)
  std::vector<std::pair<int64_t, int64_t>> attached_single;  // (node, generation) on live nodes
  std::vector<std::pair<int64_t, std::string>> attached_other;  // (node, mode) Multi or Stale
  std::optional<int64_t> db_generation;
  std::optional<int64_t> db_generation_pageserver;  // nullopt: NULL (or no row)
  bool pending_notification = false;
  std::optional<int64_t> compute_node;      // where the tenant's compute reads this shard
  bool compute_running = false;
};

struct ConvergenceSnapshot {
  int leaders = 0;
  std::vector<ShardConvergence> shards;
};

// Every way `snapshot` is not converged, one line each (empty: converged).
std::vector<std::string> ConvergenceProblems(const ConvergenceSnapshot& snapshot);

class ConvergenceChecker : public Checker {
 public:
  ConvergenceChecker(ViolationSink sink, std::function<ConvergenceSnapshot()> take_snapshot)
      : Checker("L1 L6 L7", std::move(sink)), take_snapshot_(std::move(take_snapshot)) {}
  void OnEvent(const sim::TraceEvent& event) override {}
  void Finish(sim::Instant now) override;

 private:
  std::function<ConvergenceSnapshot()> take_snapshot_;
};

}  // namespace storsim::invariants
