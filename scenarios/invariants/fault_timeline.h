// FaultTimeline: when, according to the trace, each process was disturbed, for the liveness
// checkers of SPEC.md §11 (L2, L4, L5, L8). A liveness bound only holds while the parts it
// depends on work, so every deadline these checkers judge comes with an "undisturbed" premise:
// the checker asks this timeline whether the processes involved were touched by a fault during the
// obligation's window and excuses (counts, does not judge) the obligation if they were.
//
// Sources, all trace events (no model state):
//   process.down / process.start          a process is down in between (crash, kill, stop, restart)
//   process.pause / process.resume        frozen in between
//   fault {kind, a, b, duration_ns}       network faults (partition, one-way partition, clog,
//                                         link degradation: a and b; isolate: a) and clock faults
//                                         (a), from the event for duration_ns (0: until healed)
//   heal                                  the harness ended every fault (StorageWorld::Heal)
//   ctl.status {status}                   a controller process becomes Leader or stops being one
//   k8s.rollout.start / k8s.rollout.end   a controller rollout is in progress in between
// Intervals are closed on both ends; an open interval (a fault not yet healed) ends at
// Instant::Max(). Every list is bounded by the number of events seen.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "scenarios/invariants/checker.h"
#include "sim/check.h"

namespace storsim::invariants {

// Process ids of one storage cluster, by role (from model::Cluster; a plain value here).
struct Topology {
  std::set<int32_t> controllers;  // controller pod slots
  std::set<int32_t> pageservers;
  int32_t database = -1;          // the controller's Postgres
  int32_t remote_storage = -1;    // S3
};

class FaultTimeline {
 public:
  explicit FaultTimeline(Topology topology) : topology_(std::move(topology)) {}

  // Feed every trace event, in order, before judging anything at or after its time.
  void Observe(const sim::TraceEvent& event);

  // Whether `pid` was down, paused, partitioned, isolated, clogged, degraded or had its clock
  // faulted at any instant of [from, to].
  // A network fault between `pid` and `ignore_partner` does not count (the fault a checker is
  // judging the reaction to).
  bool Disturbed(int32_t pid, sim::Instant from, sim::Instant to,
                 int32_t ignore_partner = -1) const;
  // Whether `pid` could exchange no message with `peer` at every instant of [from, to]: it was
  // down, paused or isolated, or the link between them was partitioned (either direction) or
  // clogged.
  bool CutOffThroughout(int32_t pid, int32_t peer, sim::Instant from, sim::Instant to) const;
  // Whether the control path (controller pods, the database, a rollout, a change of leadership
  // status) was disturbed at any instant of [from, to]. A leadership change exactly at `from` does
  // not count (the window may start at it), nor does a network fault between a pod and a
  // pageserver (it disturbs that pageserver, which the checkers judge on its own).
  bool ControlPathDisturbed(sim::Instant from, sim::Instant to,
                            int32_t ignore_partner = -1) const;
  // The single controller process that is Leader at `at` (nullopt: none or several).
  std::optional<int32_t> LeaderAt(sim::Instant at) const;
  // Since when the leader at `at` has continuously been the single leader.
  std::optional<sim::Instant> LeaderSince(sim::Instant at) const;
  // Instants at which the set of Leader processes changed, in order.
  const std::vector<sim::Instant>& leadership_changes() const { return leadership_changes_; }
  // Whether the process is up now (last process.start/down seen).
  bool Up(int32_t pid) const { return up_.count(pid) != 0; }

  const Topology& topology() const { return topology_; }

 private:
  enum class Cause : uint8_t { kDown, kPause, kNetwork, kClock };
  struct Interval {
    sim::Instant start;
    sim::Instant end = sim::Instant::Max();
    Cause cause = Cause::kNetwork;
    int32_t partner = -1;  // the other end of a pair fault
  };
  static bool Overlaps(const std::vector<Interval>& intervals, sim::Instant from, sim::Instant to,
                       int32_t ignore_partner = -1);
  void Open(std::vector<Interval>& list, sim::Instant start, sim::Instant end, Cause cause,
            int32_t partner = -1);
  void Close(std::vector<Interval>& list, sim::Instant at, Cause cause);
  void OnFault(const sim::TraceEvent& event);
  void SetLeader(int32_t pid, bool leader, sim::Instant at);

  Topology topology_;
  std::map<int32_t, std::vector<Interval>> touched_;  // every disturbance, per process
  std::map<int32_t, std::vector<Interval>> silent_;   // down, paused, isolated
  std::map<std::pair<int32_t, int32_t>, std::vector<Interval>> cut_;  // (low pid, high pid)
  std::vector<Interval> control_;                     // rollouts
  std::vector<sim::Instant> leadership_changes_;
  std::vector<std::pair<sim::Instant, std::set<int32_t>>> leaders_;  // leader set from instant on
  std::set<int32_t> current_leaders_;
  std::set<int32_t> up_;
};

}  // namespace storsim::invariants
