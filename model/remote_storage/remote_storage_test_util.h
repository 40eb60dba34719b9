// Test harness for the fake object storage: one simulation with the storage process, its history
// and state, and helpers to run client scripts and a randomised workload against it. Used only by
// the remote_storage tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/remote_storage/remote_storage_client.h"
#include "model/remote_storage/remote_storage_server.h"
#include "model/remote_storage/storage_history.h"
#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::remote_storage::testing {

using Script = std::function<void(sim::Env&, RemoteStorageClient&)>;

class StorageHarness {
 public:
  explicit StorageHarness(uint64_t seed = 1, RemoteStorageOptions options = {})
      : simulation(sim::SimulationOptions{.seed = seed}),
        history(simulation.scheduler()),
        state(history, options) {
    simulation.trace().AddObserver(&trace);
    server = &simulation.AddProcess("s3", RemoteStorageMain(state));
    server->Start();
  }
  ~StorageHarness() { simulation.trace().RemoveObserver(&trace); }

  // Adds and starts a client process that runs `script` once with a client of the storage.
  sim::Process& StartClient(const std::string& name, Script script,
                            WriterAttachment attachment = {}) {
    const sim::ProcessId server_id = server->id();
    sim::Process& process = simulation.AddProcess(
        name, [server_id, script = std::move(script), attachment](sim::Env& env) {
          RemoteStorageClient client(env, server_id, attachment);
          script(env, client);
        });
    process.Start();
    return process;
  }

  // Runs `script` in a fresh client process until it returns (at most `limit` of simulated
  // time). Returns whether it finished.
  bool RunScript(Script script, WriterAttachment attachment = {},
                 sim::Duration limit = sim::Duration::Minutes(30)) {
    auto done = std::make_shared<bool>(false);
    StartClient(
        "client" + std::to_string(++clients_),
        [script = std::move(script), done](sim::Env& env, RemoteStorageClient& client) {
          script(env, client);
          *done = true;
        },
        std::move(attachment));
    const sim::Instant until = simulation.Now() + limit;
    while (!*done && simulation.Now() < until) {
      simulation.RunFor(sim::Duration::Seconds(1));
    }
    return *done;
  }

  // Trace events of one kind, in order.
  std::vector<sim::TraceEvent> EventsOf(std::string_view kind) const {
    std::vector<sim::TraceEvent> events;
    for (const sim::TraceEvent& event : trace.events()) {
      if (event.kind == kind) events.push_back(event);
    }
    return events;
  }

  sim::Simulation simulation;
  StorageHistory history;
  RemoteStorageState state;
  sim::MemoryTraceSink trace;
  sim::Process* server = nullptr;

 private:
  int clients_ = 0;
};

// What one workload client saw acknowledged, for completeness checks against the history.
struct AcknowledgedPut {
  std::string key;
  uint64_t content_hash = 0;
  sim::ProcessId process = -1;
  uint64_t incarnation = 0;
};

// A randomised workload: `operations` random PUT/GET/DELETE/DeleteObjects/LIST calls over a
// small key space, each through RetryStorageCall or not, drawing every choice from env.random().
// Acknowledged PUTs are appended to `acknowledged`.
void RunRandomWorkload(sim::Env& env, RemoteStorageClient& client, int operations,
                       std::vector<AcknowledgedPut>& acknowledged);

}  // namespace storsim::remote_storage::testing
