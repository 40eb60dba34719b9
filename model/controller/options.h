// Options of one storage controller instance (SPEC.md §3, §6, §7, §8.1, §13.1): how it finds its
// peers, which leadership protocol it runs, and every timing constant with upstream's default.
// A plain struct: the harness builds one per instance and may change any field.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "model/api/defects.h"
#include "sim/network.h"
#include "sim/time.h"

namespace storsim::controller {

class LeaseStore;

// Leadership protocols (SPEC §3.2–3.7):
//   kStepDown     today's upstream flow: candidate, step-down request to the old leader,
//                 observed-state handover, CAS on the `controllers` row, then Leader.
//   kNaive        the older flow (§3.5): no leader row, no step-down, Leader from the start.
//   kLease        a Kubernetes-Lease-like record (§3.7): holder, TTL, renew time; acquired after
//                 expiry measured on the candidate's local monotonic clock; no fencing.
//   kLeaseFenced  kLease plus a term sent in LocationConfig.controller_term and
//                 ReAttachResponse.controller_term, which fencing pageservers check.
enum class LeadershipProtocol : uint8_t { kStepDown, kNaive, kLease, kLeaseFenced };
const char* LeadershipProtocolName(LeadershipProtocol protocol);

// Resolves the addresses stored in the database (controller address_for_peers, a node's
// listen_http_addr) to simulated processes, as DNS would. Owned by the harness, shared.
class Directory {
 public:
  void Set(const std::string& address, sim::ProcessId process) { addresses_[address] = process; }
  void Remove(const std::string& address) { addresses_.erase(address); }
  std::optional<sim::ProcessId> Resolve(const std::string& address) const {
    auto it = addresses_.find(address);
    if (it == addresses_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, sim::ProcessId> addresses_;
};

// Every timing constant of SPEC §13.1 that the controller uses, upstream defaults.
struct ControllerTimings {
  // Leadership (§3.2 step 1 and 3).
  sim::Duration db_connect_poll = sim::Duration::Millis(100);
  sim::Duration db_connect_timeout = sim::Duration::Seconds(5);
  sim::Duration step_down_request_timeout = sim::Duration::Seconds(1);
  int step_down_attempts = 9;
  sim::Duration backoff_cap = sim::Duration::Seconds(3);  // 1.1^n s capped at 3 s
  sim::Duration step_down_warn_interval = sim::Duration::Seconds(10);
  sim::Duration step_down_exit_after = sim::Duration::Seconds(10);  // defect: pre-#11703 exit
  // Start-up (§3.2 step 7a).
  sim::Duration location_scan_timeout = sim::Duration::Seconds(5);
  int location_scan_attempts = 6;
  sim::Duration location_scan_deadline = sim::Duration::Seconds(15);
  // After a takeover whose step-down failed (the old leader may still have acted until its pod
  // was stopped: k8s grace 30 s), re-read generations and re-scan locations once this long after
  // start-up (kDefectUnfencedTakeoverTrustsStartup turns it off).
  sim::Duration takeover_resync_delay = sim::Duration::Seconds(45);
  sim::Duration startup_reconcile_timeout = sim::Duration::Seconds(30);
  sim::Duration startup_wait_for_handlers = sim::Duration::Seconds(30);
  // Forwarding (§3.4).
  sim::Duration forward_timeout = sim::Duration::Seconds(40);
  // Heartbeats (§6.6).
  sim::Duration heartbeat_interval = sim::Duration::Seconds(5);
  sim::Duration utilization_timeout = sim::Duration::Seconds(1);
  int utilization_attempts = 4;
  sim::Duration max_offline_interval = sim::Duration::Seconds(30);
  sim::Duration max_warming_up_interval = sim::Duration::Seconds(300);
  // Reconcile (§6.2–6.4).
  sim::Duration background_reconcile_period = sim::Duration::Seconds(20);
  int reconciler_concurrency = 128;
  int reconciler_concurrency_high = 256;
  size_t delayed_reconcile_queue_max = 10'000;
  int stuck_reconcile_launches = 10;
  sim::Duration reconcile_wait = sim::Duration::Seconds(30);
  sim::Duration reconcile_wait_short = sim::Duration::Seconds(5);
  // Pageserver calls (§13.1).
  sim::Duration location_config_timeout = sim::Duration::Seconds(25);
  int location_config_attempts = 4;
  sim::Duration refresh_timeout = sim::Duration::Seconds(5);
  int refresh_attempts = 2;
  sim::Duration activation_list_timeout = sim::Duration::Seconds(5);
  int activation_list_attempts = 6;
  sim::Duration lsn_call_timeout = sim::Duration::Seconds(5);
  // Live migration (§5.3).
  sim::Duration stale_flush = sim::Duration::Seconds(10);
  sim::Duration secondary_warm_total = sim::Duration::Seconds(300);
  sim::Duration secondary_warm_poll = sim::Duration::Seconds(20);
  sim::Duration drain_secondary_warm_total = sim::Duration::Seconds(30);
  sim::Duration drain_secondary_warm_poll = sim::Duration::Seconds(5);
  sim::Duration wait_lsn_hint = sim::Duration::Seconds(10);
  sim::Duration lsn_poll = sim::Duration::Millis(500);
  sim::Duration lsn_catch_up_max = sim::Duration::Minutes(60);  // bound of the poll loop
  sim::Duration notify_retry_cap = sim::Duration::Seconds(10);
  // Drain/fill (§7.2).
  int drain_fill_in_flight_max = 64;
  sim::Duration drain_waiter_poll = sim::Duration::Millis(500);
  sim::Duration drain_waiter_poll_finishing = sim::Duration::Seconds(5);
  // Compute hook (§8.1).
  sim::Duration notify_timeout = sim::Duration::Seconds(10);
  int notify_attempts = 11;
  sim::Duration notify_429_pause = sim::Duration::Seconds(5);
  int notify_concurrency = 32;
  // Lease protocols (§3.7; client-go defaults: 15 s lease, renew every 2 s, deadline 10 s).
  sim::Duration lease_duration = sim::Duration::Seconds(15);
  sim::Duration lease_renew_interval = sim::Duration::Seconds(2);
  sim::Duration lease_renew_deadline = sim::Duration::Seconds(10);
  sim::Duration lease_retry_period = sim::Duration::Seconds(2);
  // A ready follower (another instance holds a valid lease) re-reads the lease this often, like
  // a watch on the Lease object: a holder's release on SIGTERM is then seen within this period,
  // which bounds the 503 window of a graceful roll (L3).
  sim::Duration lease_follower_poll = sim::Duration::Millis(200);
  // Shutdown: HTTP servers get 5 s to drain.
  sim::Duration shutdown_drain = sim::Duration::Seconds(5);
};

struct ControllerOptions {
  // --address-for-peers: the address written to the leader row and used by peers. Empty means
  // "none": become_leader is skipped (§3.2 step 7d) and step-down is never sent.
  std::string address;
  // --start-as-candidate (the Kubernetes deployment sets it).
  bool start_as_candidate = true;
  LeadershipProtocol protocol = LeadershipProtocol::kStepDown;
  // Address resolution (controllers and pageservers); must outlive the controller.
  const Directory* directory = nullptr;
  // The control plane receiving notify-attach; -1 disables the compute hook (as an unset
  // --control-plane-url does upstream: notifications succeed trivially).
  sim::ProcessId control_plane = -1;
  // The shared lease record (kLease, kLeaseFenced only); must outlive the controller.
  LeaseStore* lease = nullptr;
  // Whether the heartbeat loop stops on step-down. Upstream does not (the hazard of §3.3), so
  // false is upstream behaviour; true models the obvious fix for comparison runs.
  bool stop_heartbeats_on_step_down = false;
  ControllerTimings timings;
};

}  // namespace storsim::controller
