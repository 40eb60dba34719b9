// Text forms of a compute spec and of a shard placement. The control plane persists specs and
// notifications on its sim Disk in this form (one record per value), and both the control plane
// and compute_ctl put the placement into trace events as "shard@node" lists, so that checkers
// compare placements as plain strings.
//
// Format (never shown to users, only round-tripped):
//   placement  "0@3,1@5"                        shard_number@node_id, in shard_number order
//   spec       "v=7;count=2;stripe=8;shards=0@3,1@5"
//   notify     "stripe=8;az=eu-1;shards=0@3,1@5" ("-" for an absent stripe or az)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/api/compute_api.h"

namespace storsim::compute {

// "0@3,1@5"; "" for an empty list. Keeps the given order.
std::string FormatShards(const std::vector<api::ShardLocation>& shards);
// Inverse of FormatShards; nullopt on malformed text.
std::optional<std::vector<api::ShardLocation>> ParseShards(const std::string& text);

// The spec without its tenant id (which names the file it is stored in).
std::string EncodeSpec(const api::ComputeSpec& spec);
// Inverse of EncodeSpec; nullopt on malformed text. The tenant id is taken from the caller.
std::optional<api::ComputeSpec> DecodeSpec(const std::string& tenant_id, const std::string& text);

std::string EncodeNotification(const api::NotifyAttachRequest& request);
std::optional<api::NotifyAttachRequest> DecodeNotification(const std::string& tenant_id,
                                                           const std::string& text);

// Whether two specs connect the compute to the same pageservers (same shard count, stripe and
// node per shard): what compute_ctl compares to decide that a refresh brought nothing new. The
// version is deliberately ignored.
bool SameConninfo(const api::ComputeSpec& a, const api::ComputeSpec& b);

// The node serving `shard_number` in `spec`, or nullopt when the spec has no such shard.
std::optional<api::NodeId> NodeOfShard(const api::ComputeSpec& spec, uint8_t shard_number);

}  // namespace storsim::compute
