// LIN: linearizability of the storage controller's externally visible API (SPEC.md §6.1 placement
// and §4.1 generations as clients see them), checked Porcupine/Knossos style: the Wing–Gong–Lowe
// search with memoization of (linearized set, model state), per tenant shard. Linearizability is
// local (Herlihy & Wing): a history is linearizable iff each object's sub-history is, so the
// check partitions the history by shard and searches each part alone, which keeps it fast.
//
// The object, per shard: the controller's placement as its API shows it — the attached node of
// the intent, and the generation.
// Sequential specification (ShardState, Step):
//   describe / create answer (n, g) for the shard   legal iff n equals the current intended node
//                                                   (when known) and g >= every generation an
//                                                   earlier-linearized answer showed; then the node
//                                                   is n and the generation floor is g.
//   migrate(to) answered 200                        legal iff the intended node is `to` at its
//                                                   linearization point (the call waited for the
//                                                   move's reconcile: a describe linearized after
//                                                   it sees `to` unless a later move exists).
//   internal move (a point operation)               intended node := x. These are the system's
//                                                   own writes (failover, drain, fill, optimizer,
//                                                   and the leader's handling of migrate): every
//                                                   ctl.intent the single leader emits, at its
//                                                   instant; and at a change of leader, the new
//                                                   leader's intent (it loaded it before leading).
//   leadership unknown (none or several leaders)    the intended node becomes unknown; answers
//                                                   whose call overlaps a period with several
//                                                   leaders are left out (which one answered is
//                                                   not in the history).
// Consequences the search enforces: generations observed by describes never go back in real-time
// order; two answers at one generation that name different nodes need a move between them (so a
// node and a stale node cannot both be "the" attachment of one generation without the leader
// having moved it); a stale read after a newer read completed is caught.
// Ambiguous calls (timeout, 503 or refusals throughout, or still pending at the end) constrain
// nothing: whatever effect they had is the leader's own intent write, which is in the history.
// The search is bounded (steps_max per shard): beyond it the shard is reported undecided (a
// metric), never a violation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/invariants/checker.h"
#include "sim/check.h"

namespace storsim::invariants {

struct ShardOperation {
  enum class Kind : uint8_t { kRead, kMigrated, kMove, kUnknown };
  Kind kind = Kind::kRead;
  sim::Instant invoke;
  sim::Instant response;  // == invoke for point operations (moves, unknown)
  int64_t node = -1;        // read: answered node (-1 none); migrated: target; move: new node
  int64_t generation = -1;  // read: answered generation (-1 none)
  int64_t call = -1;        // client call id (api.invoke's sequence), -1 for internal
  std::string ToString() const;
};

struct ShardState {
  bool node_known = false;
  int64_t node = -1;
  int64_t generation_floor = -1;
  auto operator<=>(const ShardState&) const = default;
};

// The sequential specification: the state after `operation`, or nullopt if it is illegal.
std::optional<ShardState> Step(const ShardState& state, const ShardOperation& operation);

struct LinearizabilityResult {
  enum class Verdict : uint8_t { kLinearizable, kNotLinearizable, kUndecided };
  Verdict verdict = Verdict::kLinearizable;
  uint64_t steps = 0;
  // When not linearizable: the operations of the longest legal prefix found, and the operation
  // that could not follow it.
  size_t longest_prefix = 0;
  std::optional<ShardOperation> stuck;
};

// Wing–Gong–Lowe with memoization over one shard's history.
LinearizabilityResult CheckShardHistory(const std::vector<ShardOperation>& history,
                                        uint64_t steps_max);

// Builds per-shard histories from the trace and checks them at Finish.
//   api.invoke  {call, method, tenant, shard, node}   (Cluster::CallController)
//   api.return  {call, method, result, status, placement "shard@node,...",
//                generations "shard:gen,..."}
//   ctl.intent  {shard, attached}, ctl.status {status}, process.down {pid}
class LinearizabilityChecker : public Checker {
 public:
  LinearizabilityChecker(ViolationSink sink, uint64_t steps_max_per_shard = 200'000)
      : Checker("LIN", std::move(sink)), steps_max_(steps_max_per_shard) {}
  void OnEvent(const sim::TraceEvent& event) override;
  void Finish(sim::Instant now) override;
  std::map<std::string, int64_t> Metrics() const override { return metrics_; }

  // The per-shard histories built so far (for tests and reports).
  std::map<std::string, std::vector<ShardOperation>> Histories() const;

 private:
  struct Call {
    std::string method;
    std::string shard;  // the request's shard (migrate), "" otherwise
    int64_t node = -1;
    sim::Instant invoke;
    bool overlaps_several_leaders = false;
  };
  void SetLeader(int32_t pid, bool leader, sim::Instant at);
  void AddPoint(const std::string& shard, ShardOperation::Kind kind, int64_t node,
                sim::Instant at);

  uint64_t steps_max_;
  std::map<int64_t, Call> open_calls_;
  std::map<std::string, std::vector<ShardOperation>> histories_;
  std::set<int32_t> leaders_;
  std::map<int32_t, std::map<std::string, int64_t>> intent_;  // process -> shard -> node
  std::map<std::string, int64_t> metrics_;
  bool finished_ = false;
};

}  // namespace storsim::invariants
