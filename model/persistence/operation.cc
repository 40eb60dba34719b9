// Dispatch, naming and comparison of Operation values (see operation.h).
#include "model/persistence/operation.h"

#include <type_traits>

#include "sim/check.h"

namespace storsim::persistence {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr const char* kNames[] = {
    "get_leader",        "update_leader",
    "increment_generation", "re_attach",
    "shard_generations", "update_tenant_shard",
    "detach",            "update_node_scheduling_policy",
    "insert_node",       "list_nodes",
    "delete_node",       "insert_tenant_shards",
    "list_tenant_shards", "delete_tenant",
    "begin_shard_split", "complete_shard_split",
    "abort_shard_split", "set_generation",
    "overwrite_leader"};
static_assert(std::size(kNames) == std::variant_size_v<Operation>);

std::string ShardList(const std::vector<TenantShardId>& shards) {
  std::string out = "[";
  for (size_t i = 0; i < shards.size(); ++i) out += (i ? "," : "") + shards[i].ToString();
  return out + "]";
}

template <typename T>
OpValue Value(absl::StatusOr<T> result, absl::Status* status) {
  *status = result.status();
  if (!result.ok()) return std::monostate{};
  return OpValue(std::move(*result));
}

}  // namespace

const char* OperationName(const Operation& operation) {
  SIM_CHECK(operation.index() < std::size(kNames));
  return kNames[operation.index()];
}

bool IsMutation(const Operation& operation) {
  return !std::holds_alternative<GetLeaderOp>(operation) &&
         !std::holds_alternative<ShardGenerationsOp>(operation) &&
         !std::holds_alternative<ListNodesOp>(operation) &&
         !std::holds_alternative<ListTenantShardsOp>(operation);
}

std::string OperationToString(const Operation& operation) {
  std::string detail = std::visit(
      Overloaded{
          [](const GetLeaderOp&) { return std::string(); },
          [](const UpdateLeaderOp& op) {
            return (op.prev ? op.prev->ToString() : std::string("none")) + " -> " +
                   op.next.ToString();
          },
          [](const IncrementGenerationOp& op) {
            return op.shard.ToString() + " node=" + std::to_string(op.node);
          },
          [](const ReAttachOp& op) { return "node=" + std::to_string(op.node); },
          [](const ShardGenerationsOp& op) { return ShardList(op.shards); },
          [](const UpdateTenantShardOp& op) {
            std::string out = op.filter.shard ? op.filter.shard->ToString()
                                              : "tenant " + op.filter.tenant_id;
            if (op.update.placement_policy) out += " policy=" + op.update.placement_policy->ToJson();
            if (op.update.config) out += " config=" + *op.update.config;
            if (op.update.generation) out += " gen=" + op.update.generation->ToString();
            if (op.update.scheduling_policy) out += " sched=" + *op.update.scheduling_policy;
            return out;
          },
          [](const DetachOp& op) { return op.shard.ToString(); },
          [](const UpdateNodeSchedulingPolicyOp& op) {
            return "node=" + std::to_string(op.node) + " " + NodeSchedulingPolicyName(op.policy);
          },
          [](const InsertNodeOp& op) { return op.node.ToString(); },
          [](const ListNodesOp&) { return std::string(); },
          [](const DeleteNodeOp& op) { return "node=" + std::to_string(op.node); },
          [](const InsertTenantShardsOp& op) {
            std::string out;
            for (const TenantShardRow& row : op.shards) out += "[" + row.ToString() + "]";
            return out;
          },
          [](const ListTenantShardsOp&) { return std::string(); },
          [](const DeleteTenantOp& op) { return op.tenant_id; },
          [](const BeginShardSplitOp& op) {
            return op.tenant_id + " " + std::to_string(op.old_count) + "->" +
                   std::to_string(op.new_count);
          },
          [](const CompleteShardSplitOp& op) {
            return op.tenant_id + " " + std::to_string(op.old_count) + "->" +
                   std::to_string(op.new_count);
          },
          [](const AbortShardSplitOp& op) {
            return op.tenant_id + " ->" + std::to_string(op.new_count);
          },
          [](const SetGenerationOp& op) {
            return op.shard.ToString() + " gen=" + op.generation.ToString() +
                   " node=" + std::to_string(op.node);
          },
          [](const OverwriteLeaderOp& op) { return op.next.ToString(); },
      },
      operation);
  return std::string(OperationName(operation)) + (detail.empty() ? "" : " " + detail);
}

bool OpResult::SameAs(const OpResult& other) const {
  return status.code() == other.status.code() && value == other.value;
}

std::string OpResult::ToString() const {
  if (!status.ok()) return status.ToString();
  return std::visit(
      Overloaded{
          [](const std::monostate&) { return std::string("ok"); },
          [](const std::optional<LeaderRow>& leader) {
            return "leader " + (leader ? leader->ToString() : std::string("none"));
          },
          [](const Generation& generation) { return "generation " + generation.ToString(); },
          [](const GenerationMap& generations) {
            std::string out = "generations {";
            for (const auto& [shard, generation] : generations) {
              out += " " + shard.ToString() + "=" + generation.ToString();
            }
            return out + " }";
          },
          [](const std::vector<NodeRow>& nodes) {
            std::string out = "nodes [";
            for (const NodeRow& node : nodes) out += " (" + node.ToString() + ")";
            return out + " ]";
          },
          [](const std::vector<TenantShardRow>& shards) {
            std::string out = "shards [";
            for (const TenantShardRow& shard : shards) out += " (" + shard.ToString() + ")";
            return out + " ]";
          },
          [](const AbortShardSplitStatus& abort) {
            return std::string("abort ") + AbortShardSplitStatusName(abort);
          },
      },
      value);
}

OpResult Execute(Persistence& persistence, const Operation& operation) {
  OpResult result;
  absl::Status* status = &result.status;
  result.value = std::visit(
      Overloaded{
          [&](const GetLeaderOp&) { return Value(persistence.GetLeader(), status); },
          [&](const UpdateLeaderOp& op) {
            *status = persistence.UpdateLeader(op.prev, op.next);
            return OpValue();
          },
          [&](const IncrementGenerationOp& op) {
            return Value(persistence.IncrementGeneration(op.shard, op.node), status);
          },
          [&](const ReAttachOp& op) { return Value(persistence.ReAttach(op.node), status); },
          [&](const ShardGenerationsOp& op) {
            return Value(persistence.ShardGenerations(op.shards), status);
          },
          [&](const UpdateTenantShardOp& op) {
            *status = persistence.UpdateTenantShard(op.filter, op.update);
            return OpValue();
          },
          [&](const DetachOp& op) {
            *status = persistence.Detach(op.shard);
            return OpValue();
          },
          [&](const UpdateNodeSchedulingPolicyOp& op) {
            *status = persistence.UpdateNodeSchedulingPolicy(op.node, op.policy);
            return OpValue();
          },
          [&](const InsertNodeOp& op) {
            *status = persistence.InsertNode(op.node);
            return OpValue();
          },
          [&](const ListNodesOp&) { return Value(persistence.ListNodes(), status); },
          [&](const DeleteNodeOp& op) {
            *status = persistence.DeleteNode(op.node);
            return OpValue();
          },
          [&](const InsertTenantShardsOp& op) {
            *status = persistence.InsertTenantShards(op.shards);
            return OpValue();
          },
          [&](const ListTenantShardsOp&) { return Value(persistence.ListTenantShards(), status); },
          [&](const DeleteTenantOp& op) {
            *status = persistence.DeleteTenant(op.tenant_id);
            return OpValue();
          },
          [&](const BeginShardSplitOp& op) {
            *status = persistence.BeginShardSplit(op.tenant_id, op.old_count, op.new_count);
            return OpValue();
          },
          [&](const CompleteShardSplitOp& op) {
            *status = persistence.CompleteShardSplit(op.tenant_id, op.old_count, op.new_count);
            return OpValue();
          },
          [&](const AbortShardSplitOp& op) {
            return Value(persistence.AbortShardSplit(op.tenant_id, op.new_count), status);
          },
          [&](const SetGenerationOp&) {
            *status = absl::InvalidArgumentError("set_generation is not a Persistence call");
            return OpValue();
          },
          [&](const OverwriteLeaderOp&) {
            *status = absl::InvalidArgumentError("overwrite_leader is not a Persistence call");
            return OpValue();
          },
      },
      operation);
  SIM_CHECK(result.status.ok() || std::holds_alternative<std::monostate>(result.value));
  return result;
}

}  // namespace storsim::persistence
