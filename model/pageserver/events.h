// Trace events the pageserver emits. Checkers (S5–S13, L5, L8 of SPEC §10–11) are written against
// this list. Every event carries "node" (node id) and "inc" (process incarnation); shard fields
// are TenantShardId::ToString(); "gen" is the generation value (0 = none); "mode" is
// LocationModeName().
//
//   ps.start               {node, inc}
//   ps.re_attach           {node, inc, attempt, status}           one re-attach attempt's answer
//                          (status 0 = transport error)
//   ps.re_attach_done      {node, inc, tenants, term}             response processed; tenants may
//                                                                 activate and location_config is
//                                                                 accepted from now on
//   ps.local_reconcile     {node, inc, shard, action, gen, local_gen}
//                          action: "delete" | "secondary" | "attach" | "demote"
//   ps.location_config     {node, inc, shard, mode, gen, prev_mode, prev_gen, status, action, term}
//                          action: "refused_not_ready" (503, before re-attach) |
//                          "refused_lower_gen" (400) | "refused_term" (400) |
//                          "refused_no_gen" (400, attached mode without generation) |
//                          "in_place" | "fresh" | "detach"; prev_mode "" when no slot existed
//                          (or for refusals before the slot was looked up)
//   ps.attach              {node, inc, shard, gen, mode}         an attached slot starts loading
//   ps.index_load          {node, inc, shard, gen, index_gen, dcl, key}
//                          index chosen on attach (index_gen -1 = none found, fresh timeline);
//                          S7: index_gen <= gen always
//   ps.activate            {node, inc, shard, gen, lsn}          loaded; ingest resumes after lsn
//   ps.layer_missing       {node, inc, shard, gen, key}          an index references a missing
//                                                                 object (S8 evidence)
//   ps.flush               {node, inc, shard, gen, layer, dcl, records}
//   ps.layer_upload        {node, inc, shard, gen, key}           PUT done
//   ps.index_upload        {node, inc, shard, gen, key, dcl, layers}   PUT done (projected lsn)
//   ps.heatmap_upload      {node, inc, shard, gen, layers}
//   ps.compaction          {node, inc, shard, gen, layer, inputs, gc}
//   ps.future_layer        {node, inc, shard, gen, key}           local layer beyond the index:
//                                                                 its remote key is deleted
//   ps.upload_barrier      {node, inc, shard, gen, key}           an upload waited for a pending
//                                                                 deletion of the same key
//   ps.deletion_enqueue    {node, inc, shard, gen, keys, seq}     persisted list
//   ps.deletion_blocked    {node, inc, shard, gen, keys, mode}    held in blocked_deletions
//   ps.deletion_released   {node, inc, shard, gen, keys}          Single again: enqueued
//   ps.deletion_relabel    {node, inc, shard, from_gen, to_gen, seq}   restart rule (gen - 1)
//   ps.validate            {node, inc, shards, status}            one /validate call answered 200
//                                                                 (non-200 answers are retried)
//   ps.deletion_execute    {node, inc, shard, gen, keys, seq}     validated: DeleteObjects next
//   ps.deletion_dropped    {node, inc, shard, gen, validated_gen, valid, keys, seq}
//                          "objects may be leaked"
//   ps.remote_lsn_visible  {node, inc, shard, gen, lsn}           validated remote_consistent_lsn
//   ps.feedback            {node, inc, shard, gen, lsn}           sent to the safekeeper
//   ps.wal_gap             {node, inc, shard, gen, from_lsn, trimmed_below}
//   ps.get_page            {node, inc, shard, gen, key, lsn, status, value_lsn}
//   ps.secondary_download  {node, inc, shard, layers, bytes, status}   bytes counts layers held
//   ps.shutdown            {node, inc}                            graceful stop finished
//   ps.split               {node, inc, shard, gen, children, status, result}   a shard split
//                          request answered (split_api.h); shard = the parent, children = the
//                          child ids joined by ","; result: "split" | "already_split" |
//                          "not_ready" | "bad_count" | "no_parent" | "not_single" |
//                          "flush_timeout" | "copy_timeout". On "split" each child's index copy
//                          is a ps.index_upload and its attachment a ps.location_config with
//                          action "split" (prev_mode ""); the parent's slot is gone with no
//                          ps.location_config of its own.
#pragma once

namespace storsim::pageserver::events {

inline constexpr char kStart[] = "ps.start";
inline constexpr char kReAttach[] = "ps.re_attach";
inline constexpr char kReAttachDone[] = "ps.re_attach_done";
inline constexpr char kLocalReconcile[] = "ps.local_reconcile";
inline constexpr char kLocationConfig[] = "ps.location_config";
inline constexpr char kAttach[] = "ps.attach";
inline constexpr char kIndexLoad[] = "ps.index_load";
inline constexpr char kActivate[] = "ps.activate";
inline constexpr char kLayerMissing[] = "ps.layer_missing";
inline constexpr char kFlush[] = "ps.flush";
inline constexpr char kLayerUpload[] = "ps.layer_upload";
inline constexpr char kIndexUpload[] = "ps.index_upload";
inline constexpr char kHeatmapUpload[] = "ps.heatmap_upload";
inline constexpr char kCompaction[] = "ps.compaction";
inline constexpr char kFutureLayer[] = "ps.future_layer";
inline constexpr char kUploadBarrier[] = "ps.upload_barrier";
inline constexpr char kDeletionEnqueue[] = "ps.deletion_enqueue";
inline constexpr char kDeletionBlocked[] = "ps.deletion_blocked";
inline constexpr char kDeletionReleased[] = "ps.deletion_released";
inline constexpr char kDeletionRelabel[] = "ps.deletion_relabel";
inline constexpr char kValidate[] = "ps.validate";
inline constexpr char kDeletionExecute[] = "ps.deletion_execute";
inline constexpr char kDeletionDropped[] = "ps.deletion_dropped";
inline constexpr char kRemoteLsnVisible[] = "ps.remote_lsn_visible";
inline constexpr char kFeedback[] = "ps.feedback";
inline constexpr char kWalGap[] = "ps.wal_gap";
inline constexpr char kGetPage[] = "ps.get_page";
inline constexpr char kSecondaryDownload[] = "ps.secondary_download";
inline constexpr char kShutdown[] = "ps.shutdown";
inline constexpr char kShardSplit[] = "ps.split";

}  // namespace storsim::pageserver::events
