// The pageserver's shard split API (upstream PUT /v1/tenant/{shard}/shard_split), called by the
// controller's shard split (model/controller/shard_split.h). Kept here rather than in
// model/api/pageserver_api.h until the lead moves it into the wire contract.
//
// Semantics (upstream Tenant::split_prepare / shard_split): the attached parent shard flushes
// and uploads its index, stops, and each child gets a copy of the parent's last uploaded index
// under its own prefix at the parent's generation; then the children are attached on this node
// in AttachedSingle at the parent's generation (the controller copied that generation into the
// children's rows), and the parent's slot and local data are removed. A child's index references
// the parent's layers ("ancestral" layers), which the child never deletes.
//
// Answers: 200 with the children's ids (also when the split already happened here: a retry);
// 400 bad shard counts; 404 no attached parent (and not already split); 409 the parent is not
// AttachedSingle; 503 before re-attach, or the flush / index copy did not finish in time (the
// parent keeps running).
#pragma once

#include <cstdint>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "sim/rpc.h"

namespace storsim::pageserver {

struct ShardSplitRequest {
  api::TenantShardId parent;
  uint8_t new_shard_count = 0;
};
struct ShardSplitResponse {
  api::Http status = api::Http::kOk;
  std::vector<api::TenantShardId> children;
};
inline constexpr sim::RpcMethod<ShardSplitRequest, ShardSplitResponse> kShardSplit{
    "ps.shard_split"};

// The children of `parent` for a split to `new_count` shards: number parent.number + k * old
// (k < new_count / old, old = max(parent.shard_count, 1)), count new_count. Empty when new_count
// is not a multiple >= 2 of old.
inline std::vector<api::TenantShardId> SplitChildren(const api::TenantShardId& parent,
                                                     uint8_t new_count) {
  const int old_count = parent.shard_count == 0 ? 1 : parent.shard_count;
  std::vector<api::TenantShardId> children;
  if (new_count < 2 * old_count || new_count % old_count != 0) return children;
  for (int k = 0; k < new_count / old_count; ++k) {
    children.push_back(api::TenantShardId{
        parent.tenant_id, static_cast<uint8_t>(parent.shard_number + k * old_count), new_count});
  }
  return children;
}

}  // namespace storsim::pageserver
