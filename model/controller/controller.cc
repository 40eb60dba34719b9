// The controller process wrapper (see controller.h) and the borrowing Persistence adapter.
#include "model/controller/controller.h"

#include <utility>

#include "model/controller/service.h"

namespace storsim::controller {
namespace {

// Forwards every call; owns nothing.
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

}  // namespace

std::unique_ptr<persistence::Persistence> BorrowPersistence(persistence::Persistence& target) {
  return std::make_unique<BorrowedPersistence>(target);
}

const char* LeadershipStatusName(LeadershipStatus status) {
  switch (status) {
    case LeadershipStatus::kCandidate: return "Candidate";
    case LeadershipStatus::kLeader: return "Leader";
    case LeadershipStatus::kSteppedDown: return "SteppedDown";
  }
  return "unknown";
}

const char* LeadershipProtocolName(LeadershipProtocol protocol) {
  switch (protocol) {
    case LeadershipProtocol::kStepDown: return "step-down";
    case LeadershipProtocol::kNaive: return "naive";
    case LeadershipProtocol::kLease: return "lease";
    case LeadershipProtocol::kLeaseFenced: return "lease-fenced";
  }
  return "unknown";
}

Controller::Controller(ControllerOptions options, api::Defects defects,
                       PersistenceFactory persistence)
    : options_(std::move(options)), defects_(std::move(defects)),
      persistence_(std::move(persistence)) {
  SIM_CHECK(persistence_ != nullptr);
}

Controller::~Controller() = default;

void Controller::Run(sim::Env& env) {
  SIM_CHECK(env.incarnation() > incarnation_);
  incarnation_ = env.incarnation();
  // The previous incarnation's fibers are gone; drop its memory and start from the database.
  service_.reset();
  service_ = std::make_unique<Service>(env, options_, defects_, persistence_(env));
  service_->Run();
}

ControllerSnapshot Controller::Snapshot() const {
  if (!service_) return ControllerSnapshot{};
  return service_->Snapshot();
}

}  // namespace storsim::controller
