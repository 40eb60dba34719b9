// ClusterHarness (see cluster_harness.h).
#include "scenarios/properties/cluster_harness.h"

#include <algorithm>
#include <set>

#include "model/controller/controller.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::scenarios::properties {
namespace {

bool IsAttachedSingleAt(const std::optional<api::LocationConfig>& config, api::Generation gen) {
  return config && config->mode == api::LocationMode::kAttachedSingle && config->generation == gen;
}

bool IsSecondary(const std::optional<api::LocationConfig>& config) {
  return config && config->mode == api::LocationMode::kSecondary;
}

}  // namespace

ClusterHarness::ClusterHarness(const HarnessOptions& options) : options_(options) {
  SIM_CHECK(options.pageservers >= 2 && options.pageservers <= 8);
  SIM_CHECK(options.tenants >= 1 && options.tenants <= 8);
  simulation_ = std::make_unique<sim::Simulation>(sim::SimulationOptions{.seed = options.seed});
  cluster::ClusterOptions cluster_options;
  cluster_options.pageservers = options.pageservers;
  cluster_options.tenants = options.tenants;
  cluster_options.secondaries = 1;
  cluster_options.defects = options.defects;
  cluster_ = std::make_unique<cluster::Cluster>(*simulation_, cluster_options);
}

ClusterHarness::~ClusterHarness() {
  cluster_.reset();  // before the simulation: it takes every process down first
  simulation_.reset();
}

sim::Duration ClusterHarness::elapsed() const {
  return simulation_->Now() - sim::Instant::Zero();
}

absl::Status ClusterHarness::Start() {
  cluster_->Start();
  auto created = std::make_shared<std::optional<absl::Status>>();
  cluster::Cluster* cluster = cluster_.get();
  const sim::Instant deadline = simulation_->Now() + sim::Duration::Seconds(120);
  cluster_->RunOperatorScript("create-tenants", [cluster, deadline, created](sim::Env& env) {
    *created = cluster->CreateTenants(env, deadline);
  });
  RunUntil([&created] { return created->has_value(); }, deadline + sim::Duration::Seconds(15));
  if (!created->has_value()) return absl::UnavailableError("tenant creation never returned");
  if (!created->value().ok()) return created->value();
  return Settle();
}

absl::Status ClusterHarness::RestartPageserver(size_t index, bool crash, sim::Duration budget) {
  SIM_CHECK(index < cluster_->pageserver_ids().size());
  sim::Process& process = simulation_->process(cluster_->pageserver_ids()[index]);
  SIM_CHECK_MSG(process.up(), "restart of a pageserver that is down");
  const uint64_t before = process.incarnation();
  if (crash) {
    process.Crash();
  } else {
    process.Kill();
  }
  process.Start();
  SIM_CHECK(process.incarnation() > before);
  const uint64_t incarnation = process.incarnation();
  const auto re_attached = [this, index, incarnation] {
    const pageserver::PageserverSnapshot snapshot = cluster_->pageserver(index).Snapshot();
    return snapshot.running && snapshot.incarnation == incarnation && snapshot.re_attached;
  };
  RunUntil(re_attached, simulation_->Now() + budget);
  if (!re_attached()) {
    return absl::DeadlineExceededError("pageserver " + std::to_string(index + 1) +
                                       " did not re-attach within " + budget.ToString());
  }
  return absl::OkStatus();
}

std::optional<controller::ControllerSnapshot> ClusterHarness::LeaderSnapshot() const {
  std::optional<controller::ControllerSnapshot> leader;
  for (size_t slot = 0; slot < cluster_->controller_ids().size(); ++slot) {
    if (!simulation_->process(cluster_->controller_ids()[slot]).up()) continue;
    controller::ControllerSnapshot snapshot = cluster_->controller(slot).Snapshot();
    if (snapshot.running && snapshot.status == controller::LeadershipStatus::kLeader) {
      SIM_CHECK_MSG(!leader.has_value(), "two running leaders with no fault injected");
      leader = std::move(snapshot);
    }
  }
  return leader;
}

pageserver::PageserverSnapshot ClusterHarness::PageserverSnapshot(size_t index) const {
  SIM_CHECK(index < pageserver_count());
  return cluster_->pageserver(index).Snapshot();
}

std::string ClusterHarness::Unsettled() const {
  const std::optional<controller::ControllerSnapshot> leader = LeaderSnapshot();
  if (!leader) return "no leader";
  if (!leader->startup_complete) return "leader starting up";
  if (leader->operation) return "operation " + *leader->operation + " running";
  if (leader->reconcilers_in_flight > 0) {
    return std::to_string(leader->reconcilers_in_flight) + " reconciler(s) in flight";
  }
  if (leader->nodes.size() != pageserver_count()) return "not every node registered";
  for (const auto& [node_id, node] : leader->nodes) {
    if (node.availability != api::NodeAvailability::kActive) {
      return "node " + std::to_string(node_id) + " is " +
             api::NodeAvailabilityName(node.availability);
    }
  }
  if (leader->shards.size() != cluster_->tenant_ids().size()) return "not every shard known";
  for (const auto& [id, shard] : leader->shards) {
    const std::string name = id.ToString();
    if (shard.reconciling) return name + " reconciling";
    if (shard.pending_compute_notification) return name + " has a pending notification";
    if (!shard.intent.attached) return name + " has no attached intent";
    const std::vector<api::NodeId> intent_nodes = shard.intent.AllNodes();
    for (const auto& [node_id, config] : shard.observed.locations) {
      if (std::find(intent_nodes.begin(), intent_nodes.end(), node_id) == intent_nodes.end()) {
        return name + " still observed on node " + std::to_string(node_id);
      }
    }
    auto attached = shard.observed.locations.find(*shard.intent.attached);
    if (attached == shard.observed.locations.end() ||
        !IsAttachedSingleAt(attached->second, shard.generation)) {
      return name + " attached location not yet AttachedSingle at its generation";
    }
    for (api::NodeId secondary : shard.intent.secondary) {
      auto observed = shard.observed.locations.find(secondary);
      if (observed == shard.observed.locations.end() || !IsSecondary(observed->second)) {
        return name + " secondary on node " + std::to_string(secondary) + " not configured";
      }
    }
  }
  return "";
}

absl::Status ClusterHarness::Settle(sim::Duration budget) {
  const sim::Instant until = simulation_->Now() + budget;
  std::string why = Unsettled();
  for (int round = 0; round < 100'000 && !why.empty() && simulation_->Now() < until; ++round) {
    simulation_->RunFor(sim::Duration::Millis(500));
    why = Unsettled();
  }
  if (!why.empty()) {
    return absl::DeadlineExceededError("not settled after " + budget.ToString() + ": " + why);
  }
  return absl::OkStatus();
}

}  // namespace storsim::scenarios::properties
