// Service: everything one controller incarnation holds and does (upstream service.rs, split by
// noun over several .cc files: service.cc start-up, leadership.cc, http_gate.cc,
// heartbeat.cc, reconcile_driver.cc, upcalls.cc, tenant_api.cc, node_api.cc, drain_fill.cc).
// Built at the start of each Run and destroyed with the incarnation, so a restart rebuilds every
// piece of memory from the database, as upstream does.
//
// All state is touched only from this process's fibers; the scheduler runs one fiber at a time,
// so a state change between two blocking calls is atomic. Code that blocks re-finds shards and
// nodes by id afterwards (never holds references across a block).
//
// Invariants:
//   1. status_ only moves Candidate -> Leader -> SteppedDown (or Leader -> SteppedDown).
//   2. Once reconcilers_gate_closed_ is set, no reconciler is spawned.
//   3. At most one reconciler runs per shard; its handle sequence <= the shard's sequence.
//   4. A shard's memory generation never exceeds the DB generation (persist first).
//   5. At most one node operation (drain, fill, delete) exists at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/api/controller_api.h"
#include "model/api/upcall_api.h"
#include "model/controller/compute_hook.h"
#include "model/controller/context.h"
#include "model/controller/db.h"
#include "model/controller/pageserver_client.h"
#include "model/controller/reconciler.h"
#include "model/controller/scheduler.h"
#include "model/controller/shard_split.h"
#include "model/controller/lease.h"
#include "model/controller/snapshot.h"

namespace storsim::controller {

class Service {
 public:
  Service(sim::Env& env, const ControllerOptions& options, const api::Defects& defects,
          std::unique_ptr<persistence::Persistence> persistence);
  ~Service();

  // The process main: start-up (§3.2), then background loops until shutdown.
  void Run();
  ControllerSnapshot Snapshot() const;

 private:
  enum class Priority : uint8_t { kNormal, kHigh };
  enum class GateKind : uint8_t { kProbe, kStepDown, kUpcall, kRead, kTenantMutating, kNodeOp };
  enum class OperationKind : uint8_t { kDrain, kFill, kDelete };
  struct Operation {
    OperationKind kind;
    NodeId node;
    CancelToken cancel;
    // False while the handler's DB write runs (the slot is reserved, no task yet): a cancel
    // then answers 412, as upstream does before the operation is registered.
    bool started = false;
  };

  // --- service.cc: start-up (§3.2) ---
  bool WaitForDatabase();
  void RunMigrations();
  bool LoadState();
  // Returns the (node, shard) locations of shards unknown to the DB, to detach once leader.
  std::vector<std::pair<NodeId, TenantShardId>> StartupReconcile(
      const std::optional<std::vector<api::ObservedShard>>& handed_over);
  // `answered` (optional) gets every node whose listing arrived.
  // Lists the locations of every node (of `only`'s nodes when given); `answered` gets the nodes
  // that answered in time.
  std::map<TenantShardId, ObservedState> ScanLocations(std::set<NodeId>* answered = nullptr,
                                                       const std::set<NodeId>* only = nullptr);
  // The step-down protocol's unfenced takeover: the old leader never answered, so whatever it did
  // after this instance loaded the database is unknown here. Once it must be gone, re-read the
  // generations and re-scan every node, then reconcile (model/controller/takeover_resync.cc).
  void ResyncAfterUnfencedTakeover();
  void StartupComputeNotifications();
  // Re-spawns the reconciles of `done`'s siblings that stopped waiting for the tenant's
  // notification, after a successful reconcile of `done`.
  void RetrySiblingsWaitingForNotify(const TenantShardId& done);
  // Sets the pending notification flag of a stably attached shard whose reconcile will demote
  // another attached (or unknown) location; for every such shard when notifications are deferred.
  void MarkPendingIfDemoting(TenantShard& shard);
  void MarkStartupDemotionsPending();
  void SpawnBackgroundLoops();
  void BackgroundReconcileLoop();
  void DetachUnknownShards(std::vector<std::pair<NodeId, TenantShardId>> unknown);
  [[noreturn]] void ExitProcess(const char* reason);

  // Upstream's attach after a cleared generation_pageserver (kDefectAttachKeepsNullGenerationPageserver),
  // also before PR #12745 (kDefectReconcileAbortsOnFirstError), whose L1 symptom needs it.
  bool KeepsNullGenerationPageserver() const;

  // --- leadership.cc (§3.1–3.3, §3.7) ---
  void SetStatus(LeadershipStatus status, const char* reason);
  std::optional<api::StepDownResponse> RequestStepDown(const persistence::LeaderRow& leader);
  // Steps down the holder of leader_at_start_, and (the fixed variant of
  // ctl-cas-names-first-leader-read) the row's holder again while the row moved under the
  // requests; leaves in leader_at_start_ the row read before the last step-down request.
  std::optional<api::StepDownResponse> StepDownLeaderAtStart();
  bool BecomeLeader();
  api::StepDownResponse HandleStepDown(const api::StepDownRequest& request);
  void StepDownTask(const std::string& from, sim::Promise<api::StepDownResponse> promise);
  void StopReconcilers();
  std::vector<api::ObservedShard> ObservedSnapshot() const;
  bool AcquireLease();
  void LeaseRenewLoop();
  void ReleaseLease();
  // Where a stepped-down instance forwards: the DB row (step-down) or the lease holder.
  absl::StatusOr<std::optional<std::string>> CurrentLeaderAddress();

  // --- http_gate.cc (§3.4) ---
  void RegisterHandlers();
  template <typename Req, typename Resp>
  void Serve(sim::RpcMethod<Req, Resp> method, GateKind kind, Resp (Service::*handler)(const Req&));
  template <typename Req, typename Resp>
  Resp Forward(sim::RpcMethod<Req, Resp> method, const Req& request);
  api::StatusResponse HandleProbe(const api::ProbeRequest& request);
  // Lease protocols only: a candidate whose last look at the lease (AcquireLease polls it every
  // retry period) saw another instance hold it, unexpired on the local clock. Such a follower is
  // Ready and Live, and forwards requests to the holder, as client-go leader-election
  // deployments do; otherwise a RollingUpdate deadlocks (the holder is stopped only once the new
  // pod is ready, and the new pod only leads once the holder is stopped).
  bool FollowingValidLease();
  bool LeaseProtocol() const;
  bool WaitForStartup();

  // --- heartbeat.cc (§6.6) ---
  void HeartbeatLoop();
  // Whether this instance stepped down with stop_heartbeats_on_step_down: no heartbeat round,
  // transition or activation detach from here on.
  bool HeartbeatsStopped() const {
    return context_.options().stop_heartbeats_on_step_down &&
           status_ == LeadershipStatus::kSteppedDown;
  }
  // `initial`: the start-up round, whose responders become Active without activation reconciles;
  // `scanned` (start-up without a handover): the nodes whose locations the scan listed; a
  // responder outside it stays Offline so that the loop's next round activates it with a listing.
  void HeartbeatRound(bool initial, const std::set<NodeId>* scanned = nullptr);
  void HandleTransition(NodeId node, AvailabilityTransition transition);
  void NodeToOffline(NodeId node);
  void NodeToActive(NodeId node);
  absl::Status NodeActivateReconcile(NodeId node);
  void SetAvailability(NodeState& node, api::NodeAvailability availability);
  NodeRef RefFor(NodeId node) const;

  // --- reconcile_driver.cc (§6.2, §6.4) ---
  // Spawns a reconcile if needed; returns the sequence a caller can wait for, if any.
  std::optional<uint64_t> MaybeReconcile(const TenantShardId& shard, Priority priority,
                                         const MigrationConfig& migration);
  std::optional<uint64_t> MaybeReconcile(const TenantShardId& shard, Priority priority);
  void SpawnReconciler(TenantShard& shard, Priority priority, const MigrationConfig& migration);
  void ProcessResultsLoop();
  void ApplyResult(const ReconcileResult& result);
  void DrainDelayedQueue();
  size_t ReconcileAll();
  absl::Status WaitForSequence(const TenantShardId& shard, uint64_t sequence,
                               sim::Duration timeout);
  void BumpSequence(TenantShard& shard, const char* reason);
  void Schedule(TenantShard& shard, const char* reason);
  MigrationConfig NormalMigration() const;
  MigrationConfig DrainMigration() const;

  // --- upcalls.cc (§4.1) ---
  api::ReAttachResponse HandleReAttach(const api::ReAttachRequest& request);
  api::ValidateResponse HandleValidate(const api::ValidateRequest& request);

  // --- tenant_api.cc ---
  api::TenantCreateResponse HandleTenantCreate(const api::TenantCreateRequest& request);
  api::StatusResponse HandleTenantDelete(const api::TenantDeleteRequest& request);
  api::StatusResponse HandleTenantMigrate(const api::TenantShardMigrateRequest& request);
  api::StatusResponse HandleTenantPolicy(const api::TenantPolicyRequest& request);
  api::TenantDescribeResponse HandleTenantDescribe(const api::TenantDescribeRequest& request);
  api::ShardPlacement Placement(const TenantShard& shard) const;

  // --- shard_split.cc (shard_split.h) ---
  struct SplitTarget {
    TenantShardId parent;
    NodeId node = 0;
    Generation generation;
  };
  // Serves kTenantShardSplit with the tenant-mutating gating of http_gate.cc.
  void RegisterShardSplitHandler();
  TenantShardSplitResponse ForwardShardSplit(const TenantShardSplitRequest& request);
  TenantShardSplitResponse HandleTenantShardSplit(const TenantShardSplitRequest& request);
  // Step 2 for one parent: the pageserver's split, retried on transport errors and 503.
  absl::Status SplitOnPageserver(const SplitTarget& target, uint8_t new_count);
  // Whether every node that split a parent still runs the process that split it (pairs of node
  // and its re_attaches_begun when its split began); Unavailable names one that restarted.
  absl::Status SplitNodesStillHoldChildren(
      const std::vector<std::pair<NodeId, uint64_t>>& split_nodes);
  // Step 4; returns the children's placements.
  std::vector<api::ShardPlacement> CommitSplitInMemory(const std::vector<SplitTarget>& targets,
                                                       uint8_t new_count);
  // The abort path; true when the DB showed the split completed after all (then committed).
  bool AbortSplit(const std::string& tenant, const std::vector<SplitTarget>& targets,
                  uint8_t new_count, bool pageservers_called,
                  std::vector<api::ShardPlacement>* committed);
  void EmitSplit(const std::string& tenant, uint8_t old_count, uint8_t new_count,
                 const char* phase, const std::string& result);

  // --- node_api.cc (§7.1) ---
  api::StatusResponse HandleNodeRegister(const api::NodeRegisterRequest& request);
  api::StatusResponse HandleNodeConfigure(const api::NodeConfigureRequest& request);
  api::StatusResponse HandleNodeDelete(const api::NodeRequest& request);
  api::NodeStatusResponse HandleNodeStatus(const api::NodeRequest& request);
  api::StatusResponse HandleDrain(const api::NodeRequest& request);
  api::StatusResponse HandleFill(const api::NodeRequest& request);
  api::StatusResponse HandleCancel(const api::NodeRequest& request, OperationKind kind);
  api::StatusResponse HandleCancelDrain(const api::NodeRequest& request) {
    return HandleCancel(request, OperationKind::kDrain);
  }
  api::StatusResponse HandleCancelFill(const api::NodeRequest& request) {
    return HandleCancel(request, OperationKind::kFill);
  }
  absl::Status SetNodePolicy(NodeId node, NodeSchedulingPolicy policy, const char* reason);
  // The policy write that ends a drain or fill (from `from` to `policy`): transient database
  // errors are retried with backoff while this instance leads and the node is still `from`.
  absl::Status FinalizeNodePolicy(NodeId node, NodeSchedulingPolicy from,
                                  NodeSchedulingPolicy policy, const char* reason);

  // --- drain_fill.cc (§7.2) ---
  void DrainTask(NodeId node, CancelToken cancel);
  void FillTask(NodeId node, CancelToken cancel);
  void DeleteTask(NodeId node, CancelToken cancel);
  // Waits (0.5 s polls) until each waiter completed, the shard vanished or the op is cancelled.
  bool AwaitWaiters(std::vector<std::pair<TenantShardId, uint64_t>>& waiters, size_t keep_at_most,
                    const CancelToken& cancel, bool finishing);
  void EndOperation(OperationKind kind, NodeId node, const char* result, const std::string& error);
  // Frees the slot a drain/fill/delete handler reserved before its DB write, when the write fails.
  void ReleaseOperationSlot(OperationKind kind, NodeId node);

  // State.
  Context context_;
  Db db_;
  PageserverClient pageservers_;
  ComputeHook compute_hook_;

  LeadershipStatus status_ = LeadershipStatus::kCandidate;
  bool startup_complete_ = false;
  bool takeover_resync_pending_ = false;  // see ControllerSnapshot
  std::optional<sim::Instant> takeover_resync_done_at_;
  sim::Event startup_complete_event_;
  std::optional<persistence::LeaderRow> leader_at_start_;

  NodeMap nodes_;
  ShardMap shards_;

  CancelToken reconcilers_cancel_;
  bool reconcilers_gate_closed_ = false;
  int reconcilers_in_flight_ = 0;
  sim::Event reconcilers_idle_;
  Semaphore units_normal_;
  Semaphore units_high_;
  std::deque<TenantShardId> delayed_;
  sim::Channel<ReconcileResult> results_;
  sim::Event results_stopped_;
  bool results_loop_started_ = false;

  std::optional<sim::Future<api::StepDownResponse>> step_down_;
  std::set<std::string> splitting_tenants_;  // tenants with a split in flight
  // Start-up clean-up entries (shards the DB does not know) not yet detached, per tenant.
  std::map<std::string, int> cleanup_pending_;
  std::optional<Operation> operation_;

  // Lease protocols: the last record seen, when it last changed (local clock).
  std::optional<LeaseRecord> lease_seen_;
  sim::Instant lease_seen_at_;
  sim::Instant lease_renewed_at_;
};

}  // namespace storsim::controller
