// Value types of the storage controller's database (SPEC.md §2): identifiers, generations, the
// persisted node and shard policies, and one struct per table row. They are shared by every
// implementation of Persistence (the in-memory ControllerTables, the simulated Postgres client and
// the libpq client), so that results from the fake and from a real PostgreSQL compare with ==.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace storsim::persistence {

// A node (pageserver) id; u64 as upstream, stored as BIGINT.
using NodeId = uint64_t;

// (tenant_id, shard_number, shard_count). Totally ordered by (tenant_id bytes, number, count), the
// order every list operation returns rows in.
struct TenantShardId {
  std::string tenant_id;
  uint8_t shard_number = 0;
  uint8_t shard_count = 0;

  auto operator<=>(const TenantShardId&) const = default;
  bool operator==(const TenantShardId&) const = default;
  // "tenant-0102" for unsharded (count 0), "tenant-0304" style suffix otherwise: tenant_id
  // followed by "-NNCC" in hex, as upstream prints shard ids.
  std::string ToString() const;
};

// A generation number: u32, plus the legacy "none" value (a NULL column). None orders below every
// real generation, as upstream's Generation does.
class Generation {
 public:
  constexpr Generation() = default;  // none
  constexpr explicit Generation(uint32_t value) : value_(value), valid_(true) {}
  static constexpr Generation None() { return Generation(); }

  bool is_none() const { return !valid_; }
  // Precondition: !is_none().
  uint32_t value() const;
  // value + 1. Precondition: !is_none() and value < INT32_MAX (the column is a signed INTEGER).
  Generation Next() const;

  std::strong_ordering operator<=>(const Generation& other) const {
    if (valid_ != other.valid_) return valid_ <=> other.valid_;
    return value_ <=> other.value_;
  }
  bool operator==(const Generation& other) const {
    return valid_ == other.valid_ && value_ == other.value_;
  }
  std::string ToString() const;  // "none" or the decimal value

 private:
  uint32_t value_ = 0;
  bool valid_ = false;
};

// nodes.scheduling_policy (SPEC §7.1). Stored as the lower-case names below.
enum class NodeSchedulingPolicy : uint8_t {
  kActive,
  kFilling,
  kPause,
  kPauseForRestart,
  kDraining,
  kDeleting,
};
inline constexpr int kNodeSchedulingPolicyCount = 6;
const char* NodeSchedulingPolicyName(NodeSchedulingPolicy policy);
std::optional<NodeSchedulingPolicy> ParseNodeSchedulingPolicy(std::string_view name);

// nodes.lifecycle: a deleted node is a tombstone (soft delete), never removed from the table.
enum class NodeLifecycle : uint8_t { kActive, kDeleted };
const char* NodeLifecycleName(NodeLifecycle lifecycle);
std::optional<NodeLifecycle> ParseNodeLifecycle(std::string_view name);

// tenant_shards.placement_policy: Attached(k secondaries) | Secondary | Detached. Stored as the
// JSON text upstream's serde writes: {"Attached":k}, "Secondary", "Detached".
struct PlacementPolicy {
  enum class Kind : uint8_t { kAttached, kSecondary, kDetached };
  Kind kind = Kind::kAttached;
  uint32_t secondaries = 0;  // only meaningful for kAttached

  static PlacementPolicy Attached(uint32_t secondaries) { return {Kind::kAttached, secondaries}; }
  static PlacementPolicy Secondary() { return {Kind::kSecondary, 0}; }
  static PlacementPolicy Detached() { return {Kind::kDetached, 0}; }

  bool operator==(const PlacementPolicy& other) const {
    return kind == other.kind && (kind != Kind::kAttached || secondaries == other.secondaries);
  }
  std::string ToJson() const;
  static std::optional<PlacementPolicy> FromJson(std::string_view json);
};

// tenant_shards.splitting.
enum class SplitState : uint8_t { kIdle = 0, kSplitting = 1 };

// The one row `controllers` is meant to hold: the current leader. `started_at` is the leader's
// local wall clock at CAS time in Unix microseconds (TIMESTAMPTZ precision); it is an identity
// token only, never compared as a time.
struct LeaderRow {
  std::string address;
  int64_t started_at = 0;

  auto operator<=>(const LeaderRow&) const = default;
  bool operator==(const LeaderRow&) const = default;
  std::string ToString() const;
};

// A row of `nodes`. Availability is not persisted (SPEC §2).
struct NodeRow {
  NodeId node_id = 0;
  NodeSchedulingPolicy scheduling_policy = NodeSchedulingPolicy::kActive;
  std::string listen_http_addr;
  uint16_t listen_http_port = 0;
  std::string listen_pg_addr;
  uint16_t listen_pg_port = 0;
  std::string availability_zone_id;
  NodeLifecycle lifecycle = NodeLifecycle::kActive;

  bool operator==(const NodeRow&) const = default;
  std::string ToString() const;
};

// A row of `tenant_shards`. Intent and observed placement are not persisted (SPEC §2).
// `generation_pageserver` is the node the latest generation was issued for (NULL = none).
struct TenantShardRow {
  TenantShardId id;
  uint32_t shard_stripe_size = 0;
  Generation generation;
  std::optional<NodeId> generation_pageserver;
  PlacementPolicy placement_policy;
  SplitState splitting = SplitState::kIdle;
  std::string config = "{}";                    // opaque JSON text
  std::string scheduling_policy = "\"Active\"";  // shard scheduling policy, opaque JSON text
  std::optional<std::string> preferred_az_id;

  bool operator==(const TenantShardRow&) const = default;
  std::string ToString() const;
};

// Result of abort_shard_split: kComplete when the parents were already gone (nothing to abort),
// kAborted when the children were removed and the parents kept.
enum class AbortShardSplitStatus : uint8_t { kAborted, kComplete };
const char* AbortShardSplitStatusName(AbortShardSplitStatus status);

}  // namespace storsim::persistence
