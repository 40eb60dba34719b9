// Trace events emitted by a compute process (compute_ctl and its Postgres workload). Checkers
// read these (SPEC §10 S11, §11 L1 and L7) and must rely on nothing else; every event carries
// `tenant` and `incarnation` (the compute process incarnation, restarted computes forget their
// state). Placements are "shard@node" lists (spec_codec.h FormatShards), e.g. "0@3,1@5".
//
// compute_ctl state machine (SPEC §8.2):
//   compute.status            every status change (also same-status re-sets by a refresh request)
//                             from, to (ComputeStatusName), cause, spec_version (0 = no spec)
//   compute.configure         a /configure request answered: version, shards, from_status,
//                             status (HTTP code answered)
//   compute.refresh_request   a /refresh_configuration request answered: source ("http" or
//                             "postgres"), from_status, status (HTTP code answered)
//   compute.spec_fetch        the configurator (or startup) asked the control plane for the spec:
//                             purpose ("startup" or "refresh"), outcome ("spec", "no-spec",
//                             "error"), status (HTTP code, 0 on a transport error), version,
//                             shards
//   compute.reconfigured      a spec was applied (Postgres started or reloaded with the new
//                             pageserver conninfo): version, shards, shard_count, stripe_size, via
//                             ("start", "configure", "refresh")
//   compute.reconfigure_failed  applying a spec failed: version, shards, via, reason
//   compute.configurator_exit the configurator fiber ended: reason ("failed-status" = the
//                             configurator-exits-on-failed defect)
//   compute.exit              the process exits: reason ("no-spec")
//   compute.terminated        /terminate finished: mode ("fast" or "immediate")
//
// Postgres workload (S11: acknowledged writes are never lost; a read at >= L sees the write at L;
// a compute never reads a value older than its own last acknowledged write):
//   compute.write_acked       key, value, lsn, commit_lsn: the safekeeper acknowledged the record
//   compute.write_failed      key, value, reason, status: not acknowledged (it may still exist)
//   compute.read              one query's result: key, request_lsn (the compute's last
//                             acknowledged LSN when the query started), expected_lsn (LSN of this
//                             compute's last acknowledged write of the key, 0 if none), found
//                             (0/1), value, value_lsn, node_id and pageserver (process id) asked
//                             last, shard_number, spec_version, attempts, outcome ("ok" (found=0
//                             when the key has no record at request_lsn), "error-408" /
//                             "error-<code>", "cancelled", "timeout", "no-shard"). A NotFound
//                             answer is retried inside the query, never a result.
//   compute.getpage_failed    one failed GetPage attempt inside a query: key, node_id, pageserver,
//                             reason ("unavailable", "deadline", "unknown-node", "404"),
//                             consecutive_failures (failed connects to that shard in a row)
//   compute.refresh_signal    Postgres poked /refresh_configuration: reason ("connect-failures"
//                             or "not-found"), status (the answer), non_200_for_ms
#pragma once

namespace storsim::compute::events {

inline constexpr char kStatus[] = "compute.status";
inline constexpr char kConfigure[] = "compute.configure";
inline constexpr char kRefreshRequest[] = "compute.refresh_request";
inline constexpr char kSpecFetch[] = "compute.spec_fetch";
inline constexpr char kReconfigured[] = "compute.reconfigured";
inline constexpr char kReconfigureFailed[] = "compute.reconfigure_failed";
inline constexpr char kConfiguratorExit[] = "compute.configurator_exit";
inline constexpr char kExit[] = "compute.exit";
inline constexpr char kTerminated[] = "compute.terminated";
inline constexpr char kWriteAcked[] = "compute.write_acked";
inline constexpr char kWriteFailed[] = "compute.write_failed";
inline constexpr char kRead[] = "compute.read";
inline constexpr char kGetPageFailed[] = "compute.getpage_failed";
inline constexpr char kRefreshSignal[] = "compute.refresh_signal";

}  // namespace storsim::compute::events
