// The timeline's upload queue: one operation at a time, in order, each retried until done or the
// timeline is cancelled; the deletion barrier of PR #5890 (switchable defect #16).
#include <algorithm>

#include "model/pageserver/deletion_queue.h"
#include "model/pageserver/events.h"
#include "model/pageserver/timeline.h"
#include "sim/check.h"

namespace storsim::pageserver {

void Timeline::Enqueue(UploadOp op) {
  SIM_CHECK(upload_queue_.size() < 100'000);  // bounded: flushes are far rarer than uploads
  upload_queue_.push_back(std::move(op));
  upload_wake_.Set();
}

void Timeline::Uploader() {
  while (true) {
    // Wait for work; every wake is an enqueue or cancellation.
    while (upload_queue_.empty() && !cancelled()) {
      upload_wake_.Reset();
      sim::WaitAny(context_.env->scheduler(), {&upload_wake_, &cancel_});
    }
    if (cancelled()) return;
    upload_running_ = true;
    UploadOp& op = upload_queue_.front();
    const bool done = Execute(op);
    upload_running_ = false;
    if (!done) return;
    upload_queue_.pop_front();
    std::shared_ptr<sim::Event> progress = upload_progress_;
    upload_progress_ = std::make_shared<sim::Event>(context_.env->scheduler());
    progress->Set();
  }
}

bool Timeline::PutWithRetry(const std::string& key, const std::string& bytes) {
  remote_storage::RemoteStorageClient client = context_.Storage(shard_, config_.generation);
  for (int attempt = 1;; ++attempt) {
    if (cancelled()) return false;
    auto result = client.Put(key, bytes);
    if (result.ok()) return true;
    SIM_CHECK_MSG(remote_storage::IsRetryableStorageError(result.status()),
                  "a PUT of a well-formed key can only fail transiently");
    if (context_.SleepOrCancel(context_.Backoff(attempt, context_.options->storage_backoff_max),
                               cancel_)) {
      return false;
    }
  }
}

bool Timeline::Barrier(const std::string& key) {
  // A blocked (not yet enqueued) deletion of the key is simply cancelled: we are writing it again.
  blocked_deletions_.erase(std::remove(blocked_deletions_.begin(), blocked_deletions_.end(), key),
                           blocked_deletions_.end());
  bool reported = false;
  // Each pass waits at most one flush period; the loop ends when the deletion executed or was
  // dropped, or when the timeline is cancelled.
  while (context_.deletion_queue->HasPendingKey(key)) {
    if (!reported) {
      reported = true;
      SIM_MARK("ps.upload_barrier");
      context_.Emit(events::kUploadBarrier, {sim::TraceField::Str("shard", shard_.ToString()),
                                             sim::TraceField::Int("gen", Gen()),
                                             sim::TraceField::Str("key", key)});
    }
    context_.deletion_queue->Flush(
        context_.env->DeadlineAfter(context_.options->deletion_flush_period));
    if (cancelled()) return false;
  }
  return true;
}

bool Timeline::Execute(UploadOp& op) {
  switch (op.kind) {
    case OpKind::kUploadLayer: {
      if (!context_.defects->On(kDefectUploadBarrierMissing) && !Barrier(op.key)) return false;
      if (!PutWithRetry(op.key, op.bytes)) return false;
      context_.Emit(events::kLayerUpload, {sim::TraceField::Str("shard", shard_.ToString()),
                                           sim::TraceField::Int("gen", Gen()),
                                           sim::TraceField::Str("key", op.key)});
      return true;
    }
    case OpKind::kUploadIndex: {
      if (!PutWithRetry(op.key, op.bytes)) return false;
      remote_projected_ = std::max(remote_projected_, op.disk_consistent_lsn);
      last_uploaded_index_ = DecodeIndex(op.bytes);
      context_.Emit(events::kIndexUpload,
                    {sim::TraceField::Str("shard", shard_.ToString()),
                     sim::TraceField::Int("gen", Gen()), sim::TraceField::Str("key", op.key),
                     sim::TraceField::Int("dcl", static_cast<int64_t>(op.disk_consistent_lsn)),
                     sim::TraceField::Int("layers", static_cast<int64_t>(op.layers))});
      if (config_.mode != api::LocationMode::kAttachedStale) {
        context_.deletion_queue->ProjectLsn(shard_, config_.generation, op.disk_consistent_lsn);
      }
      return true;
    }
    case OpKind::kDelete: {
      SIM_CHECK(!op.delete_keys.empty());
      if (config_.mode == api::LocationMode::kAttachedMulti ||
          config_.mode == api::LocationMode::kAttachedStale) {
        const std::vector<std::string> keys = op.delete_keys;
        SIM_CHECK(HoldIfBlocked(config_.generation, keys));
        return true;
      }
      context_.deletion_queue->Enqueue(shard_, config_.generation, std::move(op.delete_keys));
      return true;
    }
    case OpKind::kUploadHeatmap: {
      if (!PutWithRetry(op.key, op.bytes)) return false;
      context_.Emit(events::kHeatmapUpload, {sim::TraceField::Str("shard", shard_.ToString()),
                                             sim::TraceField::Int("gen", Gen()),
                                             sim::TraceField::Int("layers", static_cast<int64_t>(op.layers))});
      return true;
    }
  }
  return false;
}

bool Timeline::FlushAndWaitUploads(sim::Instant deadline) {
  if (state_ != TimelineState::kActive) return false;
  Freeze();
  // Each wake is one finished upload; the deadline bounds the loop.
  while (!upload_queue_.empty() || upload_running_) {
    std::shared_ptr<sim::Event> progress = upload_progress_;
    if (sim::WaitAny(context_.env->scheduler(), {progress.get(), &cancel_}, deadline) < 0) {
      return false;
    }
    if (cancelled()) return false;
  }
  return true;
}

}  // namespace storsim::pageserver
