// Options of the pageserver model (defaults from SPEC.md §13.1 where the spec names them) and the
// switchable defects it implements (SPEC §12).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/api/defects.h"
#include "model/api/location.h"
#include "sim/time.h"

namespace storsim::pageserver {

// Bug #16 (PR #5890, issue #5878): uploads of a key do not wait for a pending deletion of the same
// key (no upload-queue barrier), so the deletion can land after the re-upload and the index then
// references a missing object (S8).
inline constexpr char kDefectUploadBarrierMissing[] = "upload-barrier-missing";

std::vector<api::DefectInfo> PageserverDefects();

struct PageserverOptions {
  api::NodeId node_id = 1;
  uint64_t timeline_id = 1;  // one timeline per tenant in the model

  // Upcalls (re-attach, validate): retried forever with a doubling backoff capped at 3 s.
  sim::Duration upcall_timeout = sim::Duration::Seconds(10);
  sim::Duration upcall_backoff_max = sim::Duration::Seconds(3);

  // Deletion queue: flush every 10 s or at 16384 pending keys; validate 128 shards per request.
  sim::Duration deletion_flush_period = sim::Duration::Seconds(10);
  size_t deletion_flush_keys = 16384;
  size_t validate_chunk_shards = 128;

  // Page service.
  sim::Duration wait_lsn_timeout = sim::Duration::Seconds(300);
  sim::Duration active_wait = sim::Duration::Seconds(5);  // wait for an attaching tenant

  // WAL ingest from the safekeeper.
  sim::Duration wal_poll_period = sim::Duration::Millis(200);
  sim::Duration wal_read_timeout = sim::Duration::Seconds(5);
  uint32_t wal_read_batch = 256;

  // Flush of in-memory data to layers (checkpointing), compaction and GC.
  size_t checkpoint_records = 64;
  sim::Duration checkpoint_timeout = sim::Duration::Seconds(10);
  sim::Duration housekeeping_period = sim::Duration::Seconds(1);
  size_t compaction_threshold = 4;   // compact when this many layers exist
  api::Lsn gc_horizon = 1024;        // GC keeps every version newer than dcl - gc_horizon

  // Remote storage, heatmaps, secondaries, feedback.
  sim::Duration storage_timeout = sim::Duration::Seconds(10);
  sim::Duration storage_backoff_max = sim::Duration::Seconds(3);
  sim::Duration heatmap_period = sim::Duration::Seconds(60);
  sim::Duration secondary_download_period = sim::Duration::Seconds(60);
  sim::Duration feedback_period = sim::Duration::Seconds(5);
  sim::Duration feedback_timeout = sim::Duration::Seconds(1);

  // Shard split: the time a split of the whole tenant spends preparing the children once the
  // parent's uploads are flushed and before the parent stops (upstream hard-links every layer
  // file of the parent for each child: seconds for a large tenant); a shard of a sharded tenant
  // takes its share, split_prepare / shard_count. Zero: a split takes only its flush and index
  // copies.
  sim::Duration split_prepare = sim::Duration::Zero();

  // Bounds on waits at teardown and graceful shutdown.
  sim::Duration teardown_flush_timeout = sim::Duration::Seconds(5);
  sim::Duration shutdown_flush_timeout = sim::Duration::Seconds(10);

  // Lease-fenced protocol variant (SPEC §3.7): refuse location_config with a lower non-zero term.
  bool check_controller_term = false;
};

}  // namespace storsim::pageserver
