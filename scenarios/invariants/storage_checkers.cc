// S6, S8, S10, S13.
#include "scenarios/invariants/storage_checkers.h"

#include <algorithm>

namespace storsim::invariants {
namespace {
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
}  // namespace

ShardParts ParseShard(std::string_view shard) {
  ShardParts parts;
  const size_t dash = shard.rfind('-');
  if (dash != std::string_view::npos && shard.size() - dash == 5 &&
      std::all_of(shard.begin() + static_cast<long>(dash) + 1, shard.end(), IsHex)) {
    const std::string hex(shard.substr(dash + 1));
    parts.tenant = std::string(shard.substr(0, dash));
    parts.shard_number = std::stoi(hex.substr(0, 2), nullptr, 16);
    parts.shard_count = std::stoi(hex.substr(2, 2), nullptr, 16);
    return parts;
  }
  parts.tenant = std::string(shard);
  return parts;
}

std::optional<int64_t> KeyGeneration(std::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != '-') return std::nullopt;
  const std::string_view digits = key.substr(key.size() - 8);
  if (!std::all_of(digits.begin(), digits.end(), IsHex)) return std::nullopt;
  return std::stoll(std::string(digits), nullptr, 16);
}

void FencedAttachments::Observe(const sim::TraceEvent& event) {
  int64_t generation = -1;
  if (event.kind == "ctl.generation") {
    generation = event.Int("generation", -1);
  } else if (event.kind == "ps.attach") {
    generation = event.Int("gen", -1);
  } else {
    return;
  }
  if (generation < 0) return;
  int64_t& seen = seen_.try_emplace(std::string(event.Str("shard")), generation).first->second;
  seen = std::max(seen, generation);
}

std::optional<int64_t> FencedAttachments::Committed(const std::string& shard) const {
  std::optional<int64_t> committed;
  if (db_.shard_generation) committed = db_.shard_generation(shard);
  auto it = seen_.find(shard);
  if (it != seen_.end() && (!committed || it->second > *committed)) committed = it->second;
  return committed;
}

// ---- S6 ----

void NoOverwriteChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind != "s3.put" || event.Int("node", -1) < 0) return;
  const std::string key(event.Str("key"));
  const std::optional<int64_t> key_generation = KeyGeneration(key);
  if (!key_generation) return;
  const int64_t node = event.Int("node");
  const int64_t incarnation = event.Int("incarnation");
  const int64_t generation = event.Int("generation");
  if (*key_generation != generation) {
    Report("S6", event.at, "node " + std::to_string(node) + " attached at generation " +
                               std::to_string(generation) + " wrote " + key +
                               ", which carries generation " + std::to_string(*key_generation));
    return;
  }
  auto [it, inserted] = writers_.try_emplace(key, node, incarnation);
  if (!inserted && it->second != std::make_pair(node, incarnation)) {
    Report("S6", event.at, key + " was written by node " + std::to_string(it->second.first) +
                               " incarnation " + std::to_string(it->second.second) +
                               " and again by node " + std::to_string(node) + " incarnation " +
                               std::to_string(incarnation));
  }
}

// ---- S8 ----

void LayerPresenceChecker::OnEvent(const sim::TraceEvent& event) {
  fenced_.Observe(event);
  if (event.kind != "ps.layer_missing") return;
  // A fenced-out attachment loads an index no current or future attachment would load: the
  // deletions that removed its layers were validated by a newer generation.
  if (fenced_.IsFenced(std::string(event.Str("shard")), event.Int("gen"))) {
    ++fenced_ignored_;
    return;
  }
  Report("S8", event.at, "node " + std::to_string(event.Int("node")) + " attached " +
                             std::string(event.Str("shard")) + " at generation " +
                             std::to_string(event.Int("gen")) + " loaded an index that references " +
                             std::string(event.Str("key")) + ", which is not in remote storage");
}

// ---- S10 ----

void WalRetentionChecker::OnEvent(const sim::TraceEvent& event) {
  fenced_.Observe(event);
  if (event.kind == "ps.index_upload") {
    const std::string shard(event.Str("shard"));
    const int64_t generation = event.Int("gen");
    Index& newest = newest_index_[shard];
    if (newest.before_split && fenced_.IsFenced(shard, generation)) {
      // An orphan of the aborted attempt (its abort's detach never landed) still uploads in its
      // fenced generation: only the retry's fresh index, at the child row's generation, ends the
      // set-aside (shard-split 710).
      ++fenced_uploads_while_set_aside_;
      return;
    }
    if (generation >= newest.generation) {
      newest = Index{generation, event.Int("dcl")};
    } else {
      newest.before_split = false;  // the older fresh index leaves this one the newest
    }
    return;
  }
  if (event.kind == "ctl.split" && event.Str("phase") == "begin" && event.Str("result") == "ok") {
    const std::string_view tenant = event.Str("tenant");
    const int64_t count = event.Int("new_count");
    for (auto& [shard, index] : newest_index_) {
      const ShardParts parts = ParseShard(shard);
      if (parts.tenant != tenant || parts.shard_count != count || index.before_split) continue;
      index.before_split = true;
      ++child_indexes_before_split_;
    }
    return;
  }
  if (event.kind == "ps.remote_lsn_visible") {
    auto key = std::make_tuple(event.Int("node"), event.Int("inc"), std::string(event.Str("shard")),
                               event.Int("gen"));
    int64_t& visible = visible_[key];
    visible = std::max(visible, event.Int("lsn"));
    return;
  }
  if (event.kind == "ps.feedback") {
    auto key = std::make_tuple(event.Int("node"), event.Int("inc"), std::string(event.Str("shard")),
                               event.Int("gen"));
    auto it = visible_.find(key);
    const int64_t visible = it == visible_.end() ? 0 : it->second;
    if (event.Int("lsn") > visible) {
      Report("S10", event.at, "node " + std::to_string(event.Int("node")) + " sent " +
                                  std::string(event.Str("shard")) + " remote_consistent_lsn " +
                                  std::to_string(event.Int("lsn")) +
                                  " to the safekeeper, but only " + std::to_string(visible) +
                                  " was validated");
    }
    return;
  }
  if (event.kind == "ps.wal_gap") {
    // Only the index a future attachment would load bounds trimming; a fenced-out attachment
    // resumes from an older index that no future attachment will load.
    if (fenced_.IsFenced(std::string(event.Str("shard")), event.Int("gen", -1))) {
      ++fenced_ignored_;
      return;
    }
    Report("S10", event.at, "node " + std::to_string(event.Int("node")) + " attached " +
                                std::string(event.Str("shard")) + " needs WAL from " +
                                std::to_string(event.Int("from_lsn")) +
                                " but the safekeeper trimmed below " +
                                std::to_string(event.Int("trimmed_below")));
    return;
  }
  if (event.kind == "sk.trim") {
    const std::string tenant(event.Str("tenant"));
    const int64_t trimmed_below = event.Int("trimmed_below");
    std::optional<std::vector<std::pair<int64_t, int64_t>>> rows;  // (number, count) of tenant
    if (db_.shard_rows) {
      auto all = db_.shard_rows();
      auto found = all.find(tenant);
      rows = found == all.end() ? std::vector<std::pair<int64_t, int64_t>>{} : found->second;
    }
    for (const auto& [shard, index] : newest_index_) {
      const ShardParts parts = ParseShard(shard);
      if (parts.tenant != tenant) continue;
      if (rows && std::find(rows->begin(), rows->end(),
                            std::make_pair<int64_t, int64_t>(parts.shard_number,
                                                             parts.shard_count)) == rows->end()) {
        continue;  // no row: no future attachment loads this index
      }
      if (index.before_split) continue;
      if (trimmed_below > index.disk_consistent_lsn + 1) {
        Report("S10", event.at, "the safekeeper trimmed " + tenant + " below " +
                                    std::to_string(trimmed_below) + " but the newest index of " +
                                    shard + " (generation " + std::to_string(index.generation) +
                                    ") only covers up to " +
                                    std::to_string(index.disk_consistent_lsn));
        return;
      }
    }
  }
}

// ---- S13 ----

void DeletionBlockingChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind == "ps.location_config" && event.Int("status") == 200) {
    mode_[{event.Int("node"), std::string(event.Str("shard"))}] = std::string(event.Str("mode"));
    return;
  }
  if (event.kind == "ps.start") {
    // A restart drops every slot until re-attach and location_config rebuild them.
    const int64_t node = event.Int("node");
    for (auto it = mode_.begin(); it != mode_.end();) {
      it = it->first.first == node ? mode_.erase(it) : std::next(it);
    }
    return;
  }
  if (event.kind == "ps.local_reconcile" && event.Str("action") == "attach") {
    mode_[{event.Int("node"), std::string(event.Str("shard"))}] = "AttachedSingle";
    return;
  }
  if (event.kind != "ps.deletion_execute") return;
  const std::pair<int64_t, std::string> slot{event.Int("node"), std::string(event.Str("shard"))};
  auto it = mode_.find(slot);
  if (it != mode_.end() && (it->second == "AttachedMulti" || it->second == "AttachedStale")) {
    Report("S13", event.at, "node " + std::to_string(slot.first) + " executed a deletion of " +
                                std::to_string(event.Int("keys")) + " key(s) of " + slot.second +
                                " (generation " + std::to_string(event.Int("gen")) + ") while " +
                                it->second);
  }
}

}  // namespace storsim::invariants
