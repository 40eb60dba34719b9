// The pageserver's data formats: layers (a set of WAL records of one shard over an LSN range),
// index_part (the list of layers plus disk_consistent_lsn), heatmaps, and the remote and local
// names of each (SPEC.md §4.3). Everything here is pure: no I/O, no time.
//
// Remote keys (generation as 08x, SPEC §4.3):
//   layer    tenants/{owner shard}/timelines/{timeline}/{start:016x}-{end:016x}-{gen:08x}
//   index    tenants/{shard}/timelines/{timeline}/index_part.json-{gen:08x}   (legacy: no suffix)
//   heatmap  tenants/{shard}/heatmap-v1.json                                  (no generation)
// A layer's owner shard and generation come from its metadata, so an index may reference layers
// written by older generations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/api/location.h"

namespace storsim::pageserver {

// Key -> (LSN -> value): the versions of every key a layer (or the in-memory layer) holds.
using VersionMap = std::map<uint64_t, std::map<api::Lsn, std::string>>;

struct LayerDesc {
  api::Lsn start = 0;  // first LSN covered
  api::Lsn end = 0;    // last LSN covered
  api::Generation generation;  // of the attachment that wrote it
  std::string owner_shard;     // TenantShardId::ToString() of the writer

  std::string Name() const;  // "{start:016x}-{end:016x}"
  // "{name}-{gen:08x}": unique per (range, generation); also the local file name.
  std::string FileName() const;
  bool operator==(const LayerDesc&) const = default;
};

struct IndexPart {
  api::Generation generation;  // of the attachment that uploaded it
  api::Lsn disk_consistent_lsn = 0;
  api::Lsn gc_cutoff = 0;
  std::vector<LayerDesc> layers;
};

struct Heatmap {
  api::Generation generation;
  std::vector<LayerDesc> layers;
};

std::string TimelinePrefix(const api::TenantShardId& shard, uint64_t timeline_id);
std::string LayerKey(const LayerDesc& layer, uint64_t timeline_id);
// Index key for `generation`; the legacy un-suffixed key for none.
std::string IndexKey(const api::TenantShardId& shard, uint64_t timeline_id,
                     api::Generation generation);
// "tenants/{shard}/timelines/{timeline}/index_part.json" (the LIST prefix and the legacy key).
std::string IndexKeyBase(const api::TenantShardId& shard, uint64_t timeline_id);
std::string HeatmapKey(const api::TenantShardId& shard);

// Encodings (RecordWriter). Decoding a malformed object fails a SIM_CHECK: only this model
// writes them.
std::string EncodeLayer(const LayerDesc& desc, const VersionMap& data);
void DecodeLayer(const std::string& bytes, LayerDesc* desc, VersionMap* data);
std::string EncodeIndex(const IndexPart& index);
IndexPart DecodeIndex(const std::string& bytes);
std::string EncodeHeatmap(const Heatmap& heatmap);
Heatmap DecodeHeatmap(const std::string& bytes);
std::string EncodeLocationConfig(const api::TenantShardId& shard, const api::LocationConfig& config);
void DecodeLocationConfig(const std::string& bytes, api::TenantShardId* shard,
                          api::LocationConfig* config);

// Local disk layout of one shard: "ps/tenants/{shard}/".
std::string LocalShardPrefix(const api::TenantShardId& shard);
std::string LocalLayerFile(const api::TenantShardId& shard, const LayerDesc& desc);
std::string LocalLayerPrefix(const api::TenantShardId& shard);

// The newest version of `key` at or below `lsn` in `data`, if any: (lsn, value).
std::optional<std::pair<api::Lsn, std::string>> NewestAtOrBelow(const VersionMap& data,
                                                                uint64_t key, api::Lsn lsn);

}  // namespace storsim::pageserver
