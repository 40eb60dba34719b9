// S1, S2 (with the dual-actor window) and S3.
#include "scenarios/invariants/leadership_checkers.h"

#include <algorithm>

namespace storsim::invariants {
namespace {

Instance InstanceOf(const sim::TraceEvent& event) {
  return Instance{event.process, event.Int("incarnation")};
}

bool IsControllerSideEffect(std::string_view kind) {
  return kind == "ctl.location_config.send" || kind == "ctl.notify.send" || kind == "ctl.db_write";
}

}  // namespace

// ---- S1 ----

void LeaderRowChecker::ObserveDatabase(sim::Instant at) {
  if (db_.leader_rows) {
    const size_t rows = db_.leader_rows();
    if (rows > 1 && !reported_rows_) {
      reported_rows_ = true;
      Report("S1", at, "the controllers table holds " + std::to_string(rows) + " rows");
    }
  }
  if (db_.leader) {
    std::optional<Row> row = db_.leader();
    if (row != history_.back()) history_.push_back(std::move(row));
  }
}

void LeaderRowChecker::OnEvent(const sim::TraceEvent& event) {
  ObserveDatabase(event.at);
  if (event.kind != "ctl.leader_cas" || event.Str("result") != "ok" || !db_.leader) return;
  const int64_t prev_started_at = event.Int("prev_started_at", -1);
  const Row written{std::string(event.Str("instance")), event.Int("started_at")};
  // The value the table held just before it first held what this CAS wrote.
  auto it = std::find(history_.begin(), history_.end(), std::optional<Row>(written));
  if (it == history_.end() || it == history_.begin()) return;  // not visible (yet): nothing to say
  const std::optional<Row>& before = *(it - 1);
  if (prev_started_at < 0) {
    if (before.has_value()) {
      Report("S1", event.at, "an INSERT of the leader row by " + written.first +
                                 " succeeded over the existing row " + before->first);
    }
    return;
  }
  const Row prev{std::string(event.Str("prev_address")), prev_started_at};
  if (before != std::optional<Row>(prev)) {
    Report("S1", event.at,
           "CAS by " + written.first + " from prev (" + prev.first + ", " +
               std::to_string(prev.second) + ") succeeded but the row was " +
               (before ? "(" + before->first + ", " + std::to_string(before->second) + ")"
                       : std::string("absent")));
  }
}

// ---- S2 ----

void SingleLeaderChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "process.down" || event.kind == "process.start") {
    // A new incarnation is a new instance; the old one is dead either way.
    for (auto& [instance, state] : instances_) {
      if (instance.pid == event.Int("pid")) state.alive = false;
    }
    return;
  }
  if (event.kind.substr(0, 4) != "ctl.") return;
  InstanceState& state = instances_[InstanceOf(event)];
  if (state.address.empty()) state.address = std::string(event.Str("instance"));
  if (event.kind == "ctl.status") state.status = std::string(event.Str("status"));
  if (event.kind == "ctl.leader_cas" && event.Str("result") == "ok") {
    state.started_at = event.Int("started_at");
  }
  if (IsControllerSideEffect(event.kind)) {
    // Dual-actor window: extend this instance's span; add the time it overlaps another's.
    const sim::Instant previous_end = state.first_effect ? state.last_effect : event.at;
    if (!state.first_effect) state.first_effect = event.at;
    for (const auto& [other_instance, other] : instances_) {
      if (&other == &state || !other.first_effect || !other.alive) continue;
      // New overlap between [previous_end, now] and the other's span [first, last].
      const sim::Instant from = std::max(previous_end, *other.first_effect);
      const sim::Instant to = std::min(event.at, other.last_effect);
      if (to > from) dual_actor_ns_ += (to - from).nanos();
    }
    state.last_effect = event.at;
  }
  if (!db_.leader) return;
  const auto row = db_.leader();
  if (!row) return;
  int64_t leaders = 0;
  std::string who;
  for (const auto& [instance, s] : instances_) {
    if (s.alive && s.status == "Leader" && s.address == row->first && s.started_at == row->second) {
      ++leaders;
      who += " " + instance.ToString();
    }
  }
  leaders_max_ = std::max(leaders_max_, leaders);
  if (leaders > 1 && !reported_) {
    reported_ = true;
    Report("S2", event.at, std::to_string(leaders) + " live instances are Leader and the leader row:" + who);
  }
}

void SingleLeaderChecker::Finish(sim::Instant now) {}

std::map<std::string, int64_t> SingleLeaderChecker::Metrics() const {
  return {{"dual_actor_ns", dual_actor_ns_}, {"row_leaders_max", leaders_max_}};
}

// ---- S3 ----

void SteppedDownSilenceChecker::OnMigrations(const sim::TraceEvent& event,
                                             const Instance& instance) {
  const StartupState& me = startups_[instance];
  if (me.protocol != "step-down" || !me.leader_read || me.leader_read->empty() ||
      *me.leader_read == me.address) {
    return;  // no predecessor to hand over from (first start, restart in place, other protocol)
  }
  if (me.step_down_attempts > 0 && !me.step_down_ok) {
    ++unilateral_migrations_;  // SPEC §3.6 window 1: the predecessor may still act
    return;
  }
  for (const Instance& other : me.predecessors) {
    if (alive_.count(other) == 0) continue;
    schema_changed_.emplace(other, instance.ToString() + " (" + me.address + ") at " +
                                       event.at.ToString());
  }
}

void SteppedDownSilenceChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "process.down") {
    for (auto it = alive_.begin(); it != alive_.end();) {
      it = it->pid == event.Int("pid") ? alive_.erase(it) : std::next(it);
    }
    return;
  }
  if (event.kind.substr(0, 4) != "ctl.") return;
  const Instance instance = InstanceOf(event);
  if (alive_.insert(instance).second) {
    // A new incarnation of a pid: the older ones are gone.
    for (auto it = alive_.begin(); it != alive_.end();) {
      it = it->pid == instance.pid && !(*it == instance) ? alive_.erase(it) : std::next(it);
    }
  }
  StartupState& startup = startups_[instance];
  if (startup.address.empty()) startup.address = std::string(event.Str("instance"));
  if (event.kind == "ctl.status" && event.Has("protocol")) {
    startup.protocol = std::string(event.Str("protocol"));
  }
  if (event.kind == "ctl.leader_read" && event.Str("result") == "ok" && !startup.leader_read) {
    startup.leader_read = std::string(event.Str("leader"));
    for (const Instance& other : alive_) {
      auto it = startups_.find(other);
      if (!(other == instance) && it != startups_.end() && it->second.address == *startup.leader_read) {
        startup.predecessors.push_back(other);
      }
    }
  }
  if (event.kind == "ctl.step_down.send") ++startup.step_down_attempts;
  if (event.kind == "ctl.step_down.reply" && event.Str("result") == "ok") startup.step_down_ok = true;
  if (event.kind == "ctl.migrations") {
    OnMigrations(event, instance);
    return;
  }
  if (event.kind == "ctl.step_down.served") {
    stepped_down_.insert(instance);
    return;
  }
  if (event.kind == "ctl.location.detach_unknown") {
    unknown_detaches_.insert({instance, std::string(event.Str("shard")), event.Int("node")});
    return;
  }
  if (!IsControllerSideEffect(event.kind)) return;
  const bool served = stepped_down_.count(instance) != 0;
  auto schema = schema_changed_.find(instance);
  // The schema rule judges DB writes only; the step-down rule every side effect.
  const bool schema_violation = schema != schema_changed_.end() && event.kind == "ctl.db_write";
  if (!served && !schema_violation) return;
  bool known_hazard = false;
  if (event.kind == "ctl.location_config.send" && event.Str("mode") == "Detached") {
    known_hazard = unknown_detaches_.count(
                       {instance, std::string(event.Str("shard")), event.Int("node")}) > 0;
  }
  if (event.kind == "ctl.db_write" && event.Str("op") == "update_node_scheduling_policy") {
    known_hazard = true;  // an ongoing drain/fill finishing (SPEC §3.3)
  }
  if (known_hazard && !strict_) {
    ++known_hazards_;
    return;
  }
  std::string what(event.kind);
  if (event.Has("op")) what += " op=" + std::string(event.Str("op"));
  if (event.Has("shard")) what += " shard=" + std::string(event.Str("shard"));
  if (event.Has("node")) what += " node=" + std::to_string(event.Int("node"));
  const std::string why = served ? "after serving a step-down response"
                                 : "after its successor " + schema->second +
                                       " changed the schema (ran migrations)";
  Report("S3", event.at,
         instance.ToString() + " (" + std::string(event.Str("instance")) +
             ") issued a side effect " + why + ": " + what +
             (known_hazard ? " (a known upstream hazard, SPEC §3.3)" : ""));
}

}  // namespace storsim::invariants
