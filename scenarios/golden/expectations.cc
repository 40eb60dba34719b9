// Golden script expectations: each reads state the way a checker would (the leader's const
// snapshot, pageserver and compute snapshots of live processes, the database's committed tables,
// the recorded trace) and never changes the run, so adding or editing an expectation leaves the
// digest as it was; the exception is `converged`, whose end-of-run checkers trace their metrics.
// A failure says what the line expected and what was found instead.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "model/api/compute_api.h"
#include "model/controller/snapshot.h"
#include "scenarios/golden/interpreter.h"
#include "sim/check.h"

namespace storsim::scenarios::golden {
namespace {

constexpr size_t kShownEventsMax = 3;

// "PauseForRestart", "pause_for_restart" and "pauseforrestart" are the same name.
std::string Normalize(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool FieldMatches(const sim::TraceEvent& event, const std::string& key, const std::string& value) {
  for (const sim::TraceField& field : event.fields) {
    if (field.key != key) continue;
    if (field.is_text) return field.text == value;
    char* end = nullptr;
    const long long number = std::strtoll(value.c_str(), &end, 10);
    return !value.empty() && *end == '\0' && number == field.number;
  }
  return false;
}

}  // namespace

std::optional<controller::ControllerSnapshot> Interpreter::LeaderSnapshot(std::string* why) const {
  cluster::Cluster& cluster = world_->cluster();
  for (size_t slot = 0; slot < cluster.controller_ids().size(); ++slot) {
    if (!run_.simulation().process(cluster.controller_ids()[slot]).up()) continue;
    controller::ControllerSnapshot snapshot = cluster.controller(slot).Snapshot();
    if (snapshot.running && snapshot.status == controller::LeadershipStatus::kLeader) {
      return snapshot;
    }
  }
  *why = "no live controller instance is the leader";
  return std::nullopt;
}

std::optional<std::string> Interpreter::CheckAttached(const Expectation& expectation) {
  cluster::Cluster& cluster = world_->cluster();
  if (static_cast<size_t>(expectation.tenant) >= cluster.tenant_ids().size()) {
    return "there is no tenant " + std::to_string(expectation.tenant);
  }
  const std::string& tenant = cluster.tenant_ids()[static_cast<size_t>(expectation.tenant)];
  std::string why;
  std::optional<controller::ControllerSnapshot> leader = LeaderSnapshot(&why);
  if (!leader) return why;
  const controller::ShardSnapshot* shard = nullptr;
  api::TenantShardId id;
  for (const auto& [shard_id, state] : leader->shards) {
    if (shard_id.tenant_id == tenant && shard_id.shard_number == expectation.shard) {
      shard = &state;
      id = shard_id;
    }
  }
  if (shard == nullptr)
    return "the leader knows no shard " + std::to_string(expectation.shard) + " of " + tenant;
  const auto node = static_cast<api::NodeId>(expectation.node);
  if (shard->intent.attached != node) {
    return "the leader attaches " + id.ToString() + " to node " +
           (shard->intent.attached ? std::to_string(*shard->intent.attached) : "none");
  }
  // The pageserver itself must hold it AttachedSingle (a live incarnation's memory).
  if (node < 1 || node > cluster.pageserver_ids().size())
    return "there is no node " + std::to_string(node);
  const sim::Process& process = run_.simulation().process(cluster.pageserver_ids()[node - 1]);
  const pageserver::PageserverSnapshot state = cluster.pageserver(node - 1).Snapshot();
  if (!process.up() || state.incarnation != process.incarnation()) {
    return "pageserver " + std::to_string(node) + " is down";
  }
  std::optional<api::Generation> held;
  std::string mode = "no location";
  for (const pageserver::SlotSnapshot& slot : state.slots) {
    if (slot.shard != id) continue;
    mode = api::LocationModeName(slot.mode);
    if (slot.mode == api::LocationMode::kAttachedSingle) held = slot.generation;
  }
  if (!held)
    return "pageserver " + std::to_string(node) + " holds " + id.ToString() + " as " + mode;
  if (!expectation.generation) return std::nullopt;
  const std::optional<int64_t> db = cluster.ShardGenerationGroundTruth(id.ToString());
  const int64_t expected = *expectation.generation;
  const int64_t memory = shard->generation.is_none() ? -1 : shard->generation.value();
  const int64_t on_node = held->is_none() ? -1 : held->value();
  if (memory == expected && on_node == expected && db == expected) return std::nullopt;
  return "generation " + std::to_string(expected) + " expected; found leader " +
         std::to_string(memory) + ", pageserver " + std::to_string(node) + " " +
         std::to_string(on_node) + ", database " + (db ? std::to_string(*db) : "none");
}

std::optional<std::string> Interpreter::CheckEvent(const Expectation& expectation) {
  int64_t matching = 0;
  int64_t of_kind = 0;
  std::vector<std::string> shown;
  const sim::Instant since = zero_ + expectation.since.value_or(sim::Duration::Zero());
  for (const sim::TraceEvent& event : events_.events()) {
    if (event.kind != expectation.name || event.at < since) continue;
    ++of_kind;
    bool all = true;
    for (const auto& [key, value] : expectation.fields)
      all = all && FieldMatches(event, key, value);
    if (all) ++matching;
    if (shown.size() < kShownEventsMax) shown.push_back(event.ToString());
  }
  const bool want_none = expectation.kind == Expectation::Kind::kNoEvent;
  const bool holds =
      want_none ? matching == 0 : Compare(matching, expectation.comparison, expectation.count);
  if (holds) return std::nullopt;
  std::string message = std::to_string(matching) + " matching event(s) found (" +
                        std::to_string(of_kind) + " " + expectation.name + " in all)";
  if (!want_none) {
    message += ", wanted count " + std::string(ComparisonName(expectation.comparison)) + " " +
               std::to_string(expectation.count);
  }
  for (const std::string& line : shown) message += "\n    e.g. " + line;
  return message;
}

std::optional<std::string> Interpreter::CheckNode(const Expectation& expectation) {
  std::string why;
  std::optional<controller::ControllerSnapshot> leader = LeaderSnapshot(&why);
  if (!leader) return why;
  const auto node = static_cast<api::NodeId>(expectation.node);
  if (expectation.kind == Expectation::Kind::kNodeAttached) {
    int64_t attached = 0;
    for (const auto& [id, shard] : leader->shards) attached += shard.intent.attached == node;
    if (Compare(attached, expectation.comparison, expectation.count)) return std::nullopt;
    return "the leader attaches " + std::to_string(attached) + " shard(s) to node " +
           std::to_string(node);
  }
  bool known_name = false;
  for (int i = 0; i < persistence::kNodeSchedulingPolicyCount; ++i) {
    known_name = known_name || Normalize(persistence::NodeSchedulingPolicyName(
                                   static_cast<persistence::NodeSchedulingPolicy>(i))) ==
                                   Normalize(expectation.name);
  }
  if (!known_name) return "'" + expectation.name + "' is not a node scheduling policy";
  auto it = leader->nodes.find(node);
  if (it == leader->nodes.end()) return "the leader knows no node " + std::to_string(node);
  const std::string policy = persistence::NodeSchedulingPolicyName(it->second.policy);
  if (Normalize(policy) == Normalize(expectation.name)) return std::nullopt;
  return "node " + std::to_string(node) + " is " + policy + " (availability " +
         api::NodeAvailabilityName(it->second.availability) + ")";
}

std::optional<std::string> Interpreter::CheckRollout(const Expectation& expectation) {
  const deploy::RolloutStatus& status = world_->cluster().deployment().rollout_status();
  const std::string phase = deploy::RolloutPhaseName(status.phase);
  const bool revision_ok = !expectation.revision || *expectation.revision == status.revision;
  if (revision_ok && Normalize(phase) == Normalize(expectation.name)) return std::nullopt;
  return "the latest rollout is revision " + std::to_string(status.revision) + ", " + phase;
}

std::optional<std::string> Interpreter::CheckCompute(const Expectation& expectation) {
  cluster::Cluster& cluster = world_->cluster();
  if (static_cast<size_t>(expectation.tenant) >= cluster.tenant_ids().size()) {
    return "there is no tenant " + std::to_string(expectation.tenant);
  }
  const std::string& tenant = cluster.tenant_ids()[static_cast<size_t>(expectation.tenant)];
  if (!run_.simulation().process(cluster.compute_ids().at(tenant)).up()) {
    return "the compute of " + tenant + " is down";
  }
  const compute::ComputeSnapshot compute = cluster.compute(tenant).Snapshot();
  const std::string status = api::ComputeStatusName(compute.status);
  if (Normalize(status) != Normalize(expectation.name)) {
    return "the compute of " + tenant + " is " + status;
  }
  if (!expectation.compute_node) return std::nullopt;
  if (!compute.spec) return "the compute of " + tenant + " runs no spec";
  for (const api::ShardLocation& location : compute.spec->shards) {
    if (location.shard_number != 0) continue;
    if (location.node_id == static_cast<api::NodeId>(*expectation.compute_node))
      return std::nullopt;
    return "the compute of " + tenant + " reads shard 0 from node " +
           std::to_string(location.node_id) + " (spec version " +
           std::to_string(compute.spec->version) + ")";
  }
  return "the compute's spec has no shard 0";
}

std::optional<std::string> Interpreter::CheckUnavailability(const Expectation& expectation) {
  if (!probe_->started) return "no probe runs (add an earlier 'at T probe controller')";
  sim::Duration longest = probe_->longest;
  if (probe_->failing_since)
    longest = std::max(longest, run_.simulation().Now() - *probe_->failing_since);
  if (Compare(longest.nanos(), expectation.comparison, expectation.duration.nanos())) {
    return std::nullopt;
  }
  return "the longest window was " + longest.ToString() + " (" + std::to_string(probe_->windows) +
         " window(s), " + std::to_string(probe_->failures) + " of " +
         std::to_string(probe_->probes) + " requests failed)";
}

void Interpreter::Check(int line, const Expectation& expectation) {
  ++expectations_;
  std::optional<std::string> failure;
  switch (expectation.kind) {
    case Expectation::Kind::kAttached:
      failure = CheckAttached(expectation);
      break;
    case Expectation::Kind::kConverged:
      // The convergence checker reports L1/L6/L7 through the run: the run stops here, blamed on
      // this line.
      world_->CheckConvergence();
      if (!run_.violations().empty()) throw RunStopped();
      break;
    case Expectation::Kind::kNoViolations:
      if (!run_.violations().empty()) failure = run_.violations().front().ToString();
      break;
    case Expectation::Kind::kEvent:
    case Expectation::Kind::kNoEvent:
      failure = CheckEvent(expectation);
      break;
    case Expectation::Kind::kUnavailability:
      failure = CheckUnavailability(expectation);
      break;
    case Expectation::Kind::kNodePolicy:
    case Expectation::Kind::kNodeAttached:
      failure = CheckNode(expectation);
      break;
    case Expectation::Kind::kRollout:
      failure = CheckRollout(expectation);
      break;
    case Expectation::Kind::kCompute:
      failure = CheckCompute(expectation);
      break;
  }
  if (!failure) return;
  std::string text;
  for (const Statement& statement : script_.statements) {
    if (statement.line == line) text = statement.text;
  }
  Fail(line, "'" + text + "' does not hold at " + Elapsed().ToString() + ": " + *failure);
}

}  // namespace storsim::scenarios::golden
