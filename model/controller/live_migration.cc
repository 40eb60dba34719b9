// Live migration of an attached shard from origin O to destination D (upstream
// Reconciler::live_migrate; SPEC.md §5.3 steps 1–9, failure handling §5.4). Any step error fails
// the reconcile; the observed entries touched are nullopt until their call succeeded, so the
// next reconcile starts from the general path (Stale/Multi observed => generation increment).
#include <string>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/reconciler.h"

namespace storsim::controller {

absl::Status Reconciler::LiveMigrate(NodeId origin, NodeId destination) {
  SIM_CHECK(origin != destination);
  auto origin_ref = input_.nodes.find(origin);
  auto destination_ref = input_.nodes.find(destination);
  if (origin_ref == input_.nodes.end() || destination_ref == input_.nodes.end()) {
    return absl::NotFoundError("migration node unknown");
  }
  const uint64_t term = context_.term();
  bool destination_secondary = false;
  if (auto it = shard_.observed.locations.find(destination);
      it != shard_.observed.locations.end() && it->second.has_value()) {
    destination_secondary = it->second->mode == api::LocationMode::kSecondary;
  }

  // 1. O <- AttachedStale at O's observed generation, flushing for up to 10 s. Upstream sends
  //    the controller's current generation (SPEC §5.3 step 1 FIXME), which differs when O
  //    re-attached earlier and a newer generation went elsewhere since: O would then claim a
  //    generation another node holds (hazard kDefectStaleOriginCurrentGeneration, S4).
  api::LocationConfig stale = *shard_.observed.locations[origin];
  stale.mode = api::LocationMode::kAttachedStale;
  if (context_.Defect(kDefectStaleOriginCurrentGeneration)) stale.generation = shard_.generation;
  stale.controller_term = term;
  absl::Status status = LocationConfig(origin, stale, context_.timings().stale_flush);
  if (!status.ok()) return status;

  // 2. Baseline LSNs of every timeline on O.
  auto baseline = pageservers_.TimelineLsns(origin_ref->second, shard_.id, input_.cancel);
  if (!baseline.ok()) return baseline.status();

  // 3. Warm D's secondary (errors and timeouts: proceed anyway).
  if (destination_secondary) {
    const sim::Instant give_up = context_.env().DeadlineAfter(input_.migration.secondary_warm_total);
    for (int poll = 0; poll < 1000 && context_.env().scheduler().Now() < give_up; ++poll) {
      auto download = pageservers_.SecondaryDownload(destination_ref->second, shard_.id,
                                                     input_.migration.secondary_warm_poll,
                                                     input_.cancel);
      if (!download.ok() || download->status == api::Http::kOk) break;
    }
  }
  if (input_.cancel.cancelled()) return absl::CancelledError("migration cancelled");

  // 4. A new generation for D: from here the DB names D. The canary hands D the generation
  //    before the new one (the origin's) instead: two attachments at one generation (S4).
  auto generation = db_.IncrementGeneration(shard_.id, destination, "live_migration");
  if (!generation.ok()) return generation.status();
  shard_.generation = *generation;
  shard_.generation_pageserver_null = false;
  named_at_ = context_.env().scheduler().Now();
  if (context_.Defect(kDefectCanaryGenerationReuse) && shard_.generation.value() > 1) {
    SIM_MARK("ctl.canary.generation_reuse");
    shard_.generation = Generation(shard_.generation.value() - 1);
  }

  // 5. D <- AttachedMulti at the new generation.
  api::LocationConfig multi = shard_.AttachedConfig(term);
  multi.mode = api::LocationMode::kAttachedMulti;
  status = LocationConfig(destination, multi, sim::Duration::Zero());
  if (!status.ok()) return status;

  // 6. Wait until D caught up with the baseline.
  status = WaitForLsns(destination_ref->second, baseline->timelines);
  if (!status.ok()) return status;

  // 7. Cut computes over to D (blocking).
  status = NotifyBlocking(origin, destination);
  if (!status.ok()) return status;

  // 8. O <- Secondary (warm), unless the origin died meanwhile (then the general reconcile
  //    deals with it once it is back).
  if (available_now_(origin)) {
    status = LocationConfig(origin, shard_.SecondaryConfig(term), sim::Duration::Zero());
    if (!status.ok()) return status;
  } else {
    shard_.observed.locations[origin] = std::nullopt;
  }

  // 9. D <- AttachedSingle at the new generation.
  return LocationConfig(destination, shard_.AttachedConfig(term), sim::Duration::Zero());
}

absl::Status Reconciler::WaitForLsns(const NodeRef& destination,
                                     const std::vector<api::TimelineLsn>& baseline) {
  // Ignoring cancellation is defect #12 (PR #9486): a stuck migration cannot be superseded.
  const bool honour_cancel = !context_.Defect(kDefectLsnWaitIgnoresCancel);
  const CancelToken cancel = honour_cancel ? input_.cancel : CancelToken();
  api::WaitLsnRequest hint{shard_.id, baseline, context_.timings().wait_lsn_hint};
  auto hinted = pageservers_.WaitLsn(destination, hint, cancel);
  (void)hinted;  // a hint: its answer does not matter, the poll below decides
  const sim::Instant give_up = context_.env().DeadlineAfter(context_.timings().lsn_catch_up_max);
  for (int poll = 0; context_.env().scheduler().Now() < give_up; ++poll) {
    if (honour_cancel && input_.cancel.cancelled()) {
      return absl::CancelledError("lsn wait cancelled");
    }
    auto current = pageservers_.TimelineLsns(destination, shard_.id, cancel);
    if (current.ok()) {
      bool caught_up = true;
      for (const api::TimelineLsn& want : baseline) {
        for (const api::TimelineLsn& have : current->timelines) {
          if (have.timeline_id == want.timeline_id && have.last_record_lsn < want.last_record_lsn) {
            caught_up = false;
          }
        }
        // A timeline missing on D was deleted meanwhile: ignored.
      }
      if (caught_up) return absl::OkStatus();
    } else if (current.status().code() == absl::StatusCode::kCancelled && honour_cancel) {
      return current.status();
    }
    if (honour_cancel) {
      if (!SleepCancellable(context_.env(), context_.timings().lsn_poll, {input_.cancel})) {
        return absl::CancelledError("lsn wait cancelled");
      }
    } else {
      context_.env().Sleep(context_.timings().lsn_poll);
    }
  }
  return absl::DeadlineExceededError("destination did not catch up");
}

absl::Status Reconciler::NotifyBlocking(NodeId origin, NodeId destination) {
  SIM_CHECK(shard_.intent.attached == destination);
  // Before PR #9147 the loop only ended on success: neither origin death nor a superseding
  // reconcile stopped it (defect #11).
  const bool stuck = context_.Defect(kDefectNotifyIgnoresOriginDeath);
  const CancelToken cancel = stuck ? CancelToken() : input_.cancel;
  sim::Duration backoff = sim::Duration::Seconds(1);
  for (int attempt = 0; attempt < 100'000; ++attempt) {
    NotifyOutcome outcome = compute_hook_.Notify(shard_.id, shard_.stripe_size,
                                                 shard_.intent.preferred_az, destination, cancel);
    notified_ = true;
    if (outcome == NotifyOutcome::kOk) {
      compute_notify_failure_ = false;
      return absl::OkStatus();
    }
    compute_notify_failure_ = true;
    if (outcome == NotifyOutcome::kFatal) return absl::PermissionDeniedError("notify fatal");
    if (outcome == NotifyOutcome::kCancelled || cancel.cancelled()) {
      return absl::CancelledError("notify cancelled");
    }
    // Give up early (keeping the pending flag) if the origin is gone (PR #9147).
    if (!stuck && !available_now_(origin)) {
      SIM_MARK("ctl.migration.notify_origin_dead");
      return absl::OkStatus();
    }
    if (!SleepCancellable(context_.env(), backoff, {cancel})) {
      return absl::CancelledError("notify cancelled");
    }
    backoff = backoff * 2;
    if (backoff > context_.timings().notify_retry_cap) backoff = context_.timings().notify_retry_cap;
  }
  return absl::DeadlineExceededError("notify retries exhausted");
}

}  // namespace storsim::controller
