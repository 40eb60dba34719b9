// The fake and real backends of the conformance suite (see conformance_backends.h). The real one
// runs outside the simulation, with threads and real time: such lines are marked.
#include "model/postgres/conformance_backends.h"

#include <latch>   // determinism: ok (real-PostgreSQL test support, outside the simulation)
#include <thread>  // determinism: ok (real-PostgreSQL test support, outside the simulation)

#include "model/persistence/postgres_instance.h"
#include "model/postgres/postgres_client.h"
#include "sim/check.h"
#include "sim/env.h"

namespace storsim::postgres {

using persistence::LibpqPersistence;
using persistence::PostgresInstance;

absl::Status FakeBackend::Reset(uint64_t seed, PostgresOptions options) {
  server_.reset();
  simulation_ = std::make_unique<sim::Simulation>(sim::SimulationOptions{.seed = seed});
  server_ = std::make_unique<PostgresServer>(options);
  server_->AddTo(*simulation_);
  server_->process().Start();
  clients_ = 0;
  simulation_->Run();
  return server_->live_tables() != nullptr ? absl::OkStatus()
                                           : absl::InternalError("fake Postgres did not start");
}

void FakeBackend::StartClient(const Script& script) {
  SIM_CHECK_MSG(simulation_ != nullptr, "Reset() first");
  sim::Process& process = simulation_->AddProcess(
      "client-" + std::to_string(clients_++), [this, script](sim::Env& env) {
        PostgresClient client(env, server_->id());
        script(client);
      });
  process.Start();
}

void FakeBackend::Run(const Script& script) {
  StartClient(script);
  simulation_->Run();
}

void FakeBackend::RunPair(const Script& a, const Script& b) {
  StartClient(a);
  StartClient(b);
  simulation_->Run();
}

namespace {

// One server per test binary, started on first use; its failure is remembered and reported to
// every test that asks.
absl::StatusOr<PostgresInstance*> SharedInstance() {
  static absl::StatusOr<std::unique_ptr<PostgresInstance>>* instance =
      new absl::StatusOr<std::unique_ptr<PostgresInstance>>(PostgresInstance::Start());
  // Stopped at exit (the StatusOr itself is leaked on purpose: destruction order at exit).
  static const bool stop_at_exit = [] {
    std::atexit([] {
      if (instance->ok()) instance->value().reset();
    });
    return true;
  }();
  (void)stop_at_exit;
  if (!instance->ok()) return instance->status();
  return instance->value().get();
}

}  // namespace

absl::Status RealBackend::Reset(uint64_t seed, persistence::LibpqOptions options) {
  absl::StatusOr<PostgresInstance*> instance = SharedInstance();
  if (!instance.ok()) return instance.status();
  if (!first_) {
    auto first = LibpqPersistence::Connect((*instance)->conninfo());
    if (!first.ok()) return first.status();
    auto second = LibpqPersistence::Connect((*instance)->conninfo());
    if (!second.ok()) return second.status();
    first_ = std::move(*first);
    second_ = std::move(*second);
  }
  first_->options() = options;
  second_->options() = options;
  return first_->Truncate();
}

void RealBackend::Run(const Script& script) {
  SIM_CHECK_MSG(first_ != nullptr, "Reset() first");
  script(*first_);
}

void RealBackend::RunPair(const Script& a, const Script& b) {
  SIM_CHECK_MSG(first_ != nullptr, "Reset() first");
  std::latch start(2);  // determinism: ok (real database, two real connections)
  std::thread other([&] {  // determinism: ok (real database, two real connections)
    start.arrive_and_wait();
    b(*second_);
  });
  start.arrive_and_wait();
  a(*first_);
  other.join();
}

}  // namespace storsim::postgres
