// LibpqPersistence: the Persistence interface on a real PostgreSQL through libpq, written to be
// the ground truth the fake is compared with (conformance tests only; never used inside the
// simulation). Each operation is one transaction at SERIALIZABLE, retried on SQLSTATE 40001 up to
// 128 times as upstream's persistence.rs does; the schema comes from migrations/*.sql.
//
// SQLSTATE to status: 40001 ⇒ Aborted (retried), 23505 ⇒ AlreadyExists, 53300 ⇒
// ResourceExhausted, a broken connection ⇒ Unavailable, anything else unexpected ⇒ Unknown.
// Logical outcomes (0 rows updated, a deleted node, ...) give the codes of persistence.h and roll
// the transaction back.
//
// Not thread-safe: one instance = one connection; concurrent tests use one instance per thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/persistence/persistence.h"

struct pg_conn;

namespace storsim::persistence {

struct LibpqOptions {
  // Bug #5 (SPEC §12): increment_generation and the leader CAS as a SELECT then an UPDATE of the
  // value read, at READ COMMITTED. Off by default.
  bool non_atomic_read_then_write = false;
  // Test hook, called inside a transaction after its first statement, in the multi-statement
  // operations (re_attach, and the bug #5 increment and CAS): lets a test hold a transaction open
  // while another connection runs, to force an interleaving.
  std::function<void()> between_statements;
  int serialization_retries_max = kSerializationRetriesMax;
};

class LibpqPersistence : public Persistence {
 public:
  // Opens a connection. Unavailable when it cannot.
  static absl::StatusOr<std::unique_ptr<LibpqPersistence>> Connect(const std::string& conninfo,
                                                                   LibpqOptions options = {});
  ~LibpqPersistence() override;
  LibpqPersistence(const LibpqPersistence&) = delete;
  LibpqPersistence& operator=(const LibpqPersistence&) = delete;

  // Applies every *.sql file of `directory` not applied yet, in name order, each in its own
  // transaction, recording names in storsim_migrations.
  absl::Status RunMigrations(const std::string& directory);
  // Empties the three tables (tests).
  absl::Status Truncate();
  LibpqOptions& options() { return options_; }
  uint64_t serialization_retries() const { return serialization_retries_; }

  absl::StatusOr<std::optional<LeaderRow>> GetLeader() override;
  absl::Status UpdateLeader(const std::optional<LeaderRow>& prev, const LeaderRow& next) override;
  absl::StatusOr<Generation> IncrementGeneration(const TenantShardId& shard, NodeId node) override;
  absl::StatusOr<GenerationMap> ReAttach(NodeId node) override;
  absl::StatusOr<GenerationMap> ShardGenerations(
      const std::vector<TenantShardId>& shards) override;
  absl::Status UpdateTenantShard(const TenantFilter& filter,
                                 const TenantShardUpdate& update) override;
  absl::Status Detach(const TenantShardId& shard) override;
  absl::Status UpdateNodeSchedulingPolicy(NodeId node, NodeSchedulingPolicy policy) override;
  absl::Status InsertNode(const NodeRow& node) override;
  absl::StatusOr<std::vector<NodeRow>> ListNodes() override;
  absl::Status DeleteNode(NodeId node) override;
  absl::Status InsertTenantShards(const std::vector<TenantShardRow>& shards) override;
  absl::StatusOr<std::vector<TenantShardRow>> ListTenantShards() override;
  absl::Status DeleteTenant(const std::string& tenant_id) override;
  absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                               uint8_t new_count) override;
  absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                  uint8_t new_count) override;
  absl::StatusOr<AbortShardSplitStatus> AbortShardSplit(const std::string& tenant_id,
                                                        uint8_t new_count) override;

 private:
  class Result;
  using Params = std::vector<std::optional<std::string>>;

  LibpqPersistence(pg_conn* connection, LibpqOptions options);
  // One statement. On error, last_sqlstate_ holds the SQLSTATE.
  absl::StatusOr<Result> Exec(const std::string& sql, const Params& params = {});
  // Runs `body` in a transaction at `isolation`, committing when it returns ok and rolling back
  // otherwise; retries the whole transaction on serialization failure. A null `isolation` runs
  // `body` (which must issue exactly one statement) in an implicit serializable transaction.
  absl::Status Transaction(const char* isolation, const std::function<absl::Status()>& body);
  absl::Status Serializable(const std::function<absl::Status()>& body) {
    return Transaction("SERIALIZABLE", body);
  }
  absl::Status SingleStatement(const std::function<absl::Status()>& body) {
    return Transaction(nullptr, body);
  }
  void BetweenStatements() {
    if (options_.between_statements) options_.between_statements();
  }
  absl::StatusOr<Generation> IncrementGenerationNonAtomic(const TenantShardId& shard, NodeId node);
  absl::Status UpdateLeaderNonAtomic(const LeaderRow& prev, const LeaderRow& next);

  pg_conn* connection_;
  LibpqOptions options_;
  std::string last_sqlstate_;
  uint64_t serialization_retries_ = 0;
};

}  // namespace storsim::persistence
