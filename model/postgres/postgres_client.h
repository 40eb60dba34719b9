// PostgresClient: Persistence for a simulated process, talking to the fake Postgres (kTxn) over
// the simulated network. Each call is one transaction; a serialization failure (Aborted) is
// retried at once, up to kSerializationRetriesMax attempts, as upstream's persistence.rs does;
// every other error goes back to the caller unchanged:
//   Unavailable        the database process is down or restarting (connection refused);
//   DeadlineExceeded   no reply within `timeout`: the transaction may have committed;
//   ResourceExhausted  the server's connection limit;
//   Aborted            still a serialization failure after the last retry;
// plus the application errors of persistence.h. shard_generations runs one transaction per 32 ids
// and stops at the first failing chunk. Calls block the calling fiber, which must belong to the
// Env's process.
#pragma once

#include "model/persistence/operation.h"
#include "model/persistence/persistence.h"
#include "model/postgres/postgres_server.h"
#include "sim/env.h"
#include "sim/time.h"

namespace storsim::postgres {

struct PostgresClientOptions {
  sim::Duration timeout = sim::Duration::Seconds(5);  // per transaction attempt, local clock
  int serialization_retries_max = persistence::kSerializationRetriesMax;
};

struct PostgresClientStats {
  uint64_t transactions = 0;  // attempts sent
  uint64_t serialization_retries = 0;
};

class PostgresClient : public persistence::Persistence {
 public:
  PostgresClient(sim::Env& env, sim::ProcessId server, PostgresClientOptions options = {});

  // Runs one operation (with the retry loop). Also accepts the internal write-half operations.
  persistence::OpResult Run(const persistence::Operation& operation);

  absl::StatusOr<std::optional<persistence::LeaderRow>> GetLeader() override;
  absl::Status UpdateLeader(const std::optional<persistence::LeaderRow>& prev,
                            const persistence::LeaderRow& next) override;
  absl::StatusOr<persistence::Generation> IncrementGeneration(
      const persistence::TenantShardId& shard, persistence::NodeId node) override;
  absl::StatusOr<persistence::GenerationMap> ReAttach(persistence::NodeId node) override;
  absl::StatusOr<persistence::GenerationMap> ShardGenerations(
      const std::vector<persistence::TenantShardId>& shards) override;
  absl::Status UpdateTenantShard(const persistence::TenantFilter& filter,
                                 const persistence::TenantShardUpdate& update) override;
  absl::Status Detach(const persistence::TenantShardId& shard) override;
  absl::Status UpdateNodeSchedulingPolicy(persistence::NodeId node,
                                          persistence::NodeSchedulingPolicy policy) override;
  absl::Status InsertNode(const persistence::NodeRow& node) override;
  absl::StatusOr<std::vector<persistence::NodeRow>> ListNodes() override;
  absl::Status DeleteNode(persistence::NodeId node) override;
  absl::Status InsertTenantShards(const std::vector<persistence::TenantShardRow>& shards) override;
  absl::StatusOr<std::vector<persistence::TenantShardRow>> ListTenantShards() override;
  absl::Status DeleteTenant(const std::string& tenant_id) override;
  absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                               uint8_t new_count) override;
  absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                  uint8_t new_count) override;
  absl::StatusOr<persistence::AbortShardSplitStatus> AbortShardSplit(
      const std::string& tenant_id, uint8_t new_count) override;

  const PostgresClientStats& stats() const { return stats_; }

 private:
  sim::Env& env_;
  sim::ProcessId server_;
  PostgresClientOptions options_;
  PostgresClientStats stats_;
  // The last request's operation, refilled for the next request when no copy of it remains
  // (see SharedOperation in postgres_server.h).
  SharedOperation request_operation_;
};

}  // namespace storsim::postgres
