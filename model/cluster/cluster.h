// Cluster: every process of one storage topology, built in a fixed order from ClusterOptions, so
// that the same options and seed always give the same process ids and the same run.
//
// Process order (ids are dense, in this order):
//   postgres, s3, safekeeper, control-plane, controller-0 .. controller-{C-1}, kubelet,
//   pageserver-1 .. pageserver-P, compute-<tenant> for each tenant, operator.
// The operator is the harness's own client (an SRE with curl): scenario scripts run in its fibers
// to create tenants, migrate shards, drain nodes, and so on, through the controller's Service.
//
// What lives where: every component object (and the Service, Directory, lease and storage
// history) is owned here and outlives the simulation's processes, as Process mains capture them.
// The Cluster must be destroyed before the Simulation; its destructor takes every process down
// first, so that no fiber outlives the components it uses. Harness fibers that capture the
// Cluster (operator scripts run in the operator process, so they are covered) must not.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/api/defects.h"
#include "model/api/service.h"
#include "model/compute/compute_ctl.h"
#include "model/control_plane/control_plane.h"
#include "model/controller/controller.h"
#include "model/controller/lease.h"
#include "model/controller/options.h"
#include "model/deploy/controller_deployment.h"
#include "model/pageserver/pageserver.h"
#include "model/postgres/postgres_server.h"
#include "model/remote_storage/remote_storage_server.h"
#include "model/remote_storage/storage_history.h"
#include "model/safekeeper/safekeeper.h"
#include "sim/simulation.h"

namespace storsim::cluster {

struct ClusterOptions {
  int controller_slots = 2;  // pod slots: RollingUpdate needs replicas + 1
  int pageservers = 3;
  int tenants = 2;
  uint8_t shard_count = 0;        // per tenant; 0 = unsharded
  uint32_t stripe_size = 8;       // keys per stripe for sharded tenants
  uint32_t secondaries = 1;       // placement Attached(secondaries)
  controller::LeadershipProtocol protocol = controller::LeadershipProtocol::kStepDown;
  // Templates: per-process fields (addresses, node ids, tenant ids, process ids) are filled in.
  controller::ControllerOptions controller;
  pageserver::PageserverOptions pageserver;
  compute::ComputeOptions compute;
  control_plane::ControlPlaneOptions control_plane;
  postgres::PostgresOptions postgres;
  remote_storage::RemoteStorageOptions remote_storage;
  safekeeper::SafekeeperOptions safekeeper;
  deploy::DeploymentOptions deployment;
  api::Defects defects;  // every component gets the same set and acts on its own names
};

class Cluster {
 public:
  // Adds every process to `simulation` (none started).
  Cluster(sim::Simulation& simulation, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  // By default the destructor kills every process first, so fibers unwind while the components
  // they point at still exist. An owner that guarantees the simulation is destroyed before the
  // cluster (a scenario run: its kept state outlives its simulation) turns this off, since the
  // simulation is gone by then and must not be touched.
  void set_kill_processes_on_destroy(bool kill) { kill_processes_on_destroy_ = kill; }
  Cluster& operator=(const Cluster&) = delete;

  // Starts the database, storage, safekeeper, control plane, pageservers, the controller
  // deployment (revision 1) and the operator. Computes start once their tenant exists.
  void Start();

  // Tenant ids, in creation order ("t1", "t2", ...).
  const std::vector<std::string>& tenant_ids() const { return tenant_ids_; }
  // Creates every tenant through the controller (retrying 503s and refusals until `deadline`),
  // then starts its compute. Called from an operator fiber. Error: the deadline passed.
  absl::Status CreateTenants(sim::Env& operator_env, sim::Instant deadline);
  // Calls the controller Service with retries on transport errors and 503 until `deadline`.
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> CallController(sim::Env& env, sim::RpcMethod<Req, Resp> method,
                                      const Req& request, sim::Instant deadline);

  sim::Simulation& simulation() { return simulation_; }
  const ClusterOptions& options() const { return options_; }
  api::ServiceEndpoints& controller_service() { return service_; }
  deploy::ControllerDeployment& deployment() { return *deployment_; }
  postgres::PostgresServer& postgres() { return *postgres_; }
  remote_storage::RemoteStorageState& remote_storage() { return *remote_storage_; }
  remote_storage::StorageHistory& storage_history() { return *history_; }
  control_plane::ControlPlane& control_plane() { return *control_plane_; }

  sim::ProcessId postgres_id() const { return postgres_id_; }
  sim::ProcessId s3_id() const { return s3_id_; }
  sim::ProcessId safekeeper_id() const { return safekeeper_id_; }
  sim::ProcessId control_plane_id() const { return control_plane_id_; }
  const std::vector<sim::ProcessId>& controller_ids() const { return controller_ids_; }
  const std::vector<sim::ProcessId>& pageserver_ids() const { return pageserver_ids_; }
  const std::map<std::string, sim::ProcessId>& compute_ids() const { return compute_ids_; }
  sim::ProcessId operator_id() const { return operator_id_; }
  // Node id of pageserver i (0-based) is i + 1.
  api::NodeId NodeIdOf(size_t pageserver_index) const { return pageserver_index + 1; }

  const pageserver::Pageserver& pageserver(size_t index) const { return *pageservers_[index]; }
  const controller::Controller& controller(size_t slot) const { return *controllers_[slot]; }
  const compute::ComputeCtl& compute(const std::string& tenant) const {
    return *computes_.at(tenant);
  }

  // Runs `script` in a fresh fiber of the operator process (the operator must be up).
  void RunOperatorScript(std::string name, std::function<void(sim::Env&)> script);

  // The committed state of the fake Postgres as seen by nobody in the model: for checkers.
  struct DbGroundTruth {
    size_t leader_rows = 0;
    std::optional<std::pair<std::string, int64_t>> leader;
  };
  // While the database process is down, its committed state is what its synced WAL holds: the
  // durable tables, computed once per outage.
  DbGroundTruth LeaderGroundTruth() const;
  std::optional<int64_t> ShardGenerationGroundTruth(const std::string& shard) const;
  // The shard row's generation_pageserver (nullopt: no row or NULL).
  std::optional<int64_t> ShardGenerationPageserverGroundTruth(const std::string& shard) const;
  std::set<std::string> TenantsGroundTruth() const;
  // Every tenant_shards row as (shard_number, shard_count), by tenant id (S15).
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> ShardRowsGroundTruth() const;

 private:
  bool kill_processes_on_destroy_ = true;
  void AddProcesses();
  const persistence::ControllerTables* CommittedTables() const;
  std::unique_ptr<persistence::Persistence> MakePersistence(sim::Env& env);

  sim::Simulation& simulation_;
  ClusterOptions options_;
  api::ServiceEndpoints service_{"storage-controller"};
  controller::Directory directory_;
  controller::LeaseStore lease_;
  std::unique_ptr<remote_storage::StorageHistory> history_;
  std::unique_ptr<postgres::PostgresServer> postgres_;
  std::unique_ptr<remote_storage::RemoteStorageState> remote_storage_;
  std::unique_ptr<safekeeper::Safekeeper> safekeeper_;
  std::unique_ptr<control_plane::ControlPlane> control_plane_;
  std::vector<std::unique_ptr<controller::Controller>> controllers_;
  std::vector<std::unique_ptr<pageserver::Pageserver>> pageservers_;
  std::map<std::string, std::unique_ptr<compute::ComputeCtl>> computes_;
  std::unique_ptr<deploy::ControllerDeployment> deployment_;
  std::vector<std::string> tenant_ids_;

  sim::ProcessId postgres_id_ = -1;
  sim::ProcessId s3_id_ = -1;
  sim::ProcessId safekeeper_id_ = -1;
  sim::ProcessId control_plane_id_ = -1;
  std::vector<sim::ProcessId> controller_ids_;
  std::vector<sim::ProcessId> pageserver_ids_;
  std::map<std::string, sim::ProcessId> compute_ids_;
  sim::ProcessId operator_id_ = -1;
  mutable std::optional<persistence::ControllerTables> durable_while_down_;
  mutable uint64_t durable_incarnation_ = ~uint64_t{0};
};

template <typename Req, typename Resp>
absl::StatusOr<Resp> Cluster::CallController(sim::Env& env, sim::RpcMethod<Req, Resp> method,
                                             const Req& request, sim::Instant deadline) {
  // Client-side API history for the linearizability check (scenarios/invariants/
  // linearizability.h): one api.invoke / api.return pair per call, whatever the retries inside.
  // The call id is the invoke event's trace sequence number (deterministic, unique per run).
  // Key request fields and the response's placement/generation fields are taken generically
  // from whichever of them the request and response types have.
  const auto call = static_cast<int64_t>(simulation_.trace().events());
  std::vector<sim::TraceField> invoke = {sim::TraceField::Int("call", call),
                                         sim::TraceField::Str("method", method.name)};
  if constexpr (requires { request.tenant_id; }) {
    invoke.push_back(sim::TraceField::Str("tenant", request.tenant_id));
  }
  if constexpr (requires { request.shard.ToString(); }) {
    invoke.push_back(sim::TraceField::Str("shard", request.shard.ToString()));
    invoke.push_back(sim::TraceField::Str("tenant", request.shard.tenant_id));
  }
  if constexpr (requires { request.node_id; }) {
    invoke.push_back(sim::TraceField::Int("node", static_cast<int64_t>(request.node_id)));
  }
  env.Emit("api.invoke", std::move(invoke));
  absl::StatusOr<Resp> result = absl::UnavailableError("no controller endpoint is ready");
  int attempts = 0;
  for (; attempts < 10'000 && simulation_.Now() < deadline; ++attempts) {
    std::optional<sim::ProcessId> endpoint = service_.Pick(env.random());
    if (endpoint) {
      absl::StatusOr<Resp> response =
          env.rpc().Call(*endpoint, method, request, sim::Duration::Seconds(10));
      if (response.ok() && response->status != api::Http::kServiceUnavailable) {
        result = std::move(response);
        break;
      }
      result = response.ok() ? absl::UnavailableError("503 from the controller")
                             : response.status();
    }
    env.Sleep(sim::Duration::Millis(500));
  }
  // result: ok (an HTTP answer) | timeout (DeadlineExceeded: the call may have taken effect) |
  // unavailable (refused or 503 throughout: a 503 from a busy leader may also have taken effect).
  std::vector<sim::TraceField> done = {
      sim::TraceField::Int("call", call), sim::TraceField::Str("method", method.name),
      sim::TraceField::Str("result", result.ok() ? "ok"
                                     : absl::IsDeadlineExceeded(result.status()) ? "timeout"
                                                                                 : "unavailable"),
      sim::TraceField::Int("status", result.ok() ? static_cast<int64_t>(result->status) : 0),
      sim::TraceField::Int("attempts", attempts)};
  if constexpr (requires(const Resp& response) { response.shards.front().generation.is_none(); }) {
    if (result.ok()) {
      std::string placement;
      std::string generations;
      for (const auto& shard : result->shards) {
        const std::string id = shard.shard.ToString();
        placement += (placement.empty() ? "" : ",") + id + "@" +
                     (shard.attached ? std::to_string(*shard.attached) : std::string("-1"));
        generations += (generations.empty() ? "" : ",") + id + ":" +
                       (shard.generation.is_none() ? std::string("-1")
                                                   : std::to_string(shard.generation.value()));
      }
      done.push_back(sim::TraceField::Str("placement", std::move(placement)));
      done.push_back(sim::TraceField::Str("generations", std::move(generations)));
    }
  }
  env.Emit("api.return", std::move(done));
  return result;
}

}  // namespace storsim::cluster
