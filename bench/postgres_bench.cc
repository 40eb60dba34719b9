// Fake-Postgres throughput in transactions per wall second: (a) ControllerTables operations called
// directly (the cost of the semantics alone), (b) transactions through PostgresClient over the
// simulated network inside a Simulation (RPC, fibers, WAL append + sync, trace events). One
// iteration = one transaction; items_per_second (wall time: UseRealTime) is the figure to read.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "model/persistence/controller_tables.h"
#include "model/postgres/postgres_client.h"
#include "model/postgres/postgres_server.h"
#include "sim/env.h"
#include "sim/simulation.h"
#include "sim/sync.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;

constexpr int kShards = 256;

std::vector<TenantShardRow> Shards() {
  std::vector<TenantShardRow> rows;
  for (int i = 0; i < kShards; ++i) {
    TenantShardRow row;
    row.id = {"tenant-" + std::to_string(i), 0, 0};
    row.generation = Generation(1);
    row.generation_pageserver = static_cast<NodeId>(1 + i % 4);
    rows.push_back(row);
  }
  return rows;
}

// The operation mix of a busy controller: mostly generation increments, some reads.
Operation MixedOperation(uint64_t i) {
  const TenantShardId shard{"tenant-" + std::to_string(i % kShards), 0, 0};
  switch (i % 8) {
    case 0:
      return GetLeaderOp{};
    case 1:
      return ShardGenerationsOp{{shard}};
    case 2:
      return UpdateNodeSchedulingPolicyOp{1 + i % 4, NodeSchedulingPolicy::kActive};
    case 3:
      return UpdateTenantShardOp{{shard.tenant_id, shard}, {.config = "{\"n\":1}"}};
    default:
      return IncrementGenerationOp{shard, 1 + i % 4};
  }
}

void Seed(Persistence& db) {
  for (NodeId node = 1; node <= 4; ++node) {
    NodeRow row;
    row.node_id = node;
    (void)db.InsertNode(row);
  }
  (void)db.InsertTenantShards(Shards());
  (void)db.UpdateLeader(std::nullopt, {"controller-0", 1});
}

void BM_ControllerTablesIncrement(benchmark::State& state) {
  ControllerTables tables;
  Seed(tables);
  uint64_t i = 0;
  for (auto _ : state) {
    auto generation = tables.IncrementGeneration({"tenant-" + std::to_string(i++ % kShards), 0, 0},
                                                 1);
    benchmark::DoNotOptimize(generation);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ControllerTablesIncrement)->UseRealTime();

void BM_ControllerTablesMixed(benchmark::State& state) {
  ControllerTables tables;
  Seed(tables);
  uint64_t i = 0;
  for (auto _ : state) {
    OpResult result = tables.Apply(MixedOperation(i++));
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ControllerTablesMixed)->UseRealTime();

// A Simulation with the fake Postgres and one client process that runs transactions on demand:
// the benchmark thread raises `target_`, wakes the client and runs the simulation until idle.
class SimulatedDatabase {
 public:
  explicit SimulatedDatabase(int clients) : simulation_(sim::SimulationOptions{.seed = 42}) {
    PostgresOptions options;
    server_ = std::make_unique<PostgresServer>(options);
    server_->AddTo(simulation_);
    server_->process().Start();
    more_ = std::make_unique<sim::Event>(simulation_.scheduler());
    for (int c = 0; c < clients; ++c) {
      simulation_
          .AddProcess("client-" + std::to_string(c),
                      [this, c](sim::Env& env) {
                        PostgresClient db(env, server_->id());
                        if (c == 0) Seed(db);
                        while (true) {
                          while (issued_ < target_) {
                            const uint64_t i = issued_++;
                            OpResult result = db.Run(MixedOperation(i));
                            failed_ += !result.status.ok();
                          }
                          more_->Reset();
                          more_->Wait();
                        }
                      })
          .Start();
    }
    simulation_.Run();
  }

  void RunBatch(uint64_t transactions) {
    target_ += transactions;
    more_->Set();
    simulation_.Run();
  }
  uint64_t failed() const { return failed_; }
  sim::Simulation& simulation() { return simulation_; }

 private:
  sim::Simulation simulation_;
  std::unique_ptr<PostgresServer> server_;
  std::unique_ptr<sim::Event> more_;
  uint64_t target_ = 0;
  uint64_t issued_ = 0;
  uint64_t failed_ = 0;
};

void BM_PostgresClientThroughSimulation(benchmark::State& state) {
  SimulatedDatabase database(static_cast<int>(state.range(0)));
  constexpr uint64_t kBatch = 256;
  while (state.KeepRunningBatch(kBatch)) database.RunBatch(kBatch);
  state.SetItemsProcessed(state.iterations());
  state.counters["failed"] = static_cast<double>(database.failed());
  if (database.failed() > 0) state.SkipWithError("transactions failed");
}
BENCHMARK(BM_PostgresClientThroughSimulation)->Arg(1)->Arg(8)->UseRealTime();

}  // namespace
}  // namespace storsim::postgres

BENCHMARK_MAIN();
