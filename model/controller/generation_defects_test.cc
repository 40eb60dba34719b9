// The generations a live migration hands out (SPEC.md §5.3 steps 1 and 4), with the two
// switches that break them: the upstream FIXME hazard `ctl-stale-origin-current-generation`
// (origin set AttachedStale at the controller's current generation instead of its observed one)
// and the canary `canary-generation-reuse` (destination handed the previous generation again).
// Each test runs with the switch off (the default model) and on, and checks the difference.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "model/controller/controller_test_util.h"
#include "model/controller/defects.h"
#include "model/controller/events.h"

namespace storsim::controller::testing {
namespace {

using sim::Duration;

const api::TenantShardId kShard{"t1", 0, 0};

class GenerationDefectTest : public ::testing::TestWithParam<bool> {
 protected:
  bool defect() const { return GetParam(); }
  api::Defects DefectsIf(const char* name) const {
    return defect() ? api::Defects({name}) : api::Defects();
  }
  ControllerInstance& Start(api::Defects defects) {
    ControllerInstance& instance = harness_.AddController("ctl-a", {}, std::move(defects));
    instance.process->Start();
    EXPECT_TRUE(harness_.RunUntil(
        [&] {
          ControllerSnapshot snapshot = instance.controller->Snapshot();
          return snapshot.startup_complete && snapshot.reconcilers_in_flight == 0;
        },
        Duration::Seconds(30)));
    return instance;
  }
  // The location_config PUTs `node` received for kShard, as "Mode gN ..." strings, in order.
  std::vector<std::string> PutsTo(api::NodeId node) {
    const std::string prefix = "ps" + std::to_string(node) + " put " + kShard.ToString() + " ";
    std::vector<std::string> puts;
    for (const std::string& line : harness_.log()) {
      if (line.rfind(prefix, 0) == 0) puts.push_back(line.substr(prefix.size()));
    }
    return puts;
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& line : harness_.log()) std::cerr << line << "\n";
    for (const sim::TraceEvent& event : harness_.events()) {
      if (event.kind.substr(0, 4) == "ctl.") std::cerr << event.ToString() << "\n";
    }
  }
  Harness harness_;
};

// SPEC §5.3 step 1: the origin attached at generation 1 while the controller's generation moved
// on to 3 (another node re-attached after the DB named it) is set AttachedStale at its own
// generation 1; with the hazard on, at the controller's 3, a generation node 2 holds.
TEST_P(GenerationDefectTest, StaleOriginKeepsItsObservedGeneration) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddPageserver(3);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables()
                  .InsertTenantShards({ShardRow("t1", 1, 1, persistence::PlacementPolicy::Attached(0))})
                  .ok());
  ps1.slots[kShard] = Attached(1);
  ControllerInstance& a = Start(DefectsIf(kDefectStaleOriginCurrentGeneration));
  ASSERT_EQ(a.controller->Snapshot().shards.at(kShard).generation, Generation(1));
  // Another writer names node 2 in the DB (generation 2); node 2 re-attaches and gets 3.
  ASSERT_TRUE(harness_.tables().IncrementGeneration(kShard, 2).ok());
  auto reattached =
      harness_.Call(a.process->id(), api::kReAttach, api::ReAttachRequest{2, {}, false});
  ASSERT_TRUE(reattached.ok());
  ASSERT_EQ(reattached->tenants.size(), 1u);
  ASSERT_EQ(reattached->tenants[0].generation, std::optional<Generation>(Generation(3)));
  ps2.slots[kShard] = Attached(3);
  ASSERT_EQ(a.controller->Snapshot().shards.at(kShard).generation, Generation(3));
  // The operator moves the shard to node 3: node 1 (observed AttachedSingle g1) is the origin.
  const sim::ProcessId to = a.process->id();
  harness_.Async([to](sim::Env& env) {
    (void)env.rpc().Call(to, api::kTenantShardMigrate, api::TenantShardMigrateRequest{kShard, 3},
                         Duration::Seconds(60));
  });
  harness_.simulation().RunFor(Duration::Seconds(30));
  const std::vector<std::string> puts = PutsTo(1);
  ASSERT_FALSE(puts.empty());
  const std::string expected = defect() ? "AttachedStale g3" : "AttachedStale g1";
  EXPECT_EQ(puts.front().substr(0, expected.size()), expected);
}

// Canary: a plain live migration 1 -> 2 hands node 2 generation 2 (default) or, with the canary
// on, generation 1 again — the one node 1 is attached at.
TEST_P(GenerationDefectTest, CanaryReusesGenerationOnMigration) {
  FakePageserver& ps1 = harness_.AddPageserver(1);
  FakePageserver& ps2 = harness_.AddPageserver(2);
  harness_.AddControlPlane();
  ASSERT_TRUE(harness_.tables().InsertTenantShards({ShardRow("t1", 1, 1)}).ok());
  ps1.slots[kShard] = Attached(1);
  ControllerInstance& a = Start(DefectsIf(kDefectCanaryGenerationReuse));
  auto migrated = harness_.Call(a.process->id(), api::kTenantShardMigrate,
                                api::TenantShardMigrateRequest{kShard, 2});
  ASSERT_TRUE(migrated.ok());
  ASSERT_TRUE(harness_.RunUntil(
      [&] {
        return ps2.slots.count(kShard) &&
               ps2.slots.at(kShard).mode == api::LocationMode::kAttachedSingle;
      },
      Duration::Seconds(60)));
  const std::vector<std::string> puts = PutsTo(2);
  bool multi_seen = false;
  for (const std::string& put : puts) {
    if (put.rfind("AttachedMulti", 0) != 0) continue;
    multi_seen = true;
    EXPECT_EQ(put.substr(0, 16), defect() ? "AttachedMulti g1" : "AttachedMulti g2");
  }
  EXPECT_TRUE(multi_seen);
  EXPECT_EQ(ps2.slots.at(kShard).generation, Generation(defect() ? 1 : 2));
  // The DB moved on either way: the canary reuses a generation, it does not skip the increment.
  EXPECT_EQ(harness_.tables().shards().at(kShard).generation, Generation(2));
}

INSTANTIATE_TEST_SUITE_P(OffAndOn, GenerationDefectTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("DefectOn") : std::string("DefectOff");
                         });

}  // namespace
}  // namespace storsim::controller::testing
