// Names and encodings of layers, index_part, heatmaps and persisted location configs.
#include "model/pageserver/layer.h"
#include "model/pageserver/options.h"

#include <cstdio>

#include "model/remote_storage/remote_storage_types.h"
#include "model/safekeeper/record_codec.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

std::string Hex16(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

void WriteGeneration(codec::RecordWriter& writer, api::Generation generation) {
  writer.Int(generation.is_none() ? 0 : 1).Int(generation.is_none() ? 0 : generation.value());
}
api::Generation ReadGeneration(codec::RecordReader& reader) {
  const uint64_t valid = reader.Int();
  const uint64_t value = reader.Int();
  SIM_CHECK(valid <= 1 && value <= UINT32_MAX);
  return valid == 1 ? api::Generation(static_cast<uint32_t>(value)) : api::Generation::None();
}
void WriteDesc(codec::RecordWriter& writer, const LayerDesc& desc) {
  writer.Int(desc.start).Int(desc.end);
  WriteGeneration(writer, desc.generation);
  writer.Str(desc.owner_shard);
}
LayerDesc ReadDesc(codec::RecordReader& reader) {
  LayerDesc desc;
  desc.start = reader.Int();
  desc.end = reader.Int();
  desc.generation = ReadGeneration(reader);
  desc.owner_shard = reader.Str();
  SIM_CHECK(desc.start <= desc.end);
  return desc;
}

}  // namespace

std::string LayerDesc::Name() const { return Hex16(start) + "-" + Hex16(end); }

std::string LayerDesc::FileName() const {
  if (generation.is_none()) return Name();
  return remote_storage::WithGenerationSuffix(Name(), generation.value());
}

std::string TimelinePrefix(const api::TenantShardId& shard, uint64_t timeline_id) {
  return "tenants/" + shard.ToString() + "/timelines/" + Hex16(timeline_id) + "/";
}

std::string LayerKey(const LayerDesc& layer, uint64_t timeline_id) {
  return "tenants/" + layer.owner_shard + "/timelines/" + Hex16(timeline_id) + "/" +
         layer.FileName();
}

std::string IndexKeyBase(const api::TenantShardId& shard, uint64_t timeline_id) {
  return TimelinePrefix(shard, timeline_id) + "index_part.json";
}

std::string IndexKey(const api::TenantShardId& shard, uint64_t timeline_id,
                     api::Generation generation) {
  const std::string base = IndexKeyBase(shard, timeline_id);
  if (generation.is_none()) return base;
  return remote_storage::WithGenerationSuffix(base, generation.value());
}

std::string HeatmapKey(const api::TenantShardId& shard) {
  return "tenants/" + shard.ToString() + "/heatmap-v1.json";
}

std::string EncodeLayer(const LayerDesc& desc, const VersionMap& data) {
  codec::RecordWriter writer;
  WriteDesc(writer, desc);
  for (const auto& [key, versions] : data) {
    for (const auto& [lsn, value] : versions) {
      SIM_CHECK(lsn >= desc.start && lsn <= desc.end);
      writer.Int(key).Int(lsn).Str(value);
    }
  }
  return writer.Take();
}

void DecodeLayer(const std::string& bytes, LayerDesc* desc, VersionMap* data) {
  codec::RecordReader reader(bytes);
  *desc = ReadDesc(reader);
  data->clear();
  size_t records = 0;
  while (!reader.done()) {
    const uint64_t key = reader.Int();
    const api::Lsn lsn = reader.Int();
    (*data)[key][lsn] = reader.Str();
    SIM_CHECK(lsn >= desc->start && lsn <= desc->end);
    SIM_CHECK(++records <= bytes.size());
  }
}

std::string EncodeIndex(const IndexPart& index) {
  codec::RecordWriter writer;
  WriteGeneration(writer, index.generation);
  writer.Int(index.disk_consistent_lsn).Int(index.gc_cutoff).Int(index.layers.size());
  for (const LayerDesc& desc : index.layers) WriteDesc(writer, desc);
  return writer.Take();
}

IndexPart DecodeIndex(const std::string& bytes) {
  codec::RecordReader reader(bytes);
  IndexPart index;
  index.generation = ReadGeneration(reader);
  index.disk_consistent_lsn = reader.Int();
  index.gc_cutoff = reader.Int();
  const uint64_t count = reader.Int();
  SIM_CHECK(count <= bytes.size());
  for (uint64_t i = 0; i < count; ++i) index.layers.push_back(ReadDesc(reader));
  SIM_CHECK(reader.done());
  return index;
}

std::string EncodeHeatmap(const Heatmap& heatmap) {
  codec::RecordWriter writer;
  WriteGeneration(writer, heatmap.generation);
  writer.Int(heatmap.layers.size());
  for (const LayerDesc& desc : heatmap.layers) WriteDesc(writer, desc);
  return writer.Take();
}

Heatmap DecodeHeatmap(const std::string& bytes) {
  codec::RecordReader reader(bytes);
  Heatmap heatmap;
  heatmap.generation = ReadGeneration(reader);
  const uint64_t count = reader.Int();
  SIM_CHECK(count <= bytes.size());
  for (uint64_t i = 0; i < count; ++i) heatmap.layers.push_back(ReadDesc(reader));
  SIM_CHECK(reader.done());
  return heatmap;
}

std::string EncodeLocationConfig(const api::TenantShardId& shard,
                                 const api::LocationConfig& config) {
  codec::RecordWriter writer;
  writer.Str(shard.tenant_id).Int(shard.shard_number).Int(shard.shard_count);
  writer.Int(static_cast<uint64_t>(config.mode));
  WriteGeneration(writer, config.generation);
  writer.Int(config.secondary_warm ? 1 : 0).Int(config.shard_number).Int(config.shard_count);
  writer.Int(config.stripe_size).Int(config.tenant_conf.heatmap_period_set ? 1 : 0);
  writer.Int(config.controller_term);
  return writer.Take();
}

void DecodeLocationConfig(const std::string& bytes, api::TenantShardId* shard,
                          api::LocationConfig* config) {
  codec::RecordReader reader(bytes);
  shard->tenant_id = reader.Str();
  shard->shard_number = static_cast<uint8_t>(reader.Int());
  shard->shard_count = static_cast<uint8_t>(reader.Int());
  const uint64_t mode = reader.Int();
  SIM_CHECK(mode <= static_cast<uint64_t>(api::LocationMode::kDetached));
  config->mode = static_cast<api::LocationMode>(mode);
  config->generation = ReadGeneration(reader);
  config->secondary_warm = reader.Int() == 1;
  config->shard_number = static_cast<uint8_t>(reader.Int());
  config->shard_count = static_cast<uint8_t>(reader.Int());
  config->stripe_size = static_cast<uint32_t>(reader.Int());
  config->tenant_conf.heatmap_period_set = reader.Int() == 1;
  config->controller_term = reader.Int();
  SIM_CHECK(reader.done());
}

std::string LocalShardPrefix(const api::TenantShardId& shard) {
  return "ps/tenants/" + shard.ToString() + "/";
}
std::string LocalLayerPrefix(const api::TenantShardId& shard) {
  return LocalShardPrefix(shard) + "layers/";
}
std::string LocalLayerFile(const api::TenantShardId& shard, const LayerDesc& desc) {
  return LocalLayerPrefix(shard) + desc.FileName();
}

std::optional<std::pair<api::Lsn, std::string>> NewestAtOrBelow(const VersionMap& data,
                                                                uint64_t key, api::Lsn lsn) {
  auto it = data.find(key);
  if (it == data.end()) return std::nullopt;
  auto version = it->second.upper_bound(lsn);
  if (version == it->second.begin()) return std::nullopt;
  --version;
  SIM_CHECK(version->first <= lsn);
  return std::make_pair(version->first, version->second);
}

std::vector<api::DefectInfo> PageserverDefects() {
  return {api::DefectInfo{
      kDefectUploadBarrierMissing, "pageserver", "PR #5890, issue #5878 (+ #9844)", "S8",
      "an upload of a key does not wait for a pending deletion of the same key, so the deletion "
      "can execute after the re-upload and the index references a missing object"}};
}

}  // namespace storsim::pageserver
