// S4, S5, S7, S9, G1, F1.
#include "scenarios/invariants/generation_checkers.h"

namespace storsim::invariants {
namespace {
bool IsAttachedMode(std::string_view mode) {
  return mode == "AttachedSingle" || mode == "AttachedMulti" || mode == "AttachedStale";
}

// "1,3,4" -> {1, 3, 4}; malformed entries are skipped.
std::set<int64_t> ParseNodeList(std::string_view text) {
  std::set<int64_t> nodes;
  size_t start = 0;
  for (size_t guard = 0; start <= text.size() && guard <= text.size(); ++guard) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(start, comma - start);
    if (!item.empty() && item.find_first_not_of("0123456789") == std::string_view::npos) {
      nodes.insert(std::stoll(std::string(item)));
    }
    start = comma + 1;
  }
  return nodes;
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

namespace storsim::invariants {

// ---- G1 ----

void GratuitousGenerationChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "ps.start") {
    // A new incarnation holds nothing until its re-attach answer is processed.
    const int64_t node = event.Int("node");
    incarnation_[node] = event.Int("inc");
    for (auto it = slots_.lower_bound({node, std::string()});
         it != slots_.end() && it->first.first == node;) {
      it = slots_.erase(it);
    }
    for (auto it = demoting_.lower_bound({node, std::string()});
         it != demoting_.end() && it->first == node;) {
      it = demoting_.erase(it);
    }
    return;
  }
  if (event.kind == "ctl.location_config.send") {
    const std::string_view mode = event.Str("mode");
    if (mode == "Detached" || mode == "Secondary") {
      demoting_.insert({event.Int("node"), std::string(event.Str("shard"))});
    }
    return;
  }
  if (event.kind == "ps.split") {
    // The parent's slot is gone once its children are attached (they have their own events).
    const int64_t node = event.Int("node");
    auto current = incarnation_.find(node);
    if (current != incarnation_.end() && event.Int("inc") != current->second) return;
    if (event.Int("status") == 200 && event.Str("result") == "split") {
      slots_.erase({node, std::string(event.Str("shard"))});
    }
    return;
  }
  if (event.kind == "ps.local_reconcile" || event.kind == "ps.location_config") {
    const int64_t node = event.Int("node");
    auto current = incarnation_.find(node);
    if (current != incarnation_.end() && event.Int("inc") != current->second) return;  // stale
    const std::pair<int64_t, std::string> key{node, std::string(event.Str("shard"))};
    if (event.kind == "ps.location_config") demoting_.erase(key);  // the pageserver got there
    if (event.kind == "ps.local_reconcile") {
      const std::string_view action = event.Str("action");
      if (action == "attach") {
        slots_[key] = Slot{"AttachedSingle", event.Int("gen")};
      } else if (action == "delete") {
        slots_.erase(key);
      } else {
        slots_[key] = Slot{"Secondary", -1};
      }
      return;
    }
    if (event.Int("status") != 200) return;
    const std::string_view mode = event.Str("mode");
    if (event.Str("action") == "detach" || mode == "Detached") {
      slots_.erase(key);
    } else {
      slots_[key] = Slot{std::string(mode), IsAttachedMode(mode) ? event.Int("gen") : -1};
    }
    return;
  }
  if (event.kind == "ctl.reconcile.start") {
    const std::pair<int32_t, std::string> key{event.process, std::string(event.Str("shard"))};
    Reconciles& reconciles = reconciles_[key];
    reconciles.latest_started = event.at;
    reconciles.stale_start_generation.reset();
    if (!reconciles.running.empty()) {
      reconciles.stale_start_generation = event.Int("generation", -1);
    }
    reconciles.running.insert(event.Int("sequence", -1));
    return;
  }
  if (event.kind == "ctl.reconcile.end") {
    reconciles_[{event.process, std::string(event.Str("shard"))}].running.erase(
        event.Int("sequence", -1));
    return;
  }
  if (event.kind == "ctl.location_config.refresh") {
    const std::tuple<int32_t, std::string, int64_t> key{
        event.process, std::string(event.Str("shard")), event.Int("node")};
    if (event.Str("result") == "ok" && event.Str("mode").empty()) {
      refreshed_unknown_.insert(key);
    } else {
      refreshed_unknown_.erase(key);
    }
    return;
  }
  if (event.kind == "ctl.migrations") {
    loading_since_[{event.process, event.Int("incarnation")}] = event.at;
    return;
  }
  if (event.kind == "ctl.location_config.result") {
    if (event.Str("result") == "ok") {
      last_acted_[std::string(event.Str("shard"))][{event.process, event.Int("incarnation")}] =
          event.at;
    }
    return;
  }
  if (event.kind == "ctl.db_write") {
    if (event.Str("op") == "update_tenant_shard" && !event.Str("placement").empty() &&
        event.Str("placement").find("Attached") == std::string_view::npos) {
      name_cleared_[std::string(event.Str("tenant"))] = event.at;
    }
    return;
  }
  if (event.kind != "ctl.generation") return;
  const int64_t node = event.Int("node");
  const std::string shard(event.Str("shard"));
  auto named = named_.find(shard);
  auto cleared = name_cleared_.find(shard.substr(0, shard.find('-')));
  const bool name_lost = cleared != name_cleared_.end() &&
                         (named == named_.end() || named->second < cleared->second);
  if (event.Str("via") != "re_attach") named_[shard] = event.at;
  const int64_t generation = event.Int("generation");
  const InstanceKey taker{event.process, event.Int("incarnation")};
  auto previous = latest_taken_.find(shard);
  const bool have_previous = previous != latest_taken_.end();
  const sim::Instant previous_taken = have_previous ? previous->second : event.at;
  latest_taken_[shard] = event.at;
  std::map<InstanceKey, sim::Instant>& acted = last_acted_[shard];
  bool other_acted_since_load = false;
  if (auto loading = loading_since_.find(taker); loading != loading_since_.end()) {
    for (const auto& [instance, at] : acted) {
      if (instance != taker && at > loading->second) other_acted_since_load = true;
    }
  }
  acted[taker] = event.at;
  if (other_acted_since_load) return;  // another leader's doing, unknown to this one
  if (name_lost) return;  // names the holder in the DB again
  auto slot = slots_.find({node, shard});
  if (slot == slots_.end() || slot->second.mode != "AttachedSingle" ||
      slot->second.generation != generation - 1) {
    return;
  }
  if (demoting_.count({node, shard}) != 0) {
    // A demotion of this location is on its way (its reconcile was cancelled, its call may still
    // land): the node answers a refresh with no configuration while the slot is in transition,
    // and the reconciler cannot count on the attachment (generations 941).
    return;
  }
  if (event.Str("via") != "re_attach" && refreshed_unknown_.count({event.process, shard, node}) != 0) {
    // db-outage 4577: a promotion sent by a cancelled reconcile was queued at a paused node; the
    // next reconcile's refresh was answered while the slot was being rebuilt for it.
    return;
  }
  if (event.Str("via") != "re_attach") {
    auto reconciles = reconciles_.find({event.process, shard});
    if (reconciles != reconciles_.end()) {
      const std::optional<int64_t>& stale = reconciles->second.stale_start_generation;
      if (stale && *stale < generation - 1) {
        // chaos 1804: a policy write spawned this reconcile while the previous one, which had
        // attached the holder at g - 1, was still running; its copy of the shard predates g - 1.
        return;
      }
      if (have_previous && previous_taken > reconciles->second.latest_started) {
        return;  // the holder's generation came after this reconcile read the observed state
      }
    }
  }
  Report("G1", event.at,
         "generation " + std::to_string(generation) + " of " + shard + " was taken for node " +
             std::to_string(node) + " (via " + std::string(event.Str("via")) +
             ") although its current incarnation already holds the shard AttachedSingle at " +
             std::to_string(generation - 1) + ", the latest generation");
}

// ---- F1 ----

void FailoverTargetChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.process < 0 || event.kind.rfind("ctl.", 0) != 0) return;
  const InstanceKey instance{event.process, event.Int("incarnation")};
  if (event.kind == "ctl.heartbeat.verdict") {
    std::set<int64_t>& down = judged_down_[instance];
    for (int64_t node : ParseNodeList(event.Str("down"))) down.insert(node);
    for (int64_t node : ParseNodeList(event.Str("up"))) down.erase(node);
    return;
  }
  if (event.kind != "ctl.intent") return;
  const std::string shard(event.Str("shard"));
  const int64_t attached = event.Int("attached");
  std::map<std::string, int64_t>& shards = attached_[instance];
  auto previous = shards.find(shard);
  const bool changed = previous != shards.end() && previous->second != attached;
  shards[shard] = attached;
  if (!changed || attached < 0) return;
  auto down = judged_down_.find(instance);
  if (down == judged_down_.end() || !down->second.count(attached)) return;
  Report("F1", event.at,
         "controller p" + std::to_string(event.process) + "#" +
             std::to_string(event.Int("incarnation")) + " made node " + std::to_string(attached) +
             " the attachment of " + shard + " (" + std::string(event.Str("reason")) +
             ") after its heartbeats had found the node unavailable");
}

}  // namespace storsim::invariants
