// Stateful property of the storage controller's API (rapidcheck/state.h): a real simulated
// cluster driven by generated operator and pageserver actions, checked against PlacementModel
// (the SPEC §4.1/§5.3/§6/§7 rules of placements and generations). A failing command sequence
// shrinks to a short one. Budget: 300 sequences of up to 41 commands, about a second of wall time
// (the simulation is fast: a sequence is ~10-60 s simulated).
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "rapidcheck.h"
#include "scenarios/properties/controller_commands.h"
#include "scenarios/properties/placement_model.h"
#include "scenarios/properties/property_runner.h"

namespace storsim::scenarios::properties {
namespace {

// Sequences checked, and the longest (RapidCheck's size ramps up to it over the sequences).
constexpr int kSequences = 300;
constexpr int kCommandsMax = 40;

TEST(PlacementModelTest, MigrationRulesFollowTheSpec) {
  PlacementModel model;
  model.nodes = {{1, api::NodeSchedulingPolicy::kActive},
                 {2, api::NodeSchedulingPolicy::kActive},
                 {3, api::NodeSchedulingPolicy::kActive}};
  const api::TenantShardId shard{"t1", 0, 0};
  model.shards[shard] = {1, {2}, 1};
  EXPECT_EQ(model.Migrate(shard, 1), api::Http::kOk);  // same node: no new generation
  EXPECT_EQ(model.shards[shard], (ShardModel{1, {2}, 1}));
  EXPECT_EQ(model.Migrate(shard, 2), api::Http::kOk);  // to the secondary: swap, one increment
  EXPECT_EQ(model.shards[shard], (ShardModel{2, {1}, 2}));
  EXPECT_EQ(model.Migrate(shard, 3), api::Http::kOk);  // elsewhere: origin becomes the secondary
  EXPECT_EQ(model.shards[shard], (ShardModel{3, {2}, 3}));
  EXPECT_EQ(model.Migrate(shard, 9), api::Http::kNotFound);
  EXPECT_EQ(model.Configure(1, api::NodeSchedulingPolicy::kPause), api::Http::kOk);
  EXPECT_EQ(model.Migrate(shard, 1), api::Http::kPreconditionFailed);
  model.ReAttach(3);  // attached there: one new generation
  model.ReAttach(2);  // secondary there: untouched
  EXPECT_EQ(model.shards[shard], (ShardModel{3, {2}, 4}));
  EXPECT_EQ(model.Validate(shard, 4), std::optional<bool>(true));
  EXPECT_EQ(model.Validate(shard, 3), std::optional<bool>(false));
  EXPECT_EQ(model.Validate({"t9", 0, 0}, 1), std::nullopt);
}

TEST(PlacementModelTest, DrainMovesToSchedulableSecondariesAndReAttachReactivates) {
  PlacementModel model;
  model.nodes = {{1, api::NodeSchedulingPolicy::kActive}, {2, api::NodeSchedulingPolicy::kActive}};
  const api::TenantShardId a{"t1", 0, 0};
  const api::TenantShardId b{"t2", 0, 0};
  model.shards[a] = {1, {2}, 5};
  model.shards[b] = {2, {1}, 7};
  EXPECT_EQ(model.Drain(1), api::Http::kAccepted);
  EXPECT_EQ(model.shards[a], (ShardModel{2, {1}, 6}));
  EXPECT_EQ(model.shards[b], (ShardModel{2, {1}, 7}));
  EXPECT_EQ(model.nodes[1], api::NodeSchedulingPolicy::kPauseForRestart);
  EXPECT_EQ(model.Drain(1), api::Http::kPreconditionFailed);  // not Active
  EXPECT_EQ(model.Drain(2), api::Http::kPreconditionFailed);  // no other schedulable node
  model.ReAttach(1);
  EXPECT_EQ(model.nodes[1], api::NodeSchedulingPolicy::kActive);
  EXPECT_EQ(model.shards[a].generation, 6u);  // n1 holds no attachment any more
}

// The property with `defects` switched on, under `budget`.
PropertyOutcome CheckControllerState(const std::string& id, const api::Defects& defects,
                                     const PropertyBudget& budget) {
  auto shrink_budget = std::make_shared<ShrinkBudget>(budget.shrink_runs_max);
  return CheckProperty(
      id,
      [shrink_budget, defects]() {
        if (!shrink_budget->Admit()) return;
        try {
          ControllerStateProperty(defects);
        } catch (const rc::detail::CaseResult& result) {
          if (result.type == rc::detail::CaseResult::Type::Failure) shrink_budget->NoteFailure();
          throw;
        } catch (...) {  // a SIM_CHECK thrown out of the simulation fails the case too
          shrink_budget->NoteFailure();
          throw;
        }
      },
      budget);
}

PropertyBudget StateBudget() {
  PropertyBudget budget;
  budget.max_success = kSequences;
  budget.max_size = kCommandsMax;
  budget.shrink_runs_max = 200;
  return budget;
}

TEST(ControllerStateTest, ControllerApiMatchesThePlacementModel) {
  const PropertyOutcome outcome = CheckControllerState("controller-state", api::Defects(), StateBudget());
  EXPECT_TRUE(outcome.passed) << outcome.report << "\nshrunk sequence:\n"
                              << outcome.counterexample << "failure: " << outcome.failure;
}

// The property can fail: planted defects it must catch, each shrunk to a one-command sequence
// (the counterexample lists the seed, the topology and the commands, one per line).
void ExpectCaughtInOneCommand(const std::string& defect, const std::string& failure_says) {
  api::Defects defects;
  defects.Enable(defect);
  const PropertyOutcome outcome = CheckControllerState("controller-state+" + defect, defects,
                                                       StateBudget());
  ASSERT_FALSE(outcome.passed) << defect << " not caught";
  EXPECT_NE(outcome.failure.find(failure_says), std::string::npos) << outcome.failure;
  std::cerr << defect << ": caught after " << outcome.successes << " passing sequences, shrunk in "
            << outcome.shrinks_accepted << " of " << outcome.shrinks_tried << " tries to:\n"
            << outcome.counterexample << outcome.failure << "\n";
  // seed, pageservers, tenants, then the commands: exactly one command left.
  int lines = 0;
  std::istringstream text(outcome.counterexample);
  for (std::string line; std::getline(text, line) && lines < 1000;) lines += line.empty() ? 0 : 1;
  EXPECT_EQ(lines, 4) << outcome.counterexample;
}

TEST(ControllerStateTest, CatchesTheCanaryGenerationReuse) {
  ExpectCaughtInOneCommand("canary-generation-reuse", "model n");
}

TEST(ControllerStateTest, CatchesValidateTrustingMemory) {
  ExpectCaughtInOneCommand("ctl-validate-trusts-memory", "valid, model omitted");
}

}  // namespace
}  // namespace storsim::scenarios::properties

