// The compute hook (see compute_hook.h).
#include "model/controller/compute_hook.h"

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/pageserver_client.h"

namespace storsim::controller {

using sim::TraceField;

const char* NotifyOutcomeName(NotifyOutcome outcome) {
  switch (outcome) {
    case NotifyOutcome::kOk: return "ok";
    case NotifyOutcome::kBusy: return "busy";
    case NotifyOutcome::kFatal: return "fatal";
    case NotifyOutcome::kUnexpected: return "unexpected";
    case NotifyOutcome::kTransport: return "transport";
    case NotifyOutcome::kCancelled: return "cancelled";
    case NotifyOutcome::kIncomplete: return "incomplete";
  }
  return "unknown";
}

namespace {

std::string ShardsString(const api::NotifyAttachRequest& request) {
  std::string out;
  for (const api::ShardLocation& location : request.shards) {
    if (!out.empty()) out += ",";
    out += std::to_string(location.shard_number) + ":" + std::to_string(location.node_id);
  }
  return out;
}

}  // namespace

ComputeHook::ComputeHook(Context& context)
    : context_(context),
      concurrency_(context.env().scheduler(), context.timings().notify_concurrency) {}

std::optional<api::NotifyAttachRequest> ComputeHook::CurrentRequest(
    const std::string& tenant_id) const {
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) return std::nullopt;
  const TenantState& state = it->second;
  const size_t expected = state.shard_count == 0 ? 1 : state.shard_count;
  if (state.shards.size() != expected) return std::nullopt;
  api::NotifyAttachRequest request;
  request.tenant_id = tenant_id;
  request.preferred_az = state.preferred_az;
  if (state.shard_count > 0) request.stripe_size = state.stripe_size;
  for (const auto& [number, node] : state.shards) request.shards.push_back({node, number});
  return request;
}

NotifyOutcome ComputeHook::Notify(const api::TenantShardId& shard, uint32_t stripe_size,
                                  const std::optional<std::string>& preferred_az,
                                  api::NodeId node, const CancelToken& cancel) {
  Record(shard, stripe_size, preferred_az, node);
  return Flush(shard.tenant_id, cancel);
}

void ComputeHook::Record(const api::TenantShardId& shard, uint32_t stripe_size,
                         const std::optional<std::string>& preferred_az, api::NodeId node) {
  TenantState& state = tenants_[shard.tenant_id];
  if (!state.send_lock) state.send_lock = std::make_shared<sim::Mutex>(context_.env().scheduler());
  // A change of count or stripe (a split) resets the cache.
  if (state.shard_count != shard.shard_count || state.stripe_size != stripe_size) {
    state.shards.clear();
    state.shard_count = shard.shard_count;
    state.stripe_size = stripe_size;
  }
  state.preferred_az = preferred_az;
  state.shards[shard.shard_number] = node;
}

NotifyOutcome ComputeHook::Flush(const std::string& tenant_id, const CancelToken& cancel) {
  if (context_.options().control_plane < 0) return NotifyOutcome::kOk;  // no hook configured
  auto found = tenants_.find(tenant_id);
  if (found == tenants_.end()) return NotifyOutcome::kOk;  // never recorded: nothing to say
  SIM_CHECK(found->second.send_lock != nullptr);
  std::shared_ptr<sim::Mutex> lock = found->second.send_lock;
  if (!lock->Lock(sim::Instant::Max())) return NotifyOutcome::kCancelled;
  // Coalescing: recompute after getting the lock; the cache may have moved on meanwhile.
  NotifyOutcome outcome = NotifyOutcome::kOk;
  std::optional<api::NotifyAttachRequest> request = CurrentRequest(tenant_id);
  auto it = tenants_.find(tenant_id);
  if (!request && it != tenants_.end() &&
      !context_.Defect(kDefectDemoteAfterIncompleteNotify)) {
    outcome = NotifyOutcome::kIncomplete;  // the control plane still has the old placement
  }
  if (request && it != tenants_.end()) {
    const std::optional<RemoteState>& last = it->second.last;
    const bool same = last.has_value() && last->request == *request;
    const bool skip = context_.Defect(kDefectDedupeIgnoresApplied) ? same : same && last->applied;
    if (skip) {
      context_.Emit(events::kNotifyResult,
                    {TraceField::Str("tenant", tenant_id),
                     TraceField::Str("shards", ShardsString(*request)),
                     TraceField::Str("result", "skipped_dedupe"), TraceField::Int("http", 0)});
    } else {
      outcome = Send(tenant_id, *request, cancel);
    }
  }
  lock->Unlock();
  return outcome;
}

NotifyOutcome ComputeHook::Send(const std::string& tenant_id,
                                const api::NotifyAttachRequest& request,
                                const CancelToken& cancel) {
  sim::Env& env = context_.env();
  if (!concurrency_.Acquire()) return NotifyOutcome::kCancelled;
  NotifyOutcome outcome = NotifyOutcome::kTransport;
  std::optional<RemoteState> remote;  // what we know afterwards; nullopt = unknown
  const std::vector<CancelToken> tokens{cancel};
  for (int attempt = 0; attempt < context_.timings().notify_attempts; ++attempt) {
    const sim::Duration backoff = BackoffBeforeAttempt(attempt, context_.timings().backoff_cap);
    if (backoff > sim::Duration::Zero() && !SleepCancellable(env, backoff, tokens)) {
      outcome = NotifyOutcome::kCancelled;
      break;
    }
    ++sends_;
    context_.Emit(events::kNotifySend,
                  {TraceField::Str("tenant", tenant_id), TraceField::Str("shards", ShardsString(request)),
                   TraceField::Int("attempt", attempt)});
    auto reply = CallCancellable(env, context_.options().control_plane, api::kNotifyAttach, request,
                                 context_.timings().notify_timeout, tokens);
    api::Http http = reply.ok() ? reply->status : api::Http::kOk;
    bool retry = false;
    if (!reply.ok()) {
      outcome = reply.status().code() == absl::StatusCode::kCancelled ? NotifyOutcome::kCancelled
                                                                       : NotifyOutcome::kTransport;
      retry = outcome == NotifyOutcome::kTransport;
    } else if (api::IsSuccess(http)) {
      outcome = NotifyOutcome::kOk;
      remote = RemoteState{request, true};
    } else if (http == api::Http::kLocked) {
      outcome = NotifyOutcome::kBusy;
      remote = RemoteState{request, false};  // persisted by cplane but not applied (PR #9435)
    } else if (http == api::Http::kTooManyRequests) {
      outcome = NotifyOutcome::kTransport;
      retry = SleepCancellable(env, context_.timings().notify_429_pause, tokens);
    } else if (http == api::Http::kBadGateway || http == api::Http::kServiceUnavailable ||
               http == api::Http::kGatewayTimeout) {
      outcome = NotifyOutcome::kTransport;
      retry = true;
    } else if (http == api::Http::kBadRequest || http == api::Http::kUnauthorized ||
               http == api::Http::kForbidden) {
      outcome = NotifyOutcome::kFatal;
    } else {
      outcome = NotifyOutcome::kUnexpected;
    }
    context_.Emit(events::kNotifyResult,
                  {TraceField::Str("tenant", tenant_id), TraceField::Str("shards", ShardsString(request)),
                   TraceField::Str("result", NotifyOutcomeName(outcome)),
                   TraceField::Int("http", reply.ok() ? static_cast<int64_t>(http) : 0)});
    if (!retry) break;
  }
  concurrency_.Release();
  auto it = tenants_.find(tenant_id);
  // Pre-#9435 a 423 left the last remote state untouched, so going back to the previous
  // placement was deduped against a request the control plane had since replaced.
  const bool keep_on_busy =
      outcome == NotifyOutcome::kBusy && context_.Defect(kDefectDedupeIgnoresApplied);
  if (it != tenants_.end() && !keep_on_busy) it->second.last = remote;
  return outcome;
}

void ComputeHook::HandleDetach(const api::TenantShardId& shard) {
  if (context_.Defect(kDefectDetachKeepsComputeCache)) return;
  auto it = tenants_.find(shard.tenant_id);
  if (it == tenants_.end()) return;
  it->second.shards.erase(shard.shard_number);
  // Keep the entry (its lock may be held); an empty shard map just means "incomplete".
}

void ComputeHook::ForgetRemoteState() {
  for (auto& [tenant, state] : tenants_) state.last.reset();
}

void ComputeHook::DropTenant(const std::string& tenant_id) {
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) return;
  it->second.shards.clear();
  it->second.last.reset();
}

std::optional<api::NotifyAttachRequest> ComputeHook::LastApplied(
    const std::string& tenant_id) const {
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end() || !it->second.last || !it->second.last->applied) return std::nullopt;
  return it->second.last->request;
}

}  // namespace storsim::controller
