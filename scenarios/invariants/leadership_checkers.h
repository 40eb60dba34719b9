// Leadership invariants (SPEC.md §10 S1–S3) and the dual-actor window metric.
//
// S1  LeaderRowChecker: `controllers` never holds more than one row (read from the database after
//     every event), and a successful CAS replaced exactly the row its caller passed as prev.
// S2  SingleLeaderChecker: at every instant at most one live process has status Leader AND is the
//     database's leader row (its address and the started_at it wrote). Also measures the
//     dual-actor window: the time during which two or more controller instances were each inside
//     the span between their first and last side effect (location_config, notify-attach, DB write).
// S3  SteppedDownSilenceChecker: once an instance has served a step-down response it issues no
//     location_config, notify-attach or DB write. The upstream gaps SPEC §3.3 lists (heartbeat-
//     driven detach of unknown shards; an ongoing drain/fill's final policy write) are counted as
//     known hazards rather than failures, unless `strict`.
//     Schema part (SPEC §3.2 step 4, §12 #4): the step-down window also ends when the successor
//     changes the schema. When a step-down-protocol instance X runs its migrations (ctl.migrations)
//     while the leader row it read at start (ctl.leader_read) names another address L, every
//     instance with address L that was alive at that read and still is runs against a schema it was not built
//     for, so it must issue no DB write afterwards (the same known hazards excepted). Excused and
//     counted (s3_unilateral_migrations): X had already tried to step L down and every attempt
//     failed (SPEC §3.6 window 1, the new leader proceeds unilaterally while L may still act).
#pragma once

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

class LeaderRowChecker : public Checker {
 public:
  LeaderRowChecker(ViolationSink sink, DbView db) : Checker("S1", std::move(sink)), db_(db) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  using Row = std::pair<std::string, int64_t>;
  void ObserveDatabase(sim::Instant at);
  DbView db_;
  bool reported_rows_ = false;
  // Every distinct single-row value the table held, in order (polled after each event).
  std::vector<std::optional<Row>> history_{std::nullopt};
};

class SingleLeaderChecker : public Checker {
 public:
  SingleLeaderChecker(ViolationSink sink, DbView db) : Checker("S2", std::move(sink)), db_(db) {}
  void OnEvent(const sim::TraceEvent& event) override;
  void Finish(sim::Instant now) override;
  std::map<std::string, int64_t> Metrics() const override;

 private:
  struct InstanceState {
    std::string address;
    std::string status;
    int64_t started_at = -1;  // what its successful leader CAS wrote
    bool alive = true;
    std::optional<sim::Instant> first_effect;
    sim::Instant last_effect;
  };
  DbView db_;
  std::map<Instance, InstanceState> instances_;
  bool reported_ = false;
  int64_t dual_actor_ns_ = 0;
  int64_t leaders_max_ = 0;
};

class SteppedDownSilenceChecker : public Checker {
 public:
  SteppedDownSilenceChecker(ViolationSink sink, bool strict)
      : Checker("S3", std::move(sink)), strict_(strict) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"s3_known_hazards", known_hazards_},
            {"s3_unilateral_migrations", unilateral_migrations_}};
  }

 private:
  struct StartupState {
    std::string address;
    std::string protocol;
    std::optional<std::string> leader_read;  // the leader row's address read at start
    std::vector<Instance> predecessors;       // alive then with that address
    int step_down_attempts = 0;
    bool step_down_ok = false;
  };
  void OnMigrations(const sim::TraceEvent& event, const Instance& instance);
  bool strict_;
  std::set<Instance> stepped_down_;
  std::map<Instance, StartupState> startups_;
  std::set<Instance> alive_;
  // Instances whose schema a successor changed, with a description of that successor.
  std::map<Instance, std::string> schema_changed_;
  int64_t unilateral_migrations_ = 0;
  // (instance, shard, node) detaches of unknown shards announced by the instance (§3.3 hazard).
  std::set<std::tuple<Instance, std::string, int64_t>> unknown_detaches_;
  int64_t known_hazards_ = 0;
};

}  // namespace storsim::invariants
