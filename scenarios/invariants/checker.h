// The base of storsim's invariant checkers (SPEC.md §10–11). A checker observes trace events as
// they are emitted and may read a const view of the database (ground truth that no model code can
// fake); it never mutates the model, draws randomness or advances time. Safety checkers report as
// soon as an invariant breaks (the runner stops the run); liveness checkers report from Finish,
// called once after the run's quiet period.
//
// Checkers state invariants, not expected bugs: each is written from the SPEC's statement of the
// property, so a defect nobody planted on purpose trips it just the same.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/check/violation.h"
#include "sim/trace.h"

namespace storsim::invariants {

using scenarios::Violation;
using scenarios::ViolationSink;

// Read-only ground truth from the simulated database (the fake Postgres's committed tables).
// Every accessor may be empty (a test without a database); checkers then skip what needs it.
struct DbView {
  std::function<size_t()> leader_rows;
  // (address, started_at) of the single leader row; nullopt when there is none or more than one.
  std::function<std::optional<std::pair<std::string, int64_t>>()> leader;
  // The committed generation of a shard (TenantShardId::ToString()); nullopt when the shard has no
  // row or a NULL generation.
  std::function<std::optional<int64_t>(const std::string& shard)> shard_generation;
  // Tenant ids that have at least one row in tenant_shards.
  std::function<std::set<std::string>()> tenants;
  // Every row of tenant_shards as (shard_number, shard_count), by tenant id (S15).
  std::function<std::map<std::string, std::vector<std::pair<int64_t, int64_t>>>()> shard_rows;
};

class Checker : public sim::TraceObserver {
 public:
  Checker(std::string invariants, ViolationSink sink)
      : invariants_(std::move(invariants)), sink_(std::move(sink)) {}

  // The ids this checker proves, e.g. "S4" or "S2 dual-actor".
  const std::string& invariants() const { return invariants_; }
  // Liveness and end-of-run checks; `now` is the end of the quiet period.
  virtual void Finish(sim::Instant now) {}
  // Numbers worth reporting with the run (windows, counts), by name.
  virtual std::map<std::string, int64_t> Metrics() const { return {}; }
  uint64_t violations_reported() const { return reported_; }

 protected:
  void Report(std::string invariant, sim::Instant at, std::string detail) {
    ++reported_;
    sink_(Violation{std::move(invariant), at, std::move(detail)});
  }

 private:
  std::string invariants_;
  ViolationSink sink_;
  uint64_t reported_ = 0;
};

// "0@3,1@5" (shard number @ node id) -> {0: 3, 1: 5}; `separator` ':' reads the compute hook's
// "0:3,1:5". Malformed entries are skipped.
std::map<int64_t, int64_t> ParsePlacement(std::string_view text, char separator = '@');

// An instance of a process: pid and incarnation ("p3#2"), the unit S2/S3/S4 reason about.
struct Instance {
  int32_t pid = -1;
  int64_t incarnation = 0;
  auto operator<=>(const Instance&) const = default;
  std::string ToString() const {
    return "p" + std::to_string(pid) + "#" + std::to_string(incarnation);
  }
};

// The controller processes alive and the status each last reported (ctl.status): whether an
// instance is the only Leader (split brain, SPEC §3.6, has two). Feed it every event.
class LeaderCensus {
 public:
  void Observe(const sim::TraceEvent& event);
  bool IsSingleLeader(int32_t pid) const;
  // `pid` is a Leader and so is another live instance (two leaders: SPEC §3.6 window 1).
  bool SharesLeadership(int32_t pid) const;

 private:
  std::map<int32_t, std::string> status_;  // controller pid -> latest ctl.status (alive only)
};

// Per controller process (its latest incarnation): when it began loading the database
// (ctl.migrations) and when it last re-read the placements (ctl.takeover_resync ok). A successor
// whose step-down never arrived cannot know what its predecessor changed after it loaded, until
// it re-reads (SPEC §3.6 window 1). Feed it every event.
class SuccessorKnowledge {
 public:
  void Observe(const sim::TraceEvent& event);
  // Whether `pid` loaded before `changed_at` and has not re-read the placements since.
  bool LoadedBefore(int32_t pid, sim::Instant changed_at) const;

 private:
  std::map<int32_t, sim::Instant> loading_since_;
  std::map<int32_t, sim::Instant> resynced_at_;
};

}  // namespace storsim::invariants
