// Trace events emitted by the control plane process (the notify-attach receiver and the compute
// spec store, SPEC §8.1). Checkers S14 (per tenant one notification at a time; the last applied
// placement never reverts to an older one) and L1 (cplane record == intent) read these and the
// ControlPlane::Snapshot(). Every event carries `tenant` and `incarnation` (the control plane
// process incarnation). Placements are "shard@node" lists in shard order, e.g. "0@3,1@5"
// (compute/spec_codec.h FormatShards). `seq` numbers the notifications of one tenant from 1,
// persisted across restarts (0 for notifications about tenants the control plane does not know).
//
//   cplane.start              the process (re)started: tenants (records loaded from disk)
//   cplane.notify_received    a notify-attach arrived: seq, from (caller process id), shards,
//                             shard_count (0 = unsharded), stripe_size (0 = none), preferred_az
//   cplane.notify_answered    its answer: seq, from, status (HTTP code), outcome ("applied",
//                             "persisted-not-applied" (423), "fault" (injected 429/503/404/...),
//                             "unknown-tenant", "bad-request", "not-applied" (the compute could
//                             not be reconfigured in time)), shards, spec_version (the stored
//                             spec after this request), applied_version, elapsed_ms.
//                             A "received" without its "answered" means the process crashed
//                             while handling it.
//   cplane.spec_changed       the stored spec changed (persisted and synced): version, shards,
//                             shard_count, stripe_size, seq (the notification that caused it)
//   cplane.spec_applied       the compute runs this spec (or will fetch it when it starts):
//                             version, shards, seq, compute (process id, -1 none), via ("push",
//                             "compute-down", "no-compute")
//   cplane.push               one /configure attempt: version, attempt, status (HTTP code, 0 on
//                             a transport error), reason ("answer", "unavailable", "deadline")
//   cplane.get_spec           a compute pulled its spec: from, status, version (0 = none)
#pragma once

namespace storsim::control_plane::events {

inline constexpr char kStart[] = "cplane.start";
inline constexpr char kNotifyReceived[] = "cplane.notify_received";
inline constexpr char kNotifyAnswered[] = "cplane.notify_answered";
inline constexpr char kSpecChanged[] = "cplane.spec_changed";
inline constexpr char kSpecApplied[] = "cplane.spec_applied";
inline constexpr char kPush[] = "cplane.push";
inline constexpr char kGetSpec[] = "cplane.get_spec";

}  // namespace storsim::control_plane::events
