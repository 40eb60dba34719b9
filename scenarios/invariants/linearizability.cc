// The Wing–Gong–Lowe search (as in Porcupine) and the per-shard history of the controller API.
#include "scenarios/invariants/linearizability.h"

#include <algorithm>
#include <string_view>

namespace storsim::invariants {
namespace {

// "a@1,b@2" or "a:5,b:6" -> {a: 1, b: 2}; malformed items are skipped.
std::map<std::string, int64_t> ParsePairs(std::string_view text, char separator) {
  std::map<std::string, int64_t> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    const size_t at = item.rfind(separator);
    if (at != std::string_view::npos && at > 0 && at + 1 < item.size()) {
      const std::string number(item.substr(at + 1));
      char* tail = nullptr;
      const long long value = std::strtoll(number.c_str(), &tail, 10);
      if (*tail == '\0') out[std::string(item.substr(0, at))] = value;
    }
    start = end + 1;
  }
  return out;
}

const char* KindName(ShardOperation::Kind kind) {
  switch (kind) {
    case ShardOperation::Kind::kRead: return "describe";
    case ShardOperation::Kind::kMigrated: return "migrate";
    case ShardOperation::Kind::kMove: return "move";
    case ShardOperation::Kind::kUnknown: return "leadership-unknown";
  }
  return "?";
}

}  // namespace

std::string ShardOperation::ToString() const {
  std::string out = KindName(kind);
  if (call >= 0) out += " #" + std::to_string(call);
  if (kind == Kind::kRead) {
    out += " -> node " + std::to_string(node) + " gen " + std::to_string(generation);
  } else if (kind != Kind::kUnknown) {
    out += " to node " + std::to_string(node);
  }
  out += " [" + invoke.ToString() + ", " + response.ToString() + "]";
  return out;
}

std::optional<ShardState> Step(const ShardState& state, const ShardOperation& operation) {
  ShardState next = state;
  switch (operation.kind) {
    case ShardOperation::Kind::kRead:
      if (state.node_known && operation.node != state.node) return std::nullopt;
      if (operation.generation < state.generation_floor) return std::nullopt;
      next.node_known = true;
      next.node = operation.node;
      next.generation_floor = operation.generation;
      return next;
    case ShardOperation::Kind::kMigrated:
      if (state.node_known && operation.node != state.node) return std::nullopt;
      next.node_known = true;
      next.node = operation.node;
      return next;
    case ShardOperation::Kind::kMove:
      next.node_known = true;
      next.node = operation.node;
      return next;
    case ShardOperation::Kind::kUnknown:
      next.node_known = false;
      next.node = -1;
      return next;
  }
  return std::nullopt;
}

LinearizabilityResult CheckShardHistory(const std::vector<ShardOperation>& history,
                                        uint64_t steps_max) {
  LinearizabilityResult result;
  const size_t n = history.size();
  // Entries: 2n of them (call and return of each operation) behind a head sentinel at index 0.
  // Entry 1 + 2i is the call of operation i, 2 + 2i its return. Order: time, then calls before
  // returns at one instant (operations that touch at an instant are concurrent), then index.
  std::vector<size_t> order(2 * n);
  for (size_t k = 0; k < 2 * n; ++k) order[k] = k + 1;
  auto time_of = [&](size_t entry) {
    const ShardOperation& operation = history[(entry - 1) / 2];
    return entry % 2 == 1 ? operation.invoke : operation.response;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (time_of(x) != time_of(y)) return time_of(x) < time_of(y);
    return (x % 2 == 1) > (y % 2 == 1);
  });
  std::vector<int64_t> next(2 * n + 1, -1);
  std::vector<int64_t> previous(2 * n + 1, -1);
  size_t last = 0;
  for (size_t entry : order) {
    next[last] = static_cast<int64_t>(entry);
    previous[entry] = static_cast<int64_t>(last);
    last = entry;
  }
  auto unlink = [&](size_t entry) {
    next[previous[entry]] = next[entry];
    if (next[entry] >= 0) previous[next[entry]] = previous[entry];
  };
  auto relink = [&](size_t entry) {
    next[previous[entry]] = static_cast<int64_t>(entry);
    if (next[entry] >= 0) previous[next[entry]] = static_cast<int64_t>(entry);
  };
  std::vector<uint64_t> linearized((n + 63) / 64, 0);
  std::set<std::pair<std::vector<uint64_t>, ShardState>> seen;
  std::vector<std::pair<size_t, ShardState>> stack;  // (call entry, state before it)
  ShardState state;
  int64_t entry = next[0];
  while (next[0] >= 0) {
    if (++result.steps > steps_max) {
      result.verdict = LinearizabilityResult::Verdict::kUndecided;
      return result;
    }
    SIM_CHECK(entry >= 0);
    const auto current = static_cast<size_t>(entry);
    const size_t index = (current - 1) / 2;
    if (current % 2 == 1) {
      const std::optional<ShardState> after = Step(state, history[index]);
      if (after) {
        std::vector<uint64_t> with = linearized;
        with[index / 64] |= uint64_t{1} << (index % 64);
        if (seen.insert({with, *after}).second) {
          stack.push_back({current, state});
          state = *after;
          linearized = std::move(with);
          unlink(current);
          unlink(current + 1);
          entry = next[0];
          continue;
        }
      }
      entry = next[current];
      continue;
    }
    // The return of an operation not linearized yet: undo the last choice.
    if (stack.size() >= result.longest_prefix) {
      result.longest_prefix = stack.size();
      result.stuck = history[index];
    }
    if (stack.empty()) {
      result.verdict = LinearizabilityResult::Verdict::kNotLinearizable;
      return result;
    }
    const auto [call, before] = stack.back();
    stack.pop_back();
    state = before;
    const size_t undone = (call - 1) / 2;
    linearized[undone / 64] &= ~(uint64_t{1} << (undone % 64));
    relink(call + 1);
    relink(call);
    entry = next[call];
  }
  return result;
}

// ---- the checker ----

void LinearizabilityChecker::AddPoint(const std::string& shard, ShardOperation::Kind kind,
                                      int64_t node, sim::Instant at) {
  std::vector<ShardOperation>& history = histories_[shard];
  SIM_CHECK_MSG(history.size() < 1'000'000, "LIN: unbounded history");
  history.push_back({kind, at, at, node, -1, -1});
}

void LinearizabilityChecker::SetLeader(int32_t pid, bool leader, sim::Instant at) {
  const size_t before = leaders_.size();
  const bool changed = leader ? leaders_.insert(pid).second : leaders_.erase(pid) > 0;
  if (!changed) return;
  if (leaders_.size() >= 2) {
    for (auto& [id, call] : open_calls_) call.overlaps_several_leaders = true;
  }
  std::set<std::string> shards;
  for (const auto& [shard, history] : histories_) shards.insert(shard);
  if (leaders_.size() == 1) {
    const std::map<std::string, int64_t>& intent = intent_[*leaders_.begin()];
    for (const auto& [shard, node] : intent) shards.insert(shard);
    for (const std::string& shard : shards) {
      auto it = intent.find(shard);
      if (it != intent.end()) {
        AddPoint(shard, ShardOperation::Kind::kMove, it->second, at);
      } else {
        AddPoint(shard, ShardOperation::Kind::kUnknown, -1, at);
      }
    }
  } else if (before == 1) {
    for (const std::string& shard : shards) AddPoint(shard, ShardOperation::Kind::kUnknown, -1, at);
  }
}

void LinearizabilityChecker::OnEvent(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  if (kind == "ctl.status") {
    SetLeader(event.process, event.Str("status") == "Leader", event.at);
  } else if (kind == "process.down") {
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    SetLeader(pid, false, event.at);
    intent_.erase(pid);
  } else if (kind == "ctl.intent") {
    const std::string shard(event.Str("shard"));
    const int64_t node = event.Int("attached");
    intent_[event.process][shard] = node;
    if (leaders_.size() == 1 && *leaders_.begin() == event.process) {
      AddPoint(shard, ShardOperation::Kind::kMove, node, event.at);
    }
  } else if (kind == "api.invoke") {
    SIM_CHECK_MSG(open_calls_.size() < 100'000, "LIN: unbounded open calls");
    open_calls_[event.Int("call")] = Call{std::string(event.Str("method")),
                                          std::string(event.Str("shard")), event.Int("node", -1),
                                          event.at, leaders_.size() >= 2};
  } else if (kind == "api.return") {
    auto it = open_calls_.find(event.Int("call"));
    if (it == open_calls_.end()) return;
    const Call call = it->second;
    open_calls_.erase(it);
    if (call.overlaps_several_leaders) {
      ++metrics_["LIN answers left out (several leaders)"];
      return;
    }
    if (event.Str("result") != "ok" || event.Int("status") != 200) {
      ++metrics_["LIN calls without effect constraint (error or ambiguous)"];
      return;
    }
    if (call.method == "ctl.tenant.migrate" && !call.shard.empty()) {
      histories_[call.shard].push_back({ShardOperation::Kind::kMigrated, call.invoke, event.at,
                                        call.node, -1, event.Int("call")});
      return;
    }
    if (!event.Has("placement")) return;
    const std::map<std::string, int64_t> nodes = ParsePairs(event.Str("placement"), '@');
    const std::map<std::string, int64_t> generations = ParsePairs(event.Str("generations"), ':');
    for (const auto& [shard, node] : nodes) {
      auto generation = generations.find(shard);
      histories_[shard].push_back({ShardOperation::Kind::kRead, call.invoke, event.at, node,
                                   generation == generations.end() ? -1 : generation->second,
                                   event.Int("call")});
    }
  }
}

std::map<std::string, std::vector<ShardOperation>> LinearizabilityChecker::Histories() const {
  return histories_;
}

void LinearizabilityChecker::Finish(sim::Instant now) {
  if (finished_) return;
  finished_ = true;
  metrics_["LIN calls pending at the end"] = static_cast<int64_t>(open_calls_.size());
  std::vector<std::string> failures;
  for (const auto& [shard, history] : histories_) {
    const bool has_client = std::any_of(history.begin(), history.end(), [](const auto& operation) {
      return operation.call >= 0;
    });
    if (!has_client) continue;
    ++metrics_["LIN shards checked"];
    metrics_["LIN operations"] += static_cast<int64_t>(history.size());
    const LinearizabilityResult result = CheckShardHistory(history, steps_max_);
    metrics_["LIN search steps"] += static_cast<int64_t>(result.steps);
    if (result.verdict == LinearizabilityResult::Verdict::kUndecided) {
      ++metrics_["LIN shards undecided (search budget)"];
    } else if (result.verdict == LinearizabilityResult::Verdict::kNotLinearizable) {
      failures.push_back(shard + ": after a longest legal prefix of " +
                         std::to_string(result.longest_prefix) + " of " +
                         std::to_string(history.size()) + " operations, " +
                         (result.stuck ? result.stuck->ToString() : std::string("?")) +
                         " cannot be linearized");
    }
  }
  if (failures.empty()) return;
  std::string detail = "the controller API history is not linearizable: " + failures[0];
  if (failures.size() > 1) detail += " (and " + std::to_string(failures.size() - 1) + " more shards)";
  Report("LIN", now, detail);
}

}  // namespace storsim::invariants
