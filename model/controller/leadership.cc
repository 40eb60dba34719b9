// Leadership (SPEC.md §3.1–3.3, §3.7): status changes, the step-down client with its retry
// budget, the leader CAS, the old leader's shared step-down task, and the lease protocols.
#include <string>
#include <utility>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

void Service::SetStatus(LeadershipStatus status, const char* reason) {
  // §3.1: Candidate -> Leader, Leader -> SteppedDown (and Candidate -> SteppedDown for a lease
  // candidate that never led is not allowed either).
  SIM_CHECK_MSG((status_ == LeadershipStatus::kCandidate && status == LeadershipStatus::kLeader) ||
                    (status_ == LeadershipStatus::kLeader &&
                     status == LeadershipStatus::kSteppedDown),
                "illegal leadership transition");
  status_ = status;
  context_.Emit(events::kStatus,
                {TraceField::Str("status", LeadershipStatusName(status)),
                 TraceField::Str("protocol", LeadershipProtocolName(context_.options().protocol)),
                 TraceField::Str("reason", reason)});
}

std::optional<api::StepDownResponse> Service::RequestStepDown(const persistence::LeaderRow& leader) {
  const ControllerTimings& timings = context_.timings();
  const sim::ProcessId target = context_.Resolve(leader.address);
  // Retried on every error, 9 attempts, with utils::backoff between them (1.1^n s, cap 3 s):
  // 7 sleeps, ~10.4 s, plus up to 9 x 1 s of timeouts ~ 19.4 s in the worst case.
  for (int attempt = 0; attempt < timings.step_down_attempts; ++attempt) {
    const sim::Duration backoff = BackoffBeforeAttempt(attempt, timings.backoff_cap);
    if (backoff > sim::Duration::Zero()) context_.env().Sleep(backoff);
    context_.Emit(events::kStepDownSend,
                  {TraceField::Str("target", leader.address), TraceField::Int("attempt", attempt)});
    absl::StatusOr<api::StepDownResponse> reply =
        target < 0 ? absl::StatusOr<api::StepDownResponse>(absl::UnavailableError("unresolved"))
                   : context_.env().rpc().Call(target, api::kStepDown,
                                               api::StepDownRequest{context_.address()},
                                               timings.step_down_request_timeout);
    const bool ok = reply.ok() && api::IsSuccess(reply->status);
    context_.Emit(events::kStepDownReply,
                  {TraceField::Str("target", leader.address), TraceField::Int("attempt", attempt),
                   TraceField::Str("result", ok ? "ok" : reply.ok() ? "http" : "transport"),
                   TraceField::Int("http", reply.ok() ? static_cast<int32_t>(reply->status) : 0),
                   TraceField::Int("shards", ok ? static_cast<int64_t>(reply->observed.size()) : 0)});
    if (ok) return *reply;
  }
  // Give up and continue unilaterally (no lease check: TODO upstream).
  SIM_MARK("ctl.step_down.unilateral");
  return std::nullopt;
}

std::optional<api::StepDownResponse> Service::StepDownLeaderAtStart() {
  SIM_CHECK(leader_at_start_.has_value());
  std::optional<api::StepDownResponse> response = RequestStepDown(*leader_at_start_);
  if (context_.Defect(kDefectCasNamesFirstLeaderRead)) return response;
  // An answer proves its sender stepped down, not that it holds the row we read: an old leader
  // whose pod restarted while our requests were refused took the row over its earlier one (a
  // restart in place) before it answered. The CAS must name the row as it is, read before a
  // step-down of its holder, so step that holder down too (a stepped-down instance answers at
  // once) and read again. A row that keeps moving is left to the CAS, which fails as before.
  for (int round = 0; round < 3 && response.has_value(); ++round) {
    absl::StatusOr<std::optional<persistence::LeaderRow>> leader = db_.GetLeader();
    if (!leader.ok() || !leader->has_value() || *leader == leader_at_start_) return response;
    SIM_MARK("ctl.step_down.leader_row_moved");
    leader_at_start_ = *leader;
    response = RequestStepDown(*leader_at_start_);
  }
  return response;
}

bool Service::BecomeLeader() {
  if (context_.address().empty()) return true;  // no --address-for-peers: skipped
  persistence::LeaderRow next{context_.address(), context_.env().WallNanos() / 1000};
  absl::Status status = db_.UpdateLeader(leader_at_start_, next);
  context_.Emit(events::kLeaderCas,
                {TraceField::Str("prev_address", leader_at_start_ ? leader_at_start_->address : ""),
                 TraceField::Int("prev_started_at", leader_at_start_ ? leader_at_start_->started_at : -1),
                 TraceField::Int("started_at", next.started_at),
                 TraceField::Str("result", status.ok() ? "ok" : "error"),
                 TraceField::Str("error", status.ok() ? "" : status.ToString())});
  return status.ok();
}

api::StepDownResponse Service::HandleStepDown(const api::StepDownRequest& request) {
  // One shared task (PR #11703): the first request spawns it, every request waits for it.
  const bool shared = !context_.Defect(kDefectStepDownNotShared);
  if (!shared && step_down_) {
    // Pre-fix behaviour: a retry runs its own "task", which finds the status already
    // SteppedDown and answers at once with whatever observed state there is.
    api::StepDownResponse response{api::Http::kOk, ObservedSnapshot()};
    context_.Emit(events::kStepDownServed,
                  {TraceField::Int("shards", static_cast<int64_t>(response.observed.size()))});
    return response;
  }
  if (!step_down_) {
    sim::Promise<api::StepDownResponse> promise(context_.env().scheduler());
    step_down_ = promise.GetFuture();
    const std::string from = request.from_address;
    context_.env().Spawn("ctl.step_down", [this, from, promise]() mutable {
      StepDownTask(from, std::move(promise));
    });
  }
  sim::Future<api::StepDownResponse> future = *step_down_;
  std::optional<api::StepDownResponse> response = future.Wait();
  SIM_CHECK(response.has_value());
  context_.Emit(events::kStepDownServed,
                {TraceField::Int("shards", static_cast<int64_t>(response->observed.size()))});
  return *response;
}

void Service::StepDownTask(const std::string& from, sim::Promise<api::StepDownResponse> promise) {
  context_.Emit(events::kStepDownBegin, {TraceField::Str("from", from)});
  if (status_ == LeadershipStatus::kLeader) SetStatus(LeadershipStatus::kSteppedDown, "step_down");
  StopReconcilers();
  api::StepDownResponse response{api::Http::kOk, ObservedSnapshot()};
  promise.Set(std::move(response));
}

void Service::StopReconcilers() {
  // Cancel every reconciler, close the gate, wait for all in flight (warning every 10 s; the
  // pre-#11703 code exited after 10 s), then stop the result consumer once all results are in.
  reconcilers_cancel_.Cancel();
  reconcilers_gate_closed_ = true;
  for (auto& [id, shard] : shards_) {
    if (shard.reconciler) shard.reconciler->cancel.Cancel();
  }
  const sim::Instant started = context_.env().Now();
  for (int round = 0; round < 1'000'000 && reconcilers_in_flight_ > 0; ++round) {
    reconcilers_idle_.Wait(context_.env().DeadlineAfter(context_.timings().step_down_warn_interval));
    if (reconcilers_in_flight_ > 0) SIM_MARK("ctl.step_down.slow");
    if (reconcilers_in_flight_ > 0 && context_.Defect(kDefectStepDownExitsWhenSlow) &&
        context_.env().Now() - started >= context_.timings().step_down_exit_after) {
      ExitProcess("step-down did not finish in 10 s");
    }
  }
  if (results_loop_started_ && !results_stopped_.is_set()) {
    ReconcileResult stop;
    stop.stop = true;
    results_.Send(std::move(stop));
    results_stopped_.Wait();
  }
}

std::vector<api::ObservedShard> Service::ObservedSnapshot() const {
  std::vector<api::ObservedShard> observed;
  for (const auto& [id, shard] : shards_) {
    api::ObservedShard out{id, {}};
    for (const auto& [node, config] : shard.observed.locations) out.locations.push_back({node, config});
    observed.push_back(std::move(out));
  }
  return observed;
}

absl::StatusOr<std::optional<std::string>> Service::CurrentLeaderAddress() {
  if (context_.options().protocol == LeadershipProtocol::kStepDown) {
    auto leader = db_.GetLeader();
    if (!leader.ok()) return leader.status();
    if (!leader->has_value()) return std::optional<std::string>();
    return std::optional<std::string>((*leader)->address);
  }
  if (context_.options().lease != nullptr) {
    LeaseRecord record = context_.options().lease->Get();
    if (record.holder.empty()) return std::optional<std::string>();
    return std::optional<std::string>(record.holder);
  }
  return std::optional<std::string>();
}

bool Service::AcquireLease() {
  LeaseStore* store = context_.options().lease;
  SIM_CHECK_MSG(store != nullptr, "lease protocol needs ControllerOptions.lease");
  const ControllerTimings& timings = context_.timings();
  for (uint64_t round = 0; round < (uint64_t{1} << 40); ++round) {
    if (context_.env().shutdown_requested().is_set()) return false;
    LeaseRecord record = store->Get();
    const sim::Instant now = context_.env().Now();
    if (!lease_seen_ || !(*lease_seen_ == record)) {
      lease_seen_ = record;
      lease_seen_at_ = now;  // the record changed: restart the local expiry clock
    }
    // Free, ours already, or unchanged for a whole lease duration on *our* clock.
    const bool expired = now - lease_seen_at_ >= sim::Duration::Nanos(record.lease_duration_ns);
    if (record.holder.empty() || record.holder == context_.address() || expired) {
      if (expired && !record.holder.empty() && record.holder != context_.address()) {
        context_.Emit(events::kLease, {TraceField::Str("action", "expired_seen"),
                                       TraceField::Str("holder", record.holder),
                                       TraceField::Int("term", static_cast<int64_t>(record.term)),
                                       TraceField::Str("result", "ok")});
      }
      LeaseRecord next = record;
      next.holder = context_.address();
      next.lease_duration_ns = timings.lease_duration.nanos();
      next.renew_time_wall_ns = context_.env().WallNanos();
      LeaseRecord stored;
      const bool ok = store->Update(record.resource_version, next, &stored);
      context_.Emit(events::kLease, {TraceField::Str("action", "acquire"),
                                     TraceField::Str("holder", context_.address()),
                                     TraceField::Int("term", static_cast<int64_t>(ok ? stored.term : 0)),
                                     TraceField::Str("result", ok ? "ok" : "conflict")});
      if (ok) {
        lease_seen_ = stored;
        lease_seen_at_ = context_.env().Now();
        lease_renewed_at_ = lease_seen_at_;
        context_.set_term(context_.fenced() ? stored.term : 0);
        return true;
      }
    }
    context_.env().Sleep(FollowingValidLease() ? timings.lease_follower_poll
                                               : timings.lease_retry_period);
  }
  return false;
}

void Service::LeaseRenewLoop() {
  LeaseStore* store = context_.options().lease;
  const ControllerTimings& timings = context_.timings();
  for (uint64_t round = 0; round < (uint64_t{1} << 40); ++round) {
    context_.env().Sleep(timings.lease_renew_interval);
    if (status_ != LeadershipStatus::kLeader) return;
    LeaseRecord record = store->Get();
    bool ok = false;
    if (record.holder == context_.address()) {
      LeaseRecord next = record;
      next.renew_time_wall_ns = context_.env().WallNanos();
      LeaseRecord stored;
      ok = store->Update(record.resource_version, next, &stored);
      if (ok) lease_renewed_at_ = context_.env().Now();
    }
    // Lost: someone else holds it, or we could not renew within the renew deadline.
    const bool lost = record.holder != context_.address() ||
                      context_.env().Now() - lease_renewed_at_ >= timings.lease_renew_deadline;
    context_.Emit(events::kLease, {TraceField::Str("action", lost ? "lost" : "renew"),
                                   TraceField::Str("holder", record.holder),
                                   TraceField::Int("term", static_cast<int64_t>(record.term)),
                                   TraceField::Str("result", ok ? "ok" : "conflict")});
    if (lost) {
      SetStatus(LeadershipStatus::kSteppedDown, "lease_lost");
      StopReconcilers();
      return;
    }
  }
}

void Service::ReleaseLease() {
  LeaseStore* store = context_.options().lease;
  if (store == nullptr || status_ != LeadershipStatus::kLeader) return;
  LeaseRecord record = store->Get();
  if (record.holder != context_.address()) return;
  LeaseRecord next = record;
  next.holder.clear();
  const bool ok = store->Update(record.resource_version, next, nullptr);
  context_.Emit(events::kLease, {TraceField::Str("action", "release"),
                                 TraceField::Str("holder", context_.address()),
                                 TraceField::Int("term", static_cast<int64_t>(record.term)),
                                 TraceField::Str("result", ok ? "ok" : "conflict")});
  // Released: no longer the leader. Requests still reaching this stopping instance are forwarded
  // to the next holder (503 until a follower acquires the lease at its next poll), and the renew
  // loop ends.
  if (ok) SetStatus(LeadershipStatus::kSteppedDown, "lease_released");
}

}  // namespace storsim::controller
