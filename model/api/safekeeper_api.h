// Safekeeper API: the compute appends WAL records, pageservers read WAL from an LSN and feed back
// remote_consistent_lsn, which bounds how far the safekeeper may trim (SPEC.md §9, S10).
//
// Data model: one timeline per tenant. A record writes one key of the tenant's key/value space;
// the safekeeper assigns LSNs 1, 2, 3, ... in commit order and acknowledges a record only once it
// is durable (synced). Key k belongs to shard ShardOfKey(k, count, stripe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/api/http.h"
#include "model/api/location.h"
#include "sim/rpc.h"

namespace storsim::api {

// The shard number owning `key` for a tenant with `shard_count` shards (0 or 1 = unsharded) and a
// stripe of `stripe_size` consecutive keys (0 means 1).
inline uint8_t ShardOfKey(uint64_t key, uint8_t shard_count, uint32_t stripe_size) {
  if (shard_count <= 1) return 0;
  const uint64_t stripe = stripe_size == 0 ? 1 : stripe_size;
  return static_cast<uint8_t>((key / stripe) % shard_count);
}

struct WalRecord {
  Lsn lsn = 0;
  uint64_t key = 0;
  std::string value;
  bool operator==(const WalRecord&) const = default;
};

// Compute -> safekeeper: append one record. 200 with its LSN once durable.
struct AppendWalRequest {
  std::string tenant_id;
  uint64_t key = 0;
  std::string value;
};
struct AppendWalResponse {
  Http status = Http::kOk;
  Lsn lsn = 0;
  Lsn commit_lsn = 0;
};

// Pageserver -> safekeeper: records with lsn >= from_lsn (at most max_records). 410-style
// failure (kBadRequest) when from_lsn is below what was trimmed: the reader needs WAL that no
// longer exists (an S10 violation upstream of it).
struct ReadWalRequest {
  std::string tenant_id;
  Lsn from_lsn = 1;
  uint32_t max_records = 1024;
};
struct ReadWalResponse {
  Http status = Http::kOk;
  std::vector<WalRecord> records;
  Lsn commit_lsn = 0;
  Lsn trimmed_below = 1;  // the oldest LSN still held
};

// Pageserver -> safekeeper: a validated remote_consistent_lsn of one attachment.
struct RemoteConsistentLsnFeedback {
  TenantShardId shard;
  NodeId node_id = 0;
  Generation generation;
  Lsn remote_consistent_lsn = 0;
};
struct FeedbackResponse {
  Http status = Http::kOk;
};

inline constexpr sim::RpcMethod<AppendWalRequest, AppendWalResponse> kAppendWal{"sk.append"};
inline constexpr sim::RpcMethod<ReadWalRequest, ReadWalResponse> kReadWal{"sk.read"};
inline constexpr sim::RpcMethod<RemoteConsistentLsnFeedback, FeedbackResponse> kFeedback{
    "sk.feedback"};

}  // namespace storsim::api
