// The list of the controller's switchable defects, for the CLI (`storsim list --bugs`) and the
// fuzzers. The sites that check them are named in defects.h.
#include "model/controller/defects.h"

namespace storsim::controller {

std::vector<api::DefectInfo> ControllerDefects() {
  const char* component = "controller";
  return {
      {kDefectNoSelfRestartCheck, component, "PR #11703 (bug #1)", "L3",
       "a restarted leader sends step-down to its own address in the leader row"},
      {kDefectStepDownNotShared, component, "PR #11703 (bug #1)", "S3 L3",
       "each step-down request runs its own task; a retry answers at once with a partial "
       "observed snapshot while reconcilers are still running"},
      {kDefectLiveIgnoresLeadership, component, "PR #11703 (bug #1)", "L3",
       "/live answers 200 on a stepped-down instance, so k8s never restarts it"},
      {kDefectStepDownExitsWhenSlow, component, "PR #11412 / #11703 (bug #1)", "L3",
       "the step-down task exits the process when it has not finished after 10 s"},
      {kDefectStepDownIgnoresSplits, component, "PR #11412, #11256, issue #11254 (bug #2)",
       "S15 S3",
       "step-down does not wait for in-flight shard splits and the split's complete does not "
       "check its children exist: the new leader aborts the split while the old one completes "
       "it, leaving no rows for the tenant"},
      {kDefectValidateTrustsMemory, component, "PR #8784 (bug #3)", "S8 S9",
       "/validate checks the in-memory generation only and answers valid for unknown shards"},
      {kDefectMigrationsBeforeStepDown, component, "PR #8756 (bug #4)", "S3",
       "schema migrations run before the step-down request, under a live old leader"},
      {kDefectNoRefreshUnknownObserved, component, "PR #7027 (bug #6)", "L1 G1",
       "the reconciler increments the generation for unknown observed state without refreshing"},
      {kDefectSkipNotifyAfterRefresh, component, "PR #11342 (bug #7)", "L1 L7",
       "after a refresh shows observed == intent the compute notification is skipped"},
      {kDefectPendingNotifyDroppedOnFailure, component, "PR #10352 (bug #8)", "L6",
       "pending_compute_notification is only carried by successful reconciles"},
      {kDefectDedupeIgnoresApplied, component, "PR #9435 (bug #9)", "L1 S14",
       "compute hook dedupes on the last request, ignoring whether it was applied, and a 423 "
       "leaves the last remote state unchanged"},
      {kDefectDetachKeepsComputeCache, component, "PR #9045 (bug #10)", "N1 L1",
       "detaching a shard does not drop it from the compute hook cache"},
      {kDefectNotifyIgnoresOriginDeath, component, "PR #9147 (bug #11)", "L1 L4 R1",
       "the live-migration notify loop retries forever even when the origin died"},
      {kDefectLsnWaitIgnoresCancel, component, "PR #9486 (bug #12)", "L1 R1",
       "the live-migration LSN catch-up wait ignores cancellation"},
      {kDefectTransitionsPerNode, component, "PR #9281 (bug #13)", "L2 F1",
       "availability transitions are handled node by node before all updates are applied"},
      {kDefectDrainIgnoresOutgoing, component, "PR #12754 (bug #14)", "L4 D1",
       "drain ignores migrations already leaving the node and reports it drained too early"},
      {kDefectReconcileAbortsOnFirstError, component, "PR #12745 (bug #15)", "L1",
       "the reconciler stops at the first failing location call instead of attempting all"},
      {kDefectActivationEditsObservedInPlace, component, "PR #10298 / #11155 (bug #17)", "L1",
       "node activation writes listed configs into observed state in place, racing results"},
      {kDefectStaleOriginCurrentGeneration, component,
       "SPEC §5.3 step 1 FIXME (reconciler.rs live_migrate)", "S4",
       "live migration sets the origin AttachedStale at the controller's current generation, "
       "not the origin's observed one, so a re-attached origin can claim another node's "
       "generation"},
      {kDefectSupersedingReconcilerStaleSnapshot, component,
       "code-reading hazard, SPEC §6.2 Spawn (tenant_shard.rs spawn_reconciler)", "S12 S10 L1",
       "a reconciler that supersedes a running one acts on the observed state and generation "
       "snapshotted before it joined the old one, e.g. demoting the only attachment"},
      {kDefectReAttachKeepsStaleObserved, component,
       "code-reading hazard, SPEC §4.1 re-attach (service.rs re_attach)", "S4 S6",
       "re-attach leaves the pre-restart observed state of shards it does not attach, so a "
       "reconcile can pick the restarted node as a migration origin and re-attach it at its "
       "old generation"},
      {kDefectPersistedOperationWithoutTask, component,
       "code-reading hazard, SPEC §12 (persisted Draining with no task after controller restart)",
       "L4",
       "a node persisted Draining or Filling keeps that policy after a controller restart with no "
       "drain or fill running, so nothing ever ends it"},
      {kDefectStartupNotifySurvivesStepDown, component,
       "code-reading hazard, SPEC §3.3 (service.rs startup_reconcile notify_background)", "S3",
       "start-up compute notifications run on the process-wide token and keep being sent after "
       "the instance stepped down"},
      {kDefectDemoteBeforePendingNotify, component,
       "code-reading hazard, SPEC §6.3 (reconciler.rs reconcile: a pending notification is "
       "retried only after the secondaries and detaches)",
       "S12",
       "a reconcile whose attached location is already right demotes the old attachments before "
       "it retries a pending compute notification, so computes lose the pageserver the control "
       "plane still names (e.g. after a notify failure during a pageserver restart)"},
      {kDefectResultClobbersConcurrentObserved, component,
       "code-reading hazard, SPEC §6.2 Result with §4.1 re-attach (service.rs process_result)",
       "G1",
       "a reconcile result writes its observation of a node over the re-attach answer recorded "
       "while it ran, so the next reconcile takes a new generation for an attachment that "
       "already holds the latest one"},
      {kDefectReAttachKeepsObservedMode, component,
       "code-reading hazard, SPEC §4.1 re-attach (service.rs re_attach updates only the "
       "observed generation)",
       "G1",
       "re-attach records the node at its new generation in the attached mode observed before "
       "the restart (e.g. AttachedMulti), so the next reconcile takes another generation for an "
       "attachment that already holds the latest one"},
      {kDefectResultOverwritesPendingNotify, component,
       "code-reading hazard, SPEC §6.2 Result with §3.2 start-up notifications (service.rs "
       "process_result)",
       "L6",
       "a reconcile result clears the pending-notification flag a failed background (start-up) "
       "notification set while it ran, so the control plane keeps a stale placement"},
      {kDefectOperationFinalizeGivesUp, component,
       "code-reading hazard, SPEC §7 (service.rs drain and fill tasks end on a failed policy "
       "write)",
       "L4",
       "the drain or fill task gives up when its final policy write hits a database outage, "
       "leaving the node Draining or Filling with nothing to end it"},
      {kDefectStartupActivatesUnscannedNodes, component,
       "code-reading hazard, SPEC §3.2 (service.rs startup_reconcile heartbeats every node)", "L1",
       "a node the start-up scan did not reach becomes Active from the initial heartbeat without "
       "a listing, so an attachment the database no longer places there is never detached"},
      {kDefectStepDownIgnoresUpcalls, component,
       "code-reading hazard, SPEC §3.3 with §4.1 (service.rs step_down waits for reconcilers "
       "only; re_attach and validate hold no gate)",
       "S3",
       "an upcall (re-attach) that passed the leadership check before step-down began commits "
       "its DB writes after the step-down response"},
      {kDefectUnfencedTakeoverTrustsStartup, component,
       "code-reading hazard, SPEC §3.6 window 1 (a failed step-down: the new leader proceeds)",
       "L1",
       "after a takeover whose step-down failed, the new leader never re-reads what the old one "
       "did before its pod stopped, so its generations and observed state stay stale"},
      {kDefectDemoteAfterIncompleteNotify, component,
       "code-reading hazard, SPEC §6.3 and §8 (a sharded tenant's notification skipped while "
       "incomplete counts as sent)",
       "S12",
       "a shard moves while a sibling is unknown to the compute hook; the notification is "
       "skipped as incomplete and the old attached location is demoted while the control plane "
       "still names it"},
      {kDefectStoppingCandidateTakesLeadership, component,
       "code-reading hazard, SPEC §3.2 step 7d (shutdown waits for startup_reconcile, whose "
       "become_leader still runs)",
       "L1",
       "a candidate stopped mid start-up after its step-down was answered takes the leader row "
       "and exits; the row names a dead process until k8s restarts the stepped-down leader and "
       "its step-down requests to the dead one run out"},
      {kDefectStartupNotifiesStaleAttachment, component,
       "code-reading hazard, SPEC §3.2 step 7f (stably_attached accepts any generation)",
       "S14",
       "the newest attachment's location is unknown at start-up; the new leader takes an older "
       "attachment as its intent and announces it, pointing the compute back at a placement it "
       "already left"},
      {kDefectSplitCompletesAfterNodeRestart, component,
       "hazard found by the sweep, SPEC §5.4 with §4.1 (a re-attach during a split answers the "
       "parents, not the DB-only children)",
       "S12",
       "a node that has split restarts while another node's slow split runs; its re-attach "
       "drops the children, the split completes anyway and the parent the computes read is "
       "detached while nothing holds the children"},
      {kDefectAttachKeepsNullGenerationPageserver, component,
       "hazard left by PR #12745 (bug #15), SPEC §6.3 (a skipped detach of an unavailable node)",
       "L1",
       "a tenant detached while its attached node is unavailable keeps that location; attached "
       "again, the location looks right, no increment runs and generation_pageserver stays "
       "NULL"},
      {kDefectCasNamesFirstLeaderRead, component,
       "code-reading hazard, SPEC §3.2 steps 2-3 and 7d (the CAS names the row read before "
       "step-down)",
       "L1",
       "an old leader that restarts in place while the new instance's step-down requests are "
       "refused re-takes the row and then steps down; the new instance's CAS names the earlier "
       "row, fails and exits, and the two pods cycle with no leader"},
      {kDefectReAttachAnswersDbOnlyShards, component,
       "code-reading hazard, SPEC §4.1 with §5.4 (re_attach answered from the database rows)",
       "S10",
       "re-attach hands out the children of a split in flight, which the restarted node "
       "attaches with no WAL history the safekeeper still holds"},
      {kDefectCanaryGenerationReuse, component, "canary (storsim)", "S4",
       "each live migration hands the destination the previous generation again (the "
       "origin's), so two nodes attach at one generation"},
  };
}

}  // namespace storsim::controller
