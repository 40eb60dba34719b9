// Text forms of specs, notifications and placements (see spec_codec.h for the format).
#include "model/compute/spec_codec.h"

#include <charconv>
#include <map>

#include "sim/check.h"

namespace storsim::compute {
namespace {

constexpr size_t kShardsMax = 255;  // shard numbers are u8

std::optional<uint64_t> ParseNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [pointer, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || pointer != end) return std::nullopt;
  return value;
}

// "a=1;b=2" -> {a: 1, b: 2}. Values may contain anything but ';'. nullopt on a part without '='.
std::optional<std::map<std::string, std::string>> ParseFields(const std::string& text) {
  std::map<std::string, std::string> fields;
  size_t start = 0;
  for (size_t guard = 0; guard <= text.size() && start <= text.size(); ++guard) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    const size_t equals = part.find('=');
    if (equals == std::string::npos) return std::nullopt;
    fields[part.substr(0, equals)] = part.substr(equals + 1);
    start = end + 1;
    if (end == text.size()) break;
  }
  return fields;
}

std::optional<std::string> Field(const std::map<std::string, std::string>& fields,
                                 const char* key) {
  auto it = fields.find(key);
  if (it == fields.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::string FormatShards(const std::vector<api::ShardLocation>& shards) {
  std::string out;
  for (const api::ShardLocation& shard : shards) {
    if (!out.empty()) out += ',';
    out += std::to_string(shard.shard_number) + "@" + std::to_string(shard.node_id);
  }
  return out;
}

std::optional<std::vector<api::ShardLocation>> ParseShards(const std::string& text) {
  std::vector<api::ShardLocation> shards;
  if (text.empty()) return shards;
  size_t start = 0;
  while (start <= text.size()) {
    if (shards.size() >= kShardsMax) return std::nullopt;
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    const size_t at = part.find('@');
    if (at == std::string::npos) return std::nullopt;
    auto number = ParseNumber(part.substr(0, at));
    auto node = ParseNumber(part.substr(at + 1));
    if (!number || !node || *number > kShardsMax) return std::nullopt;
    shards.push_back(api::ShardLocation{*node, static_cast<uint8_t>(*number)});
    if (end == text.size()) break;
    start = end + 1;
  }
  return shards;
}

std::string EncodeSpec(const api::ComputeSpec& spec) {
  return "v=" + std::to_string(spec.version) + ";count=" + std::to_string(spec.shard_count) +
         ";stripe=" + std::to_string(spec.stripe_size) + ";shards=" + FormatShards(spec.shards);
}

std::optional<api::ComputeSpec> DecodeSpec(const std::string& tenant_id, const std::string& text) {
  auto fields = ParseFields(text);
  if (!fields) return std::nullopt;
  auto version = Field(*fields, "v");
  auto count = Field(*fields, "count");
  auto stripe = Field(*fields, "stripe");
  auto shards_text = Field(*fields, "shards");
  if (!version || !count || !stripe || !shards_text) return std::nullopt;
  auto version_number = ParseNumber(*version);
  auto count_number = ParseNumber(*count);
  auto stripe_number = ParseNumber(*stripe);
  auto shards = ParseShards(*shards_text);
  if (!version_number || !count_number || !stripe_number || !shards) return std::nullopt;
  if (*count_number > kShardsMax || *stripe_number > UINT32_MAX) return std::nullopt;
  api::ComputeSpec spec;
  spec.tenant_id = tenant_id;
  spec.version = *version_number;
  spec.shard_count = static_cast<uint8_t>(*count_number);
  spec.stripe_size = static_cast<uint32_t>(*stripe_number);
  spec.shards = std::move(*shards);
  return spec;
}

std::string EncodeNotification(const api::NotifyAttachRequest& request) {
  return "stripe=" +
         (request.stripe_size ? std::to_string(*request.stripe_size) : std::string("-")) +
         ";az=" + request.preferred_az.value_or("-") + ";shards=" + FormatShards(request.shards);
}

std::optional<api::NotifyAttachRequest> DecodeNotification(const std::string& tenant_id,
                                                           const std::string& text) {
  auto fields = ParseFields(text);
  if (!fields) return std::nullopt;
  auto stripe = Field(*fields, "stripe");
  auto az = Field(*fields, "az");
  auto shards_text = Field(*fields, "shards");
  if (!stripe || !az || !shards_text) return std::nullopt;
  api::NotifyAttachRequest request;
  request.tenant_id = tenant_id;
  if (*stripe != "-") {
    auto stripe_number = ParseNumber(*stripe);
    if (!stripe_number || *stripe_number > UINT32_MAX) return std::nullopt;
    request.stripe_size = static_cast<uint32_t>(*stripe_number);
  }
  if (*az != "-") request.preferred_az = *az;
  auto shards = ParseShards(*shards_text);
  if (!shards) return std::nullopt;
  request.shards = std::move(*shards);
  return request;
}

bool SameConninfo(const api::ComputeSpec& a, const api::ComputeSpec& b) {
  SIM_CHECK(a.tenant_id == b.tenant_id);
  return a.shard_count == b.shard_count && a.stripe_size == b.stripe_size && a.shards == b.shards;
}

std::optional<api::NodeId> NodeOfShard(const api::ComputeSpec& spec, uint8_t shard_number) {
  for (const api::ShardLocation& shard : spec.shards) {
    if (shard.shard_number == shard_number) return shard.node_id;
  }
  return std::nullopt;
}

}  // namespace storsim::compute
