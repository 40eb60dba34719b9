// Names, parsing and printing of the persistence value types. The text forms are the ones stored
// in the real database's VARCHAR columns, so they must round-trip exactly.
#include "model/persistence/types.h"

#include <cstdio>
#include <limits>

#include "absl/strings/numbers.h"
#include "sim/check.h"

namespace storsim::persistence {

std::string TenantShardId::ToString() const {
  if (shard_count == 0) return tenant_id;
  char suffix[8];
  std::snprintf(suffix, sizeof(suffix), "-%02x%02x", shard_number, shard_count);
  return tenant_id + suffix;
}

uint32_t Generation::value() const {
  SIM_CHECK_MSG(valid_, "value() of generation none");
  return value_;
}

Generation Generation::Next() const {
  SIM_CHECK_MSG(valid_, "Next() of generation none");
  SIM_CHECK_MSG(value_ < static_cast<uint32_t>(std::numeric_limits<int32_t>::max()),
                "generation overflows the INTEGER column");
  return Generation(value_ + 1);
}

std::string Generation::ToString() const { return valid_ ? std::to_string(value_) : "none"; }

namespace {
constexpr const char* kPolicyNames[kNodeSchedulingPolicyCount] = {
    "active", "filling", "pause", "pause_for_restart", "draining", "deleting"};
}  // namespace

const char* NodeSchedulingPolicyName(NodeSchedulingPolicy policy) {
  const auto index = static_cast<size_t>(policy);
  SIM_CHECK(index < static_cast<size_t>(kNodeSchedulingPolicyCount));
  return kPolicyNames[index];
}

std::optional<NodeSchedulingPolicy> ParseNodeSchedulingPolicy(std::string_view name) {
  for (int i = 0; i < kNodeSchedulingPolicyCount; ++i) {
    if (name == kPolicyNames[i]) return static_cast<NodeSchedulingPolicy>(i);
  }
  return std::nullopt;
}

const char* NodeLifecycleName(NodeLifecycle lifecycle) {
  return lifecycle == NodeLifecycle::kActive ? "active" : "deleted";
}

std::optional<NodeLifecycle> ParseNodeLifecycle(std::string_view name) {
  if (name == "active") return NodeLifecycle::kActive;
  if (name == "deleted") return NodeLifecycle::kDeleted;
  return std::nullopt;
}

std::string PlacementPolicy::ToJson() const {
  switch (kind) {
    case Kind::kAttached:
      return "{\"Attached\":" + std::to_string(secondaries) + "}";
    case Kind::kSecondary:
      return "\"Secondary\"";
    case Kind::kDetached:
      return "\"Detached\"";
  }
  SIM_CHECK_MSG(false, "unknown placement policy kind");
  return "";
}

std::optional<PlacementPolicy> PlacementPolicy::FromJson(std::string_view json) {
  if (json == "\"Secondary\"") return Secondary();
  if (json == "\"Detached\"") return Detached();
  constexpr std::string_view kPrefix = "{\"Attached\":";
  if (json.size() > kPrefix.size() + 1 && json.substr(0, kPrefix.size()) == kPrefix &&
      json.back() == '}') {
    std::string digits(json.substr(kPrefix.size(), json.size() - kPrefix.size() - 1));
    uint32_t secondaries = 0;
    if (absl::SimpleAtoi(digits, &secondaries)) return Attached(secondaries);
  }
  return std::nullopt;
}

std::string LeaderRow::ToString() const {
  return address + "@" + std::to_string(started_at);
}

std::string NodeRow::ToString() const {
  return "node " + std::to_string(node_id) + " " + NodeSchedulingPolicyName(scheduling_policy) +
         " " + NodeLifecycleName(lifecycle) + " http=" + listen_http_addr + ":" +
         std::to_string(listen_http_port) + " pg=" + listen_pg_addr + ":" +
         std::to_string(listen_pg_port) + " az=" + availability_zone_id;
}

std::string TenantShardRow::ToString() const {
  return "shard " + id.ToString() + " stripe=" + std::to_string(shard_stripe_size) +
         " gen=" + generation.ToString() + " gen_ps=" +
         (generation_pageserver ? std::to_string(*generation_pageserver) : "null") +
         " policy=" + placement_policy.ToJson() +
         " splitting=" + std::to_string(static_cast<int>(splitting)) + " config=" + config +
         " sched=" + scheduling_policy + " az=" + preferred_az_id.value_or("null");
}

const char* AbortShardSplitStatusName(AbortShardSplitStatus status) {
  return status == AbortShardSplitStatus::kAborted ? "aborted" : "complete";
}

}  // namespace storsim::persistence
