// Scripted neighbours for compute and control plane tests (see compute_test_fakes.h).
#include "model/compute/compute_test_fakes.h"

#include "sim/check.h"

namespace storsim::compute::testing {

void FakeSafekeeper::Run(sim::Env& env) {
  env.rpc().Serve(
      api::kAppendWal,
      std::function<api::AppendWalResponse(const api::AppendWalRequest&, const sim::CallContext&)>(
          [this](const api::AppendWalRequest& request, const sim::CallContext&) {
            if (fail_status) return api::AppendWalResponse{*fail_status, 0, 0};
            const api::Lsn lsn = records_.size() + 1;
            records_.push_back(api::WalRecord{lsn, request.key, request.value});
            return api::AppendWalResponse{api::Http::kOk, lsn, lsn};
          }));
  env.shutdown_requested().Wait();
}

std::optional<api::WalRecord> FakeSafekeeper::NewestAtOrBelow(uint64_t key, api::Lsn lsn) const {
  std::optional<api::WalRecord> newest;
  for (const api::WalRecord& record : records_) {
    if (record.key == key && record.lsn <= lsn) newest = record;
  }
  return newest;
}

void FakePageserver::Run(sim::Env& env) {
  env.rpc().Serve(
      api::kGetPage,
      std::function<api::GetPageResponse(const api::GetPageRequest&, const sim::CallContext&)>(
          [this](const api::GetPageRequest& request, const sim::CallContext&) {
            requests.push_back(request);
            api::GetPageResponse response;
            if (!attached) {
              response.status = api::Http::kNotFound;
              return response;
            }
            if (auto record = wal_.NewestAtOrBelow(request.key, request.request_lsn)) {
              response.found = true;
              response.value = record->value;
              response.value_lsn = record->lsn;
            }
            return response;
          }));
  env.shutdown_requested().Wait();
}

void FakeSpecStore::Run(sim::Env& env) {
  env.rpc().Serve(
      api::kGetSpec,
      std::function<api::GetSpecResponse(const api::GetSpecRequest&, const sim::CallContext&)>(
          [this, &env](const api::GetSpecRequest&, const sim::CallContext&) {
            ++requests;
            if (delay > sim::Duration::Zero()) env.Sleep(delay);
            api::GetSpecResponse response;
            response.status = status;
            if (status == api::Http::kOk) response.spec = spec;
            return response;
          }));
  env.shutdown_requested().Wait();
}

api::ComputeSpec MakeSpec(const std::string& tenant, uint64_t version,
                          std::vector<api::ShardLocation> shards, uint8_t shard_count,
                          uint32_t stripe_size) {
  api::ComputeSpec spec;
  spec.tenant_id = tenant;
  spec.version = version;
  spec.shards = std::move(shards);
  spec.shard_count = shard_count;
  spec.stripe_size = stripe_size;
  return spec;
}

std::vector<sim::TraceEvent> EventsOf(const sim::MemoryTraceSink& sink, std::string_view kind) {
  std::vector<sim::TraceEvent> out;
  for (const sim::TraceEvent& event : sink.events()) {
    if (event.kind == kind) out.push_back(event);
  }
  return out;
}

std::string StatusPath(const sim::MemoryTraceSink& sink, const std::string& tenant) {
  std::string path;
  for (const sim::TraceEvent& event : sink.events()) {
    if (event.kind != std::string_view("compute.status") || event.Str("tenant") != tenant) {
      continue;
    }
    if (!path.empty()) path += ">";
    path += std::string(event.Str("to"));
  }
  return path;
}

TestWorld::TestWorld(uint64_t seed) : simulation(sim::SimulationOptions{.seed = seed}) {
  simulation.trace().AddObserver(&sink);
  safekeeper_process =
      &simulation.AddProcess("safekeeper", [this](sim::Env& env) { safekeeper.Run(env); });
  pageserver1_process =
      &simulation.AddProcess("pageserver-1", [this](sim::Env& env) { pageserver1.Run(env); });
  pageserver2_process =
      &simulation.AddProcess("pageserver-2", [this](sim::Env& env) { pageserver2.Run(env); });
}

TestWorld::~TestWorld() { simulation.trace().RemoveObserver(&sink); }

ComputeOptions TestWorld::ComputeOptionsFor(const std::string& tenant,
                                            sim::ProcessId control_plane) const {
  ComputeOptions options;
  options.tenant_id = tenant;
  options.control_plane = control_plane;
  options.safekeeper = safekeeper_process->id();
  options.pageservers = {{1, pageserver1_process->id()}, {2, pageserver2_process->id()}};
  options.workload.enabled = false;
  return options;
}

sim::Process& TestWorld::AddCompute(const std::string& name, ComputeCtl& compute) {
  return simulation.AddProcess(name, [&compute](sim::Env& env) { compute.Run(env); });
}

void TestWorld::Drive(std::function<void(sim::Env&)> script, sim::Duration run_for) {
  static_assert(sizeof(sim::ProcessId) == 4);
  const std::string name = "driver-" + std::to_string(simulation.process_count());
  sim::Process& driver = simulation.AddProcess(name, std::move(script));
  driver.Start();
  SIM_CHECK(run_for >= sim::Duration::Zero());
  simulation.RunFor(run_for);
}

void TestWorld::Spawn(std::function<void(sim::Env&)> script) {
  const std::string name = "driver-" + std::to_string(simulation.process_count());
  simulation.AddProcess(name, std::move(script)).Start();
}

void TestWorld::StartStorage() {
  safekeeper_process->Start();
  pageserver1_process->Start();
  pageserver2_process->Start();
}

ComputeHarness::ComputeHarness(uint64_t seed) : world(seed) {
  spec_store_process =
      &world.simulation.AddProcess("spec-store", [this](sim::Env& env) { spec_store.Run(env); });
  options = world.ComputeOptionsFor("t1", spec_store_process->id());
}

void ComputeHarness::Build() {
  SIM_CHECK_MSG(compute == nullptr, "Build once");
  compute = std::make_unique<ComputeCtl>(options, defects);
  compute_process = &world.AddCompute("compute-t1", *compute);
}

void ComputeHarness::Start() {
  SIM_CHECK(compute_process != nullptr);
  world.StartStorage();
  spec_store_process->Start();
  compute_process->Start();
}

namespace {

template <typename Resp>
int CodeOf(const absl::StatusOr<Resp>& result) {
  return result.ok() ? static_cast<int>(result->status) : 0;
}

}  // namespace

void ComputeHarness::ConfigureAsync(const api::ComputeSpec& spec, int* answer) {
  *answer = -1;
  const sim::ProcessId to = compute_process->id();
  world.Spawn([to, spec, answer](sim::Env& env) {
    *answer = CodeOf(env.rpc().Call(to, api::kConfigure, api::ConfigureRequest{spec},
                                    sim::Duration::Seconds(120)));
  });
}

int ComputeHarness::Configure(const api::ComputeSpec& spec, sim::Duration run_for) {
  // Shared with the driver: the call may still be running when this returns.
  auto answer = std::make_shared<int>(-1);
  const sim::ProcessId to = compute_process->id();
  world.Drive(
      [to, spec, answer](sim::Env& env) {
        *answer = CodeOf(env.rpc().Call(to, api::kConfigure, api::ConfigureRequest{spec},
                                        sim::Duration::Seconds(120)));
      },
      run_for);
  return *answer;
}

int ComputeHarness::Refresh(sim::Duration run_for) {
  auto answer = std::make_shared<int>(-1);
  const sim::ProcessId to = compute_process->id();
  world.Drive(
      [to, answer](sim::Env& env) {
        *answer =
            CodeOf(env.rpc().Call(to, api::kRefreshConfiguration,
                                  api::RefreshConfigurationRequest{}, sim::Duration::Seconds(3)));
      },
      run_for);
  return *answer;
}

int ComputeHarness::Terminate(bool immediate, sim::Duration run_for) {
  auto answer = std::make_shared<int>(-1);
  const sim::ProcessId to = compute_process->id();
  world.Drive(
      [to, immediate, answer](sim::Env& env) {
        *answer = CodeOf(env.rpc().Call(to, kTerminate, TerminateRequest{immediate},
                                        sim::Duration::Seconds(10)));
      },
      run_for);
  return *answer;
}

}  // namespace storsim::compute::testing
