// Test scaffolding for the controller's unit tests: a small simulation with controller
// instances, scripted fake pageservers and a fake control plane that keep real state (location
// slots with the generation rule, notifications applied) and record every call in one shared,
// ordered log, plus a client process to call the controller's API from test code.
// Test-only: not part of storsim::controller.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/api/compute_api.h"
#include "model/api/controller_api.h"
#include "model/api/pageserver_api.h"
#include "model/controller/controller.h"
#include "model/controller/lease.h"
#include "model/persistence/controller_tables.h"
#include "sim/env.h"
#include "sim/simulation.h"
#include "sim/trace.h"

namespace storsim::controller::testing {

// A pageserver stand-in: location slots with the lower-generation rule (400), utilisation,
// LSNs (attached shards report `lsn`; a new attachment reports `lsn` after `catch_up`), and
// secondary downloads that finish at once. Every call is appended to the shared log.
struct FakePageserver {
  api::NodeId node_id = 0;
  std::string address;
  sim::Process* process = nullptr;
  std::map<api::TenantShardId, api::LocationConfig> slots;
  std::vector<std::string>* log = nullptr;
  bool fail_puts = false;          // answer 503 to every location_config PUT
  sim::Duration put_delay = sim::Duration::Zero();
  sim::Duration download_delay = sim::Duration::Zero();
  api::Lsn lsn = 100;

  void Main(sim::Env& env);
};

// The control plane stand-in: answers notify-attach from a script (front first; empty = 200),
// applies 2xx requests per tenant, logs every call.
struct FakeControlPlane {
  sim::Process* process = nullptr;
  std::deque<api::Http> script;
  std::map<std::string, api::NotifyAttachRequest> applied;
  std::vector<api::NotifyAttachRequest> received;
  std::vector<std::string>* log = nullptr;

  void Main(sim::Env& env);
};

struct ControllerInstance {
  std::unique_ptr<Controller> controller;
  sim::Process* process = nullptr;
};

class Harness {
 public:
  explicit Harness(uint64_t seed = 1);

  sim::Simulation& simulation() { return simulation_; }
  persistence::ControllerTables& tables() { return tables_; }
  Directory& directory() { return directory_; }
  LeaseStore& lease() { return lease_; }
  std::vector<std::string>& log() { return log_; }
  const std::vector<sim::TraceEvent>& events() const { return trace_.events(); }

  // Adds a pageserver with a node row in the DB (policy active, AZ `zone`) and starts it.
  FakePageserver& AddPageserver(api::NodeId node_id, const std::string& zone = "az-a");
  FakeControlPlane& AddControlPlane();
  // The pageserver added with `node_id` (it must exist).
  FakePageserver& pageserver(api::NodeId node_id);
  // Adds (does not start) a controller; its address is `address` (registered in the directory).
  // `persistence` (default: BorrowPersistence of tables()) lets a test change outcomes.
  ControllerInstance& AddController(const std::string& address, ControllerOptions options = {},
                                    api::Defects defects = {},
                                    PersistenceFactory persistence = nullptr);
  ControllerOptions DefaultOptions(const std::string& address);

  // Calls `method` on `to` from the client process, running the simulation until it answers
  // (at most `timeout` + 1 s of simulated time).
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(sim::ProcessId to, sim::RpcMethod<Req, Resp> method, Req request,
                            sim::Duration timeout = sim::Duration::Seconds(60)) {
    std::optional<absl::StatusOr<Resp>> result;
    client_->SpawnFiber("test.call", [this, to, method, request, timeout, &result]() {
      result = client_->env().rpc().Call(to, method, request, timeout);
    });
    for (int step = 0; step < 100'000 && !result; ++step) {
      simulation_.RunFor(sim::Duration::Millis(10));
    }
    SIM_CHECK(result.has_value());
    return *result;
  }

  // Runs `body` in a fiber of the client process without waiting for it.
  void Async(std::function<void(sim::Env&)> body) {
    client_->SpawnFiber("test.async", [this, body = std::move(body)]() { body(client_->env()); });
  }
  sim::ProcessId client() const { return client_->id(); }

  // Runs until `predicate` holds (checked every 100 ms) or `limit` passes; returns whether it held.
  bool RunUntil(const std::function<bool()>& predicate, sim::Duration limit);

  // Events of `kind` (optionally only from one process).
  std::vector<sim::TraceEvent> EventsOf(std::string_view kind, sim::ProcessId process = -2) const;

 private:
  sim::Simulation simulation_;
  sim::MemoryTraceSink trace_;
  persistence::ControllerTables tables_;
  Directory directory_;
  LeaseStore lease_;
  std::vector<std::string> log_;
  sim::Process* client_ = nullptr;
  std::deque<FakePageserver> pageservers_;
  std::deque<FakeControlPlane> control_planes_;
  std::deque<ControllerInstance> controllers_;
};

// A tenant row for direct insertion into the tables.
persistence::TenantShardRow ShardRow(const std::string& tenant, uint32_t generation,
                                     std::optional<api::NodeId> node,
                                     persistence::PlacementPolicy policy =
                                         persistence::PlacementPolicy::Attached(1));
api::LocationConfig Attached(uint32_t generation, api::LocationMode mode =
                                                      api::LocationMode::kAttachedSingle);

}  // namespace storsim::controller::testing
