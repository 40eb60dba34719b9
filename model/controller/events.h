// Trace events the storage controller emits (for checkers S1–S4, S9, S12, S14 and L1–L4, L6 of
// SPEC.md §10–11). Every event carries the issuing instance:
//   instance     string  --address-for-peers of the emitting controller ("" if none)
//   incarnation  int     process incarnation (bumped by every restart)
// Shards are TenantShardId::ToString(), nodes are node ids, generations are integers with -1 for
// "none", modes are api::LocationModeName.
//
// Leadership
//   ctl.status            status (Candidate|Leader|SteppedDown), protocol, reason.
//   ctl.leader_read       result (ok|error), leader (address or ""), started_at.
//   ctl.leader_cas        prev_address, prev_started_at (-1 = INSERT), started_at, result
//                         (ok|error), error. A failed CAS is followed by ctl.exit.
//   ctl.step_down.send    target (address), attempt (0-based).
//   ctl.step_down.reply   target, attempt, result (ok|transport|http), http, shards.
//   ctl.step_down.begin   (old leader) the shared step-down task started; from (requester).
//   ctl.step_down.served  (old leader) the response was produced; shards. After this instant
//                         S3 expects silence from this instance.
//   ctl.migrations        schema migrations ran (the DB may have changed under an old leader).
//   ctl.lease             action (acquire|renew|lost|release|expired_seen), holder, term,
//                         result (ok|conflict).
//   ctl.startup_complete  shards, nodes.
//   ctl.exit              reason (leader CAS failed, DB unreachable, slow step-down defect).
// Side effects
//   ctl.location_config.send    shard, node, mode, generation, term, attempt.
//   ctl.location_config.result  shard, node, mode, generation, result (ok|http|transport|
//                               cancelled), http.
//   ctl.location_config.refresh shard, node, result (ok|not_found|http|error), mode ("" when the
//                               node answered without a configuration: a slot in transition),
//                               generation (-1 none): a reconcile asked an unknown location.
//   ctl.location.detach_unknown shard, node: detach of a shard unknown to this instance found
//                               on a node being activated (the §3.3 stale-instance hazard).
//   ctl.notify.send       tenant, shards ("n:node,..."), attempt.
//   ctl.notify.result     tenant, shards, result (ok|busy|fatal|unexpected|transport|
//                         skipped_dedupe), http.
//   ctl.db_write          op (increment_generation|re_attach|update_leader|update_tenant_shard|
//                         detach|update_node_scheduling_policy|insert_node|delete_node|
//                         insert_tenant_shards|delete_tenant|begin_shard_split|
//                         complete_shard_split|abort_shard_split), result
//                         (ok|error), error, and shard / node / generation when they apply.
//   ctl.generation        shard, generation, node, via (reconcile|live_migration|re_attach):
//                         a generation this instance was handed by the DB.
//   ctl.split             tenant, old_count, new_count, phase (refused|begin|pageserver|
//                         complete|abort|done), result ("ok" or the reason / error). The DB
//                         writes of a split are ctl.db_write ops begin_shard_split,
//                         complete_shard_split (unchecked 0|1) and abort_shard_split.
// Upcalls
//   ctl.validate          shard, generation, valid, memory_generation, db_generation.
//   ctl.re_attach         node, attached, secondary, result.
// Placement
//   ctl.intent            shard, attached (-1 none), secondaries ("1,2"), sequence, reason.
//   ctl.reconcile.start   shard, sequence, generation.
//   ctl.reconcile.end     shard, sequence, result (ok|error|cancelled), error, generation,
//                         pending_notify.
//   ctl.node.availability node, from, to.
//   ctl.heartbeat.verdict down ("1,3"), up ("2"): a heartbeat round's conclusions, emitted once
//                         every reply is in and before any is applied (down: judged Offline;
//                         up: answered, so Active; WarmingUp nodes in neither).
//   ctl.node.policy       node, policy, where (db|memory), reason.
//   ctl.node.loaded       node, policy: a node row loaded at start-up (a persisted Draining or
//                         Filling policy with no task running is visible here).
//   ctl.operation         op (drain|fill|delete), node, phase (start|cancel_requested|end),
//                         result (done|cancelled|error), error.
// HTTP
//   ctl.http_503          method, reason (candidate|no_leader|self_leader).
//   ctl.forward           method, target, result (ok|transport).
#pragma once

namespace storsim::controller::events {

inline constexpr char kStatus[] = "ctl.status";
inline constexpr char kLeaderRead[] = "ctl.leader_read";
inline constexpr char kLeaderCas[] = "ctl.leader_cas";
inline constexpr char kStepDownSend[] = "ctl.step_down.send";
inline constexpr char kStepDownReply[] = "ctl.step_down.reply";
inline constexpr char kStepDownBegin[] = "ctl.step_down.begin";
inline constexpr char kStepDownServed[] = "ctl.step_down.served";
inline constexpr char kMigrations[] = "ctl.migrations";
inline constexpr char kLease[] = "ctl.lease";
inline constexpr char kStartupComplete[] = "ctl.startup_complete";
// After an unfenced takeover: {result ("ok", "not_leader", "db_error"), shards (generations
// raised), nodes (nodes the re-scan reached)}.
inline constexpr char kTakeoverResync[] = "ctl.takeover_resync";
inline constexpr char kExit[] = "ctl.exit";
inline constexpr char kLocationConfigSend[] = "ctl.location_config.send";
inline constexpr char kLocationConfigResult[] = "ctl.location_config.result";
inline constexpr char kLocationConfigRefresh[] = "ctl.location_config.refresh";
inline constexpr char kDetachUnknown[] = "ctl.location.detach_unknown";
inline constexpr char kNotifySend[] = "ctl.notify.send";
inline constexpr char kNotifyResult[] = "ctl.notify.result";
inline constexpr char kDbWrite[] = "ctl.db_write";
inline constexpr char kGeneration[] = "ctl.generation";
inline constexpr char kSplit[] = "ctl.split";
inline constexpr char kValidate[] = "ctl.validate";
inline constexpr char kReAttach[] = "ctl.re_attach";
inline constexpr char kIntent[] = "ctl.intent";
inline constexpr char kReconcileStart[] = "ctl.reconcile.start";
inline constexpr char kReconcileEnd[] = "ctl.reconcile.end";
inline constexpr char kNodeAvailability[] = "ctl.node.availability";
inline constexpr char kHeartbeatVerdict[] = "ctl.heartbeat.verdict";
inline constexpr char kNodePolicy[] = "ctl.node.policy";
inline constexpr char kNodeLoaded[] = "ctl.node.loaded";
inline constexpr char kOperation[] = "ctl.operation";
inline constexpr char kHttp503[] = "ctl.http_503";
inline constexpr char kForward[] = "ctl.forward";

}  // namespace storsim::controller::events
