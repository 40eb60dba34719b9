// The simulated database client (see postgres_client.h): one kTxn RPC per transaction attempt,
// retried on serialization failure only.
#include "model/postgres/postgres_client.h"

#include <algorithm>
#include <utility>

#include "model/postgres/postgres_server.h"
#include "sim/check.h"

namespace storsim::postgres {

using namespace storsim::persistence;

namespace {

absl::Status StatusOf(const OpResult& result) { return result.status; }

template <typename T>
absl::StatusOr<T> ValueOf(OpResult result) {
  if (!result.status.ok()) return result.status;
  T* value = std::get_if<T>(&result.value);
  SIM_CHECK_MSG(value != nullptr, "the database replied with a value of the wrong type");
  return std::move(*value);
}

}  // namespace

PostgresClient::PostgresClient(sim::Env& env, sim::ProcessId server, PostgresClientOptions options)
    : env_(env), server_(server), options_(options) {
  SIM_CHECK(options_.serialization_retries_max >= 1);
  SIM_CHECK(options_.timeout > sim::Duration::Zero());
}

OpResult PostgresClient::Run(const Operation& operation) {
  // Each call holds its own handle: a concurrent call (another fiber of this process) sees a
  // count above 1 and takes a fresh operation, so a retry below always resends this one.
  if (request_operation_.use_count() == 1) {
    request_operation_.Refill(operation);  // no message, handler or call holds the last one
  } else {
    request_operation_ = SharedOperation(operation);
  }
  const SharedOperation request = request_operation_;
  OpResult last;
  for (int attempt = 0; attempt < options_.serialization_retries_max; ++attempt) {
    ++stats_.transactions;
    absl::StatusOr<TxnReply> reply =
        env_.rpc().Call(server_, kTxn, TxnRequest{request}, options_.timeout);
    if (!reply.ok()) return OpResult{reply.status(), {}};
    if (reply->status.code() != absl::StatusCode::kAborted) return std::move(*reply).ToResult();
    last = std::move(*reply).ToResult();
    ++stats_.serialization_retries;
    SIM_MARK("db.client.serialization_retry");
  }
  SIM_MARK("db.client.serialization_retries_exhausted");
  return last;
}

absl::StatusOr<std::optional<LeaderRow>> PostgresClient::GetLeader() {
  return ValueOf<std::optional<LeaderRow>>(Run(GetLeaderOp{}));
}

absl::Status PostgresClient::UpdateLeader(const std::optional<LeaderRow>& prev,
                                          const LeaderRow& next) {
  return StatusOf(Run(UpdateLeaderOp{prev, next}));
}

absl::StatusOr<Generation> PostgresClient::IncrementGeneration(const TenantShardId& shard,
                                                               NodeId node) {
  return ValueOf<Generation>(Run(IncrementGenerationOp{shard, node}));
}

absl::StatusOr<GenerationMap> PostgresClient::ReAttach(NodeId node) {
  return ValueOf<GenerationMap>(Run(ReAttachOp{node}));
}

absl::StatusOr<GenerationMap> PostgresClient::ShardGenerations(
    const std::vector<TenantShardId>& shards) {
  GenerationMap generations;
  for (size_t begin = 0; begin < shards.size(); begin += kShardGenerationsChunk) {
    const size_t end = std::min(shards.size(), begin + kShardGenerationsChunk);
    ShardGenerationsOp chunk{std::vector<TenantShardId>(shards.begin() + begin,
                                                        shards.begin() + end)};
    absl::StatusOr<GenerationMap> part = ValueOf<GenerationMap>(Run(chunk));
    if (!part.ok()) return part.status();
    generations.insert(part->begin(), part->end());
  }
  return generations;
}

absl::Status PostgresClient::UpdateTenantShard(const TenantFilter& filter,
                                               const TenantShardUpdate& update) {
  return StatusOf(Run(UpdateTenantShardOp{filter, update}));
}

absl::Status PostgresClient::Detach(const TenantShardId& shard) {
  return StatusOf(Run(DetachOp{shard}));
}

absl::Status PostgresClient::UpdateNodeSchedulingPolicy(NodeId node,
                                                        NodeSchedulingPolicy policy) {
  return StatusOf(Run(UpdateNodeSchedulingPolicyOp{node, policy}));
}

absl::Status PostgresClient::InsertNode(const NodeRow& node) {
  return StatusOf(Run(InsertNodeOp{node}));
}

absl::StatusOr<std::vector<NodeRow>> PostgresClient::ListNodes() {
  return ValueOf<std::vector<NodeRow>>(Run(ListNodesOp{}));
}

absl::Status PostgresClient::DeleteNode(NodeId node) { return StatusOf(Run(DeleteNodeOp{node})); }

absl::Status PostgresClient::InsertTenantShards(const std::vector<TenantShardRow>& shards) {
  return StatusOf(Run(InsertTenantShardsOp{shards}));
}

absl::StatusOr<std::vector<TenantShardRow>> PostgresClient::ListTenantShards() {
  return ValueOf<std::vector<TenantShardRow>>(Run(ListTenantShardsOp{}));
}

absl::Status PostgresClient::DeleteTenant(const std::string& tenant_id) {
  return StatusOf(Run(DeleteTenantOp{tenant_id}));
}

absl::Status PostgresClient::BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                                             uint8_t new_count) {
  return StatusOf(Run(BeginShardSplitOp{tenant_id, old_count, new_count}));
}

absl::Status PostgresClient::CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                                uint8_t new_count) {
  return StatusOf(Run(CompleteShardSplitOp{tenant_id, old_count, new_count}));
}

absl::StatusOr<AbortShardSplitStatus> PostgresClient::AbortShardSplit(
    const std::string& tenant_id, uint8_t new_count) {
  return ValueOf<AbortShardSplitStatus>(Run(AbortShardSplitOp{tenant_id, new_count}));
}

}  // namespace storsim::postgres
