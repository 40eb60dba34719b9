// The pageserver test harness: processes, client scripts, snapshots and trace queries.
#include "model/pageserver/pageserver_test_util.h"

#include <gtest/gtest.h>

namespace storsim::pageserver::testing {

Harness::Harness(uint64_t seed, PageserverOptions options, api::Defects defects)
    : simulation(sim::SimulationOptions{.seed = seed}),
      storage_history(simulation.scheduler()),
      storage_state(storage_history),
      safekeeper(safekeeper::SafekeeperOptions{.trim_period = sim::Duration::Seconds(1)}),
      options_(options),
      defects_(std::move(defects)) {
  simulation.trace().AddObserver(&trace);
  storage_ = &simulation.AddProcess("s3", remote_storage::RemoteStorageMain(storage_state));
  storage_->Start();
  safekeeper_process = &simulation.AddProcess("safekeeper", safekeeper.Main());
  safekeeper_process->Start();
  controller_process = &simulation.AddProcess("controller", [this](sim::Env& env) {
    env.rpc().Serve(api::kReAttach,
                    std::function<api::ReAttachResponse(const api::ReAttachRequest&,
                                                        const sim::CallContext&)>(
                        [this](const api::ReAttachRequest& request, const sim::CallContext&) {
                          return controller.ReAttach(request);
                        }));
    env.rpc().Serve(api::kValidate,
                    std::function<api::ValidateResponse(const api::ValidateRequest&,
                                                        const sim::CallContext&)>(
                        [this](const api::ValidateRequest& request, const sim::CallContext&) {
                          return controller.Validate(request);
                        }));
    env.shutdown_requested().Wait();
  });
  controller_process->Start();
  controller_service.SetReady(controller_process->id(), true);
  AddPageserver(options_.node_id);
}

Harness::~Harness() { simulation.trace().RemoveObserver(&trace); }

sim::Process& Harness::AddPageserver(api::NodeId node_id) {
  PageserverOptions options = options_;
  options.node_id = node_id;
  pageservers_.push_back(std::make_unique<Pageserver>(options, controller_service,
                                                      safekeeper_process->id(), storage_->id(),
                                                      defects_));
  sim::Process& process =
      simulation.AddProcess("pageserver-" + std::to_string(node_id), pageservers_.back()->Main());
  ps_processes_.push_back(&process);
  process.Start();
  return process;
}

bool Harness::Run(std::function<void(sim::Env&)> script, sim::Duration limit) {
  auto done = std::make_shared<bool>(false);
  sim::Process& client = simulation.AddProcess("client" + std::to_string(++clients_),
                                               [script = std::move(script), done](sim::Env& env) {
                                                 script(env);
                                                 *done = true;
                                               });
  client.Start();
  const sim::Instant until = simulation.Now() + limit;
  while (!*done && simulation.Now() < until) simulation.RunFor(sim::Duration::Millis(100));
  return *done;
}

bool Harness::RunUntil(std::function<bool()> predicate, sim::Duration limit) {
  const sim::Instant until = simulation.Now() + limit;
  while (!predicate() && simulation.Now() < until) simulation.RunFor(sim::Duration::Millis(100));
  return predicate();
}

api::Lsn Harness::Append(sim::Env& env, const std::string& tenant, uint64_t key,
                         const std::string& value) {
  auto result = env.rpc().Call(safekeeper_process->id(), api::kAppendWal,
                               api::AppendWalRequest{tenant, key, value}, sim::Duration::Seconds(5));
  EXPECT_TRUE(result.ok() && result->status == api::Http::kOk);
  return result.ok() ? result->lsn : 0;
}

api::Http Harness::PutConfig(sim::Env& env, size_t ps_index, const api::TenantShardId& shard,
                             api::LocationConfig config, sim::Duration flush) {
  config.shard_number = shard.shard_number;
  config.shard_count = shard.shard_count;
  api::PutLocationConfigRequest request{shard, config, flush, false};
  auto result = env.rpc().Call(ps_processes_.at(ps_index)->id(), api::kPutLocationConfig, request,
                               sim::Duration::Seconds(60));
  if (!result.ok()) return api::Http::kGatewayTimeout;
  return result->status;
}

api::GetPageResponse Harness::GetPage(sim::Env& env, size_t ps_index,
                                      const api::TenantShardId& shard, uint64_t key,
                                      api::Lsn lsn) {
  auto result = env.rpc().Call(ps_processes_.at(ps_index)->id(), api::kGetPage,
                               api::GetPageRequest{shard, key, lsn}, sim::Duration::Seconds(600));
  if (!result.ok()) {
    api::GetPageResponse response;
    response.status = api::Http::kGatewayTimeout;
    return response;
  }
  return *result;
}

std::optional<SlotSnapshot> Harness::Slot(size_t ps_index, const api::TenantShardId& shard) {
  PageserverSnapshot snapshot = pageservers_.at(ps_index)->Snapshot();
  for (SlotSnapshot& slot : snapshot.slots) {
    if (slot.shard == shard) return slot;
  }
  return std::nullopt;
}

std::vector<sim::TraceEvent> Harness::EventsOf(std::string_view kind) const {
  std::vector<sim::TraceEvent> events;
  for (const sim::TraceEvent& event : trace.events()) {
    if (event.kind == kind) events.push_back(event);
  }
  return events;
}

}  // namespace storsim::pageserver::testing
