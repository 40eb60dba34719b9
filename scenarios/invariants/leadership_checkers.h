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
    return {{"s3_known_hazards", known_hazards_}};
  }

 private:
  bool strict_;
  std::set<Instance> stepped_down_;
  // (instance, shard, node) detaches of unknown shards announced by the instance (§3.3 hazard).
  std::set<std::tuple<Instance, std::string, int64_t>> unknown_detaches_;
  int64_t known_hazards_ = 0;
};

}  // namespace storsim::invariants
