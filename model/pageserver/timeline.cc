// Timeline: fibers, WAL ingest, freeze/flush to layers, compaction and GC, reads, mode changes.
#include "model/pageserver/timeline.h"

#include <algorithm>

#include "model/api/safekeeper_api.h"
#include "model/pageserver/deletion_queue.h"
#include "model/pageserver/events.h"
#include "sim/check.h"

namespace storsim::pageserver {

Timeline::Timeline(PageserverContext& context, api::TenantShardId shard,
                   api::LocationConfig config)
    : context_(context),
      shard_(std::move(shard)),
      config_(std::move(config)),
      upload_wake_(context.env->scheduler()),
      upload_progress_(std::make_shared<sim::Event>(context.env->scheduler())),
      lsn_advanced_(std::make_shared<sim::Event>(context.env->scheduler())),
      active_(context.env->scheduler()),
      cancel_(context.env->scheduler()),
      stopped_(context.env->scheduler()) {
  SIM_CHECK(api::IsAttached(config_.mode));
  SIM_CHECK(!config_.generation.is_none());
}

void Timeline::RunFiber(const char* name, void (Timeline::*body)()) {
  ++fibers_running_;
  std::shared_ptr<Timeline> self = shared_from_this();
  context_.env->Spawn(name, [self, body] {
    (self.get()->*body)();
    if (--self->fibers_running_ == 0) {
      self->state_ = TimelineState::kStopped;
      self->stopped_.Set();
    }
  });
}

void Timeline::Start() {
  SIM_CHECK(fibers_running_ == 0 && state_ == TimelineState::kLoading);
  context_.Emit(events::kAttach, {sim::TraceField::Str("shard", shard_.ToString()),
                                  sim::TraceField::Int("gen", Gen()),
                                  sim::TraceField::Str("mode", api::LocationModeName(config_.mode))});
  last_flush_ = context_.env->Now();
  last_heatmap_ = context_.env->Now();
  last_feedback_ = context_.env->Now();
  RunFiber("ps.timeline.ingest", &Timeline::LoadAndIngest);
  RunFiber("ps.timeline.housekeeping", &Timeline::Housekeeping);
  RunFiber("ps.timeline.uploader", &Timeline::Uploader);
}

void Timeline::Shutdown(sim::Instant deadline) {
  if (state_ != TimelineState::kStopped) state_ = TimelineState::kStopping;
  cancel_.Set();
  upload_wake_.Set();
  NotifyLsn();
  if (fibers_running_ > 0) stopped_.Wait(deadline);
}

void Timeline::SetConfig(const api::LocationConfig& config) {
  SIM_CHECK(config.generation == config_.generation);
  SIM_CHECK(api::IsAttached(config.mode));
  const api::LocationMode old_mode = config_.mode;
  config_ = config;
  if (config.mode == api::LocationMode::kAttachedStale) {
    // Stale: projected remote_consistent_lsn updates are discarded, never validated.
    context_.deletion_queue->DiscardLsn(shard_);
  }
  if (config.mode == api::LocationMode::kAttachedSingle &&
      old_mode != api::LocationMode::kAttachedSingle) {
    ReleaseBlocked();
  }
}

bool Timeline::WaitActive(sim::Instant deadline) {
  while (state_ == TimelineState::kLoading) {
    if (sim::WaitAny(context_.env->scheduler(), {&active_, &cancel_}, deadline) < 0) break;
    if (cancel_.is_set()) break;
  }
  return state_ == TimelineState::kActive;
}

bool Timeline::WaitLsn(api::Lsn lsn, sim::Instant deadline) {
  // Each wake is an LSN advance or cancellation; the deadline bounds the loop.
  while (last_record_lsn_ < lsn && !cancel_.is_set()) {
    std::shared_ptr<sim::Event> advanced = lsn_advanced_;
    if (sim::WaitAny(context_.env->scheduler(), {advanced.get(), &cancel_}, deadline) < 0) break;
  }
  return last_record_lsn_ >= lsn;
}

void Timeline::NotifyLsn() {
  std::shared_ptr<sim::Event> old = lsn_advanced_;
  lsn_advanced_ = std::make_shared<sim::Event>(context_.env->scheduler());
  old->Set();
}

api::GetPageResponse Timeline::Read(uint64_t key, api::Lsn lsn) const {
  SIM_CHECK(state_ != TimelineState::kLoading);
  api::GetPageResponse response;
  if (lsn < gc_cutoff_) {
    response.status = api::Http::kBadRequest;  // below the GC cutoff: versions may be gone
    return response;
  }
  std::optional<std::pair<api::Lsn, std::string>> best = NewestAtOrBelow(open_, key, lsn);
  for (const auto& [name, layer] : layers_) {
    if (layer.desc.start > lsn) continue;
    auto found = NewestAtOrBelow(layer.data, key, lsn);
    if (found && (!best || found->first > best->first)) best = std::move(found);
  }
  if (best) {
    response.found = true;
    response.value_lsn = best->first;
    response.value = std::move(best->second);
  }
  return response;
}

void Timeline::LoadAndIngest() {
  if (!Load()) return;
  const api::ReadWalRequest base{shard_.tenant_id, 0, context_.options->wal_read_batch};
  while (!cancelled()) {
    api::ReadWalRequest request = base;
    request.from_lsn = last_record_lsn_ + 1;
    auto result = context_.env->rpc().Call(context_.safekeeper, api::kReadWal, request,
                                           context_.options->wal_read_timeout);
    if (cancelled()) return;
    bool full_batch = false;
    if (result.ok() && result->status == api::Http::kOk) {
      Ingest(result->records);
      full_batch = result->records.size() >= request.max_records;
    } else if (result.ok() && result->status == api::Http::kBadRequest) {
      // The WAL we need was trimmed: this attachment can never catch up (an S10 symptom).
      if (wal_gap_reported_ != request.from_lsn) {
        wal_gap_reported_ = request.from_lsn;
        SIM_MARK("ps.wal_gap");
        context_.Emit(events::kWalGap,
                      {sim::TraceField::Str("shard", shard_.ToString()),
                       sim::TraceField::Int("gen", Gen()),
                       sim::TraceField::Int("from_lsn", static_cast<int64_t>(request.from_lsn)),
                       sim::TraceField::Int("trimmed_below",
                                            static_cast<int64_t>(result->trimmed_below))});
      }
    }
    if (!full_batch && context_.SleepOrCancel(context_.options->wal_poll_period, cancel_)) return;
  }
}

void Timeline::Ingest(const std::vector<api::WalRecord>& records) {
  if (records.empty()) return;
  for (const api::WalRecord& record : records) {
    if (record.lsn <= last_record_lsn_) continue;  // duplicate delivery
    SIM_CHECK_MSG(record.lsn == last_record_lsn_ + 1, "WAL records must arrive without gaps");
    if (api::ShardOfKey(record.key, shard_.shard_count, config_.stripe_size) ==
        shard_.shard_number) {
      open_[record.key][record.lsn] = record.value;
      ++open_records_;
    }
    last_record_lsn_ = record.lsn;
  }
  NotifyLsn();
}

void Timeline::StoreLocal(const Layer& layer) {
  const std::string file = LocalLayerFile(shard_, layer.desc);
  context_.env->disk().Replace(file, {EncodeLayer(layer.desc, layer.data)});
  context_.env->disk().SyncFile(file);
}

void Timeline::Freeze() {
  if (last_record_lsn_ == disk_consistent_lsn_) return;
  SIM_CHECK(last_record_lsn_ > disk_consistent_lsn_);
  Layer layer;
  layer.desc = LayerDesc{disk_consistent_lsn_ + 1, last_record_lsn_, config_.generation,
                         shard_.ToString()};
  const size_t records = open_records_;
  if (open_records_ > 0) {
    layer.data = std::move(open_);
    StoreLocal(layer);
    UploadOp op;
    op.kind = OpKind::kUploadLayer;
    op.key = LayerKey(layer.desc, context_.options->timeline_id);
    op.bytes = EncodeLayer(layer.desc, layer.data);
    Enqueue(std::move(op));
  }
  const std::string name = layer.desc.FileName();
  if (records > 0) layers_[name] = std::move(layer);
  open_.clear();
  open_records_ = 0;
  disk_consistent_lsn_ = last_record_lsn_;
  last_flush_ = context_.env->Now();
  context_.Emit(events::kFlush, {sim::TraceField::Str("shard", shard_.ToString()),
                                 sim::TraceField::Int("gen", Gen()),
                                 sim::TraceField::Str("layer", records > 0 ? name : ""),
                                 sim::TraceField::Int("dcl", static_cast<int64_t>(disk_consistent_lsn_)),
                                 sim::TraceField::Int("records", static_cast<int64_t>(records))});
  QueueIndexUpload();
}

IndexPart Timeline::CurrentIndex() const {
  IndexPart index;
  index.generation = config_.generation;
  index.disk_consistent_lsn = disk_consistent_lsn_;
  index.gc_cutoff = gc_cutoff_;
  for (const auto& [name, layer] : layers_) index.layers.push_back(layer.desc);
  return index;
}

void Timeline::QueueIndexUpload() {
  const IndexPart index = CurrentIndex();
  UploadOp op;
  op.kind = OpKind::kUploadIndex;
  op.key = IndexKey(shard_, context_.options->timeline_id, config_.generation);
  op.bytes = EncodeIndex(index);
  op.disk_consistent_lsn = index.disk_consistent_lsn;
  op.layers = index.layers.size();
  Enqueue(std::move(op));
}

void Timeline::QueueDeletion(std::vector<std::string> keys) {
  if (keys.empty()) return;
  UploadOp op;
  op.kind = OpKind::kDelete;
  op.delete_keys = std::move(keys);
  Enqueue(std::move(op));
}

void Timeline::QueueHeatmapUpload() {
  Heatmap heatmap;
  heatmap.generation = config_.generation;
  for (const auto& [name, layer] : layers_) {
    if (!layer.missing) heatmap.layers.push_back(layer.desc);
  }
  UploadOp op;
  op.kind = OpKind::kUploadHeatmap;
  op.key = HeatmapKey(shard_);
  op.layers = heatmap.layers.size();
  op.bytes = EncodeHeatmap(heatmap);
  Enqueue(std::move(op));
  last_heatmap_ = context_.env->Now();
}

void Timeline::Compact(bool gc) {
  std::vector<std::string> inputs;
  for (const auto& [name, layer] : layers_) {
    // Ancestral layers (written by the parent before a shard split) are shared with the sibling
    // shards' indexes: a child never rewrites or deletes them (upstream keeps them too).
    if (!layer.missing && layer.desc.owner_shard == shard_.ToString()) inputs.push_back(name);
  }
  if (inputs.size() < std::max<size_t>(2, context_.options->compaction_threshold)) return;
  Layer merged;
  merged.desc.start = UINT64_MAX;
  for (const std::string& name : inputs) {
    const Layer& layer = layers_.at(name);
    merged.desc.start = std::min(merged.desc.start, layer.desc.start);
    merged.desc.end = std::max(merged.desc.end, layer.desc.end);
    for (const auto& [key, versions] : layer.data) {
      merged.data[key].insert(versions.begin(), versions.end());
    }
  }
  merged.desc.generation = config_.generation;
  merged.desc.owner_shard = shard_.ToString();
  const std::string merged_name = merged.desc.FileName();
  if (layers_.count(merged_name) > 0) return;  // nothing new to write
  if (gc && disk_consistent_lsn_ > context_.options->gc_horizon) {
    // GC: below the cutoff only the newest version of each key is needed.
    const api::Lsn cutoff = disk_consistent_lsn_ - context_.options->gc_horizon;
    for (auto& [key, versions] : merged.data) {
      auto newest_below = versions.upper_bound(cutoff);
      if (newest_below == versions.begin()) continue;
      --newest_below;
      versions.erase(versions.begin(), newest_below);
    }
    gc_cutoff_ = std::max(gc_cutoff_, cutoff);
  }
  std::vector<std::string> garbage;
  for (const std::string& name : inputs) {
    garbage.push_back(LayerKey(layers_.at(name).desc, context_.options->timeline_id));
    context_.env->disk().Remove(LocalLayerFile(shard_, layers_.at(name).desc));
    layers_.erase(name);
  }
  StoreLocal(merged);
  UploadOp upload;
  upload.kind = OpKind::kUploadLayer;
  upload.key = LayerKey(merged.desc, context_.options->timeline_id);
  upload.bytes = EncodeLayer(merged.desc, merged.data);
  Enqueue(std::move(upload));
  layers_[merged_name] = std::move(merged);
  context_.Emit(events::kCompaction, {sim::TraceField::Str("shard", shard_.ToString()),
                                      sim::TraceField::Int("gen", Gen()),
                                      sim::TraceField::Str("layer", merged_name),
                                      sim::TraceField::Int("inputs", static_cast<int64_t>(inputs.size())),
                                      sim::TraceField::Int("gc", gc ? 1 : 0)});
  // The new index unlinks the inputs; only then are their keys handed to deletion.
  QueueIndexUpload();
  QueueDeletion(std::move(garbage));
}

void Timeline::SendFeedback() {
  api::RemoteConsistentLsnFeedback feedback{shard_, context_.node_id(), config_.generation,
                                            remote_visible_};
  auto result = context_.env->rpc().Call(context_.safekeeper, api::kFeedback, feedback,
                                         context_.options->feedback_timeout);
  last_feedback_ = context_.env->Now();
  if (result.ok() && result->status == api::Http::kOk) {
    feedback_sent_ = feedback.remote_consistent_lsn;
    context_.Emit(events::kFeedback, {sim::TraceField::Str("shard", shard_.ToString()),
                                      sim::TraceField::Int("gen", Gen()),
                                      sim::TraceField::Int("lsn", static_cast<int64_t>(feedback_sent_))});
  }
}

void Timeline::Housekeeping() {
  if (!WaitActive(sim::Instant::Max())) return;
  const PageserverOptions& options = *context_.options;
  while (!context_.SleepOrCancel(options.housekeeping_period, cancel_)) {
    const bool stale = config_.mode == api::LocationMode::kAttachedStale;
    const sim::Instant now = context_.env->Now();
    // Size-triggered flushes happen in every attached mode; periodic ones are skipped in Stale
    // (PR #11317).
    if (open_records_ >= options.checkpoint_records ||
        (!stale && last_record_lsn_ > disk_consistent_lsn_ &&
         now - last_flush_ >= options.checkpoint_timeout)) {
      Freeze();
    }
    if (!stale) Compact(config_.mode == api::LocationMode::kAttachedSingle);
    if (!stale && config_.tenant_conf.heatmap_period_set &&
        now - last_heatmap_ >= options.heatmap_period) {
      QueueHeatmapUpload();
    }
    if (!stale && remote_visible_ > 0 &&
        (remote_visible_ > feedback_sent_ || now - last_feedback_ >= options.feedback_period)) {
      SendFeedback();
    }
  }
}

bool Timeline::HoldIfBlocked(api::Generation generation, const std::vector<std::string>& keys) {
  if (generation != config_.generation) return false;
  if (config_.mode != api::LocationMode::kAttachedMulti &&
      config_.mode != api::LocationMode::kAttachedStale) {
    return false;
  }
  blocked_deletions_.insert(blocked_deletions_.end(), keys.begin(), keys.end());
  SIM_MARK("ps.deletion_blocked");
  context_.Emit(events::kDeletionBlocked,
                {sim::TraceField::Str("shard", shard_.ToString()), sim::TraceField::Int("gen", Gen()),
                 sim::TraceField::Int("keys", static_cast<int64_t>(keys.size())),
                 sim::TraceField::Str("mode", api::LocationModeName(config_.mode))});
  return true;
}

void Timeline::ReleaseBlocked() {
  if (blocked_deletions_.empty()) return;
  std::vector<std::string> keys = std::move(blocked_deletions_);
  blocked_deletions_.clear();
  context_.Emit(events::kDeletionReleased,
                {sim::TraceField::Str("shard", shard_.ToString()), sim::TraceField::Int("gen", Gen()),
                 sim::TraceField::Int("keys", static_cast<int64_t>(keys.size()))});
  context_.deletion_queue->Enqueue(shard_, config_.generation, std::move(keys));
}

void Timeline::OnLsnValidated(api::Generation generation, api::Lsn lsn) {
  if (generation != config_.generation) return;
  if (config_.mode == api::LocationMode::kAttachedStale) return;  // discarded in Stale
  // A pending value of an earlier slot of this shard in the same generation can only be at or
  // below what this slot loaded; clamp so that visible <= projected always holds.
  lsn = std::min(lsn, remote_projected_);
  if (lsn <= remote_visible_) return;
  remote_visible_ = lsn;
  context_.Emit(events::kRemoteLsnVisible,
                {sim::TraceField::Str("shard", shard_.ToString()), sim::TraceField::Int("gen", Gen()),
                 sim::TraceField::Int("lsn", static_cast<int64_t>(lsn))});
}

TimelineSnapshot Timeline::Snapshot() const {
  TimelineSnapshot snapshot;
  snapshot.state = state_;
  snapshot.last_record_lsn = last_record_lsn_;
  snapshot.disk_consistent_lsn = disk_consistent_lsn_;
  snapshot.remote_consistent_lsn_projected = remote_projected_;
  snapshot.remote_consistent_lsn_visible = remote_visible_;
  snapshot.gc_cutoff = gc_cutoff_;
  snapshot.loaded_index_generation = loaded_index_generation_;
  snapshot.layers = layers_.size();
  for (const auto& [name, layer] : layers_) snapshot.missing_layers += layer.missing ? 1 : 0;
  snapshot.upload_queue = upload_queue_.size() + (upload_running_ ? 1 : 0);
  snapshot.blocked_deletions = blocked_deletions_.size();
  snapshot.in_memory_records = open_records_;
  return snapshot;
}

}  // namespace storsim::pageserver
