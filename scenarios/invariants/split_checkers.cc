// S15: a tenant's shard rows never disappear (see split_checkers.h).
#include "scenarios/invariants/split_checkers.h"

#include <algorithm>

#include "sim/check.h"

namespace storsim::invariants {

bool ShardRowsChecker::HasCompleteSet(const std::vector<std::pair<int64_t, int64_t>>& rows) {
  std::map<int64_t, std::set<int64_t>> numbers_by_count;
  for (const auto& [number, count] : rows) numbers_by_count[count].insert(number);
  for (const auto& [count, numbers] : numbers_by_count) {
    const int64_t expected = std::max<int64_t>(count, 1);
    if (static_cast<int64_t>(numbers.size()) != expected) continue;
    // Numbers are distinct; a complete set is exactly 0 .. expected - 1.
    if (*numbers.begin() == 0 && *numbers.rbegin() == expected - 1) return true;
  }
  return false;
}

void ShardRowsChecker::Remember(const std::string& tenant, std::string what) {
  std::deque<std::string>& entries = history_[tenant];
  entries.push_back(std::move(what));
  while (entries.size() > kHistoryMax) entries.pop_front();
}

void ShardRowsChecker::OnEvent(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  if (kind == "api.invoke") {
    const std::string_view method = event.Str("method");
    const std::string tenant(event.Str("tenant"));
    if (tenant.empty()) return;
    if (method == "ctl.tenant.delete") {
      deleting_.insert(tenant);
      tracked_.erase(tenant);
    } else if (method == "ctl.tenant.create") {
      deleting_.erase(tenant);  // a re-created tenant is tracked again once its rows exist
    }
    return;
  }
  if (kind == "ctl.db_write") {
    const std::string_view op = event.Str("op");
    const std::string tenant(event.Str("tenant"));
    if (op == "delete_tenant" && !tenant.empty()) {
      deleting_.insert(tenant);
      tracked_.erase(tenant);
    } else if (op == "begin_shard_split" || op == "complete_shard_split" ||
               op == "abort_shard_split") {
      Remember(tenant, std::string(op) + " (" + std::string(event.Str("result")) + ") by p" +
                           std::to_string(event.process) + "#" +
                           std::to_string(event.Int("incarnation")) + " at " + event.at.ToString());
    }
    return;
  }
  if (kind == "db.commit" || kind == "db.recovered") Evaluate(event.at);
}

void ShardRowsChecker::Evaluate(sim::Instant at) {
  if (!db_.shard_rows) return;
  ++evaluations_;
  const std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> rows = db_.shard_rows();
  for (const auto& [tenant, tenant_rows] : rows) {
    if (!tenant_rows.empty() && deleting_.count(tenant) == 0 && reported_.count(tenant) == 0) {
      tracked_.insert(tenant);
    }
  }
  tracked_peak_ = std::max(tracked_peak_, static_cast<int64_t>(tracked_.size()));
  std::vector<std::string> lost;
  for (const std::string& tenant : tracked_) {
    auto it = rows.find(tenant);
    if (it != rows.end() && HasCompleteSet(it->second)) continue;
    lost.push_back(tenant);
  }
  for (const std::string& tenant : lost) {
    tracked_.erase(tenant);
    reported_.insert(tenant);
    std::string held;
    auto it = rows.find(tenant);
    if (it != rows.end()) {
      for (const auto& [number, count] : it->second) {
        held += (held.empty() ? "" : ",") + std::to_string(number) + "/" + std::to_string(count);
      }
    }
    std::string writes;
    for (const std::string& entry : history_[tenant]) writes += "; " + entry;
    Report("S15", at,
           "tenant " + tenant +
               " exists but the database no longer holds a complete set of its "
               "shard rows (rows number/count: " +
               (held.empty() ? std::string("none") : held) + ")" +
               (writes.empty() ? std::string() : " — split writes" + writes));
  }
}

}  // namespace storsim::invariants
