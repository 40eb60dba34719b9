// One reconcile of one shard (see reconciler.h). Step numbers refer to SPEC.md §6.3 and §5.3.
#include "model/controller/reconciler.h"

#include <string>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller {

using sim::TraceField;

Reconciler::Reconciler(Context& context, Db& db, PageserverClient& pageservers,
                       ComputeHook& compute_hook, ReconcilerInput input,
                       std::function<bool(NodeId)> available_now)
    : context_(context),
      db_(db),
      pageservers_(pageservers),
      compute_hook_(compute_hook),
      input_(std::move(input)),
      shard_(input_.shard),
      available_now_(std::move(available_now)),
      original_observed_(input_.shard.observed),
      compute_notify_failure_(input_.shard.pending_compute_notification) {}

bool Reconciler::Available(NodeId node) const {
  auto it = input_.available.find(node);
  return it != input_.available.end() && it->second;
}

ReconcileResult Reconciler::Run() {
  const bool must_notify = shard_.pending_compute_notification;
  absl::Status status = Reconcile();
  // Must-notify rule (PR #10352): a pending notification is re-sent after a successful
  // reconcile that did not notify by itself.
  if (status.ok() && must_notify && !notified_ && shard_.intent.attached) status = ComputeNotify();
  ReconcileResult result;
  result.shard = shard_.id;
  result.sequence = shard_.sequence;
  result.status = status;
  result.generation = shard_.generation;
  result.original_observed = original_observed_;
  result.observed = shard_.observed;
  result.pending_compute_notification = compute_notify_failure_;
  result.generation_pageserver_null = shard_.generation_pageserver_null;
  result.waits_for_tenant_notify = waits_for_tenant_notify_;
  result.named_at = named_at_;
  return result;
}

absl::Status Reconciler::LocationConfig(NodeId node, const api::LocationConfig& config,
                                        sim::Duration flush) {
  auto ref = input_.nodes.find(node);
  if (ref == input_.nodes.end()) return absl::NotFoundError("node unknown");
  shard_.observed.locations[node] = std::nullopt;  // uncertain while the call is in flight
  absl::Status status =
      pageservers_.PutLocationConfig(ref->second, shard_.id, config, flush, input_.cancel);
  if (!status.ok()) return status;
  if (config.mode == api::LocationMode::kDetached) {
    shard_.observed.locations.erase(node);
  } else {
    shard_.observed.locations[node] = config;
  }
  return absl::OkStatus();
}

absl::Status Reconciler::ComputeNotify() {
  if (!shard_.intent.attached) return absl::OkStatus();
  notified_ = true;
  NotifyOutcome outcome = compute_hook_.Notify(shard_.id, shard_.stripe_size,
                                               shard_.intent.preferred_az,
                                               *shard_.intent.attached, input_.cancel);
  compute_notify_failure_ = outcome != NotifyOutcome::kOk;
  notify_incomplete_ = outcome == NotifyOutcome::kIncomplete;
  // The attached location is right; the placement goes out once the tenant is complete (the
  // pending flag), and no attached location is demoted before (see Reconcile).
  if (outcome == NotifyOutcome::kOk || notify_incomplete_) return absl::OkStatus();
  return absl::UnavailableError(std::string("compute notify: ") + NotifyOutcomeName(outcome));
}

bool Reconciler::DemotesAnAttachedLocation() const {
  for (const auto& [node, config] : shard_.observed.locations) {
    if (shard_.intent.attached && node == *shard_.intent.attached) continue;
    if (!Available(node)) continue;  // steps 4-5 make no call to an unavailable node
    // An uncertain location may still be attached.
    if (!config.has_value() || config->mode == api::LocationMode::kAttachedSingle ||
        config->mode == api::LocationMode::kAttachedMulti ||
        config->mode == api::LocationMode::kAttachedStale) {
      return true;
    }
  }
  return false;
}

absl::Status Reconciler::Reconcile() {
  const uint64_t term = context_.term();
  // Step 1: refresh an unknown attached location before deciding on a generation (PR #7027).
  bool refreshed = false;
  if (shard_.intent.attached && !context_.Defect(kDefectNoRefreshUnknownObserved)) {
    const NodeId node = *shard_.intent.attached;
    auto it = shard_.observed.locations.find(node);
    auto ref = input_.nodes.find(node);
    // Whatever the node's availability (upstream asks any node that is not Offline, WarmingUp
    // included; an Offline node's call fails at once on its cancelled token, failing the
    // reconcile, which is what keeps it from incrementing blind).
    if (it != shard_.observed.locations.end() && !it->second.has_value() &&
        ref != input_.nodes.end()) {
      auto reply = pageservers_.GetLocationConfig(ref->second, shard_.id, input_.cancel);
      const bool answered = reply.ok() && reply->status == api::Http::kOk;
      const bool configured = answered && reply->config.has_value();
      context_.Emit(events::kLocationConfigRefresh,
                    {TraceField::Str("shard", shard_.id.ToString()),
                     TraceField::Int("node", node),
                     TraceField::Str("result", !reply.ok()                               ? "error"
                                               : reply->status == api::Http::kNotFound ? "not_found"
                                               : answered                              ? "ok"
                                                                                       : "http"),
                     TraceField::Str("mode", configured ? api::LocationModeName(reply->config->mode)
                                                        : ""),
                     TraceField::Int("generation",
                                     configured ? GenerationField(reply->config->generation)
                                                : -1)});
      // A refresh that fails fails the reconcile (upstream maybe_refresh_observed returns the
      // error): going on would increment the generation of a location that may well be
      // attached already, which is the churn the refresh exists to avoid. The 20 s loop retries.
      if (!reply.ok()) return reply.status();
      if (reply->status == api::Http::kNotFound) {
        shard_.observed.locations.erase(node);
      } else if (reply->status != api::Http::kOk) {
        return absl::UnavailableError("refresh of the attached location answered HTTP " +
                                      std::to_string(static_cast<int>(reply->status)));
      } else {
        shard_.observed.locations[node] = reply->config;
      }
      refreshed = true;
    }
  }
  if (input_.cancel.cancelled()) return absl::CancelledError("reconcile cancelled");

  // Step 2: live migration when the destination is Secondary/absent and an origin is attached.
  if (shard_.intent.attached) {
    const NodeId destination = *shard_.intent.attached;
    auto dest = shard_.observed.locations.find(destination);
    const bool destination_ready_for_migration =
        dest == shard_.observed.locations.end() ||
        (dest->second.has_value() && dest->second->mode == api::LocationMode::kSecondary);
    if (destination_ready_for_migration && Available(destination)) {
      for (const auto& [origin, config] : shard_.observed.locations) {
        if (origin == destination || !config.has_value()) continue;
        if (config->mode != api::LocationMode::kAttachedSingle || !Available(origin)) continue;
        absl::Status status = LiveMigrate(origin, destination);
        if (!status.ok()) return status;
        break;
      }
    }
  }

  // Step 3: the attached location.
  if (shard_.intent.attached) {
    const NodeId node = *shard_.intent.attached;
    api::LocationConfig wanted = shard_.AttachedConfig(term);
    auto it = shard_.observed.locations.find(node);
    if (it != shard_.observed.locations.end() && it->second == wanted &&
        !shard_.generation_pageserver_null) {
      // Observed already right: notify only if we learned it by refreshing (PR #11342).
      if (refreshed && !context_.Defect(kDefectSkipNotifyAfterRefresh)) {
        absl::Status status = ComputeNotify();
        if (!status.ok()) return status;
      }
    } else {
      bool increment = true;
      if (it != shard_.observed.locations.end() && it->second.has_value()) {
        increment = !(it->second->generation == wanted.generation && it->second->mode == wanted.mode);
      }
      if (increment || shard_.generation_pageserver_null) {
        auto generation = db_.IncrementGeneration(shard_.id, node, "reconcile");
        if (!generation.ok()) return generation.status();
        shard_.generation = *generation;
        shard_.generation_pageserver_null = false;  // the increment named `node`
        named_at_ = context_.env().scheduler().Now();
        wanted.generation = *generation;
      }
      absl::Status status = LocationConfig(node, wanted, sim::Duration::Zero());
      if (!status.ok()) return status;
      status = ComputeNotify();
      if (!status.ok()) return status;
    }
  }

  // Before steps 4 and 5 demote another attached location, a notification still pending from an
  // earlier reconcile goes out, and the demotion waits until the control plane has the new
  // placement: applied (2xx) or persisted (423), from where a compute that loses the old
  // pageserver pulls it on refresh (S12). Upstream retries it only after the demotions.
  if (shard_.intent.attached && compute_notify_failure_ && !notified_ &&
      DemotesAnAttachedLocation() && !context_.Defect(kDefectDemoteBeforePendingNotify)) {
    SIM_MARK("ctl.notify_before_demote");
    notified_ = true;
    const NotifyOutcome outcome =
        compute_hook_.Notify(shard_.id, shard_.stripe_size, shard_.intent.preferred_az,
                             *shard_.intent.attached, input_.cancel);
    compute_notify_failure_ = outcome != NotifyOutcome::kOk;
    if (outcome != NotifyOutcome::kOk && outcome != NotifyOutcome::kBusy) {
      return absl::UnavailableError(std::string("compute notify before demotion: ") +
                                    NotifyOutcomeName(outcome));
    }
  }

  // A sharded tenant's notification that could not go out yet (not all its shards recorded):
  // the control plane still names the old placement, so an attached location is not demoted
  // until it has the new one (S12; upstream counts the skipped send as done).
  if (notify_incomplete_ && DemotesAnAttachedLocation()) {
    SIM_MARK("ctl.demotion_waits_for_complete_notify");
    waits_for_tenant_notify_ = true;
    return absl::UnavailableError("demotion waits until the tenant's notification can be sent");
  }

  // Steps 4 and 5: queue secondaries and detaches.
  struct Call {
    NodeId node;
    api::LocationConfig config;
  };
  std::vector<Call> calls;
  for (NodeId node : shard_.intent.secondary) {
    const api::LocationConfig wanted = shard_.SecondaryConfig(term);
    auto it = shard_.observed.locations.find(node);
    if (it != shard_.observed.locations.end() && it->second == wanted) continue;
    if (Available(node)) {
      calls.push_back({node, wanted});
    } else {
      shard_.observed.locations[node] = std::nullopt;
    }
  }
  bool detached_any = false;
  for (NodeId node : shard_.DetachList()) {
    if (!Available(node)) continue;  // unavailable: skip without a call
    api::LocationConfig detach;
    detach.mode = api::LocationMode::kDetached;
    detach.shard_number = shard_.id.shard_number;
    detach.shard_count = shard_.id.shard_count;
    detach.stripe_size = shard_.stripe_size;
    detach.controller_term = term;
    calls.push_back({node, detach});
    detached_any = true;
  }
  // Step 6: attempt every call, report the first error at the end (PR #12745).
  absl::Status first_error;
  for (const Call& call : calls) {
    if (input_.cancel.cancelled()) return absl::CancelledError("reconcile cancelled");
    absl::Status status = LocationConfig(call.node, call.config, sim::Duration::Zero());
    if (!status.ok()) {
      if (first_error.ok()) first_error = status;
      if (context_.Defect(kDefectReconcileAbortsOnFirstError)) return status;
    }
  }
  // Step 7: nothing attached any more and something detached: drop from the compute hook.
  if (!shard_.intent.attached && detached_any) compute_hook_.HandleDetach(shard_.id);
  return first_error;
}

}  // namespace storsim::controller
