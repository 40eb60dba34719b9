// Timeline: the attached state of one tenant shard on a pageserver (one timeline per tenant in the
// model). It loads the remote index on attach (SPEC §4.3 selection), downloads the index's layers,
// ingests WAL from the safekeeper from the index's disk_consistent_lsn, keeps new records in
// memory, flushes them to layer files on the local Disk, uploads layers and index_part through a
// FIFO upload queue, compacts (and, in AttachedSingle, garbage-collects) layers, and answers
// GetPage@LSN from memory + layers. Capabilities follow the mode table of SPEC §5.1.
//
// Fibers (all stop when Shutdown cancels them): "load+ingest", "housekeeping" (flush, compaction,
// heatmap, feedback) and "uploader" (the upload queue). A Timeline is shared (shared_ptr) by its
// slot and its fibers, so teardown never frees state a fiber still uses.
//
// Upload queue: operations run one at a time in order (layer PUT, index PUT, deletion hand-off,
// heatmap PUT), so a deletion is never handed over before the index that unlinks its keys, and a
// delete of a key comes after every earlier upload of it. The barrier (PR #5890): an upload of a
// key that has a pending deletion in the deletion queue first flushes the deletion queue and waits
// until that deletion executed or was dropped; a pending blocked deletion of the key is cancelled.
// Defect "upload-barrier-missing" skips the barrier.
//
// Invariants:
//   1. disk_consistent_lsn <= last_record_lsn; remote projected <= disk_consistent_lsn;
//      visible <= projected.
//   2. Every record with lsn <= disk_consistent_lsn that belongs to this shard is in a layer.
//   3. Every key this timeline PUTs carries this attachment's generation (S6).
//   4. The loaded index's generation <= this attachment's generation (S7).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/location.h"
#include "model/api/pageserver_api.h"
#include "model/api/safekeeper_api.h"
#include "model/pageserver/context.h"
#include "model/pageserver/layer.h"
#include "sim/sync.h"

namespace storsim::pageserver {

enum class TimelineState : uint8_t { kLoading, kActive, kStopping, kStopped };

struct TimelineSnapshot {
  TimelineState state = TimelineState::kLoading;
  api::Lsn last_record_lsn = 0;
  api::Lsn disk_consistent_lsn = 0;
  api::Lsn remote_consistent_lsn_projected = 0;
  api::Lsn remote_consistent_lsn_visible = 0;
  api::Lsn gc_cutoff = 0;
  std::optional<api::Generation> loaded_index_generation;  // nullopt: none found (fresh)
  size_t layers = 0;
  size_t missing_layers = 0;
  size_t upload_queue = 0;
  size_t blocked_deletions = 0;
  size_t in_memory_records = 0;
};

class Timeline : public std::enable_shared_from_this<Timeline> {
 public:
  Timeline(PageserverContext& context, api::TenantShardId shard, api::LocationConfig config);
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  // Spawns the fibers: loading starts at once. Call once.
  void Start();
  // Cancels every fiber and waits (until `deadline`) for them to stop. Pending uploads and
  // blocked deletions are abandoned (generations make that safe). Idempotent.
  void Shutdown(sim::Instant deadline);

  // In-place update for a location_config with the same generation (SPEC §4.2).
  void SetConfig(const api::LocationConfig& config);
  // Freezes in-memory data into a layer, queues its upload and an index upload, and waits until
  // the upload queue is empty or `deadline`. Returns whether everything was uploaded.
  bool FlushAndWaitUploads(sim::Instant deadline);

  // Waits until loaded (kActive). false on deadline or when stopping.
  bool WaitActive(sim::Instant deadline);
  // Waits until last_record_lsn >= lsn. false on deadline or when stopping.
  bool WaitLsn(api::Lsn lsn, sim::Instant deadline);
  // Newest value of `key` at or below `lsn`, from memory and layers. Precondition: active and
  // last_record_lsn >= lsn. Status 400 when lsn is below the GC cutoff.
  api::GetPageResponse Read(uint64_t key, api::Lsn lsn) const;

  // Deletion queue hooks (see DeletionQueueHost).
  bool HoldIfBlocked(api::Generation generation, const std::vector<std::string>& keys);
  void OnLsnValidated(api::Generation generation, api::Lsn lsn);

  const api::TenantShardId& shard() const { return shard_; }
  api::Generation generation() const { return config_.generation; }
  api::LocationMode mode() const { return config_.mode; }
  const api::LocationConfig& config() const { return config_; }
  TimelineState state() const { return state_; }
  api::Lsn last_record_lsn() const { return last_record_lsn_; }
  TimelineSnapshot Snapshot() const;
  // The index this attachment last uploaded (or loaded at attach, if it uploaded none since):
  // what remote storage holds for it. A shard split copies it to the children. nullopt before
  // the first load or upload.
  const std::optional<IndexPart>& last_uploaded_index() const { return last_uploaded_index_; }

 private:
  struct Layer {
    LayerDesc desc;
    VersionMap data;
    bool missing = false;  // referenced by the index but absent from remote storage
  };
  enum class OpKind : uint8_t { kUploadLayer, kUploadIndex, kDelete, kUploadHeatmap };
  struct UploadOp {
    OpKind kind = OpKind::kUploadLayer;
    std::string key;
    std::string bytes;
    api::Lsn disk_consistent_lsn = 0;  // kUploadIndex
    size_t layers = 0;                 // kUploadIndex / kUploadHeatmap
    std::vector<std::string> delete_keys;  // kDelete
  };

  // Fiber bodies.
  void LoadAndIngest();
  void Housekeeping();
  void Uploader();
  void RunFiber(const char* name, void (Timeline::*body)());

  // Loading (timeline_load.cc).
  bool Load();  // false when cancelled
  std::optional<IndexPart> SelectIndex(std::string* key);
  // Downloads what the index references unless the local copy is that very layer; a local file
  // of the same name holding another layer (another owner's, left by an earlier incarnation of
  // this shard) is discarded like a future layer, its remote key added to `remote_garbage`.
  bool DownloadLayers(const IndexPart& index, std::vector<std::string>* remote_garbage);
  // Removes the local layers the index does not reference; those this generation wrote (and may
  // have uploaded) are deleted remotely too, with `remote_garbage`.
  void HandleFutureLayers(const IndexPart& index, std::vector<std::string> remote_garbage);
  // Removes a local layer file; if this generation wrote it, adds its remote key to the garbage.
  void DiscardLocalLayer(const std::string& file, std::vector<std::string>* remote_garbage);

  // Data path.
  void Ingest(const std::vector<api::WalRecord>& records);
  void NotifyLsn();
  void Freeze();
  void Compact(bool gc);
  IndexPart CurrentIndex() const;
  void QueueIndexUpload();
  void QueueDeletion(std::vector<std::string> keys);
  void QueueHeatmapUpload();
  void SendFeedback();
  void StoreLocal(const Layer& layer);

  // Upload queue (timeline_upload.cc).
  void Enqueue(UploadOp op);
  bool Execute(UploadOp& op);  // false when cancelled
  bool PutWithRetry(const std::string& key, const std::string& bytes);
  bool Barrier(const std::string& key);
  void ReleaseBlocked();

  int64_t Gen() const { return config_.generation.is_none() ? 0 : config_.generation.value(); }
  bool cancelled() const { return cancel_.is_set(); }

  PageserverContext& context_;
  api::TenantShardId shard_;
  api::LocationConfig config_;
  TimelineState state_ = TimelineState::kLoading;

  std::map<std::string, Layer> layers_;  // by LayerDesc::FileName()
  VersionMap open_;
  size_t open_records_ = 0;
  api::Lsn last_record_lsn_ = 0;
  api::Lsn disk_consistent_lsn_ = 0;
  api::Lsn remote_projected_ = 0;
  api::Lsn remote_visible_ = 0;
  api::Lsn feedback_sent_ = 0;
  api::Lsn gc_cutoff_ = 0;
  api::Lsn wal_gap_reported_ = 0;
  std::optional<api::Generation> loaded_index_generation_;
  std::optional<IndexPart> last_uploaded_index_;
  std::vector<std::string> blocked_deletions_;
  sim::Instant last_flush_;
  sim::Instant last_heatmap_;
  sim::Instant last_feedback_;

  std::deque<UploadOp> upload_queue_;
  bool upload_running_ = false;
  sim::Event upload_wake_;
  std::shared_ptr<sim::Event> upload_progress_;
  std::shared_ptr<sim::Event> lsn_advanced_;
  sim::Event active_;
  sim::Event cancel_;
  sim::Event stopped_;
  int fibers_running_ = 0;
};

}  // namespace storsim::pageserver
