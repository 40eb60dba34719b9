// The storage controller process (SPEC.md §3, §4.1, §5.3–5.4, §6, §7.1–7.2, §8.1): a class whose
// Run(sim::Env&) is a process main. Each Run builds a fresh Service (all memory is rebuilt from
// the database, nothing is kept on the process Disk, as upstream keeps nothing locally) and
// serves the API of model/api/controller_api.h and upcall_api.h over sim RPC.
//
// Persistence: a factory makes the incarnation's database handle (tests hand out a shared
// ControllerTables through BorrowPersistence; scenarios make a PostgresClient per incarnation).
//
// Not here: the deploy orchestrator (model/deploy), shard splits, the optimizer's background
// migrations, the secondary-lag check of drain (no API to read a secondary's progress).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "model/api/defects.h"
#include "model/controller/options.h"
#include "model/controller/snapshot.h"
#include "model/persistence/persistence.h"
#include "sim/env.h"

namespace storsim::controller {

class Service;

using PersistenceFactory =
    std::function<std::unique_ptr<persistence::Persistence>(sim::Env& env)>;

// A non-owning Persistence forwarding every call to `target` (which must outlive it). Tests
// derive from it to change one call's outcome (e.g. a write that commits and then times out).
class BorrowedPersistence : public persistence::Persistence {
 public:
  explicit BorrowedPersistence(persistence::Persistence& target) : target_(target) {}
  absl::StatusOr<std::optional<persistence::LeaderRow>> GetLeader() override {
    return target_.GetLeader();
  }
  absl::Status UpdateLeader(const std::optional<persistence::LeaderRow>& prev,
                            const persistence::LeaderRow& next) override {
    return target_.UpdateLeader(prev, next);
  }
  absl::StatusOr<persistence::Generation> IncrementGeneration(
      const persistence::TenantShardId& shard, persistence::NodeId node) override {
    return target_.IncrementGeneration(shard, node);
  }
  absl::StatusOr<persistence::GenerationMap> ReAttach(persistence::NodeId node) override {
    return target_.ReAttach(node);
  }
  absl::StatusOr<persistence::GenerationMap> ShardGenerations(
      const std::vector<persistence::TenantShardId>& shards) override {
    return target_.ShardGenerations(shards);
  }
  absl::Status UpdateTenantShard(const persistence::TenantFilter& filter,
                                 const persistence::TenantShardUpdate& update) override {
    return target_.UpdateTenantShard(filter, update);
  }
  absl::Status Detach(const persistence::TenantShardId& shard) override {
    return target_.Detach(shard);
  }
  absl::Status UpdateNodeSchedulingPolicy(persistence::NodeId node,
                                          persistence::NodeSchedulingPolicy policy) override {
    return target_.UpdateNodeSchedulingPolicy(node, policy);
  }
  absl::Status InsertNode(const persistence::NodeRow& node) override {
    return target_.InsertNode(node);
  }
  absl::StatusOr<std::vector<persistence::NodeRow>> ListNodes() override {
    return target_.ListNodes();
  }
  absl::Status DeleteNode(persistence::NodeId node) override { return target_.DeleteNode(node); }
  absl::Status InsertTenantShards(const std::vector<persistence::TenantShardRow>& shards) override {
    return target_.InsertTenantShards(shards);
  }
  absl::StatusOr<std::vector<persistence::TenantShardRow>> ListTenantShards() override {
    return target_.ListTenantShards();
  }
  absl::Status DeleteTenant(const std::string& tenant_id) override {
    return target_.DeleteTenant(tenant_id);
  }
  absl::Status BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                               uint8_t new_count) override {
    return target_.BeginShardSplit(tenant_id, old_count, new_count);
  }
  absl::Status CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                  uint8_t new_count) override {
    return target_.CompleteShardSplit(tenant_id, old_count, new_count);
  }
  absl::StatusOr<persistence::AbortShardSplitStatus> AbortShardSplit(
      const std::string& tenant_id, uint8_t new_count) override {
    return target_.AbortShardSplit(tenant_id, new_count);
  }

 private:
  persistence::Persistence& target_;
};


std::unique_ptr<persistence::Persistence> BorrowPersistence(persistence::Persistence& target);

class Controller {
 public:
  Controller(ControllerOptions options, api::Defects defects, PersistenceFactory persistence);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Process main; restartable. Returns on graceful shutdown; Env::Exit on fatal start-up errors
  // (DB unreachable, leader CAS failed), as upstream exits.
  void Run(sim::Env& env);
  ControllerSnapshot Snapshot() const;
  const ControllerOptions& options() const { return options_; }
  ControllerOptions& mutable_options() { return options_; }

 private:
  ControllerOptions options_;
  api::Defects defects_;
  PersistenceFactory persistence_;
  std::unique_ptr<Service> service_;
  uint64_t incarnation_ = 0;
};

}  // namespace storsim::controller
