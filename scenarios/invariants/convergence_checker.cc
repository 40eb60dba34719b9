// Convergence check over an end-of-run snapshot.
#include "scenarios/invariants/convergence_checker.h"

namespace storsim::invariants {

std::vector<std::string> ConvergenceProblems(const ConvergenceSnapshot& snapshot) {
  std::vector<std::string> problems;
  if (snapshot.leaders != 1) {
    problems.push_back(std::to_string(snapshot.leaders) + " controller instances are Leader");
  }
  for (const auto& shard : snapshot.shards) {
    const std::string& name = shard.shard;
    if (!shard.intended_node) continue;
    const int64_t node = *shard.intended_node;
    if (shard.attached_single.size() != 1 || shard.attached_single[0].first != node) {
      std::string where;
      for (const auto& [n, g] : shard.attached_single) {
        where += " n" + std::to_string(n) + "/g" + std::to_string(g);
      }
      problems.push_back(name + " should be AttachedSingle on node " + std::to_string(node) +
                         " only, but AttachedSingle is on [" + where + " ]");
      continue;
    }
    const int64_t generation = shard.attached_single[0].second;
    if (!shard.db_generation || *shard.db_generation != generation) {
      problems.push_back(name + " is attached at generation " + std::to_string(generation) +
                         " but the database holds " +
                         (shard.db_generation ? std::to_string(*shard.db_generation) : "none"));
    }
    if (shard.db_generation_pageserver != node) {
      problems.push_back(name + " is attached on node " + std::to_string(node) +
                         " but the database's generation_pageserver is " +
                         (shard.db_generation_pageserver
                              ? "node " + std::to_string(*shard.db_generation_pageserver)
                              : std::string("NULL")));
    }
    for (const auto& [other, mode] : shard.attached_other) {
      problems.push_back(name + " is still " + mode + " on node " + std::to_string(other));
    }
    if (shard.pending_notification) {
      problems.push_back(name + " still has a compute notification pending (L6)");
    }
    if (shard.compute_running && shard.compute_node != node) {
      problems.push_back(name + ": the compute reads from " +
                         (shard.compute_node ? "node " + std::to_string(*shard.compute_node)
                                             : std::string("no node")) +
                         " instead of node " + std::to_string(node) + " (L7)");
    }
  }
  return problems;
}

void ConvergenceChecker::Finish(sim::Instant now) {
  const std::vector<std::string> problems = ConvergenceProblems(take_snapshot_());
  if (problems.empty()) return;
  std::string detail = "not converged after the quiet period: " + problems[0];
  if (problems.size() > 1) detail += " (and " + std::to_string(problems.size() - 1) + " more)";
  Report("L1", now, detail);
}

}  // namespace storsim::invariants
