// S4, S5, S7, S9.
#include "scenarios/invariants/generation_checkers.h"

namespace storsim::invariants {
namespace {
bool IsAttachedMode(std::string_view mode) {
  return mode == "AttachedSingle" || mode == "AttachedMulti" || mode == "AttachedStale";
}
}  // namespace

// ---- S4 ----

void GenerationChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "ctl.generation") {
    ++issued_count_;
    const std::string shard(event.Str("shard"));
    const int64_t generation = event.Int("generation");
    const std::string by = "p" + std::to_string(event.process) + "#" +
                           std::to_string(event.Int("incarnation")) + " for node " +
                           std::to_string(event.Int("node")) + " via " +
                           std::string(event.Str("via"));
    auto& issued = issued_[shard];
    auto [it, inserted] = issued.try_emplace(generation, by);
    if (!inserted) {
      Report("S4", event.at, "generation " + std::to_string(generation) + " of " + shard +
                                 " was handed out twice: to " + it->second + " and to " + by);
      return;
    }
    if (db_.shard_generation) {
      const std::optional<int64_t> committed = db_.shard_generation(shard);
      if (committed && *committed < generation) {
        Report("S4", event.at, "generation " + std::to_string(generation) + " of " + shard +
                                   " was handed out but the database holds " +
                                   std::to_string(*committed));
      }
    }
    return;
  }
  if (event.kind == "ps.attach") {
    const std::pair<std::string, int64_t> key{std::string(event.Str("shard")), event.Int("gen")};
    const std::pair<int64_t, int64_t> who{event.Int("node"), event.Int("inc")};
    auto [it, inserted] = attached_by_.try_emplace(key, who);
    if (!inserted && it->second != who) {
      Report("S4", event.at,
             "generation " + std::to_string(key.second) + " of " + key.first +
                 " is attached by node " + std::to_string(who.first) + " incarnation " +
                 std::to_string(who.second) + " after node " + std::to_string(it->second.first) +
                 " incarnation " + std::to_string(it->second.second));
    }
    return;
  }
  if (event.kind == "ctl.validate" && event.Has("memory_generation") && db_.shard_generation) {
    const std::string shard(event.Str("shard"));
    const std::optional<int64_t> committed = db_.shard_generation(shard);
    const int64_t memory = event.Int("memory_generation");
    if (committed && memory > *committed) {
      Report("S4", event.at, "the controller's memory generation " + std::to_string(memory) +
                                 " of " + shard + " is above the database's " +
                                 std::to_string(*committed));
    }
  }
}

// ---- S5 ----

void PageserverMonotonicityChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "ps.local_reconcile" && event.Str("action") == "attach" &&
      event.Int("gen") < event.Int("local_gen")) {
    Report("S5", event.at, "node " + std::to_string(event.Int("node")) + " re-attached " +
                               std::string(event.Str("shard")) + " at generation " +
                               std::to_string(event.Int("gen")) + " below its persisted " +
                               std::to_string(event.Int("local_gen")));
    return;
  }
  if (event.kind != "ps.location_config" || event.Int("status") != 200) return;
  const std::pair<int64_t, std::string> slot{event.Int("node"), std::string(event.Str("shard"))};
  const std::string_view mode = event.Str("mode");
  if (!IsAttachedMode(mode)) {
    attached_.erase(slot);
    return;
  }
  const int64_t generation = event.Int("gen");
  auto it = attached_.find(slot);
  if (it != attached_.end() && generation < it->second) {
    Report("S5", event.at, "node " + std::to_string(slot.first) + " accepted " + std::string(mode) +
                               " of " + slot.second + " at generation " +
                               std::to_string(generation) + " while attached at " +
                               std::to_string(it->second));
  }
  attached_[slot] = generation;
}

// ---- S7 ----

void IndexVisibilityChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind != "ps.index_load") return;
  const int64_t generation = event.Int("gen");
  const int64_t index_generation = event.Int("index_gen", -1);
  if (index_generation > generation) {
    Report("S7", event.at, "node " + std::to_string(event.Int("node")) + " attached " +
                               std::string(event.Str("shard")) + " in generation " +
                               std::to_string(generation) + " loaded the index of generation " +
                               std::to_string(index_generation) + " (" +
                               std::string(event.Str("key")) + ")");
  }
}

// ---- S9 ----

void ValidateChecker::OnEvent(const sim::TraceEvent& event) {
  if (!event.Has("shard")) return;
  const std::string shard(event.Str("shard"));
  if (db_.shard_generation) {
    const std::optional<int64_t> committed = db_.shard_generation(shard);
    auto it = seen_.find(shard);
    if (it == seen_.end() || it->second.first != committed) seen_[shard] = {committed, event.at};
  }
  if (event.kind != "ctl.validate" || event.Int("valid") == 0) return;
  const int64_t requested = event.Int("generation");
  // What the handler says it read counts only when it read something (-1: it did not read the
  // database); whether that was right is decided against the database itself below.
  if (event.Has("db_generation") && event.Int("db_generation") >= 0 &&
      event.Int("db_generation") != requested) {
    Report("S9", event.at, "validate answered valid for " + shard + " generation " +
                               std::to_string(requested) + " although it read the database's " +
                               std::to_string(event.Int("db_generation")));
    return;
  }
  if (!db_.shard_generation) return;
  const auto& [committed, since] = seen_[shard];
  if (committed != requested && event.at - since >= race_window_) {
    Report("S9", event.at, "validate answered valid for " + shard + " generation " +
                               std::to_string(requested) + " while the database has held " +
                               (committed ? std::to_string(*committed) : std::string("none")) +
                               " since " + since.ToString());
  }
}

}  // namespace storsim::invariants
