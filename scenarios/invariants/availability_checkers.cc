// A1: planned restarts are drained (see availability_checkers.h).
#include "scenarios/invariants/availability_checkers.h"

#include <algorithm>
#include <cstdlib>

namespace storsim::invariants {
namespace {

std::vector<int64_t> ParseNodeList(std::string_view text) {
  std::vector<int64_t> nodes;
  size_t start = 0;
  while (start < text.size()) {  // each round consumes at least one character
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string item(text.substr(start, end - start));
    char* item_end = nullptr;
    const long long node = std::strtoll(item.c_str(), &item_end, 10);
    if (!item.empty() && *item_end == '\0') nodes.push_back(node);
    start = end + 1;
  }
  return nodes;
}

}  // namespace

void PlannedRestartChecker::Append(History& history, sim::Instant at, std::string value) {
  SIM_CHECK(history.empty() || history.back().at <= at);
  history.push_back(Valued{at, std::move(value)});
}

bool PlannedRestartChecker::Throughout(const History& history, sim::Instant from,
                                       sim::Instant to, const std::vector<std::string>& good) {
  auto is_good = [&good](const std::string& value) {
    return std::find(good.begin(), good.end(), value) != good.end();
  };
  std::optional<std::string> at_from;
  for (const Valued& valued : history) {
    if (valued.at <= from) {
      at_from = valued.value;
    } else if (valued.at <= to && !is_good(valued.value)) {
      return false;
    }
  }
  return at_from.has_value() && is_good(*at_from);
}

bool PlannedRestartChecker::AtSomeInstant(const History& history, sim::Instant from,
                                          sim::Instant to,
                                          const std::vector<std::string>& values) {
  auto matches = [&values](const std::string& value) {
    return std::find(values.begin(), values.end(), value) != values.end();
  };
  std::optional<std::string> at_from;
  for (const Valued& valued : history) {
    if (valued.at <= from) {
      at_from = valued.value;
    } else if (valued.at <= to && matches(valued.value)) {
      return true;
    }
  }
  return at_from.has_value() && matches(*at_from);
}

bool PlannedRestartChecker::ForeignOperation(sim::Instant from, sim::Instant to) const {
  for (const Operation& operation : operations_) {
    const sim::Instant end = operation.ended.value_or(sim::Instant::Max());
    if (operation.started > to || end < from) continue;  // did not run in [from, to]
    if (!operation.by_orchestrator) return true;
    // The orchestrator's own operation, but one it could not see: its node left the operation's
    // policy while it ran (a re-attach sets Active), so the orchestrator's polls saw it end.
    auto pid = policy_.find(operation.pid);
    if (pid == policy_.end()) continue;
    auto history = pid->second.find(operation.node);
    if (history == pid->second.end()) continue;
    const std::string expected = operation.op == "fill" ? "filling" : "draining";
    const sim::Instant window_start = std::max(from, operation.started);
    const sim::Instant window_end = std::min(to, end);
    if (!Throughout(history->second, window_start, window_end, {expected})) return true;
  }
  return false;
}

void PlannedRestartChecker::OnEvent(const sim::TraceEvent& event) {
  timeline_.Observe(event);
  const std::string_view kind = event.kind;
  if (kind == "deploy.node.start") {
    deploy_node_ = event.Int("node_id");
    prologue_start_ = event.at;
  } else if (kind == "deploy.node.end" || kind == "deploy.pass.end") {
    deploy_node_.reset();
    prologue_start_.reset();
  } else if (kind == "deploy.restart") {
    if (event.Str("phase") == "stop") JudgeStop(event);
  } else if (kind == "ctl.operation") {
    const std::string_view phase = event.Str("phase");
    const int64_t node = event.Int("node");
    const std::string op(event.Str("op"));
    if (phase == "start") {
      operations_.push_back(Operation{event.process, node, op, event.at, std::nullopt,
                                      deploy_node_.has_value() && *deploy_node_ == node});
    } else if (phase == "end") {
      for (Operation& operation : operations_) {
        if (operation.pid == event.process && operation.node == node && operation.op == op &&
            !operation.ended) {
          operation.ended = event.at;
        }
      }
    }
  } else if (kind == "process.down") {
    // A controller that goes down takes its running operation with it.
    const auto pid = static_cast<int32_t>(event.Int("pid"));
    for (Operation& operation : operations_) {
      if (operation.pid == pid && !operation.ended) operation.ended = event.at;
    }
  } else if (kind == "ctl.node.policy" || kind == "ctl.node.loaded") {
    Append(policy_[event.process][event.Int("node")], event.at, std::string(event.Str("policy")));
  } else if (kind == "ctl.node.availability") {
    Append(availability_[event.process][event.Int("node")], event.at,
           std::string(event.Str("to")));
  } else if (kind == "ps.start") {
    slots_.erase(event.Int("node"));
  } else if (kind == "ps.attach" ||
             (kind == "ps.location_config" && event.Int("status") == 200)) {
    slots_[event.Int("node")][std::string(event.Str("shard"))] = std::string(event.Str("mode"));
  } else if (kind == "ps.local_reconcile") {
    // The re-attach decided this slot: attached again (ps.attach follows) or not.
    slots_[event.Int("node")].erase(std::string(event.Str("shard")));
  } else if (kind == "ctl.intent") {
    intent_[event.process][std::string(event.Str("shard"))] =
        Intent{event.Int("attached", -1), ParseNodeList(event.Str("secondaries"))};
  }
}

void PlannedRestartChecker::JudgeStop(const sim::TraceEvent& event) {
  const int64_t node = event.Int("node_id");
  if (!prologue_start_ || !deploy_node_ || *deploy_node_ != node) {
    ++counts_["no_prologue"];
    return;
  }
  const sim::Instant from = *prologue_start_;
  const sim::Instant to = event.at;
  // (i) Nothing disturbed.
  bool disturbed = timeline_.ControlPathDisturbed(from, to);
  for (int32_t pid : timeline_.topology().pageservers) {
    disturbed = disturbed || timeline_.Disturbed(pid, from, to);
  }
  const std::optional<int32_t> leader = timeline_.LeaderAt(to);
  if (disturbed || !leader) {
    ++counts_["excused_fault"];
    return;
  }
  // (ii) Only the orchestrator's own operations.
  if (ForeignOperation(from, to)) {
    ++counts_["excused_foreign_operation"];
    return;
  }
  ++counts_["judged"];
  const std::map<int64_t, History>& policies = policy_[*leader];
  auto policy = policies.find(node);
  if (policy != policies.end() &&
      AtSomeInstant(policy->second, from, to, {"draining", "pause_for_restart"})) {
    ++counts_["drain_accepted"];
    return;
  }
  // No drain began: judged by what P still serves.
  const std::map<int64_t, History>& availability = availability_[*leader];
  const std::map<std::string, Intent>& intents = intent_[*leader];
  for (const auto& [shard, mode] : slots_[node]) {
    if (mode != "AttachedSingle" && mode != "AttachedMulti" && mode != "AttachedStale") continue;
    auto intent = intents.find(shard);
    if (intent == intents.end()) continue;
    std::vector<int64_t> alternatives = intent->second.secondaries;
    alternatives.push_back(intent->second.attached);
    for (int64_t alternative : alternatives) {
      if (alternative == node || alternative < 0) continue;
      auto available = availability.find(alternative);
      auto alternative_policy = policies.find(alternative);
      if (available == availability.end() || alternative_policy == policies.end()) continue;
      if (!Throughout(available->second, from, to, {"Active"})) continue;
      if (!Throughout(alternative_policy->second, from, to, {"active", "filling"})) continue;
      Report("A1", event.at,
             "the deploy orchestrator restarts node " + std::to_string(node) +
                 " after a fault-free prologue from " + from.ToString() +
                 " in which no drain of it began and no other operation ran, while it serves " +
                 shard + " (" + mode + ") with a schedulable alternative on node " +
                 std::to_string(alternative));
      return;
    }
  }
  ++counts_["no_alternative"];
}

}  // namespace storsim::invariants
