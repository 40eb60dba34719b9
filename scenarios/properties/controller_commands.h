// The commands of the stateful controller property (rapidcheck/state.h): each is an operator or
// pageserver action on a real simulated cluster (ClusterHarness), with the PlacementModel's
// prediction as its postcondition. After every command the harness settles; a command fails the
// property when an answer differs from the model or the system does not settle.
//
//   Migrate(shard -> node)   tenant shard migrate; status as the model says
//   Describe                 every tenant's placement, each pageserver's slots, the database's
//                            generation and each node's policy must equal the model, and no
//                            generation may ever go back
//   Validate(shard, gen)     the /validate upcall as a pageserver's deletion queue sends it:
//                            valid iff gen is current, unknown shards omitted
//   Restart(node, crash)     kill (or crash) a pageserver and start it: it re-attaches
//   Drain(node)              node drain; waits for the drain to finish (settle)
//   Configure(node, policy)  operator sets Active or Pause
//
// Commands draw their arguments with size-independent generators (elementOf), so RapidCheck's
// size only scales how many commands a sequence has.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>

#include "rapidcheck.h"
#include "rapidcheck/state.h"
#include "scenarios/properties/cluster_harness.h"
#include "scenarios/properties/placement_model.h"

namespace storsim::scenarios::properties {

// The system under test: the cluster, and the highest generation ever answered per shard.
struct ControllerSut {
  explicit ControllerSut(const HarnessOptions& options) : harness(options) {}
  ClusterHarness harness;
  std::map<api::TenantShardId, uint32_t> highest_generation;
  int commands_run = 0;
};

using ControllerCommand = rc::state::Command<PlacementModel, ControllerSut>;

// Fails the property (RC_FAIL) unless every placement, slot, database generation and node
// policy equals `model`; also checks that generations never go back.
void CheckAgainstModel(const PlacementModel& model, ControllerSut& sut);

class MigrateCommand : public ControllerCommand {
 public:
  explicit MigrateCommand(const PlacementModel& model);
  void apply(PlacementModel& model) const override;
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override;

 private:
  api::TenantShardId shard_;
  api::NodeId node_ = 0;
};

class DescribeCommand : public ControllerCommand {
 public:
  explicit DescribeCommand(const PlacementModel&) {}
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override { os << "Describe"; }
};

class ValidateCommand : public ControllerCommand {
 public:
  explicit ValidateCommand(const PlacementModel& model);
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override;

 private:
  api::TenantShardId shard_;
  uint32_t generation_ = 1;
};

class RestartCommand : public ControllerCommand {
 public:
  explicit RestartCommand(const PlacementModel& model);
  void apply(PlacementModel& model) const override;
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override;

 private:
  api::NodeId node_ = 0;
  bool crash_ = false;
};

class DrainCommand : public ControllerCommand {
 public:
  explicit DrainCommand(const PlacementModel& model);
  void apply(PlacementModel& model) const override;
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override { os << "Drain(n" << node_ << ")"; }

 private:
  api::NodeId node_ = 0;
};

class ConfigureCommand : public ControllerCommand {
 public:
  explicit ConfigureCommand(const PlacementModel& model);
  void apply(PlacementModel& model) const override;
  void run(const PlacementModel& model, ControllerSut& sut) const override;
  void show(std::ostream& os) const override;

 private:
  api::NodeId node_ = 0;
  api::NodeSchedulingPolicy policy_ = api::NodeSchedulingPolicy::kActive;
};

// The generator of one command for a model state: migrations and checks weigh most.
inline auto ControllerCommandGen() {
  return rc::state::gen::execOneOfWithArgs<MigrateCommand, MigrateCommand, DescribeCommand,
                                           ValidateCommand, RestartCommand, DrainCommand,
                                           ConfigureCommand>();
}

// The whole stateful property: builds a cluster (seed generated, topology 2-3 pageservers and
// 1-2 tenants, shrinking towards the smallest), starts it, takes the model from the settled
// leader, runs a generated command sequence and checks the model once more at the end.
void ControllerStateProperty(const api::Defects& defects);

}  // namespace storsim::scenarios::properties
