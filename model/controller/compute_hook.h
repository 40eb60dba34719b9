// The compute hook (upstream compute_hook.rs; SPEC.md §8.1): tells the control plane where each
// tenant's shards are attached (PUT notify-attach), so it can repoint computes.
//
// State per tenant: the cache of shard -> node (unsharded: one entry; sharded: stripe, count and
// every shard), and the "last remote state" {request, applied} guarded by a per-tenant send lock.
// Rules:
//   1. A sharded tenant is only notified when every shard is known with one count and stripe.
//   2. Sends of one tenant are serialised by its lock; a waiter recomputes the latest request
//      after getting the lock (coalescing), so at most one request per tenant is in flight (S14).
//   3. A request is sent iff it differs from the last one OR the last one was not applied
//      (defect ctl-dedupe-ignores-applied drops the second half).
//   4. 2xx => {req, applied}; 423 => {req, not applied}, Busy, not retried; 429 => 5 s pause and
//      retry; 502/503/504/transport => retry; 400/401/403 => Fatal; other => Unexpected; every
//      failure except Busy forgets the last remote state. Up to 11 attempts; 32 in flight
//      controller-wide.
// The cache lives in memory only: a new leader starts with an empty one (not handed over).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "model/api/compute_api.h"
#include "model/controller/cancel.h"
#include "model/controller/context.h"

namespace storsim::controller {

// kIncomplete: a sharded tenant not all of whose shards are recorded yet, so nothing was sent
// (upstream counts that as done: kDefectDemoteAfterIncompleteNotify).
enum class NotifyOutcome : uint8_t {
  kOk, kBusy, kFatal, kUnexpected, kTransport, kCancelled, kIncomplete
};
const char* NotifyOutcomeName(NotifyOutcome outcome);

class ComputeHook {
 public:
  explicit ComputeHook(Context& context);

  // Records that `shard` is attached at `node` and notifies the control plane if the tenant's
  // request changed or was not applied. Blocks for the whole send (with retries). kOk also when
  // nothing needed sending; kIncomplete when a sharded tenant is incomplete (kOk with
  // kDefectDemoteAfterIncompleteNotify).
  NotifyOutcome Notify(const api::TenantShardId& shard, uint32_t stripe_size,
                       const std::optional<std::string>& preferred_az, api::NodeId node,
                       const CancelToken& cancel);
  // The two halves of Notify. Record updates the cache at once (never blocks), which fixes the
  // order of this placement against every later Record of the tenant; Flush sends whatever the
  // cache holds for the tenant when it gets the send lock (kOk if never recorded).
  void Record(const api::TenantShardId& shard, uint32_t stripe_size,
              const std::optional<std::string>& preferred_az, api::NodeId node);
  NotifyOutcome Flush(const std::string& tenant_id, const CancelToken& cancel);
  // A shard was detached with no attached intent: drop it from the cache (PR #9045).
  void HandleDetach(const api::TenantShardId& shard);
  // Forget a tenant entirely (tenant deleted).
  void DropTenant(const std::string& tenant_id);
  // Another controller may have notified the control plane meanwhile (an unfenced takeover):
  // what this instance last sent is no longer known to be what the control plane holds, so the
  // next notification of every tenant is sent, not deduplicated.
  void ForgetRemoteState();

  // For tests and snapshots: the last request known applied for a tenant.
  std::optional<api::NotifyAttachRequest> LastApplied(const std::string& tenant_id) const;
  uint64_t sends() const { return sends_; }

 private:
  struct RemoteState {
    api::NotifyAttachRequest request;
    bool applied = false;
  };
  struct TenantState {
    uint8_t shard_count = 0;
    uint32_t stripe_size = 0;
    std::optional<std::string> preferred_az;
    std::map<uint8_t, api::NodeId> shards;  // shard_number -> node
    std::shared_ptr<sim::Mutex> send_lock;
    std::optional<RemoteState> last;
  };

  // The request the cache implies now; nullopt when incomplete (mid-split) or unknown tenant.
  std::optional<api::NotifyAttachRequest> CurrentRequest(const std::string& tenant_id) const;
  NotifyOutcome Send(const std::string& tenant_id, const api::NotifyAttachRequest& request,
                     const CancelToken& cancel);

  Context& context_;
  std::map<std::string, TenantState> tenants_;
  Semaphore concurrency_;
  uint64_t sends_ = 0;
};

}  // namespace storsim::controller
