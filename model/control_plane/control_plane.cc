// The control plane: notify-attach receiver, spec store and the applier of specs persisted
// under 423 (see control_plane.h for the request life cycle).
#include "model/control_plane/control_plane.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "model/compute/spec_codec.h"
#include "model/control_plane/events.h"
#include "sim/check.h"

namespace storsim::control_plane {

using api::Http;

namespace {

// A placement the compute can use: one shard for an unsharded tenant, otherwise every shard
// number 0..n-1 exactly once.
bool ValidPlacement(const api::NotifyAttachRequest& request) {
  if (request.tenant_id.empty() || request.shards.empty() || request.shards.size() > 255) {
    return false;
  }
  if (!request.stripe_size) {
    return request.shards.size() == 1 && request.shards[0].shard_number == 0;
  }
  std::vector<bool> seen(request.shards.size(), false);
  for (const api::ShardLocation& shard : request.shards) {
    if (shard.shard_number >= request.shards.size() || seen[shard.shard_number]) return false;
    seen[shard.shard_number] = true;
  }
  return true;
}

api::ComputeSpec SpecOf(const api::NotifyAttachRequest& request) {
  api::ComputeSpec spec;
  spec.tenant_id = request.tenant_id;
  spec.shard_count =
      request.stripe_size ? static_cast<uint8_t>(request.shards.size()) : static_cast<uint8_t>(0);
  spec.stripe_size = request.stripe_size.value_or(0);
  spec.shards = request.shards;
  std::sort(spec.shards.begin(), spec.shards.end());
  return spec;
}

}  // namespace

ControlPlane::ControlPlane(ControlPlaneOptions options) : options_(std::move(options)) {
  SIM_CHECK(options_.push_attempts_max > 0);
  SIM_CHECK(options_.busy_poll > sim::Duration::Zero());
  SIM_CHECK(options_.applier_period > sim::Duration::Zero());
  for (const auto& [tenant, compute] : options_.tenants) {
    catalogue_[tenant] = CatalogueEntry{compute, true};
  }
}

void ControlPlane::AddTenant(const std::string& tenant_id, std::optional<sim::ProcessId> compute) {
  SIM_CHECK(!tenant_id.empty());
  catalogue_[tenant_id] = CatalogueEntry{compute, true};
}

void ControlPlane::RemoveTenant(const std::string& tenant_id) { catalogue_.erase(tenant_id); }

void ControlPlane::AttachCompute(const std::string& tenant_id, sim::ProcessId compute) {
  auto it = catalogue_.find(tenant_id);
  SIM_CHECK_MSG(it != catalogue_.end(), "attach a compute to an unknown tenant " + tenant_id);
  it->second = CatalogueEntry{compute, true};
}

void ControlPlane::DetachCompute(const std::string& tenant_id) {
  auto it = catalogue_.find(tenant_id);
  SIM_CHECK_MSG(it != catalogue_.end(), "detach a compute of an unknown tenant " + tenant_id);
  it->second.attached = false;
}

void ControlPlane::Run(sim::Env& env) {
  env_ = &env;
  applier_wake_ = std::make_unique<sim::Event>(env.scheduler());
  records_.clear();
  busy_.clear();
  const std::string prefix = kTenantFilePrefix;
  for (const std::string& file : env.disk().List(prefix)) {
    const std::string tenant = file.substr(prefix.size());
    records_[tenant] = DecodeTenantRecord(tenant, env.disk().Read(file));
    const TenantRecord& record = records_[tenant];
    SIM_CHECK(!record.spec || record.applied_version <= record.spec->version);
  }
  env.Emit(events::kStart,
           {sim::TraceField::Int("incarnation", static_cast<int64_t>(env.incarnation())),
            sim::TraceField::Int("tenants", static_cast<int64_t>(records_.size()))});
  env.rpc().Serve(
      api::kNotifyAttach,
      std::function<api::NotifyAttachResponse(const api::NotifyAttachRequest&,
                                              const sim::CallContext&)>(
          [this](const api::NotifyAttachRequest& request, const sim::CallContext& context) {
            return HandleNotify(request, context);
          }));
  env.rpc().Serve(
      api::kGetSpec,
      std::function<api::GetSpecResponse(const api::GetSpecRequest&, const sim::CallContext&)>(
          [this](const api::GetSpecRequest& request, const sim::CallContext& context) {
            return HandleGetSpec(request, context);
          }));
  env.Spawn("applier", [this] { ApplierLoop(); });
  env.shutdown_requested().Wait();
}

ControlPlaneSnapshot ControlPlane::Snapshot() const {
  ControlPlaneSnapshot snapshot;
  snapshot.incarnation = env_ == nullptr ? 0 : env_->incarnation();
  for (const auto& [tenant, entry] : catalogue_) {
    ControlPlaneTenantView& view = snapshot.tenants[tenant];
    view.known = true;
    view.compute = entry.compute;
    view.compute_attached = entry.attached;
  }
  for (const auto& [tenant, record] : records_) {
    ControlPlaneTenantView& view = snapshot.tenants[tenant];
    view.record = record;
    view.busy = busy_.count(tenant) > 0;
  }
  return snapshot;
}

const NotifyFaults& ControlPlane::FaultsFor(const std::string& tenant_id) const {
  auto it = tenant_faults_.find(tenant_id);
  return it == tenant_faults_.end() ? faults_ : it->second;
}

bool ControlPlane::LockedFaultOn(const std::string& tenant_id) const {
  const NotifyFaults& faults = FaultsFor(tenant_id);
  return faults.status == Http::kLocked && faults.percent >= 100;
}

void ControlPlane::Persist(const std::string& tenant_id) {
  auto it = records_.find(tenant_id);
  SIM_CHECK(it != records_.end());
  const std::string file = kTenantFilePrefix + tenant_id;
  env_->disk().Replace(file, EncodeTenantRecord(it->second));
  env_->disk().SyncFile(file);
}

void ControlPlane::StoreSpec(const api::NotifyAttachRequest& request, uint64_t seq) {
  TenantRecord& record = records_[request.tenant_id];
  api::ComputeSpec spec = SpecOf(request);
  const bool changed = !record.spec || !compute::SameConninfo(*record.spec, spec);
  spec.version = record.spec ? record.spec->version + (changed ? 1 : 0) : 1;
  SIM_CHECK(!record.spec || spec.version >= record.spec->version);
  record.spec = spec;
  record.spec_seq = seq;
  record.spec_notification = request;
  Persist(request.tenant_id);
  if (!changed) return;
  env_->Emit(events::kSpecChanged,
             {sim::TraceField::Str("tenant", request.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Int("version", static_cast<int64_t>(spec.version)),
              sim::TraceField::Str("shards", compute::FormatShards(spec.shards)),
              sim::TraceField::Int("shard_count", spec.shard_count),
              sim::TraceField::Int("stripe_size", spec.stripe_size),
              sim::TraceField::Int("seq", static_cast<int64_t>(seq))});
}

api::NotifyAttachResponse ControlPlane::HandleNotify(const api::NotifyAttachRequest& request,
                                                     const sim::CallContext& context) {
  const sim::Instant started = env_->Now();
  const std::string& tenant = request.tenant_id;
  const bool known = catalogue_.count(tenant) > 0;
  uint64_t seq = 0;
  if (known) {
    TenantRecord& record = records_[tenant];
    seq = ++record.received_seq;
    record.last_received = request;
    Persist(tenant);
  }
  const std::string shards = compute::FormatShards(request.shards);
  env_->Emit(
      events::kNotifyReceived,
      {sim::TraceField::Str("tenant", tenant),
       sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
       sim::TraceField::Int("seq", static_cast<int64_t>(seq)),
       sim::TraceField::Int("from", context.from), sim::TraceField::Str("shards", shards),
       sim::TraceField::Int("shard_count",
                            request.stripe_size ? static_cast<int64_t>(request.shards.size()) : 0),
       sim::TraceField::Int("stripe_size", request.stripe_size.value_or(0)),
       sim::TraceField::Str("preferred_az", request.preferred_az.value_or(""))});

  auto answer = [&](Http status, const char* outcome) {
    auto record = records_.find(tenant);
    const bool has_spec = record != records_.end() && record->second.spec.has_value();
    env_->Emit(
        events::kNotifyAnswered,
        {sim::TraceField::Str("tenant", tenant),
         sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
         sim::TraceField::Int("seq", static_cast<int64_t>(seq)),
         sim::TraceField::Int("from", context.from),
         sim::TraceField::Int("status", static_cast<int64_t>(status)),
         sim::TraceField::Str("outcome", outcome), sim::TraceField::Str("shards", shards),
         sim::TraceField::Int("spec_version",
                              has_spec ? static_cast<int64_t>(record->second.spec->version) : 0),
         sim::TraceField::Int(
             "applied_version",
             record != records_.end() ? static_cast<int64_t>(record->second.applied_version) : 0),
         sim::TraceField::Int("elapsed_ms", (env_->Now() - started).millis())});
    return api::NotifyAttachResponse{status};
  };

  if (!known) {
    SIM_MARK("cplane.notify_unknown_tenant");
    return answer(Http::kNotFound, "unknown-tenant");
  }
  if (!ValidPlacement(request)) return answer(Http::kBadRequest, "bad-request");
  const NotifyFaults faults = FaultsFor(tenant);  // a copy: the harness may change it meanwhile
  const bool fault_fires = faults.status.has_value() &&
                           (faults.percent >= 100 || env_->random().Below(100) < faults.percent);
  if (fault_fires && *faults.status != Http::kLocked) return answer(*faults.status, "fault");
  if (fault_fires || busy_.count(tenant) > 0) {
    // Locked: persisted, applied later by the applier (PR #9435 semantics).
    SIM_MARK("cplane.notify_locked");
    StoreSpec(request, seq);
    records_[tenant].apply_later = true;
    Persist(tenant);
    applier_wake_->Set();
    return answer(Http::kLocked, "persisted-not-applied");
  }
  busy_.insert(tenant);
  StoreSpec(request, seq);
  if (faults.delay_max > sim::Duration::Zero()) {
    SIM_CHECK(faults.delay_min <= faults.delay_max);
    env_->Sleep(env_->random().DurationIn(faults.delay_min, faults.delay_max));
  }
  const PushResult result = Push(tenant);
  busy_.erase(tenant);
  applier_wake_->Set();
  switch (result) {
    case PushResult::kApplied:
      return answer(Http::kOk, "applied");
    case PushResult::kComputeFailed:
      return answer(Http::kInternalError, "not-applied");
    case PushResult::kTimedOut:
      return answer(Http::kServiceUnavailable, "not-applied");
  }
  SIM_CHECK_MSG(false, "unreachable push result");
  return answer(Http::kInternalError, "not-applied");
}

ControlPlane::PushResult ControlPlane::Push(const std::string& tenant_id) {
  SIM_CHECK(busy_.count(tenant_id) > 0);
  const sim::Instant deadline = env_->DeadlineAfter(options_.push_budget);
  for (uint32_t attempt = 1; attempt <= options_.push_attempts_max; ++attempt) {
    // Always the newest stored spec: a notification persisted meanwhile (423) rides along.
    const TenantRecord& record = records_.at(tenant_id);
    SIM_CHECK(record.spec.has_value() && record.spec_notification.has_value());
    const api::ComputeSpec spec = *record.spec;
    const api::NotifyAttachRequest notification = *record.spec_notification;
    const uint64_t seq = record.spec_seq;
    auto entry = catalogue_.find(tenant_id);
    if (entry == catalogue_.end() || !entry->second.compute || !entry->second.attached) {
      MarkApplied(tenant_id, spec, notification, seq, -1, "no-compute");
      return PushResult::kApplied;
    }
    const sim::ProcessId compute = *entry->second.compute;
    auto result = env_->rpc().Call(compute, api::kConfigure, api::ConfigureRequest{spec},
                                   options_.configure_timeout);
    const char* reason = result.ok()                            ? "answer"
                         : absl::IsUnavailable(result.status()) ? "unavailable"
                                                                : "deadline";
    env_->Emit(
        events::kPush,
        {sim::TraceField::Str("tenant", tenant_id),
         sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
         sim::TraceField::Int("version", static_cast<int64_t>(spec.version)),
         sim::TraceField::Int("attempt", attempt),
         sim::TraceField::Int("status", result.ok() ? static_cast<int64_t>(result->status) : 0),
         sim::TraceField::Str("reason", reason)});
    if (!result.ok()) {
      if (absl::IsUnavailable(result.status()) && options_.compute_down_counts_as_applied) {
        SIM_MARK("cplane.push_compute_down");
        MarkApplied(tenant_id, spec, notification, seq, compute, "compute-down");
        return PushResult::kApplied;
      }
    } else if (result->status == Http::kOk || result->status == Http::kConflict) {
      // 409: the compute already runs a newer spec than this one (a duplicated push).
      MarkApplied(tenant_id, spec, notification, seq, compute, "push");
      return PushResult::kApplied;
    } else if (result->status == Http::kInternalError) {
      return PushResult::kComputeFailed;
    }
    // 412 (the compute is busy configuring or refreshing), other answers, timeouts: retry.
    if (env_->DeadlineAfter(options_.busy_poll) >= deadline) return PushResult::kTimedOut;
    env_->Sleep(options_.busy_poll);
  }
  return PushResult::kTimedOut;
}

void ControlPlane::MarkApplied(const std::string& tenant_id, const api::ComputeSpec& spec,
                               const api::NotifyAttachRequest& notification, uint64_t seq,
                               sim::ProcessId compute, const char* via) {
  TenantRecord& record = records_.at(tenant_id);
  SIM_CHECK(record.spec.has_value() && spec.version <= record.spec->version);
  if (spec.version >= record.applied_version) {
    record.applied_version = spec.version;
    record.last_applied = notification;
    record.last_applied_seq = seq;
  }
  if (record.applied_version >= record.spec->version) record.apply_later = false;
  Persist(tenant_id);
  env_->Emit(events::kSpecApplied,
             {sim::TraceField::Str("tenant", tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Int("version", static_cast<int64_t>(spec.version)),
              sim::TraceField::Str("shards", compute::FormatShards(spec.shards)),
              sim::TraceField::Int("seq", static_cast<int64_t>(seq)),
              sim::TraceField::Int("compute", compute), sim::TraceField::Str("via", via)});
}

api::GetSpecResponse ControlPlane::HandleGetSpec(const api::GetSpecRequest& request,
                                                 const sim::CallContext& context) {
  // The answer is read now and delivered after the slow fault's delay: a slow answer can be
  // stale by the time it arrives, which is what makes the push/pull race interesting.
  api::GetSpecResponse response;
  auto entry = catalogue_.find(request.tenant_id);
  auto record = records_.find(request.tenant_id);
  if (get_spec_fault_) {
    response.status = *get_spec_fault_;
  } else if (entry == catalogue_.end() || !entry->second.attached || record == records_.end() ||
             !record->second.spec) {
    response.status = Http::kNotFound;
  } else {
    response.spec = record->second.spec;
  }
  env_->Emit(events::kGetSpec,
             {sim::TraceField::Str("tenant", request.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Int("from", context.from),
              sim::TraceField::Int("status", static_cast<int64_t>(response.status)),
              sim::TraceField::Int(
                  "version", response.spec ? static_cast<int64_t>(response.spec->version) : 0)});
  if (get_spec_delay_ > sim::Duration::Zero()) env_->Sleep(get_spec_delay_);
  return response;
}

void ControlPlane::ApplierLoop() {
  // Runs until the process stops; each pass waits for a wake-up or the period.
  while (!env_->shutdown_requested().is_set()) {
    sim::WaitAny(env_->scheduler(), {applier_wake_.get(), &env_->shutdown_requested()},
                 env_->DeadlineAfter(options_.applier_period));
    applier_wake_->Reset();
    std::vector<std::string> due;  // in tenant order; at most one push per tenant per pass
    for (const auto& [tenant, record] : records_) {
      if (!record.apply_later || !record.spec) continue;
      if (busy_.count(tenant) > 0 || LockedFaultOn(tenant) || catalogue_.count(tenant) == 0) {
        continue;
      }
      due.push_back(tenant);
    }
    for (const std::string& tenant : due) {
      if (busy_.count(tenant) > 0 || env_->shutdown_requested().is_set()) continue;
      SIM_MARK("cplane.applier_push");
      busy_.insert(tenant);
      Push(tenant);
      busy_.erase(tenant);
    }
  }
}

}  // namespace storsim::control_plane
