// A compute: compute_ctl (the ComputeStatus state machine of SPEC §8.2 with /configure,
// /refresh_configuration, /status, /terminate and the configurator fiber) plus the Postgres it
// manages, reduced to what the storage model needs: a key/value workload that writes through the
// safekeeper and reads through the pageserver of each key's shard (SPEC §9), and libpagestore's
// refresh triggers (lakebase mode).
//
// One process per tenant. Usage (harness):
//   ComputeCtl compute(ComputeOptions{.tenant_id = "t1", .control_plane = cplane_pid, ...}, {});
//   simulation.AddProcess("compute-t1", [&](sim::Env& env) { compute.Run(env); }).Start();
//
// Startup: status Empty; handlers are served first; with fetch_spec_at_start the spec is asked
// from the control plane: found -> Init -> (Postgres starts) Running or Failed; 404 -> stays Empty
// until a /configure. A compute keeps nothing on disk (computes are stateless): a restarted
// compute starts over from Empty, with no acknowledged LSN.
//
// Transitions (SPEC §8.2; the configurator fiber is the only one leaving RefreshConfiguration):
//   /refresh_configuration: Running, Failed, RefreshConfigurationPending -> RCP (200);
//                           Init -> Init (200); any other -> 500.
//   /configure: Empty, Running -> ConfigurationPending, then waits until the configurator has
//               moved on: 200 when Running with this spec, 500 on Failed; 412 from any other
//               status; 409 when the spec's version is older than the applied one (a duplicated
//               or late push must never revert a newer spec).
//   configurator: ConfigurationPending -> Configuration -> Running | Failed;
//                 RCP -> RefreshConfiguration -> fetch the spec:
//                   same pageserver conninfo -> Running, then sleeps 5 s;
//                   new conninfo applied -> Running; reload failed -> RCP;
//                   fetch failed (transport or non-404 error) -> sleeps 5 s -> RCP;
//                   no spec (404) -> the process exits.
//                 In lakebase mode it acts on every pending status without waiting; otherwise
//                 it acts only after being woken by a status change it did not make itself.
//   /terminate (own addition, see kTerminate): -> TerminationPendingFast|Immediate -> Terminated.
//
// Reconfiguration fails when the spec names a node missing from `pageservers` (the conninfo
// cannot be resolved) or when the harness injects a failure (SetReloadFails, SetStartFails).
//
// Invariants:
//   1. status_ == RefreshConfiguration only while the configurator runs a refresh.
//   2. current_spec_ only changes through ApplySpec, and its version never decreases.
//   3. The workload issues queries only while Postgres runs (postgres_running_).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/compute_api.h"
#include "model/api/defects.h"
#include "model/api/pageserver_api.h"
#include "model/api/safekeeper_api.h"
#include "sim/env.h"
#include "sim/sync.h"
#include "sim/time.h"

namespace storsim::compute {

// POST /terminate?mode=fast|immediate — not in model/api yet (listed for the lead).
struct TerminateRequest {
  bool immediate = false;
};
struct TerminateResponse {
  api::Http status = api::Http::kOk;
};
inline constexpr sim::RpcMethod<TerminateRequest, TerminateResponse> kTerminate{
    "compute.terminate"};

// The defect this component can plant (SPEC §8.2 code-reading hazard).
inline constexpr char kDefectConfiguratorExitsOnFailed[] = "configurator-exits-on-failed";
std::vector<api::DefectInfo> ComputeDefects();

// The Postgres-side workload: one session issuing one query every op_interval.
struct WorkloadOptions {
  bool enabled = true;
  uint64_t key_count = 64;      // keys 0 .. key_count-1
  uint32_t write_percent = 50;  // the rest are reads; only writes until the first ack
  sim::Duration op_interval = sim::Duration::Millis(200);
  sim::Duration append_timeout = sim::Duration::Seconds(10);
  sim::Duration getpage_timeout = sim::Duration::Seconds(30);
  sim::Duration retry_sleep_min = sim::Duration::Millis(100);
  sim::Duration retry_sleep_max = sim::Duration::Seconds(1);
  uint32_t connect_failures_before_refresh = 16;  // refresh after more than this many in a row
  sim::Duration refresh_non_200_cancel = sim::Duration::Seconds(60);
  sim::Duration query_timeout = sim::Duration::Seconds(300);  // bound for non-lakebase retries
};

struct ComputeOptions {
  std::string tenant_id;
  sim::ProcessId control_plane = -1;
  sim::ProcessId safekeeper = -1;
  std::map<api::NodeId, sim::ProcessId> pageservers;  // node id -> pageserver process
  bool lakebase_mode = false;  // upstream default off; Hadron/lakebase computes set it
  bool fetch_spec_at_start = true;
  uint32_t startup_fetch_attempts = 3;
  sim::Duration get_spec_timeout = sim::Duration::Seconds(5);
  sim::Duration postgres_start_duration = sim::Duration::Millis(500);
  sim::Duration reload_duration = sim::Duration::Millis(50);
  sim::Duration same_spec_backoff = sim::Duration::Seconds(5);
  sim::Duration fetch_error_backoff = sim::Duration::Seconds(5);
  sim::Duration configure_wait_max = sim::Duration::Seconds(60);  // /configure gives up: 500
  sim::Duration terminate_fast_duration = sim::Duration::Millis(200);
  WorkloadOptions workload;
};

struct ComputeSnapshot {
  uint64_t incarnation = 0;
  api::ComputeStatus status = api::ComputeStatus::kEmpty;
  std::optional<api::ComputeSpec> spec;  // the applied spec (Postgres's conninfo)
  api::Lsn last_acked_lsn = 0;
  bool postgres_running = false;
  bool configurator_running = false;
  uint64_t writes_acked = 0;
  uint64_t writes_failed = 0;
  uint64_t reads_ok = 0;
  uint64_t reads_failed = 0;
  uint64_t refresh_signals = 0;
};

class ComputeCtl {
 public:
  ComputeCtl(ComputeOptions options, api::Defects defects);
  ComputeCtl(const ComputeCtl&) = delete;
  ComputeCtl& operator=(const ComputeCtl&) = delete;

  // Process main: resets memory, serves, runs the configurator and the workload until a
  // graceful stop (or exits when the control plane has no spec for it during a refresh).
  void Run(sim::Env& env);

  ComputeSnapshot Snapshot() const;
  const ComputeOptions& options() const { return options_; }

  // Harness switches (any time): Postgres start / reload fail while set.
  void SetStartFails(bool fails) { start_fails_ = fails; }
  void SetReloadFails(bool fails) { reload_fails_ = fails; }
  // Harness: a pageserver process id changed or a node was added.
  void SetPageserver(api::NodeId node, sim::ProcessId process) {
    options_.pageservers[node] = process;
  }

 private:
  api::ConfigureResponse HandleConfigure(const api::ConfigureRequest& request);
  // /refresh_configuration; `source` is "http" or "postgres" (libpagestore's local POST).
  api::Http HandleRefresh(const char* source);
  api::ComputeStatusResponse HandleStatus() const;
  TerminateResponse HandleTerminate(const TerminateRequest& request);

  void SetStatus(api::ComputeStatus to, const char* cause);
  // Waits for the next status change (a condition variable); false on deadline or shutdown.
  bool WaitStatusChange(sim::Instant deadline);
  void StartupFetch();
  void ConfiguratorLoop();
  void RunConfiguration();
  void RunRefresh();
  // Starts Postgres (if not running) or reloads it with `spec`. False when it fails.
  bool ApplySpec(const api::ComputeSpec& spec, const char* via);
  std::optional<std::string> SpecProblem(const api::ComputeSpec& spec) const;

  // Workload (postgres_workload.cc).
  void WorkloadLoop();
  void DoWrite(uint64_t key);
  void DoRead(uint64_t key);
  void SignalRefresh(const char* reason, std::optional<sim::Instant>& non_200_since);

  ComputeOptions options_;
  api::Defects defects_;
  bool start_fails_ = false;
  bool reload_fails_ = false;

  // Per incarnation (reset by Run).
  sim::Env* env_ = nullptr;
  std::shared_ptr<sim::Event> status_changed_;
  api::ComputeStatus status_ = api::ComputeStatus::kEmpty;
  std::optional<api::ComputeSpec> current_spec_;
  std::optional<api::ComputeSpec> pending_spec_;  // from /configure, for the configurator
  bool postgres_running_ = false;
  bool configurator_running_ = false;
  api::Lsn last_acked_lsn_ = 0;
  std::map<uint64_t, api::Lsn> key_acked_lsn_;    // this incarnation's last ack per key
  std::map<uint8_t, uint32_t> connect_failures_;  // consecutive failed connects per shard
  uint64_t write_sequence_ = 0;
  ComputeSnapshot counters_;  // only the counter fields are used
};

}  // namespace storsim::compute
