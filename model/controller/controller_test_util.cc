// Test scaffolding for the controller's unit tests (see controller_test_util.h).
#include "model/controller/controller_test_util.h"

#include <utility>

namespace storsim::controller::testing {

namespace {

std::string Describe(const api::LocationConfig& config) { return config.ToString(); }

}  // namespace

void FakePageserver::Main(sim::Env& env) {
  using Ctx = const sim::CallContext&;
  env.rpc().Serve(api::kPutLocationConfig,
                  std::function<api::PutLocationConfigResponse(const api::PutLocationConfigRequest&, Ctx)>(
                      [this, &env](const api::PutLocationConfigRequest& request, Ctx) {
                        if (put_delay > sim::Duration::Zero()) env.Sleep(put_delay);
                        log->push_back("ps" + std::to_string(node_id) + " put " +
                                       request.shard.ToString() + " " + Describe(request.config));
                        if (fail_puts) return api::PutLocationConfigResponse{api::Http::kServiceUnavailable};
                        auto it = slots.find(request.shard);
                        if (it != slots.end() && api::IsAttached(it->second.mode) &&
                            api::IsAttached(request.config.mode) &&
                            request.config.generation < it->second.generation) {
                          return api::PutLocationConfigResponse{api::Http::kBadRequest};
                        }
                        if (request.config.mode == api::LocationMode::kDetached) {
                          slots.erase(request.shard);
                        } else {
                          slots[request.shard] = request.config;
                        }
                        return api::PutLocationConfigResponse{api::Http::kOk};
                      }));
  env.rpc().Serve(api::kListLocationConfigs,
                  std::function<api::ListLocationConfigsResponse(const api::ListLocationConfigsRequest&, Ctx)>(
                      [this](const api::ListLocationConfigsRequest&, Ctx) {
                        log->push_back("ps" + std::to_string(node_id) + " list");
                        api::ListLocationConfigsResponse response;
                        for (const auto& [shard, config] : slots) response.shards.push_back({shard, config});
                        return response;
                      }));
  env.rpc().Serve(api::kGetLocationConfig,
                  std::function<api::GetLocationConfigResponse(const api::GetLocationConfigRequest&, Ctx)>(
                      [this](const api::GetLocationConfigRequest& request, Ctx) {
                        log->push_back("ps" + std::to_string(node_id) + " get " + request.shard.ToString());
                        auto it = slots.find(request.shard);
                        if (it == slots.end()) return api::GetLocationConfigResponse{api::Http::kNotFound, {}};
                        return api::GetLocationConfigResponse{api::Http::kOk, it->second};
                      }));
  env.rpc().Serve(api::kUtilization,
                  std::function<api::UtilizationResponse(const api::UtilizationRequest&, Ctx)>(
                      [this](const api::UtilizationRequest&, Ctx) {
                        return api::UtilizationResponse{api::Http::kOk, 0,
                                                        static_cast<uint32_t>(slots.size())};
                      }));
  env.rpc().Serve(api::kTimelineLsns,
                  std::function<api::TimelineLsnsResponse(const api::TimelineLsnsRequest&, Ctx)>(
                      [this](const api::TimelineLsnsRequest& request, Ctx) {
                        log->push_back("ps" + std::to_string(node_id) + " lsns " + request.shard.ToString());
                        api::TimelineLsnsResponse response;
                        response.timelines.push_back({1, lsn});
                        return response;
                      }));
  env.rpc().Serve(api::kWaitLsn, std::function<api::WaitLsnResponse(const api::WaitLsnRequest&, Ctx)>(
                                     [this](const api::WaitLsnRequest& request, Ctx) {
                                       log->push_back("ps" + std::to_string(node_id) + " wait_lsn " +
                                                      request.shard.ToString());
                                       return api::WaitLsnResponse{api::Http::kOk};
                                     }));
  env.rpc().Serve(api::kSecondaryDownload,
                  std::function<api::SecondaryDownloadResponse(const api::SecondaryDownloadRequest&, Ctx)>(
                      [this, &env](const api::SecondaryDownloadRequest& request, Ctx) {
                        log->push_back("ps" + std::to_string(node_id) + " download " +
                                       request.shard.ToString());
                        if (download_delay > sim::Duration::Zero()) {
                          sim::Duration wait = download_delay < request.wait ? download_delay : request.wait;
                          env.Sleep(wait);
                          download_delay -= wait;
                          if (download_delay > sim::Duration::Zero()) {
                            return api::SecondaryDownloadResponse{api::Http::kAccepted, 0, 1};
                          }
                        }
                        return api::SecondaryDownloadResponse{api::Http::kOk, 1, 1};
                      }));
  env.shutdown_requested().Wait();
}

void FakeControlPlane::Main(sim::Env& env) {
  env.rpc().Serve(api::kNotifyAttach,
                  std::function<api::NotifyAttachResponse(const api::NotifyAttachRequest&,
                                                          const sim::CallContext&)>(
                      [this](const api::NotifyAttachRequest& request, const sim::CallContext&) {
                        received.push_back(request);
                        api::Http answer = api::Http::kOk;
                        if (!script.empty()) {
                          answer = script.front();
                          script.pop_front();
                        }
                        std::string shards;
                        for (const auto& shard : request.shards) {
                          shards += " " + std::to_string(shard.shard_number) + ":" +
                                    std::to_string(shard.node_id);
                        }
                        log->push_back("cplane notify " + request.tenant_id + shards + " -> " +
                                       std::to_string(static_cast<int>(answer)));
                        // 423: the control plane persisted it but could not apply it (yet).
                        if (api::IsSuccess(answer)) applied[request.tenant_id] = request;
                        return api::NotifyAttachResponse{answer};
                      }));
  env.shutdown_requested().Wait();
}

Harness::Harness(uint64_t seed) : simulation_(sim::SimulationOptions{.seed = seed}) {
  simulation_.trace().AddObserver(&trace_);
  client_ = &simulation_.AddProcess("client", [](sim::Env& env) { env.shutdown_requested().Wait(); });
  client_->Start();
}

FakePageserver& Harness::AddPageserver(api::NodeId node_id, const std::string& zone) {
  FakePageserver& pageserver = pageservers_.emplace_back();
  pageserver.node_id = node_id;
  pageserver.address = "ps-" + std::to_string(node_id);
  pageserver.log = &log_;
  pageserver.process = &simulation_.AddProcess(
      pageserver.address, [&pageserver](sim::Env& env) { pageserver.Main(env); });
  directory_.Set(pageserver.address, pageserver.process->id());
  persistence::NodeRow row;
  row.node_id = node_id;
  row.listen_http_addr = pageserver.address;
  row.listen_http_port = 9898;
  row.availability_zone_id = zone;
  SIM_CHECK(tables_.InsertNode(row).ok());
  pageserver.process->Start();
  return pageserver;
}

FakeControlPlane& Harness::AddControlPlane() {
  FakeControlPlane& cplane = control_planes_.emplace_back();
  cplane.log = &log_;
  cplane.process = &simulation_.AddProcess("cplane", [&cplane](sim::Env& env) { cplane.Main(env); });
  cplane.process->Start();
  return cplane;
}

ControllerOptions Harness::DefaultOptions(const std::string& address) {
  ControllerOptions options;
  options.address = address;
  options.directory = &directory_;
  options.lease = &lease_;
  if (!control_planes_.empty()) options.control_plane = control_planes_.front().process->id();
  return options;
}

FakePageserver& Harness::pageserver(api::NodeId node_id) {
  for (FakePageserver& pageserver : pageservers_) {
    if (pageserver.node_id == node_id) return pageserver;
  }
  SIM_CHECK_MSG(false, "no such pageserver");
  return pageservers_.front();
}

ControllerInstance& Harness::AddController(const std::string& address, ControllerOptions options,
                                           api::Defects defects, PersistenceFactory persistence) {
  if (options.directory == nullptr) {
    ControllerOptions defaults = DefaultOptions(address);
    defaults.protocol = options.protocol;
    defaults.start_as_candidate = options.start_as_candidate;
    defaults.timings = options.timings;
    defaults.stop_heartbeats_on_step_down = options.stop_heartbeats_on_step_down;
    options = defaults;
  }
  ControllerInstance& instance = controllers_.emplace_back();
  if (!persistence) persistence = [this](sim::Env&) { return BorrowPersistence(tables_); };
  instance.controller = std::make_unique<Controller>(options, defects, std::move(persistence));
  Controller* controller = instance.controller.get();
  instance.process = &simulation_.AddProcess(address, [controller](sim::Env& env) {
    controller->Run(env);
  });
  directory_.Set(address, instance.process->id());
  return instance;
}

bool Harness::RunUntil(const std::function<bool()>& predicate, sim::Duration limit) {
  const sim::Instant until = simulation_.Now() + limit;
  while (simulation_.Now() < until) {
    if (predicate()) return true;
    simulation_.RunFor(sim::Duration::Millis(100));
  }
  return predicate();
}

std::vector<sim::TraceEvent> Harness::EventsOf(std::string_view kind, sim::ProcessId process) const {
  std::vector<sim::TraceEvent> out;
  for (const sim::TraceEvent& event : trace_.events()) {
    if (event.kind == kind && (process == -2 || event.process == process)) out.push_back(event);
  }
  return out;
}

persistence::TenantShardRow ShardRow(const std::string& tenant, uint32_t generation,
                                     std::optional<api::NodeId> node,
                                     persistence::PlacementPolicy policy) {
  persistence::TenantShardRow row;
  row.id = api::TenantShardId{tenant, 0, 0};
  row.generation = persistence::Generation(generation);
  row.generation_pageserver = node;
  row.placement_policy = policy;
  return row;
}

api::LocationConfig Attached(uint32_t generation, api::LocationMode mode) {
  api::LocationConfig config;
  config.mode = mode;
  config.generation = persistence::Generation(generation);
  return config;
}

}  // namespace storsim::controller::testing
