// Building and starting a cluster.
#include "model/cluster/cluster.h"

#include "model/api/controller_api.h"
#include "model/postgres/postgres_client.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::cluster {

Cluster::Cluster(sim::Simulation& simulation, ClusterOptions options)
    : simulation_(simulation), options_(std::move(options)) {
  SIM_CHECK(options_.controller_slots >= 1 && options_.pageservers >= 1 && options_.tenants >= 0);
  for (int t = 1; t <= options_.tenants; ++t) tenant_ids_.push_back("t" + std::to_string(t));
  AddProcesses();
}

Cluster::~Cluster() {
  // Every process main and fiber refers to components owned here: take the processes down
  // (their stacks unwind now, while the components still exist) before the components go.
  if (!kill_processes_on_destroy_) return;
  for (size_t id = 0; id < simulation_.process_count(); ++id) {
    simulation_.process(static_cast<sim::ProcessId>(id)).Kill();
  }
}

std::unique_ptr<persistence::Persistence> Cluster::MakePersistence(sim::Env& env) {
  return std::make_unique<postgres::PostgresClient>(env, postgres_id_);
}

void Cluster::AddProcesses() {
  history_ = std::make_unique<remote_storage::StorageHistory>(simulation_.scheduler());

  postgres_ = std::make_unique<postgres::PostgresServer>(options_.postgres);
  postgres_id_ = postgres_->AddTo(simulation_, "postgres").id();

  remote_storage_ =
      std::make_unique<remote_storage::RemoteStorageState>(*history_, options_.remote_storage);
  s3_id_ = simulation_.AddProcess("s3", remote_storage::RemoteStorageMain(*remote_storage_)).id();

  safekeeper_ = std::make_unique<safekeeper::Safekeeper>(options_.safekeeper, options_.defects);
  safekeeper_id_ = simulation_.AddProcess("safekeeper", safekeeper_->Main()).id();

  // The control plane knows every tenant's compute; compute ids are fixed by the order below.
  const int kubelet_count = 1;
  const sim::ProcessId first_compute = static_cast<sim::ProcessId>(
      4 + options_.controller_slots + kubelet_count + options_.pageservers);
  control_plane::ControlPlaneOptions cplane = options_.control_plane;
  for (size_t t = 0; t < tenant_ids_.size(); ++t) {
    cplane.tenants[tenant_ids_[t]] = first_compute + static_cast<sim::ProcessId>(t);
  }
  control_plane_ = std::make_unique<control_plane::ControlPlane>(cplane);
  control_plane_id_ = simulation_.AddProcess("control-plane", [this](sim::Env& env) {
                                      control_plane_->Run(env);
                                    }).id();
  SIM_CHECK(control_plane_id_ == 3);

  std::vector<sim::Process*> slots;
  for (int slot = 0; slot < options_.controller_slots; ++slot) {
    const std::string name = "controller-" + std::to_string(slot);
    controller::ControllerOptions controller_options = options_.controller;
    controller_options.address = name;
    controller_options.start_as_candidate = true;
    controller_options.protocol = options_.protocol;
    controller_options.directory = &directory_;
    controller_options.control_plane = control_plane_id_;
    controller_options.lease = &lease_;
    controllers_.push_back(std::make_unique<controller::Controller>(
        controller_options, options_.defects,
        [this](sim::Env& env) { return MakePersistence(env); }));
    controller::Controller* instance = controllers_.back().get();
    sim::Process& process =
        simulation_.AddProcess(name, [instance](sim::Env& env) { instance->Run(env); });
    controller_ids_.push_back(process.id());
    directory_.Set(name, process.id());
    slots.push_back(&process);
  }
  deploy::DeploymentOptions deployment = options_.deployment;
  deployment.replicas = 1;
  deployment_ = std::make_unique<deploy::ControllerDeployment>(simulation_, service_, slots,
                                                               deployment, options_.defects);

  std::map<api::NodeId, sim::ProcessId> node_processes;
  for (int i = 0; i < options_.pageservers; ++i) {
    pageserver::PageserverOptions pageserver_options = options_.pageserver;
    pageserver_options.node_id = NodeIdOf(static_cast<size_t>(i));
    pageservers_.push_back(std::make_unique<pageserver::Pageserver>(
        pageserver_options, service_, safekeeper_id_, s3_id_, options_.defects));
    const std::string name = "pageserver-" + std::to_string(pageserver_options.node_id);
    sim::Process& process = simulation_.AddProcess(name, pageservers_.back()->Main());
    pageserver_ids_.push_back(process.id());
    directory_.Set(name, process.id());
    node_processes[pageserver_options.node_id] = process.id();
  }

  for (const auto& tenant : tenant_ids_) {
    compute::ComputeOptions compute_options = options_.compute;
    compute_options.tenant_id = tenant;
    compute_options.control_plane = control_plane_id_;
    compute_options.safekeeper = safekeeper_id_;
    compute_options.pageservers = node_processes;
    auto compute = std::make_unique<compute::ComputeCtl>(compute_options, options_.defects);
    compute::ComputeCtl* instance = compute.get();
    computes_[tenant] = std::move(compute);
    sim::Process& process = simulation_.AddProcess(
        "compute-" + tenant, [instance](sim::Env& env) { instance->Run(env); });
    compute_ids_[tenant] = process.id();
    SIM_CHECK(process.id() == first_compute + static_cast<sim::ProcessId>(compute_ids_.size() - 1));
  }

  operator_id_ = simulation_.AddProcess("operator", [](sim::Env& env) {
                              env.shutdown_requested().Wait();
                            }).id();
}

void Cluster::Start() {
  simulation_.process(postgres_id_).Start();
  simulation_.process(s3_id_).Start();
  simulation_.process(safekeeper_id_).Start();
  simulation_.process(control_plane_id_).Start();
  for (sim::ProcessId id : pageserver_ids_) simulation_.process(id).Start();
  deployment_->Start();
  simulation_.process(operator_id_).Start();
}

void Cluster::RunOperatorScript(std::string name, std::function<void(sim::Env&)> script) {
  sim::Process& process = simulation_.process(operator_id_);
  SIM_CHECK_MSG(process.up(), "the operator process is down");
  sim::Env* env = &process.env();
  process.SpawnFiber("operator/" + name, [env, script = std::move(script)] { script(*env); });
}

absl::Status Cluster::CreateTenants(sim::Env& env, sim::Instant deadline) {
  // Like an operator, wait until every pageserver is registered and Active (schedulable): the
  // controller places a new tenant only on schedulable nodes (SPEC §6.5).
  for (size_t i = 0; i < pageserver_ids_.size(); ++i) {
    while (true) {
      absl::StatusOr<api::NodeStatusResponse> status =
          CallController(env, api::kNodeStatus, api::NodeRequest{NodeIdOf(i)}, deadline);
      if (!status.ok()) return status.status();
      if (status->status == api::Http::kOk &&
          status->availability == api::NodeAvailability::kActive) {
        break;
      }
      if (simulation_.Now() >= deadline) {
        return absl::DeadlineExceededError("pageserver " + std::to_string(NodeIdOf(i)) +
                                           " never became Active");
      }
      env.Sleep(sim::Duration::Seconds(1));
    }
  }
  for (const auto& tenant : tenant_ids_) {
    api::TenantCreateRequest request;
    request.tenant_id = tenant;
    request.shard_count = options_.shard_count;
    request.stripe_size = options_.shard_count > 1 ? options_.stripe_size : 0;
    request.placement = api::PlacementPolicy::Attached(options_.secondaries);
    absl::StatusOr<api::TenantCreateResponse> response =
        CallController(env, api::kTenantCreate, request, deadline);
    if (!response.ok()) return response.status();
    if (!api::IsSuccess(response->status) && response->status != api::Http::kConflict) {
      return absl::InternalError("tenant create " + tenant + " answered " +
                                 api::HttpName(response->status));
    }
    sim::Process& compute = simulation_.process(compute_ids_.at(tenant));
    if (!compute.up()) compute.Start();
  }
  return absl::OkStatus();
}

const persistence::ControllerTables* Cluster::CommittedTables() const {
  if (const persistence::ControllerTables* live = postgres_->live_tables()) {
    durable_while_down_.reset();
    return live;
  }
  const uint64_t incarnation = simulation_.process(postgres_id_).incarnation();
  if (!durable_while_down_ || durable_incarnation_ != incarnation) {
    durable_while_down_ = postgres_->DurableTables();
    durable_incarnation_ = incarnation;
  }
  return &*durable_while_down_;
}

Cluster::DbGroundTruth Cluster::LeaderGroundTruth() const {
  DbGroundTruth truth;
  const persistence::ControllerTables* tables = CommittedTables();
  if (tables == nullptr) return truth;
  truth.leader_rows = tables->leaders().size();
  if (truth.leader_rows == 1) {
    const persistence::LeaderRow& row = *tables->leaders().begin();
    truth.leader = std::make_pair(row.address, row.started_at);
  }
  return truth;
}

std::optional<int64_t> Cluster::ShardGenerationGroundTruth(const std::string& shard) const {
  const persistence::ControllerTables* tables = CommittedTables();
  if (tables == nullptr) return std::nullopt;
  for (const auto& [id, row] : tables->shards()) {
    if (id.ToString() == shard) {
      if (row.generation.is_none()) return std::nullopt;
      return static_cast<int64_t>(row.generation.value());
    }
  }
  return std::nullopt;
}

std::optional<int64_t> Cluster::ShardGenerationPageserverGroundTruth(
    const std::string& shard) const {
  const persistence::ControllerTables* tables = CommittedTables();
  if (tables == nullptr) return std::nullopt;
  for (const auto& [id, row] : tables->shards()) {
    if (id.ToString() != shard) continue;
    if (!row.generation_pageserver) return std::nullopt;
    return static_cast<int64_t>(*row.generation_pageserver);
  }
  return std::nullopt;
}

std::set<std::string> Cluster::TenantsGroundTruth() const {
  std::set<std::string> tenants;
  const persistence::ControllerTables* tables = CommittedTables();
  if (tables == nullptr) return tenants;
  for (const auto& [id, row] : tables->shards()) tenants.insert(id.tenant_id);
  return tenants;
}

std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> Cluster::ShardRowsGroundTruth()
    const {
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> rows;
  const persistence::ControllerTables* tables = CommittedTables();
  if (tables == nullptr) return rows;
  for (const auto& [id, row] : tables->shards()) {
    rows[id.tenant_id].push_back({id.shard_number, id.shard_count});
  }
  return rows;
}

}  // namespace storsim::cluster
