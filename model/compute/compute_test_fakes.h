// Scripted neighbours of a compute for unit tests: a safekeeper that assigns LSNs and keeps every
// record, pageservers that answer GetPage from those records (or NotFound when "not attached"),
// a spec store answering GetSpec from a script, and a small test world that wires them to
// compute processes. The fakes keep real state (records, LSNs, requests seen), so a compute that
// reads the wrong thing or the wrong node is caught.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/api/compute_api.h"
#include "model/api/pageserver_api.h"
#include "model/api/safekeeper_api.h"
#include "model/compute/compute_ctl.h"
#include "sim/env.h"
#include "sim/simulation.h"
#include "sim/trace.h"

namespace storsim::compute::testing {

// LSNs 1, 2, 3, ... per the whole process; every record kept in order.
class FakeSafekeeper {
 public:
  void Run(sim::Env& env);
  const std::vector<api::WalRecord>& records() const { return records_; }
  // The newest record of `key` at or below `lsn`; nullopt when none.
  std::optional<api::WalRecord> NewestAtOrBelow(uint64_t key, api::Lsn lsn) const;
  std::optional<api::Http> fail_status;  // answered instead of appending while set

 private:
  std::vector<api::WalRecord> records_;
};

class FakePageserver {
 public:
  FakePageserver(api::NodeId node_id, const FakeSafekeeper& wal) : node_id_(node_id), wal_(wal) {}
  void Run(sim::Env& env);
  api::NodeId node_id() const { return node_id_; }
  bool attached = true;  // false: every GetPage answers 404 (Secondary / detached)
  std::vector<api::GetPageRequest> requests;  // every request seen, in order

 private:
  api::NodeId node_id_;
  const FakeSafekeeper& wal_;
};

// GetSpec from a script: `status` and `spec` answered after `delay`.
class FakeSpecStore {
 public:
  void Run(sim::Env& env);
  api::Http status = api::Http::kOk;
  std::optional<api::ComputeSpec> spec;
  sim::Duration delay = sim::Duration::Zero();
  uint64_t requests = 0;
};

api::ComputeSpec MakeSpec(const std::string& tenant, uint64_t version,
                          std::vector<api::ShardLocation> shards, uint8_t shard_count = 0,
                          uint32_t stripe_size = 0);

// The events of one kind, in order.
std::vector<sim::TraceEvent> EventsOf(const sim::MemoryTraceSink& sink, std::string_view kind);
// "Empty>Init>Running": the `to` of every compute.status event (of `tenant`).
std::string StatusPath(const sim::MemoryTraceSink& sink, const std::string& tenant);

// A simulation with a safekeeper, pageservers 1 and 2 and a sink on the trace. Processes are
// added but not started.
class TestWorld {
 public:
  explicit TestWorld(uint64_t seed = 1);
  ~TestWorld();

  sim::Simulation simulation;
  sim::MemoryTraceSink sink;
  FakeSafekeeper safekeeper;
  FakePageserver pageserver1{1, safekeeper};
  FakePageserver pageserver2{2, safekeeper};
  sim::Process* safekeeper_process = nullptr;
  sim::Process* pageserver1_process = nullptr;
  sim::Process* pageserver2_process = nullptr;

  // Options for a compute of `tenant` wired to this world (workload off; the caller may change).
  ComputeOptions ComputeOptionsFor(const std::string& tenant, sim::ProcessId control_plane) const;
  // Adds a compute process (not started) running `compute`.
  sim::Process& AddCompute(const std::string& name, ComputeCtl& compute);
  // Runs `script` in a fresh driver process now, then advances the simulation by `run_for`.
  void Drive(std::function<void(sim::Env&)> script, sim::Duration run_for);
  // Starts `script` in a fresh driver process without advancing the simulation.
  void Spawn(std::function<void(sim::Env&)> script);
  // Starts the safekeeper and both pageservers.
  void StartStorage();
};

// One compute of tenant "t1" in a TestWorld, with a FakeSpecStore as its control plane. Edit
// `options` / `defects` / the fakes, then Build() and Start().
class ComputeHarness {
 public:
  explicit ComputeHarness(uint64_t seed = 1);

  TestWorld world;
  FakeSpecStore spec_store;
  sim::Process* spec_store_process = nullptr;
  ComputeOptions options;
  api::Defects defects;
  std::unique_ptr<ComputeCtl> compute;
  sim::Process* compute_process = nullptr;

  void Build();
  void Start();  // storage, spec store, compute
  void RunFor(sim::Duration duration) { world.simulation.RunFor(duration); }
  ComputeSnapshot Snapshot() const { return compute->Snapshot(); }
  api::ComputeStatus Status() const { return compute->Snapshot().status; }

  // Calls from a driver process, then runs the simulation for `run_for`. The HTTP code
  // answered, -1 while no answer arrived, 0 on a transport error.
  int Configure(const api::ComputeSpec& spec, sim::Duration run_for = sim::Duration::Seconds(15));
  int Refresh(sim::Duration run_for = sim::Duration::Seconds(1));
  int Terminate(bool immediate, sim::Duration run_for = sim::Duration::Seconds(2));
  // Starts a /configure without running; the answer lands in *answer (-1 until then). The
  // caller keeps `answer` alive as long as the simulation runs.
  void ConfigureAsync(const api::ComputeSpec& spec, int* answer);
};

}  // namespace storsim::compute::testing
