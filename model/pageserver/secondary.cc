// Secondary locations: heatmap-driven layer downloads and local cleanup.
#include "model/pageserver/secondary.h"

#include <set>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "sim/check.h"

namespace storsim::pageserver {

SecondaryLocation::SecondaryLocation(PageserverContext& context, api::TenantShardId shard,
                                     api::LocationConfig config)
    : context_(context),
      shard_(std::move(shard)),
      config_(std::move(config)),
      download_mutex_(context.env->scheduler()),
      cancel_(context.env->scheduler()),
      stopped_(context.env->scheduler()) {
  SIM_CHECK(config_.mode == api::LocationMode::kSecondary);
}

void SecondaryLocation::Start() {
  if (!config_.secondary_warm) return;
  running_ = true;
  std::shared_ptr<SecondaryLocation> self = shared_from_this();
  context_.env->Spawn("ps.secondary", [self] {
    self->PeriodicLoop();
    self->running_ = false;
    self->stopped_.Set();
  });
}

void SecondaryLocation::Shutdown(sim::Instant deadline) {
  cancel_.Set();
  if (running_) stopped_.Wait(deadline);
}

void SecondaryLocation::PeriodicLoop() {
  while (!context_.SleepOrCancel(context_.options->secondary_download_period, cancel_)) {
    Download(context_.env->DeadlineAfter(context_.options->secondary_download_period));
  }
}

api::SecondaryDownloadResponse SecondaryLocation::Download(sim::Instant deadline) {
  api::SecondaryDownloadResponse response;
  if (!download_mutex_.Lock(deadline)) {
    response.status = api::Http::kAccepted;  // another download is running
    return response;
  }
  remote_storage::RemoteStorageClient client = context_.Storage(shard_, api::Generation::None());
  auto heatmap_bytes = client.Get(HeatmapKey(shard_));
  if (!heatmap_bytes.ok()) {
    download_mutex_.Unlock();
    // No heatmap yet (404) means nothing to download; anything else is transient.
    response.status = heatmap_bytes.status().code() == absl::StatusCode::kNotFound
                          ? api::Http::kOk
                          : api::Http::kServiceUnavailable;
    return response;
  }
  const Heatmap heatmap = DecodeHeatmap(heatmap_bytes->bytes);
  std::set<std::string> wanted;
  size_t downloaded = 0;
  for (const LayerDesc& desc : heatmap.layers) {
    const std::string file = LocalLayerFile(shard_, desc);
    wanted.insert(file);
    response.bytes_total += 1;
    if (context_.env->disk().Exists(file)) {
      response.bytes_downloaded += 1;
      continue;
    }
    if (cancel_.is_set() || context_.env->scheduler().Now() >= deadline) {
      response.status = api::Http::kAccepted;
      continue;
    }
    auto layer = client.Get(LayerKey(desc, context_.options->timeline_id));
    if (!layer.ok()) {
      // A layer deleted since the heatmap was written is skipped: the next heatmap drops it.
      if (layer.status().code() != absl::StatusCode::kNotFound) {
        response.status = api::Http::kAccepted;
      }
      continue;
    }
    context_.env->disk().Replace(file, {std::move(layer->bytes)});
    context_.env->disk().SyncFile(file);
    response.bytes_downloaded += 1;
    ++downloaded;
    ++layers_downloaded_;
  }
  // Local cleanup of layers the attached location no longer uses.
  if (response.status == api::Http::kOk) {
    for (const std::string& file : context_.env->disk().List(LocalLayerPrefix(shard_))) {
      if (wanted.count(file) == 0) context_.env->disk().Remove(file);
    }
    context_.env->disk().Sync();
  }
  download_mutex_.Unlock();
  context_.Emit(events::kSecondaryDownload,
                {sim::TraceField::Str("shard", shard_.ToString()),
                 sim::TraceField::Int("layers", static_cast<int64_t>(downloaded)),
                 sim::TraceField::Int("bytes", static_cast<int64_t>(response.bytes_downloaded)),
                 sim::TraceField::Int("status", static_cast<int64_t>(response.status))});
  return response;
}

}  // namespace storsim::pageserver
