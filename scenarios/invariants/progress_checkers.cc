// L5 (deletion progress) and L8 (pageserver startup): the deadline checkers of
// liveness_checkers.h that follow one pageserver's own progress.
#include <algorithm>

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

}  // namespace storsim::invariants
