// Availability invariant of planned maintenance (beyond SPEC.md §11; stated in
// scenarios/README.md as A1). RFC 033's purpose is that pageserver deploys cause minimal downtime:
// the orchestrator drains each pageserver before it restarts it. A drain may legitimately fail to
// happen (a fault, someone else's drain or fill holds the controller's single operation slot, no
// node to move to), and a drain that was started may legitimately time out with shards still
// there (RFC 033: "Orchestrator Drain Times Out ... will still proceed with the restart"). What
// must not happen is a restart that nothing excuses and that no drain even began.
//
// A1  PlannedRestartChecker: when the deploy orchestrator stops pageserver P for a restart
//     (deploy.restart phase=stop), and over P's prologue [deploy.node.start of P, the stop]
//       (i)  nothing in the cluster was disturbed: no pageserver, controller pod or the database
//            down, paused, partitioned, clogged or clock-faulted, no rollout and no change of
//            leader (FaultTimeline), and
//       (ii) every drain or fill that ran at any instant of it (ctl.operation start .. end, or
//            until its controller process went down) was one the orchestrator started (it
//            started while the orchestrator was working on that same node) and could see: its
//            node stayed Filling (Draining) at the leader while it ran in the prologue — an
//            operation whose node a re-attach set Active meanwhile looks ended to the
//            orchestrator's polls,
//     then either the leader had P Draining or PauseForRestart at some instant of the prologue
//     (a drain of P was accepted; its outcome is not judged), or no shard that P holds in an
//     attached mode at the stop (its latest accepted ps.location_config or ps.attach since its
//     last ps.start) had a schedulable alternative: another node the leader's intent places the
//     shard on (attached or secondary) that the leader held available (Active) with policy
//     active or filling throughout the prologue. (The slot, not the intent, is what computes read
//     from: an origin whose migration waits in its notify loop still serves the shard.)
//
// The orchestrator's own operations are not an excuse on purpose: an orchestrator that leaves its
// previous node's fill running when it gives up on it (RFC 033 "Orchestrator Fill Times Out":
// cancel it) blocks its own next drain (412: one operation at a time) and restarts that node with
// its shards on it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/invariants/checker.h"
#include "scenarios/invariants/fault_timeline.h"

namespace storsim::invariants {

class PlannedRestartChecker : public Checker {
 public:
  PlannedRestartChecker(ViolationSink sink, Topology topology)
      : Checker("A1", std::move(sink)), timeline_(std::move(topology)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override { return counts_; }

 private:
  // A value a controller process held from an instant on (policy, availability, intent).
  struct Valued {
    sim::Instant at;
    std::string value;
  };
  using History = std::vector<Valued>;
  struct Operation {
    int32_t pid = -1;
    int64_t node = 0;
    std::string op;
    sim::Instant started;
    std::optional<sim::Instant> ended;
    bool by_orchestrator = false;
  };
  struct Intent {
    int64_t attached = -1;
    std::vector<int64_t> secondaries;
  };

  void JudgeStop(const sim::TraceEvent& event);
  // Whether some operation not started by the orchestrator ran at an instant of [from, to].
  bool ForeignOperation(sim::Instant from, sim::Instant to) const;
  // Whether `history` held one of `good` at `from` and at every change in (from, to].
  static bool Throughout(const History& history, sim::Instant from, sim::Instant to,
                         const std::vector<std::string>& good);
  static bool AtSomeInstant(const History& history, sim::Instant from, sim::Instant to,
                            const std::vector<std::string>& values);
  static void Append(History& history, sim::Instant at, std::string value);

  FaultTimeline timeline_;
  std::optional<int64_t> deploy_node_;     // the node the orchestrator works on now
  std::optional<sim::Instant> prologue_start_;  // its deploy.node.start
  std::vector<Operation> operations_;
  // Per controller process: node -> policy / availability history; shard -> intent.
  std::map<int32_t, std::map<int64_t, History>> policy_;
  std::map<int32_t, std::map<int64_t, History>> availability_;
  std::map<int32_t, std::map<std::string, Intent>> intent_;
  // node -> shard -> mode of the pageserver's slot (accepted configs since its last start).
  std::map<int64_t, std::map<std::string, std::string>> slots_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace storsim::invariants
