// The control plane (cplane), as far as storage placement goes (SPEC §8.1): the receiver of the
// storage controller's notify-attach hook, and the per-tenant compute spec store that computes
// pull from (the pull path of SPEC §8.2). One process.
//
// notify-attach (api::kNotifyAttach), per request:
//   1. traced as received (seq numbers the tenant's notifications, persisted);
//   2. unknown tenant -> 404 (the tenant is being created and cplane does not know it yet);
//      malformed placement -> 400;
//   3. an injected fault status (429, 503, 404, ...) -> answered, nothing stored;
//   4. injected 423, or another notification of this tenant still being handled -> the new spec
//      is persisted (version bumped) but not applied; 423 Locked. The applier fiber pushes it once
//      the tenant is neither busy nor locked (as upstream's cplane applies it later, PR #9435);
//   5. otherwise: the spec is persisted (version bumped when the placement changed), the slow
//      fault's delay is slept, and the spec is pushed to the tenant's compute (api::kConfigure,
//      retried on 412 / timeouts within push_budget); 2xx only after the compute answered that
//      it runs the spec (or newer), 500 when the compute failed, 503 when out of time.
// The newest stored spec is what every push sends, so a late push never sends an old spec.
//
// GetSpec (api::kGetSpec): the stored spec; 404 when the tenant is unknown, its compute was
// detached (the compute is no longer attached: compute_ctl exits), or it was never placed.
//
// The tenant catalogue (which tenants exist, which compute process serves each) and the faults
// are harness configuration kept in this object, not on the disk: they survive restarts. Each
// tenant's placement record is on the disk (tenant_record.h), synced before anything depends on it.
//
// Invariants:
//   1. Per tenant, at most one notification is past step 4 at a time (busy_).
//   2. A stored spec's version never decreases; applied_version <= spec->version.
//   3. A 2xx answer is sent only after the compute confirmed a spec version >= the one that
//      holds this notification's placement.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "model/api/compute_api.h"
#include "model/control_plane/tenant_record.h"
#include "sim/env.h"
#include "sim/sync.h"
#include "sim/time.h"

namespace storsim::control_plane {

// Faults for notify-attach, switchable at any time. `status` is answered instead of applying
// (kLocked persists first) with probability percent/100 per notification; the processing delay
// of the slow mode is drawn uniformly from [delay_min, delay_max] for every notification that
// gets to be applied.
struct NotifyFaults {
  std::optional<api::Http> status;
  uint32_t percent = 100;
  sim::Duration delay_min = sim::Duration::Zero();
  sim::Duration delay_max = sim::Duration::Zero();
};

struct ControlPlaneOptions {
  // Initial catalogue: tenant -> its compute process (nullopt: no compute yet).
  std::map<std::string, std::optional<sim::ProcessId>> tenants;
  sim::Duration configure_timeout = sim::Duration::Seconds(9);  // one /configure call
  sim::Duration push_budget = sim::Duration::Seconds(9);        // all attempts of one push
  sim::Duration busy_poll = sim::Duration::Millis(250);         // after 412 or a timeout
  uint32_t push_attempts_max = 64;
  sim::Duration applier_period = sim::Duration::Seconds(1);
  // A compute that refuses connections is down; it pulls the stored spec when it starts, so the
  // push counts as applied (upstream: a suspended endpoint just gets the new config stored).
  bool compute_down_counts_as_applied = true;
};

struct ControlPlaneTenantView {
  bool known = false;  // in the catalogue
  std::optional<sim::ProcessId> compute;
  bool compute_attached = true;
  bool busy = false;    // a notification is being applied
  TenantRecord record;  // spec, applied version, last received / applied
};

struct ControlPlaneSnapshot {
  uint64_t incarnation = 0;
  std::map<std::string, ControlPlaneTenantView> tenants;
};

class ControlPlane {
 public:
  explicit ControlPlane(ControlPlaneOptions options);
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Process main: loads every tenant record from disk, serves, runs the applier until stopped.
  void Run(sim::Env& env);

  ControlPlaneSnapshot Snapshot() const;

  // Harness: the catalogue.
  void AddTenant(const std::string& tenant_id, std::optional<sim::ProcessId> compute);
  void RemoveTenant(const std::string& tenant_id);  // notify-attach answers 404 afterwards
  void AttachCompute(const std::string& tenant_id, sim::ProcessId compute);
  void DetachCompute(const std::string& tenant_id);  // GetSpec answers 404 afterwards

  // Harness: faults (any time).
  void SetNotifyFaults(NotifyFaults faults) { faults_ = faults; }
  void SetTenantNotifyFaults(const std::string& tenant_id, NotifyFaults faults) {
    tenant_faults_[tenant_id] = faults;
  }
  void ClearTenantNotifyFaults(const std::string& tenant_id) { tenant_faults_.erase(tenant_id); }
  // GetSpec answers `status` (e.g. 503) instead of the spec while set; `delay` slows every answer.
  void SetGetSpecFault(std::optional<api::Http> status,
                       sim::Duration delay = sim::Duration::Zero()) {
    get_spec_fault_ = status;
    get_spec_delay_ = delay;
  }

 private:
  struct CatalogueEntry {
    std::optional<sim::ProcessId> compute;
    bool attached = true;
  };
  enum class PushResult { kApplied, kComputeFailed, kTimedOut };

  api::NotifyAttachResponse HandleNotify(const api::NotifyAttachRequest& request,
                                         const sim::CallContext& context);
  api::GetSpecResponse HandleGetSpec(const api::GetSpecRequest& request,
                                     const sim::CallContext& context);
  const NotifyFaults& FaultsFor(const std::string& tenant_id) const;
  bool LockedFaultOn(const std::string& tenant_id) const;
  // Stores the placement of `request` (notification `seq`) as the tenant's spec; syncs.
  void StoreSpec(const api::NotifyAttachRequest& request, uint64_t seq);
  void Persist(const std::string& tenant_id);
  // Pushes the tenant's newest stored spec until the compute runs it. Precondition: busy.
  PushResult Push(const std::string& tenant_id);
  // Records that the compute runs `spec` (made from `notification`, number `seq`); syncs.
  void MarkApplied(const std::string& tenant_id, const api::ComputeSpec& spec,
                   const api::NotifyAttachRequest& notification, uint64_t seq,
                   sim::ProcessId compute, const char* via);
  void ApplierLoop();

  ControlPlaneOptions options_;
  std::map<std::string, CatalogueEntry> catalogue_;
  NotifyFaults faults_;
  std::map<std::string, NotifyFaults> tenant_faults_;
  std::optional<api::Http> get_spec_fault_;
  sim::Duration get_spec_delay_ = sim::Duration::Zero();

  // Per incarnation (rebuilt by Run from the disk).
  sim::Env* env_ = nullptr;
  std::unique_ptr<sim::Event> applier_wake_;
  std::map<std::string, TenantRecord> records_;
  std::set<std::string> busy_;
};

}  // namespace storsim::control_plane
