// SecondaryLocation: a tenant shard held in Secondary mode (SPEC §5.1): no ingest, no page
// service, no uploads. It downloads the layers listed in the shard's heatmap (uploaded by the
// attached location) to the local Disk, so that a later attach here finds them locally, and
// removes local layers the heatmap no longer lists. A warm secondary also downloads periodically.
#pragma once

#include <cstdint>
#include <memory>

#include "model/api/location.h"
#include "model/api/pageserver_api.h"
#include "model/pageserver/context.h"
#include "sim/sync.h"

namespace storsim::pageserver {

class SecondaryLocation : public std::enable_shared_from_this<SecondaryLocation> {
 public:
  SecondaryLocation(PageserverContext& context, api::TenantShardId shard,
                    api::LocationConfig config);

  // Spawns the periodic download fiber when warm.
  void Start();
  // Cancels downloads and waits for the fiber to stop (until `deadline`).
  void Shutdown(sim::Instant deadline);
  // Downloads the heatmap's missing layers; 200 when everything is local, 202 when `deadline`
  // came first (progress is kept on disk), 503 when the heatmap could not be read. The response's
  // bytes_downloaded / bytes_total count layers (held locally / listed), not bytes.
  api::SecondaryDownloadResponse Download(sim::Instant deadline);

  const api::LocationConfig& config() const { return config_; }
  uint64_t layers_downloaded() const { return layers_downloaded_; }

 private:
  void PeriodicLoop();

  PageserverContext& context_;
  api::TenantShardId shard_;
  api::LocationConfig config_;
  sim::Mutex download_mutex_;
  sim::Event cancel_;
  sim::Event stopped_;
  bool running_ = false;
  uint64_t layers_downloaded_ = 0;
};

}  // namespace storsim::pageserver
