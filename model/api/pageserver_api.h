// The pageserver's management API (called by the controller) and page service (called by
// computes). SPEC.md §4.2, §5.3, §6.3, §6.6, §9.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "sim/rpc.h"
#include "sim/time.h"

namespace storsim::api {

// PUT /v1/tenant/{shard}/location_config?flush_ms=..&lazy=..
// Answers: 200; 400 lower generation than the attached one (or a stale controller term when
// fencing is on); 503 before the re-attach response was processed.
struct PutLocationConfigRequest {
  TenantShardId shard;
  LocationConfig config;
  sim::Duration flush = sim::Duration::Zero();  // flush_ms: wait for uploads when going Stale
  bool lazy = false;
};
struct PutLocationConfigResponse {
  Http status = Http::kOk;
};

// GET /v1/location_config: every slot; nullopt config = slot mid-transition.
struct ListLocationConfigsRequest {};
struct ListLocationConfigsResponse {
  Http status = Http::kOk;
  std::vector<std::pair<TenantShardId, std::optional<LocationConfig>>> shards;
};

// GET /v1/tenant/{shard}/location_config: 404 when there is no slot.
struct GetLocationConfigRequest {
  TenantShardId shard;
};
struct GetLocationConfigResponse {
  Http status = Http::kOk;
  std::optional<LocationConfig> config;
};

// GET /v1/utilization (heartbeats).
struct UtilizationRequest {};
struct UtilizationResponse {
  Http status = Http::kOk;
  uint64_t utilization_score = 0;
  uint32_t shard_count = 0;
};

// Timeline LSNs of an attached shard (live migration steps 2 and 6). One timeline per tenant in
// the model; timeline_id is kept so the shape matches upstream.
struct TimelineLsn {
  uint64_t timeline_id = 0;
  Lsn last_record_lsn = 0;
};
struct TimelineLsnsRequest {
  TenantShardId shard;
};
struct TimelineLsnsResponse {
  Http status = Http::kOk;  // 404 when not attached
  std::vector<TimelineLsn> timelines;
};

// Ask an attached shard to wait until it has ingested up to the given LSNs (hint, 10 s).
struct WaitLsnRequest {
  TenantShardId shard;
  std::vector<TimelineLsn> timelines;
  sim::Duration timeout = sim::Duration::Seconds(10);
};
struct WaitLsnResponse {
  Http status = Http::kOk;  // 200 caught up, 408 timed out, 404 not attached
};

// POST /v1/tenant/{shard}/secondary/download?wait_ms=..: 200 done, 202 still downloading.
struct SecondaryDownloadRequest {
  TenantShardId shard;
  sim::Duration wait = sim::Duration::Seconds(20);
};
struct SecondaryDownloadResponse {
  Http status = Http::kOk;
  uint64_t bytes_downloaded = 0;
  uint64_t bytes_total = 0;
};

// Page service: GetPage@LSN for one key of the model's key/value data. The pageserver waits up to
// wait_lsn_timeout for last_record_lsn >= request_lsn. Answers: 200 with the newest value at or
// below request_lsn (found=false if the key was never written); 404 NotFound when the shard is
// not attached here (Secondary, Detached, unknown); 408 when wait_lsn timed out.
struct GetPageRequest {
  TenantShardId shard;
  uint64_t key = 0;
  Lsn request_lsn = 0;
};
struct GetPageResponse {
  Http status = Http::kOk;
  bool found = false;
  std::string value;
  Lsn value_lsn = 0;  // LSN of the record that wrote `value`
};

inline constexpr sim::RpcMethod<PutLocationConfigRequest, PutLocationConfigResponse>
    kPutLocationConfig{"ps.location_config.put"};
inline constexpr sim::RpcMethod<ListLocationConfigsRequest, ListLocationConfigsResponse>
    kListLocationConfigs{"ps.location_config.list"};
inline constexpr sim::RpcMethod<GetLocationConfigRequest, GetLocationConfigResponse>
    kGetLocationConfig{"ps.location_config.get"};
inline constexpr sim::RpcMethod<UtilizationRequest, UtilizationResponse> kUtilization{
    "ps.utilization"};
inline constexpr sim::RpcMethod<TimelineLsnsRequest, TimelineLsnsResponse> kTimelineLsns{
    "ps.timeline_lsns"};
inline constexpr sim::RpcMethod<WaitLsnRequest, WaitLsnResponse> kWaitLsn{"ps.wait_lsn"};
inline constexpr sim::RpcMethod<SecondaryDownloadRequest, SecondaryDownloadResponse>
    kSecondaryDownload{"ps.secondary_download"};
inline constexpr sim::RpcMethod<GetPageRequest, GetPageResponse> kGetPage{"ps.get_page"};

}  // namespace storsim::api
