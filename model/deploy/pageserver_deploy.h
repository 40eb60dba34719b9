// PageserverDeploy: the deployment orchestrator (an Ansible playbook upstream) that restarts
// pageservers one by one with drain and fill around each restart (SPEC.md §7.2, RFC 033 "Overall
// Flow"). It runs in a "deployer" process this class adds to the simulation (an operator machine:
// it needs an RPC identity to call the controller, and a fault may crash or partition it), and it
// restarts pageserver processes through the sim::Process handles the harness gives it.
//
// How a scenario uses it:
//
//   auto deployer = std::make_shared<deploy::PageserverDeploy>(
//       simulation, controller_service,
//       std::vector<deploy::PageserverTarget>{{1, &pageserver_1}, {2, &pageserver_2}}, options);
//   run.Keep(deployer);                      // must outlive the simulation's teardown
//   deployer->ScheduleDeploy(at);            // one pass over every pageserver, starting at `at`
//   run.RunFor(...);
//   deployer->status();                      // passes done, per-node outcomes of the last pass
//
// One pass, for each pageserver in the given order (RFC 033):
//   1. Drain (prologue). PUT drain is retried on every error with a short back-off, until 2xx
//      (accepted) or 409 (a drain already runs: our earlier attempt whose reply was lost). After a
//      refused attempt the node's status is read: PauseForRestart means already drained, Draining
//      means a drain runs. Then node status is polled until the policy is PauseForRestart (done),
//      or Active/other (the controller ended the drain: "aborted"). The whole prologue has one
//      timeout; on timeout, or when no attempt was accepted, the drain is cancelled (DELETE drain,
//      retried, bounded; a 412 answer means no drain runs).
//   2. Restart the pageserver: graceful stop with a grace period (systemd's stop timeout; the
//      process is killed when it runs out), wait until the process is down, start it. A failed
//      drain does not stop the restart (RFC 033: "Orchestrator will still proceed with the
//      restart"; option restart_after_failed_drain).
//   3. Fill (epilogue). PUT fill is retried on every error with a short back-off: it is refused
//      until the restarted pageserver has re-attached and the controller sees it available, so
//      the retries are the synchronisation. 409 means a fill already runs. Then node status is
//      polled until Active. The epilogue has its own timeout; on timeout a fill that runs (or whose
//      acceptance we never saw but whose node shows Filling) is cancelled (DELETE fill, retried).
// Failures are never fatal: the pass moves on to the next pageserver.
//
// Controller calls go to an endpoint picked from the controller Service for each request (as
// kube-proxy would); no ready endpoint counts as a transport error and is retried like one.
// A pass that the deployer's crash interrupts is run again from the first pageserver when the
// deployer process starts again (the CI job is retried), because a pass counts as done only once
// it finished.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/api/controller_api.h"
#include "model/api/defects.h"
#include "model/api/service.h"
#include "sim/simulation.h"
#include "sim/time.h"

namespace storsim::deploy {

struct PageserverTarget {
  api::NodeId node_id = 0;
  sim::Process* process = nullptr;
};

struct PageserverDeployOptions {
  std::string process_name = "deployer";
  sim::Duration request_timeout = sim::Duration::Seconds(10);
  // "A short back-off": 0.5 s, doubling, capped at 5 s.
  sim::Duration retry_backoff_initial = sim::Duration::Millis(500);
  sim::Duration retry_backoff_max = sim::Duration::Seconds(5);
  sim::Duration poll_interval = sim::Duration::Seconds(1);
  // RFC 033: "an overall timeout ... in the ballpark of minutes", the same for the epilogue.
  sim::Duration drain_timeout = sim::Duration::Minutes(5);
  sim::Duration fill_timeout = sim::Duration::Minutes(5);
  int cancel_attempts_max = 10;
  // Bound on the requests of one drain or fill start phase (the timeout usually ends it first).
  int request_attempts_max = 1000;
  // RFC 033 cites the pageserver unit's 10 s systemd stop timeout.
  sim::Duration pageserver_stop_grace = sim::Duration::Seconds(10);
  bool restart_after_failed_drain = true;
};

// The defect this component can plant (see DeployDefects() in defects.h): on timeout the drain or
// fill is not cancelled, so the node may stay Draining/Filling (RFC 033 "Orchestrator Fill Times
// Out"; trips L4).
inline constexpr char kDefectNoCancelOnTimeout[] = "deploy-no-cancel-on-timeout";

// Outcome strings are the ones traced (events.h).
struct NodeDeployResult {
  api::NodeId node_id = 0;
  std::string drain;         // "paused_for_restart" | "aborted" | "timeout" | "refused"
  std::string drain_cancel;  // "" | "cancelled" | "not_running" | "failed" | "skipped"
  bool restarted = false;
  std::string fill;  // "active" | "aborted" | "timeout" | "refused"
  std::string fill_cancel;
  int requests = 0;  // controller requests made for this node
};

struct PageserverDeployStatus {
  int passes_requested = 0;
  int passes_completed = 0;
  bool running = false;  // a pass started and has not completed (stays set if the deployer died)
  std::vector<NodeDeployResult> last_pass;  // results of the pass running or last completed
};

class PageserverDeploy {
 public:
  // Adds the deployer process (not started). Preconditions: every target distinct with a process.
  // `service` and this object must outlive `simulation`.
  PageserverDeploy(sim::Simulation& simulation, const api::ServiceEndpoints& service,
                   std::vector<PageserverTarget> targets, PageserverDeployOptions options,
                   api::Defects defects = {});
  PageserverDeploy(const PageserverDeploy&) = delete;
  PageserverDeploy& operator=(const PageserverDeploy&) = delete;

  // Requests one more pass now: starts the deployer process if it is down. Passes run one after
  // another. Callable from the main stack or a harness fiber.
  void Deploy();
  // Deploy() at true time `at`, from a harness fiber.
  void ScheduleDeploy(sim::Instant at);

  const PageserverDeployStatus& status() const { return status_; }
  sim::Process& process() { return *process_; }

 private:
  void Main(sim::Env& env);
  void RunPass(sim::Env& env, int pass);
  void DeployNode(sim::Env& env, int pass, const PageserverTarget& target,
                  NodeDeployResult& result);
  // Phases of one node; each returns its traced outcome.
  std::string Drain(sim::Env& env, int pass, api::NodeId node, NodeDeployResult& result);
  std::string Fill(sim::Env& env, int pass, api::NodeId node, NodeDeployResult& result);
  std::string Cancel(sim::Env& env, int pass, api::NodeId node, bool drain,
                     NodeDeployResult& result);
  // Graceful stop (killed after the grace), then start; returns once the pageserver runs anew.
  void Restart(sim::Env& env, int pass, const PageserverTarget& target);
  // Starts an operation (drain or fill) by retrying until accepted or `deadline`; "accepted",
  // "running" (409 or the status shows it), "already_done" (drain only: PauseForRestart seen) or
  // "refused".
  std::string StartOperation(sim::Env& env, int pass, api::NodeId node, bool drain,
                             sim::Instant deadline, NodeDeployResult& result);

  // One controller request to a ready endpoint; Unavailable("no_endpoint") when none is ready.
  absl::StatusOr<api::StatusResponse> Request(
      sim::Env& env, int pass, api::NodeId node, const char* op, int attempt,
      sim::RpcMethod<api::NodeRequest, api::StatusResponse> method, NodeDeployResult& result);
  absl::StatusOr<api::NodeStatusResponse> NodeStatus(sim::Env& env, api::NodeId node,
                                                     NodeDeployResult& result);
  // Sleeps the back-off of `attempt` (0-based), or until `deadline` if sooner. Returns false if
  // the deadline has passed.
  bool Backoff(sim::Env& env, int attempt, sim::Instant deadline);

  sim::Simulation& simulation_;
  const api::ServiceEndpoints& service_;
  std::vector<PageserverTarget> targets_;
  PageserverDeployOptions options_;
  api::Defects defects_;
  sim::Process* process_ = nullptr;
  std::unique_ptr<sim::Event> work_;  // set when a pass is requested
  PageserverDeployStatus status_;
};

}  // namespace storsim::deploy
