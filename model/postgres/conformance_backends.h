// Backends of the conformance suite: the same test scripts run against the fake Postgres inside a
// Simulation (through PostgresClient) and against a real PostgreSQL (through LibpqPersistence).
//
// A script is a function of a Persistence&. Run() executes one script to completion; RunPair()
// executes two at once on two connections (fake: two client processes started at the same
// instant; real: two threads on two connections, released together). Reset() empties the
// database; for the fake it also builds a new Simulation from the given seed, which is how the
// race tests explore the fake's interleavings.
//
// The real backend shares one throwaway PostgresInstance per test binary (started on first use);
// if it cannot start (binaries missing), every real-backend test fails with the reason.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "model/persistence/libpq_persistence.h"
#include "model/persistence/persistence.h"
#include "model/postgres/postgres_server.h"
#include "sim/simulation.h"

namespace storsim::postgres {

using Script = std::function<void(persistence::Persistence&)>;

class FakeBackend {
 public:
  static constexpr const char* kName = "fake";
  absl::Status Reset(uint64_t seed = 1, PostgresOptions options = {});
  void Run(const Script& script);
  void RunPair(const Script& a, const Script& b);
  PostgresServer& server() { return *server_; }

 private:
  void StartClient(const Script& script);

  std::unique_ptr<sim::Simulation> simulation_;
  std::unique_ptr<PostgresServer> server_;
  int clients_ = 0;
};

class RealBackend {
 public:
  static constexpr const char* kName = "real";
  // `options` apply to both connections (bug #5 mode and its hook).
  absl::Status Reset(uint64_t seed = 1, persistence::LibpqOptions options = {});
  void Run(const Script& script);
  void RunPair(const Script& a, const Script& b);
  // The two connections, for tests that drive interleavings by hand.
  persistence::LibpqPersistence& first() { return *first_; }
  persistence::LibpqPersistence& second() { return *second_; }

 private:
  std::unique_ptr<persistence::LibpqPersistence> first_;
  std::unique_ptr<persistence::LibpqPersistence> second_;
};

}  // namespace storsim::postgres
