// L2, L4, L5, L8: obligations with deadlines, judged once the trace has passed them.
#include "scenarios/invariants/liveness_checkers.h"

#include <algorithm>
#include <iterator>

namespace storsim::invariants {
namespace {

std::string Seconds(sim::Instant at) { return at.ToString(); }
std::string Node(int64_t node) { return "node " + std::to_string(node); }

}  // namespace

void DeadlineChecker::OnEvent(const sim::TraceEvent& event) {
  timeline_.Observe(event);
  Judge(event.at, /*final=*/false);
  Handle(event);
}

// ---- L2 ----

std::optional<std::string> FailoverChecker::ValueAt(const std::vector<Valued>& values,
                                                    sim::Instant at) {
  std::optional<std::string> value;
  for (const Valued& entry : values) {
    if (entry.at > at) break;
    value = entry.value;
  }
  return value;
}

void FailoverChecker::Handle(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  const Topology& topology = timeline().topology();
  if (kind.substr(0, 3) == "ps." && event.Has("node")) node_of_[event.process] = event.Int("node");
  auto trigger = [&](int32_t pid) {
    if (!topology.pageservers.count(pid)) return;
    for (const Trigger& existing : triggers_) {
      if (existing.pid == pid && existing.at == event.at) return;
    }
    SIM_CHECK_MSG(triggers_.size() < 100'000, "L2: unbounded triggers");
    triggers_.push_back({pid, event.at});
  };
  if (kind == "process.down" || kind == "process.pause") {
    trigger(static_cast<int32_t>(event.Int("pid")));
  } else if (kind == "fault") {
    const std::string_view fault = event.Str("kind");
    const auto a = static_cast<int32_t>(event.Int("a", -1));
    const auto b = static_cast<int32_t>(event.Int("b", -1));
    if (fault == "isolate") trigger(a);
    if (fault == "partition" || fault == "partition_one_way" || fault == "clog") {
      if (topology.controllers.count(b)) trigger(a);
      if (topology.controllers.count(a)) trigger(b);
    }
  } else if (kind == "ps.location_config" && event.Int("status") == 200) {
    const int64_t node = event.Int("node");
    const std::string shard(event.Str("shard"));
    const Attachment attachment{std::string(event.Str("mode")), event.Int("gen")};
    history_[{node, shard}].push_back({event.at, attachment});
    if (attachment.mode == "AttachedSingle") {
      attached_single_.push_back({event.at, node, shard, attachment.generation});
    }
  } else if (kind == "ps.split" && event.Int("status") == 200 && event.Str("result") == "split") {
    // The parent's slot is gone (its children have their own events): nothing of the parent is
    // left on the node to fail over (shard-split 2276: a parent split away before its node was
    // cut off was judged as if it were still attached there).
    history_[{event.Int("node"), std::string(event.Str("shard"))}].push_back(
        {event.at, Attachment{"Split", 0}});
  } else if (kind == "ps.local_reconcile" && event.Str("action") == "attach") {
    // A re-attach hands out AttachedSingle locations too (a restarted node can be the target).
    const std::string shard(event.Str("shard"));
    history_[{event.Int("node"), shard}].push_back(
        {event.at, Attachment{"AttachedSingle", event.Int("gen")}});
    attached_single_.push_back({event.at, event.Int("node"), shard, event.Int("gen")});
  } else if (kind == "ctl.intent") {
    const std::string shard(event.Str("shard"));
    intent_[event.process][shard].push_back({event.at, std::to_string(event.Int("attached"))});
    if (event.Str("reason") == "policy" && event.Int("attached") == -1) {
      policy_detached_[event.process][shard].push_back(event.at);
    }
  } else if (kind == "ctl.node.availability") {
    availability_[event.process][event.Int("node")].push_back(
        {event.at, std::string(event.Str("to"))});
  } else if (kind == "ctl.node.policy" || kind == "ctl.node.loaded") {
    policy_[event.process][event.Int("node")].push_back(
        {event.at, std::string(event.Str("policy"))});
  }
}

void FailoverChecker::Judge(sim::Instant now, bool final) {
  const sim::Duration window = bounds().failover_detect + bounds().failover_reconcile;
  std::vector<Trigger> waiting;
  for (const Trigger& trigger : triggers_) {
    const sim::Instant deadline = trigger.at + window;
    if (deadline < now || (final && deadline <= now)) {
      JudgeOne(trigger);
    } else if (final) {
      Count("L2 unjudged (run ended first)");
    } else {
      waiting.push_back(trigger);
    }
  }
  triggers_ = std::move(waiting);
}

bool FailoverChecker::TargetDisturbed(const std::string& node, sim::Instant from,
                                      sim::Instant to) const {
  for (const auto& [pid, id] : node_of_) {
    if (std::to_string(id) == node) return timeline().Disturbed(pid, from, to);
  }
  return false;
}

// Availability transitions are handled one after another in the heartbeat loop (upstream too),
// and a node coming back is re-listed before the next one is judged or fails over; when that node
// is cut off again meanwhile, its listing's retries hold the loop: a second failure, outside the
// single-failure bound (pageserver-failover 533: the loop stalls before it marks the node Offline).
bool FailoverChecker::AnotherTransitionDisturbed(int32_t trigger_pid, int32_t leader,
                                                 sim::Instant from, sim::Instant to) const {
  for (int32_t pid : timeline().topology().pageservers) {
    auto other = node_of_.find(pid);
    if (pid == trigger_pid || other == node_of_.end()) continue;
    auto marks = availability_.find(leader);
    if (marks == availability_.end()) continue;
    auto node_marks = marks->second.find(other->second);
    if (node_marks == marks->second.end()) continue;
    bool transitioned = false;
    for (const Valued& mark : node_marks->second) {
      if (mark.at >= from && mark.at <= to) transitioned = true;
    }
    if (transitioned && timeline().Disturbed(pid, from, to)) return true;
  }
  return false;
}

void FailoverChecker::JudgeOne(const Trigger& trigger) {
  const sim::Instant t0 = trigger.at;
  const sim::Duration detect = bounds().failover_detect;
  const sim::Instant end = t0 + detect + bounds().failover_reconcile;
  const std::optional<int32_t> leader = timeline().LeaderAt(t0);
  auto node = node_of_.find(trigger.pid);
  if (!leader || node == node_of_.end()) return Count("L2 excused: no single leader");
  if (timeline().ControlPathDisturbed(t0, end, trigger.pid)) {
    return Count("L2 excused: control path disturbed");
  }
  const int64_t node_id = node->second;
  auto availability = [&](int64_t id) {
    return ValueAt(availability_[*leader][id], t0).value_or("Offline");
  };
  if (availability(node_id) != "Active") return Count("L2 excused: node not Active");
  bool alternative = false;
  for (int32_t pid : timeline().topology().pageservers) {
    auto other = node_of_.find(pid);
    if (pid == trigger.pid || other == node_of_.end()) continue;
    const std::string policy = ValueAt(policy_[*leader][other->second], t0).value_or("active");
    if (!timeline().Disturbed(pid, t0, end) && availability(other->second) == "Active" &&
        (policy == "active" || policy == "filling")) {
      alternative = true;
    }
  }
  if (!alternative) return Count("L2 excused: no schedulable alternative");
  const auto& marks = availability_[*leader][node_id];
  std::optional<sim::Instant> offline;
  for (const Valued& mark : marks) {
    if (mark.value == "Offline" && mark.at >= t0 && mark.at <= t0 + detect && !offline) {
      offline = mark.at;
    }
  }
  if (!offline) {
    if (!timeline().CutOffThroughout(trigger.pid, *leader, t0, t0 + detect)) {
      return Count("L2 excused: back before detection");
    }
    if (AnotherTransitionDisturbed(trigger.pid, *leader, t0, t0 + detect)) {
      return Count("L2 excused: another node in transition was disturbed");
    }
    Count("L2 missed");
    Report("L2", t0 + detect,
           Node(node_id) + " (p" + std::to_string(trigger.pid) + ") is cut off from the leader p" +
               std::to_string(*leader) + " since " + Seconds(t0) + " but was not marked Offline by " +
               Seconds(t0 + detect));
    return;
  }
  const sim::Instant deadline = *offline + bounds().failover_reconcile;
  if (AnotherTransitionDisturbed(trigger.pid, *leader, t0, deadline)) {
    return Count("L2 excused: another node in transition was disturbed");
  }
  Count("L2 judged");
  for (const auto& [shard, values] : intent_[*leader]) {
    if (ValueAt(values, t0) != std::to_string(node_id)) continue;
    std::optional<Attachment> held;
    for (const auto& [at, attachment] : history_[{node_id, shard}]) {
      if (at <= t0) held = attachment;
    }
    if (!held || held->mode != "AttachedSingle") continue;
    // A stale attachment: another node already held the shard AttachedSingle at a newer
    // generation before P went (a migration away from P that failed before P was demoted).
    // There is nothing to fail over (pageserver-failover 337).
    const bool superseded = std::any_of(
        attached_single_.begin(), attached_single_.end(), [&, &shard = shard](const Attached& other) {
          return other.shard == shard && other.node != node_id &&
                 other.generation > held->generation && other.at <= t0;
        });
    if (superseded) {
      Count("L2 excused: the node's attachment was already superseded");
      continue;
    }
    // The operator detached the tenant (placement policy Detached) before the deadline: no node
    // is to hold the shard, so there is nothing to fail over (compute-refresh 3389).
    const std::vector<sim::Instant>& detached = policy_detached_[*leader][shard];
    if (std::any_of(detached.begin(), detached.end(),
                    [&](sim::Instant at) { return at >= t0 && at <= deadline; })) {
      Count("L2 excused: the tenant's policy detached the shard");
      continue;
    }
    // The leader fails over to the node its scheduler picks (the secondary first); when that node
    // was itself cut off, undetected yet, the failover waits for that second failure: a double
    // fault, outside the single-failure bound.
    // A move already under way when the node was marked Offline (an operator's migration that
    // started after the node went unreachable) has its target in the intent at the mark.
    // Every node the intent named in the window counts: an operator's migration to another node
    // after the mark moves the failover there (pageserver-failover 8109: moved to a node cut off
    // from the leader, whose call then hung).
    std::vector<std::string> targets;
    auto consider = [&](const std::optional<std::string>& value) {
      if (value && *value != "-1" && *value != std::to_string(node_id)) targets.push_back(*value);
    };
    consider(ValueAt(values, *offline));
    for (const Valued& value : values) {
      if (value.at >= *offline && value.at <= deadline) consider(value.value);
    }
    if (std::any_of(targets.begin(), targets.end(), [&](const std::string& target) {
          return TargetDisturbed(target, *offline, deadline);
        })) {
      Count("L2 excused: failover target disturbed");
      continue;
    }
    const bool moved = std::any_of(
        attached_single_.begin(), attached_single_.end(), [&, &shard = shard](const Attached& attached) {
          // Any node at a newer generation: P itself counts once it is back (it cannot accept
          // while cut off), e.g. when the first failover target was dying too.
          return attached.shard == shard && attached.generation > held->generation &&
                 attached.at > t0 &&
                 attached.at <= deadline;
        });
    if (!moved) {
      Count("L2 missed");
      Report("L2", deadline,
             shard + " was attached on " + Node(node_id) + " at generation " +
                 std::to_string(held->generation) + ", which went unreachable at " + Seconds(t0) +
                 " and was marked Offline at " + Seconds(*offline) +
                 ", but was not AttachedSingle at a newer generation anywhere by " +
                 Seconds(deadline));
      return;
    }
  }
}

// ---- L4 ----

bool DrainFillChecker::ClusterDisturbed(sim::Instant from, sim::Instant to) const {
  if (timeline().ControlPathDisturbed(from, to)) return true;
  return std::any_of(all_pids_.begin(), all_pids_.end(),
                     [&](int32_t pid) { return timeline().Disturbed(pid, from, to); });
}

sim::Instant DrainFillChecker::OperationDeadline(sim::Instant from) const {
  sim::Instant start = from;
  sim::Instant deadline = start + bounds().operation_bound;
  // Each round moves `start` to a later refusal, so this ends within refusals_.size() rounds.
  for (size_t round = 0; round <= refusals_.size(); ++round) {
    auto after = std::upper_bound(refusals_.begin(), refusals_.end(), deadline);
    if (after == refusals_.begin()) break;
    const sim::Instant last = *std::prev(after);
    if (last <= start) break;
    start = last;
    deadline = start + bounds().operation_bound;
  }
  return deadline;
}

void DrainFillChecker::Handle(const sim::TraceEvent& event) {
  if (event.kind == "process.start") all_pids_.insert(static_cast<int32_t>(event.Int("pid")));
  if (event.kind == "ctl.notify.result") {
    const std::string_view result = event.Str("result");
    if (result != "ok" && result != "skipped_dedupe") {
      SIM_CHECK_MSG(refusals_.size() < 10'000'000, "L4: unbounded refusals");
      SIM_CHECK(refusals_.empty() || refusals_.back() <= event.at);
      refusals_.push_back(event.at);
    }
    return;
  }
  if (event.kind == "process.down") {
    for (Operation& operation : operations_) {
      if (operation.pid == event.Int("pid") && !operation.ended) {
        operation.died = true;
        operation.ended = event.at;
      }
    }
    return;
  }
  if (event.kind != "ctl.operation") return;
  const std::string op(event.Str("op"));
  if (op != "drain" && op != "fill") return;
  const std::string_view phase = event.Str("phase");
  const int64_t node = event.Int("node");
  if (phase == "start") {
    SIM_CHECK_MSG(operations_.size() < 100'000, "L4: unbounded operations");
    operations_.push_back({event.process, op, node, event.at, std::nullopt, std::nullopt, false});
    return;
  }
  for (auto it = operations_.rbegin(); it != operations_.rend(); ++it) {
    if (it->pid != event.process || it->op != op || it->node != node || it->ended) continue;
    if (phase == "cancel_requested" && !it->cancel_requested) it->cancel_requested = event.at;
    if (phase == "end") it->ended = event.at;
    return;
  }
}

void DrainFillChecker::Judge(sim::Instant now, bool final) {
  auto due = [&](sim::Instant deadline) { return deadline < now || (final && deadline <= now); };
  std::vector<Operation> open;
  for (Operation& operation : operations_) {
    // Check 0: the end after a cancel request (a); check 1: the end after the start (b).
    for (int check = 0; check < 2; ++check) {
      if (operation.judged[check]) continue;
      const std::optional<sim::Instant> from =
          check == 0 ? operation.cancel_requested : std::optional<sim::Instant>(operation.started);
      if (!from) {
        if (operation.ended) operation.judged[check] = true;  // ended without a cancel request
        continue;
      }
      const sim::Instant deadline =
          check == 0 ? *from + bounds().cancel_bound : OperationDeadline(*from);
      if (check == 1 && deadline != *from + bounds().operation_bound && due(deadline)) {
        Count("L4 extended: control plane refusing");
      }
      if (operation.ended && *operation.ended <= deadline && !operation.died) {
        operation.judged[check] = true;
        Count(check == 0 ? "L4 judged: cancel ended in time" : "L4 judged: ended in time");
        continue;
      }
      if (!due(deadline)) continue;
      operation.judged[check] = true;
      if (operation.died || ClusterDisturbed(*from, deadline)) {
        Count("L4 excused: disturbed");
        continue;
      }
      Count("L4 missed");
      Report("L4", deadline,
             operation.op + " of " + Node(operation.node) + " by p" +
                 std::to_string(operation.pid) + (check == 0 ? ", cancelled at " : ", started at ") +
                 Seconds(*from) + ", had not ended by " + Seconds(deadline));
    }
    if (!final && !(operation.judged[0] && operation.judged[1])) open.push_back(operation);
  }
  operations_ = std::move(open);
}

void DrainFillChecker::Finish(sim::Instant now) {
  Judge(now, /*final=*/true);
  const DrainFillSnapshot snapshot = take_snapshot_();
  if (!snapshot.have_leader) return;
  for (const auto& [node, policy] : snapshot.node_policy) {
    if (policy != "draining" && policy != "filling") continue;
    const std::string wanted =
        std::string(policy == "draining" ? "drain " : "fill ") + std::to_string(node);
    if (snapshot.operation == wanted) continue;
    Report("L4", now,
           Node(node) + " is still " + policy + " after the quiet period with no " +
               (policy == "draining" ? "drain" : "fill") + " running at the leader (operation: " +
               snapshot.operation.value_or("none") + ")");
  }
}

// ---- L6 ----

void NotificationRetryChecker::OnEvent(const sim::TraceEvent& event) {
  if (event.kind != "ctl.notify.result") return;
  SIM_CHECK_MSG(last_.size() < 100'000, "L6: unbounded tenants");
  last_[{Instance{event.process, event.Int("incarnation")}, std::string(event.Str("tenant"))}] =
      Last{event.at, std::string(event.Str("result")), std::string(event.Str("shards"))};
}

void NotificationRetryChecker::Finish(sim::Instant now) {
  const NotificationRetrySnapshot snapshot = take_snapshot_();
  if (!snapshot.have_leader) return;  // L1 reports a missing leader
  for (const auto& [key, last] : last_) {
    const auto& [instance, tenant] = key;
    if (instance != snapshot.leader || snapshot.attached_tenants.count(tenant) == 0 ||
        snapshot.cplane_busy_tenants.count(tenant) > 0) {
      continue;
    }
    if (last.result == "ok" || last.result == "skipped_dedupe") continue;
    Report("L6", now,
           tenant + ": the leader's last notify-attach (shards " + last.shards + ") ended '" +
               last.result + "' at " + Seconds(last.at) +
               " and was never retried successfully, though the control plane answers again");
    return;
  }
}

}  // namespace storsim::invariants
