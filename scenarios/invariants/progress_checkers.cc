// L5 (deletion progress) and L8 (pageserver startup): the deadline checkers of
// liveness_checkers.h that follow one pageserver's own progress; D1 (a completed drain leaves
// nothing movable attached) and R1 (a superseded reconcile yields) of progress_checkers.h.
#include "scenarios/invariants/progress_checkers.h"

#include <algorithm>
#include <cctype>

#include "scenarios/invariants/liveness_checkers.h"

namespace storsim::invariants {
namespace {

std::string Node(int64_t node) { return "node " + std::to_string(node); }

}  // namespace

// ---- L5 ----

void DeletionProgressChecker::Handle(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  if (kind == "ps.deletion_enqueue") {
    SIM_CHECK_MSG(lists_.size() < 1'000'000, "L5: unbounded deletion lists");
    lists_.push_back({event.process, event.Int("node"), event.Int("inc"),
                      std::string(event.Str("shard")), event.Int("gen"), event.Int("seq"),
                      event.at});
    return;
  }
  if (kind == "ps.deletion_execute" || kind == "ps.deletion_dropped") {
    for (List& list : lists_) {
      if (list.node == event.Int("node") && list.incarnation == event.Int("inc") &&
          list.sequence == event.Int("seq") && !list.settled) {
        list.settled = true;
        list.settled_at = event.at;
      }
    }
    return;
  }
  if (kind == "ps.deletion_blocked") {
    for (List& list : lists_) {
      if (list.node == event.Int("node") && list.incarnation == event.Int("inc") &&
          list.shard == event.Str("shard") && list.generation == event.Int("gen") &&
          !list.settled) {
        list.settled = true;
        list.settled_at = event.at;
      }
    }
    return;
  }
  // The premise "stably AttachedSingle at the current generation" breaks when the location on
  // the list's node changes, or any node or instance gets a newer generation of the shard.
  if (kind == "ps.location_config" && event.Int("status") == 200) {
    const std::string_view shard = event.Str("shard");
    for (List& list : lists_) {
      if (list.shard != shard) continue;
      if (list.node == event.Int("node") || event.Int("gen") > list.generation) list.excused = true;
    }
    return;
  }
  if (kind == "ctl.generation") {
    for (List& list : lists_) {
      if (list.shard == event.Str("shard") && event.Int("generation") > list.generation) {
        list.excused = true;
      }
    }
  }
}

void DeletionProgressChecker::Judge(sim::Instant now, bool final) {
  std::vector<List> open;
  for (const List& list : lists_) {
    if (list.settled) {
      Count("L5 judged: settled in time");
      continue;
    }
    const sim::Instant deadline = list.enqueued + bounds().deletion_bound;
    if (!(deadline < now || (final && deadline <= now))) {
      if (!final) open.push_back(list);
      continue;
    }
    if (list.excused) {
      Count("L5 excused: location or generation changed");
      continue;
    }
    const Topology& topology = timeline().topology();
    if (timeline().Disturbed(list.pid, list.enqueued, deadline) ||
        (topology.remote_storage >= 0 &&
         timeline().Disturbed(topology.remote_storage, list.enqueued, deadline)) ||
        timeline().ControlPathDisturbed(list.enqueued, deadline)) {
      Count("L5 excused: disturbed");
      continue;
    }
    Count("L5 missed");
    Report("L5", deadline,
           "the deletion list " + std::to_string(list.sequence) + " of " + list.shard +
               " at generation " + std::to_string(list.generation) + " on " + Node(list.node) +
               ", enqueued at " + list.enqueued.ToString() +
               " while nothing was disturbed, was neither executed nor dropped by " +
               deadline.ToString());
  }
  lists_ = std::move(open);
}

// ---- L8 ----

void StartupChecker::Handle(const sim::TraceEvent& event) {
  const std::string_view kind = event.kind;
  if (kind == "ps.start") {
    SIM_CHECK_MSG(starts_.size() < 100'000, "L8: unbounded starts");
    starts_.push_back({event.process, event.Int("node"), event.Int("inc"), event.at});
  } else if (kind == "ps.re_attach_done") {
    for (Start& start : starts_) {
      if (start.pid == event.process && start.incarnation == event.Int("inc") &&
          !start.re_attached) {
        start.re_attached = event.at;
      }
    }
  } else if (kind == "ctl.node.availability") {
    availability_.push_back({event.at, event.process, event.Int("node"), std::string(event.Str("to"))});
  } else if (kind == "ctl.startup_complete") {
    startup_complete_.push_back({event.at, event.process});
  }
}

std::optional<sim::Instant> StartupChecker::LeaderReady(sim::Instant from,
                                                       sim::Instant until) const {
  std::vector<sim::Instant> candidates = {from};
  for (sim::Instant at : timeline().leadership_changes()) {
    if (at > from && at <= until) candidates.push_back(at);
  }
  for (const auto& [at, pid] : startup_complete_) {
    if (at > from && at <= until) candidates.push_back(at);
  }
  std::sort(candidates.begin(), candidates.end());
  for (sim::Instant at : candidates) {
    const std::optional<int32_t> leader = timeline().LeaderAt(at);
    const std::optional<sim::Instant> since = timeline().LeaderSince(at);
    if (!leader || !since) continue;
    const bool ready = std::any_of(startup_complete_.begin(), startup_complete_.end(),
                                   [&](const std::pair<sim::Instant, int32_t>& complete) {
                                     return complete.second == *leader &&
                                            complete.first >= *since && complete.first <= at;
                                   });
    if (ready) return at;
  }
  return std::nullopt;
}

void StartupChecker::JudgeReAttach(Start& start, sim::Instant now, bool final) {
  const std::optional<sim::Instant> ready = LeaderReady(start.started, now);
  if (!ready) {
    if (final) start.judged_re_attach = true;
    return;
  }
  const sim::Instant deadline = *ready + bounds().re_attach_bound;
  if (start.re_attached && *start.re_attached <= deadline) {
    start.judged_re_attach = true;
    return;
  }
  if (!(deadline < now || (final && deadline <= now))) {
    if (final) start.judged_re_attach = true;
    return;
  }
  start.judged_re_attach = true;
  if (timeline().Disturbed(start.pid, start.started, deadline) ||
      timeline().ControlPathDisturbed(*ready, deadline)) {
    return Count("L8 excused: disturbed");
  }
  Count("L8 missed");
  Report("L8", deadline,
         Node(start.node) + " (p" + std::to_string(start.pid) + ") started at " +
             start.started.ToString() + "; a leader was ready from " + ready->ToString() +
             ", but the re-attach had not completed by " + deadline.ToString());
}

void StartupChecker::JudgeActive(Start& start, sim::Instant now, bool final) {
  if (!start.re_attached) return;
  const sim::Instant at = *start.re_attached;
  const sim::Instant deadline = at + bounds().activation_bound;
  if (!(deadline < now || (final && deadline <= now))) {
    if (final) start.judged_active = true;
    return;
  }
  start.judged_active = true;
  const std::optional<int32_t> leader = timeline().LeaderAt(at);
  if (!leader || timeline().Disturbed(start.pid, at, deadline) ||
      timeline().ControlPathDisturbed(at, deadline)) {
    return Count("L8 excused: disturbed");
  }
  // Heartbeat rounds handle transitions inline: another node's activation (a location listing
  // of up to activation_list_timeout x attempts) stalls every node's next round (seen in
  // pageserver-failover seed 163). The bound assumes the other pageservers are undisturbed.
  for (int32_t pid : timeline().topology().pageservers) {
    if (pid != start.pid && timeline().Disturbed(pid, at - bounds().activation_bound, deadline)) {
      return Count("L8 excused: another pageserver disturbed (heartbeat may stall)");
    }
  }
  std::string availability = "unknown";
  for (const Availability& entry : availability_) {
    if (entry.at > deadline) break;
    if (entry.pid == *leader && entry.node == start.node) availability = entry.to;
  }
  if (availability == "Active") return Count("L8 judged");
  Count("L8 missed");
  Report("L8", deadline,
         Node(start.node) + " re-attached at " + at.ToString() + " but the leader p" +
             std::to_string(*leader) + " had it " + availability + ", not Active, at " +
             deadline.ToString());
}

void StartupChecker::Judge(sim::Instant now, bool final) {
  for (Start& start : starts_) {
    if (!start.judged_re_attach) JudgeReAttach(start, now, final);
    if (!start.judged_active) JudgeActive(start, now, final);
  }
  starts_.erase(std::remove_if(starts_.begin(), starts_.end(),
                               [](const Start& start) {
                                 return start.judged_re_attach && start.judged_active;
                               }),
                starts_.end());
}

// ---- D1 ----

bool DrainedNodeChecker::NodeDisturbed(int64_t node, sim::Instant from, sim::Instant to) const {
  auto it = pid_of_node_.find(node);
  return it == pid_of_node_.end() || timeline_.Disturbed(it->second, from, to);
}

bool DrainedNodeChecker::Schedulable(const Controller& controller, int64_t node) const {
  auto availability = controller.availability.find(node);
  if (availability == controller.availability.end() || availability->second != "Active") {
    return false;
  }
  auto policy = controller.policy.find(node);
  // A node loaded or registered without a later policy change is active.
  return policy == controller.policy.end() || policy->second == "active" ||
         policy->second == "filling";
}

void DrainedNodeChecker::OnEvent(const sim::TraceEvent& event) {
  timeline_.Observe(event);
  const std::string_view kind = event.kind;
  if (kind == "ps.start") {
    pid_of_node_[event.Int("node")] = event.process;
    return;
  }
  if (kind.substr(0, 4) != "ctl.") return;
  SIM_CHECK_MSG(controllers_.size() < 10'000, "D1: unbounded controllers");
  Controller& controller = controllers_[event.process];
  if (kind == "ctl.intent") {
    SIM_CHECK_MSG(controller.intents.size() < 1'000'000, "D1: unbounded shards");
    Intent& intent = controller.intents[std::string(event.Str("shard"))];
    intent.attached = event.Int("attached", -1);
    intent.secondaries.clear();
    std::string list(event.Str("secondaries"));
    size_t begin = 0;
    for (int guard = 0; guard < 64 && begin < list.size(); ++guard) {
      size_t end = list.find(',', begin);
      if (end == std::string::npos) end = list.size();
      const std::string item = list.substr(begin, end - begin);
      if (!item.empty() && std::all_of(item.begin(), item.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) != 0;
          })) {
        intent.secondaries.push_back(std::stoll(item));
      }
      begin = end + 1;
    }
    intent.changed = event.at;
    intent.reason = std::string(event.Str("reason"));
  } else if (kind == "ctl.reconcile.start") {
    const std::string shard(event.Str("shard"));
    controller.running[shard] = event.Int("sequence");
    auto intent = controller.intents.find(shard);
    controller.running_target[shard] =
        intent == controller.intents.end() ? -1 : intent->second.attached;
  } else if (kind == "ctl.reconcile.end") {
    auto running = controller.running.find(std::string(event.Str("shard")));
    if (running != controller.running.end() && running->second <= event.Int("sequence")) {
      controller.running.erase(running);
    }
    if (event.Str("result") == "error") {
      controller.last_failed_reconcile[std::string(event.Str("shard"))] = event.at;
    }
  } else if (kind == "ctl.node.availability") {
    controller.availability[event.Int("node")] = std::string(event.Str("to"));
    controller.schedulability_changed[event.Int("node")] = event.at;
  } else if (kind == "ctl.node.policy" || kind == "ctl.node.loaded") {
    controller.policy[event.Int("node")] = std::string(event.Str("policy"));
    controller.schedulability_changed[event.Int("node")] = event.at;
  } else if (kind == "ctl.operation" && event.Str("op") == "drain") {
    const int64_t node = event.Int("node");
    const std::string_view phase = event.Str("phase");
    if (phase == "start") {
      controller.drain_started[node] = event.at;
      std::set<std::string>& incoming = controller.incoming_at_drain[node];
      incoming.clear();
      for (const auto& [shard, sequence] : controller.running) {
        auto intent = controller.intents.find(shard);
        if ((intent != controller.intents.end() && intent->second.attached == node) ||
            controller.running_target[shard] == node) {
          incoming.insert(shard);
        }
      }
    }
    if (phase == "end" && event.Str("result") == "done") JudgeDrain(event.process, node, event.at);
  }
}

void DrainedNodeChecker::JudgeDrain(int32_t pid, int64_t node, sim::Instant at) {
  Controller& controller = controllers_[pid];
  auto started = controller.drain_started.find(node);
  const sim::Instant from = started == controller.drain_started.end() ? at : started->second;
  if (timeline_.ControlPathDisturbed(from, at) || NodeDisturbed(node, from, at)) {
    Count("D1 excused: drained node or control path disturbed");
    return;
  }
  const std::optional<std::map<std::string, std::string>> held = locations_(node);
  if (!held) {
    Count("D1 excused: drained node not running");
    return;
  }
  Count("D1 judged drains");
  for (const auto& [shard, intent] : controller.intents) {
    // The intent must be the drain's doing or older than the drain.
    if (intent.changed > from && intent.reason != "drain") {
      Count("D1 excused: intent changed by another actor during the drain");
      continue;
    }
    if (controller.incoming_at_drain[node].count(shard) != 0) {
      Count("D1 excused: a migration into the node was in flight when the drain began");
      continue;
    }
    auto failed = controller.last_failed_reconcile.find(shard);
    if (failed != controller.last_failed_reconcile.end() && failed->second >= from) {
      Count("D1 excused: a reconcile of the shard failed during the drain");
      continue;
    }
    if (intent.attached == node) {
      for (int64_t secondary : intent.secondaries) {
        if (secondary == node || !Schedulable(controller, secondary) ||
            NodeDisturbed(secondary, from, at)) {
          continue;
        }
        auto changed = controller.schedulability_changed.find(secondary);
        if (changed != controller.schedulability_changed.end() && changed->second > from) {
          Count("D1 excused: the secondary's node changed state during the drain");
          continue;
        }
        Count("D1 missed");
        Report("D1", at,
               "drain of node " + std::to_string(node) + " by p" + std::to_string(pid) +
                   " (started " + from.ToString() + ") completed while " + shard +
                   " was still intended attached there with a schedulable secondary on node " +
                   std::to_string(secondary));
        break;
      }
      continue;
    }
    if (intent.attached < 0) continue;
    auto location = held->find(shard);
    if (location == held->end()) continue;
    if (NodeDisturbed(intent.attached, from, at)) {
      Count("D1 excused: destination disturbed");
      continue;
    }
    if (controller.running.count(shard) == 0) {
      // Left behind by a move that failed earlier (its origin kept): the background reconcile
      // retries it; the drain never saw a migration in progress.
      Count("D1 excused: no reconcile in flight (an earlier move failed)");
      continue;
    }
    Count("D1 missed");
    Report("D1", at,
           "drain of node " + std::to_string(node) + " by p" + std::to_string(pid) +
               " (started " + from.ToString() + ") completed while node " +
               std::to_string(node) + " still held " + shard + " " + location->second +
               " (intended attached on node " + std::to_string(intent.attached) + ")");
  }
}

// ---- R1 ----

bool SupersessionChecker::DatabaseStoryAt(sim::Instant from, sim::Instant to) const {
  return std::any_of(database_faults_.begin(), database_faults_.end(),
                     [&](const std::pair<sim::Instant, sim::Instant>& fault) {
                       return fault.first <= to && from <= fault.second;
                     });
}

void SupersessionChecker::OnEvent(const sim::TraceEvent& event) {
  timeline_.Observe(event);
  Judge(event.at, /*final=*/false);
  const std::string_view kind = event.kind;
  if (kind == "story.fault") {
    const std::string_view action = event.Str("action");
    if (action == "db_down" || action == "db_slow" || action == "db_failover") {
      const int64_t duration_ns = event.Int("duration_ns", 0);
      const sim::Duration span = duration_ns > 0 ? sim::Duration::Nanos(duration_ns) : bound_;
      SIM_CHECK_MSG(database_faults_.size() < 100'000, "R1: unbounded story faults");
      database_faults_.push_back({event.at, event.at + span});
    }
    return;
  }
  if (kind == "heal") {
    for (auto& fault : database_faults_) fault.second = std::min(fault.second, event.at);
    return;
  }
  if (kind == "ctl.notify.result" && event.Str("result") == "transport") {
    std::vector<sim::Instant>& list = unreachable_[event.process];
    SIM_CHECK_MSG(list.size() < 1'000'000, "R1: unbounded notification failures");
    list.push_back(event.at);
    return;
  }
  if (kind == "process.down") {
    for (Open& open : open_) {
      if (open.pid == event.Int("pid") && !open.ended) open.died = true;
    }
    return;
  }
  if (kind == "ctl.reconcile.start") {
    const std::string shard(event.Str("shard"));
    for (Open& open : open_) {
      if (open.pid == event.process && open.shard == shard && !open.ended && !open.died &&
          !open.superseded) {
        open.superseded = event.at;
      }
    }
    SIM_CHECK_MSG(open_.size() < 1'000'000, "R1: unbounded reconciles");
    open_.push_back({event.process, shard, event.Int("sequence"), std::nullopt, false, event.at,
                     false});
    return;
  }
  if (kind == "ctl.reconcile.end") {
    for (Open& open : open_) {
      if (open.pid == event.process && open.shard == event.Str("shard") &&
          open.sequence == event.Int("sequence") && !open.ended) {
        open.ended = true;
        open.ended_at = event.at;
      }
    }
  }
}

void SupersessionChecker::Judge(sim::Instant now, bool final) {
  std::vector<Open> keep;
  for (const Open& open : open_) {
    if (!open.superseded) {
      // Not superseded (yet): drop it once ended or dead, keep it otherwise.
      if (!open.ended && !open.died && !final) keep.push_back(open);
      continue;
    }
    const sim::Instant deadline = *open.superseded + bound_;
    if (open.ended && open.ended_at <= deadline) {
      Count("R1 judged: yielded in time");
      continue;
    }
    if (!(deadline < now || (final && deadline <= now))) {
      if (!open.died && !final) keep.push_back(open);
      continue;
    }
    const std::vector<sim::Instant>& failures = unreachable_[open.pid];
    const bool unreachable =
        std::any_of(failures.begin(), failures.end(), [&](sim::Instant failed) {
          return failed + bound_ >= *open.superseded && failed <= deadline;
        });
    if (open.died || unreachable || timeline_.ControlPathDisturbed(*open.superseded, deadline) ||
        DatabaseStoryAt(*open.superseded, deadline)) {
      Count("R1 excused: disturbed");
      continue;
    }
    Count("R1 missed");
    Report("R1", deadline,
           "the reconcile of " + open.shard + " (sequence " + std::to_string(open.sequence) +
               ") at p" + std::to_string(open.pid) + ", superseded at " +
               open.superseded->ToString() + ", had not ended by " + deadline.ToString());
  }
  open_ = std::move(keep);
}

}  // namespace storsim::invariants
