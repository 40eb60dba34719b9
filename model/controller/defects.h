// The controller's switchable defects (SPEC.md §12 bug zoo entries that live in the controller).
// Each name below is checked at exactly the site that upstream fixed; with the defect off the
// code path is upstream's fixed behaviour. ControllerDefects() lists them for the CLI and the
// fuzzers, with the upstream reference and the invariant that should trip.
//
// Not here: #5 (READ COMMITTED read-then-write) lives in the database (model/postgres,
// PostgresOptions.non_atomic_read_then_write); #16 lives in the pageserver.
//
// Four code-reading hazards the default sweep tripped over are switches whose *fixed* variant
// is the default (SPEC §5.3 step 1's FIXME, the superseding reconciler's stale snapshot of §6.2,
// re-attach keeping pre-restart observed state of §4.1, start-up notifications surviving
// step-down of §3.3); `canary-generation-reuse` is a storsim canary that S4 must catch on every migration.
// The other code-reading hazards are upstream's *default* behaviour and so are not switches:
// the stale instance's heartbeat-driven detach (§3.3; option stop_heartbeats_on_step_down turns
// it off), the drain task writing the DB after step-down, the double INSERT into an empty
// `controllers`, re_attach Deleting→Pause in the DB vs Active in memory, and a persisted
// Draining policy with no task after restart. Each is visible in the
// trace (events.h) so checkers can flag it.
#pragma once

#include <vector>

#include "model/api/defects.h"

namespace storsim::controller {

// #1 (PR #11703), four independent parts of the fix.
inline constexpr char kDefectNoSelfRestartCheck[] = "ctl-no-self-restart-check";
inline constexpr char kDefectStepDownNotShared[] = "ctl-step-down-not-shared";
inline constexpr char kDefectLiveIgnoresLeadership[] = "ctl-live-ignores-leadership";
inline constexpr char kDefectStepDownExitsWhenSlow[] = "ctl-step-down-exits-when-slow";
// #2 (PR #11412, #11256, issue #11254): the step-down does not wait for an in-flight shard split
// (the split does not hold the reconcilers gate), and the split's complete does not check that
// the children still exist, so a new leader's start-up abort and the old leader's complete both
// land and the tenant loses every row.
inline constexpr char kDefectStepDownIgnoresSplits[] = "ctl-step-down-ignores-splits";
// #3 (PR #8784).
inline constexpr char kDefectValidateTrustsMemory[] = "ctl-validate-trusts-memory";
// #4 (PR #8756).
inline constexpr char kDefectMigrationsBeforeStepDown[] = "ctl-migrations-before-step-down";
// #6 (PR #7027).
inline constexpr char kDefectNoRefreshUnknownObserved[] = "ctl-no-refresh-unknown-observed";
// #7 (PR #11342).
inline constexpr char kDefectSkipNotifyAfterRefresh[] = "ctl-skip-notify-after-refresh";
// #8 (PR #10352).
inline constexpr char kDefectPendingNotifyDroppedOnFailure[] = "ctl-pending-notify-dropped";
// #9 (PR #9435).
inline constexpr char kDefectDedupeIgnoresApplied[] = "ctl-dedupe-ignores-applied";
// #10 (PR #9045).
inline constexpr char kDefectDetachKeepsComputeCache[] = "ctl-detach-keeps-compute-cache";
// #11 (PR #9147).
inline constexpr char kDefectNotifyIgnoresOriginDeath[] = "ctl-notify-ignores-origin-death";
// #12 (PR #9486).
inline constexpr char kDefectLsnWaitIgnoresCancel[] = "ctl-lsn-wait-ignores-cancel";
// #13 (PR #9281).
inline constexpr char kDefectTransitionsPerNode[] = "ctl-availability-transitions-per-node";
// #14 (PR #12754).
inline constexpr char kDefectDrainIgnoresOutgoing[] = "ctl-drain-ignores-outgoing-migrations";
// #15 (PR #12745).
inline constexpr char kDefectReconcileAbortsOnFirstError[] = "ctl-reconcile-aborts-on-first-error";
// #17 (PR #10298 / #11155).
inline constexpr char kDefectActivationEditsObservedInPlace[] =
    "ctl-activation-edits-observed-in-place";

// Code-reading hazard, SPEC §5.3 step 1 FIXME: the origin is set AttachedStale at the
// controller's current generation instead of its observed one.
inline constexpr char kDefectStaleOriginCurrentGeneration[] =
    "ctl-stale-origin-current-generation";
// Code-reading hazard, SPEC §6.2 "Spawn" (tenant_shard.rs spawn_reconciler): a reconciler that
// supersedes a running one snapshots observed state and generation at spawn, then joins the old
// one and runs on the stale snapshot. The fixed variant catches the snapshot up after the join.
inline constexpr char kDefectSupersedingReconcilerStaleSnapshot[] =
    "ctl-superseding-reconciler-stale-snapshot";
// Code-reading hazard, SPEC §4.1 re-attach (service.rs re_attach): the re-attach handler leaves
// the observed state of shards it answers Secondary (or not at all) as it was before the node
// restarted. The fixed variant marks those entries uncertain.
inline constexpr char kDefectReAttachKeepsStaleObserved[] = "ctl-re-attach-keeps-stale-observed";
// Code-reading hazard, SPEC §3.3 (service.rs startup_reconcile: notify_background on the
// process-wide cancel token): start-up compute notifications still being sent after step-down.
inline constexpr char kDefectStartupNotifySurvivesStepDown[] =
    "ctl-startup-notify-survives-step-down";
// Code-reading hazard (SPEC §12): a node persisted Draining/Filling keeps that policy after a
// controller restart, with no task to end it; the fixed default puts it back to Active.
inline constexpr char kDefectPersistedOperationWithoutTask[] =
    "ctl-persisted-operation-without-task";
// Code-reading hazard, SPEC §6.3 steps 3-5 (reconciler.rs reconcile): when the attached location
// already matches intent but the compute notification for it is still pending (an earlier
// reconcile failed to notify), the next reconcile demotes the other attached locations before it
// retries the notification, so computes lose their pageserver while the control plane still
// names it. The fixed variant retries first and demotes only once the control plane has the new
// placement (2xx, or 423: persisted, applied later or pulled by the compute on refresh).
inline constexpr char kDefectDemoteBeforePendingNotify[] = "ctl-demote-before-pending-notify";
// Code-reading hazard, SPEC §6.2 "Result" with §4.1 re-attach (service.rs process_result applies
// the reconciler's observed deltas over whatever changed meanwhile): a node that restarted and
// re-attached during a reconcile gets the reconciler's pre-restart observation back (the old
// generation), so the next reconcile sees a generation mismatch and takes a needless new
// generation. The fixed variant marks an entry that changed under the reconciler uncertain.
inline constexpr char kDefectResultClobbersConcurrentObserved[] =
    "ctl-result-clobbers-concurrent-observed";
// Code-reading hazard, SPEC §4.1 re-attach (service.rs re_attach: only conf.generation is
// updated): a node that restarted while observed in another attached mode (AttachedMulti in the
// middle of a migration, AttachedStale) is recorded at the new generation in that old mode,
// although it attaches AttachedSingle as the answer says; the next reconcile sees a mode mismatch
// and takes a needless new generation. The fixed variant records AttachedSingle.
inline constexpr char kDefectReAttachKeepsObservedMode[] = "ctl-re-attach-keeps-observed-mode";
// Code-reading hazard, SPEC §6.2 "Result" with §3.2 start-up notifications (service.rs
// process_result sets pending_compute_notification from the result): a start-up notification
// that fails in the background while a reconcile of the shard runs sets the flag, and the
// reconcile's result, snapshotted before, clears it, so nothing retries the notification. The
// fixed variant keeps a flag set after the reconciler's snapshot.
inline constexpr char kDefectResultOverwritesPendingNotify[] =
    "ctl-result-overwrites-pending-notify";
// Code-reading hazard, SPEC §7 (service.rs drain/fill background tasks): the policy write that
// ends a drain or fill fails on a database error and the task ends there, leaving the node
// Draining or Filling with no task to end it. The fixed variant retries transient errors.
inline constexpr char kDefectOperationFinalizeGivesUp[] = "ctl-operation-finalize-gives-up";
// Code-reading hazard, SPEC §3.2 start-up (service.rs startup_reconcile: the initial heartbeat
// round goes to every node loaded from the database): a node the location scan did not reach but
// that answers the heartbeat becomes Active without the activation listing, so locations it holds
// that the database no longer places there (a detach that failed while it was cut off) are never
// cleaned up. The same holds after a handover for a node the old leader never listed (no known
// location of it in the step-down payload). The fixed variant leaves such a node Offline for the
// loop to activate.
inline constexpr char kDefectStartupActivatesUnscannedNodes[] =
    "ctl-startup-activates-unscanned-nodes";
// Code-reading hazard, SPEC §3.3 with §4.1 (service.rs step_down waits for the reconcilers gate
// only; the re-attach and validate handlers hold no gate): an upcall that passed the leadership
// check before step-down began keeps running, and its DB writes (re_attach's generation
// increments) land after the step-down response. The fixed variant makes step-down wait for
// in-flight upcall handlers (they hold the reconcilers gate) and refuse new ones with 503.
inline constexpr char kDefectStepDownIgnoresUpcalls[] = "ctl-step-down-ignores-upcalls";
// Code-reading hazard, SPEC §3.6 window 1 (service.rs startup: a failed step-down is logged and
// the new leader proceeds): the old leader, never told, keeps acting until its pod is stopped (a
// live migration's generation increment, a demotion), and the new leader's memory of those
// shards stays wrong for good: nothing re-reads it (L1). The fixed variant re-reads the
// generations and re-scans every node once the old pod must be gone.
inline constexpr char kDefectUnfencedTakeoverTrustsStartup[] =
    "ctl-unfenced-takeover-trusts-startup";
// Code-reading hazard, SPEC §3.2 steps 2-3 with 7d (leadership.rs: the CAS names the row read
// before the step-down requests): while the old leader's pod is down, the new instance's requests
// are refused; the old pod restarts, finds its own address in the row (a restart in place: no
// step-down) and CASes over its earlier row, then answers the waiting step-down. The new
// instance's CAS still names the earlier row, fails, and the process exits into k8s back-off;
// the old pod, stepped down and no longer live, is restarted too and the two cycle with no
// leader (L1). The fixed variant re-reads the row after a step-down answer and, if the row moved,
// steps down its new holder as well (which answers at once) before it proceeds.
inline constexpr char kDefectCasNamesFirstLeaderRead[] = "ctl-cas-names-first-leader-read";
// Code-reading hazard, SPEC §3.2 step 7d with §13's shutdown (service.rs: startup_reconcile
// holds the service gate, and shutdown waits for the gate, so a SIGTERM during start-up lets
// become_leader run): a candidate stopped after its step-down was answered still takes the row,
// then exits. The row names a dead process, the stepped-down old leader waits for k8s to find it
// not live, and the restarted pod's step-down requests are refused for ~19 s (db-outage 1887:
// a rollout stopped the pod of the superseded revision mid start-up; no leader after the quiet
// period, L1). The fixed variant checks for a stop before the CAS and exits without it, so the
// row keeps naming the old leader, whose restart in place skips step-down.
inline constexpr char kDefectStoppingCandidateTakesLeadership[] =
    "ctl-stopping-candidate-takes-leadership";
// Code-reading hazard, SPEC §3.2 step 7f with §8 (service.rs startup_reconcile notifies every
// stably attached shard, and stably_attached accepts any attached mode at any generation): when
// the newest attachment's location is unknown at start-up (in flux in the old leader's handover,
// or missed by the scan), intent_from_observed picks an older attachment, AttachedStale say, and
// the start-up notification points the compute back at it although a newer generation was
// already announced (S14, db-outage 9715). The fixed variant notifies only attachments at the
// database's generation; the reconcile that re-attaches the shard notifies the rest.
inline constexpr char kDefectStartupNotifiesStaleAttachment[] =
    "ctl-startup-notifies-stale-attachment";
// Hazard found by the shard-split sweep with large tenants, SPEC §5.4 with §4.1 (the split
// completes once every pageserver call returned; a re-attach answers only in-memory shards):
// node A splits its parent, node B's split of a large shard takes seconds, node A's pageserver
// restarts meanwhile and re-attaches. The answer names the parent, not the DB-only children, so
// node A drops the children and attaches the parent again; the split then completes and names
// children nothing holds, and node A's activation detaches the parent the computes still read
// (S12, shard-split 1289 with 13.6 s splits). The fixed variant aborts the split when a node that
// has split restarted before the complete.
inline constexpr char kDefectSplitCompletesAfterNodeRestart[] =
    "ctl-split-completes-after-node-restart";
// Hazard left by PR #12745 (bug #15), SPEC §6.3 steps 3 and 6: a policy change away from Attached
// clears generation_pageserver, but the detach of the attached location is skipped while its
// node is unavailable (or fails); an attach afterwards finds that location already right, skips
// the increment, and the DB names no pageserver for good (L1; proxied requests have nowhere to
// go). The fixed variant remembers that the name was cleared and increments for the attached
// node (which names it) even when its location looks right.
inline constexpr char kDefectAttachKeepsNullGenerationPageserver[] =
    "ctl-attach-keeps-null-generation-pageserver";
// Code-reading hazard, SPEC §6.3 step 3 with §8 (compute_hook.rs: a sharded tenant not all of
// whose shards are known is not notified, and the reconciler counts that as done): a reconcile
// attaches a shard elsewhere while a sibling is unknown to a freshly started controller, then it
// (or the next one) demotes the old attached location while the control plane still names it
// (S12). The fixed variant reports the skipped send as incomplete: the shard keeps its pending
// notification and no attached location is demoted until the placement went out.
inline constexpr char kDefectDemoteAfterIncompleteNotify[] = "ctl-demote-after-incomplete-notify";
// Code-reading hazard, SPEC §4.1 re-attach with §5.4 splits: answering re-attach from the database
// rows hands out the children of a split in flight (inserted by begin_shard_split with the
// parent's generation_pageserver), which the restarted node then attaches beside the parent
// (pre-2024 upstream answered every DB row; current upstream answers from its in-memory shards).
inline constexpr char kDefectReAttachAnswersDbOnlyShards[] = "ctl-re-attach-answers-db-only-shards";
// Canary (storsim): a live migration hands the destination the generation before the new one.
inline constexpr char kDefectCanaryGenerationReuse[] = "canary-generation-reuse";

std::vector<api::DefectInfo> ControllerDefects();

}  // namespace storsim::controller
