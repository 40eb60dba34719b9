// The storage controller process (SPEC.md §3, §4.1, §5.3–5.4, §6, §7.1–7.2, §8.1): a class whose
// Run(sim::Env&) is a process main. Each Run builds a fresh Service (all memory is rebuilt from
// the database, nothing is kept on the process Disk, as upstream keeps nothing locally) and
// serves the API of model/api/controller_api.h and upcall_api.h over sim RPC.
//
// Persistence: a factory makes the incarnation's database handle (tests hand out a shared
// ControllerTables through BorrowPersistence; scenarios make a PostgresClient per incarnation).
//
// Not here: the deploy orchestrator (model/deploy), shard splits, the optimizer's background
// migrations, the secondary-lag check of drain (no API to read a secondary's progress).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "model/api/defects.h"
#include "model/controller/options.h"
#include "model/controller/snapshot.h"
#include "model/persistence/persistence.h"
#include "sim/env.h"

namespace storsim::controller {

class Service;

using PersistenceFactory =
    std::function<std::unique_ptr<persistence::Persistence>(sim::Env& env)>;

// A non-owning Persistence forwarding every call to `target` (which must outlive it).
std::unique_ptr<persistence::Persistence> BorrowPersistence(persistence::Persistence& target);

class Controller {
 public:
  Controller(ControllerOptions options, api::Defects defects, PersistenceFactory persistence);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Process main; restartable. Returns on graceful shutdown; Env::Exit on fatal start-up errors
  // (DB unreachable, leader CAS failed), as upstream exits.
  void Run(sim::Env& env);
  ControllerSnapshot Snapshot() const;
  const ControllerOptions& options() const { return options_; }
  ControllerOptions& mutable_options() { return options_; }

 private:
  ControllerOptions options_;
  api::Defects defects_;
  PersistenceFactory persistence_;
  std::unique_ptr<Service> service_;
  uint64_t incarnation_ = 0;
};

}  // namespace storsim::controller
