// Location configuration: what the controller tells a pageserver about one tenant shard
// (SPEC.md §5.1, §5.2), and the identifiers every component shares. Ids and generations are the
// persistence layer's types, so that what the database stores and what travels on the wire
// compare with ==.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/persistence/types.h"

namespace storsim::api {

using persistence::Generation;
using persistence::NodeId;
using persistence::NodeSchedulingPolicy;
using persistence::PlacementPolicy;
using persistence::TenantShardId;

// A WAL position. LSN 0 means "nothing".
using Lsn = uint64_t;

enum class LocationMode : uint8_t {
  kAttachedSingle,
  kAttachedMulti,
  kAttachedStale,
  kSecondary,
  kDetached,
};
const char* LocationModeName(LocationMode mode);
inline bool IsAttached(LocationMode mode) {
  return mode == LocationMode::kAttachedSingle || mode == LocationMode::kAttachedMulti ||
         mode == LocationMode::kAttachedStale;
}

// The part of tenant_conf the model needs.
struct TenantConf {
  bool heatmap_period_set = false;  // set by the controller iff the shard has secondaries
  bool operator==(const TenantConf&) const = default;
};

struct LocationConfig {
  LocationMode mode = LocationMode::kDetached;
  Generation generation;      // required for attached modes, none otherwise
  bool secondary_warm = false;
  uint8_t shard_number = 0;
  uint8_t shard_count = 0;
  uint32_t stripe_size = 0;
  TenantConf tenant_conf;
  // Leadership term of the controller that sent it: only the lease-fenced protocol sets it, and
  // only pageservers built with fencing check it (SPEC §3.7, RFC 037). 0 = no term.
  uint64_t controller_term = 0;

  bool operator==(const LocationConfig&) const = default;
  std::string ToString() const;  // "AttachedSingle g5"
};

}  // namespace storsim::api
