// FaultPlan: encoding round trip, malformed input, application to a simulation.
#include "sim/fault_plan.h"

#include <gtest/gtest.h>

#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

FaultPlan SamplePlan() {
  FaultPlan plan;
  plan.faults.push_back({Duration::Seconds(3), FaultKind::kCrash, 2, -1, Duration::Seconds(5), 0});
  plan.faults.push_back({Duration::Millis(1500), FaultKind::kPartitionOneWay, 0, 1,
                         Duration::Seconds(2), 0});
  plan.faults.push_back({Duration::Seconds(4), FaultKind::kClockDrift, 1, -1, Duration::Zero(),
                         -50'000'000});
  return plan;
}

TEST(FaultPlanTest, EncodeDecodeRoundTrips) {
  const FaultPlan plan = SamplePlan();
  auto decoded = FaultPlan::Decode(plan.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, plan);
  EXPECT_TRUE(FaultPlan::Decode("")->faults.empty());
}

TEST(FaultPlanTest, MalformedInputIsRejectedWithAReason) {
  for (const char* bad : {"x", "1.2.3", "1.2.3.4.5.!", "zz.0.0.0.0.0", "0.0.0.-1.0.0", ","}) {
    auto decoded = FaultPlan::Decode(bad);
    EXPECT_FALSE(decoded.ok()) << bad;
    EXPECT_FALSE(decoded.status().message().empty());
  }
}

TEST(FaultPlanTest, ToStringIsReadableAndSortedIsStable) {
  const FaultPlan sorted = SamplePlan().Sorted();
  EXPECT_EQ(sorted.ToString(),
            "at 1500ms partition_one_way p0 -> p1 for 2s\n"
            "at 3s crash p2 for 5s\n"
            "at 4s clock_drift p1 value=-50000000\n");
}

TEST(FaultPlanTest, AppliedPlanCrashesRestartsAndHeals) {
  Simulation simulation({.seed = 3});
  std::vector<uint64_t> boots;
  for (int i = 0; i < 3; ++i) {
    simulation.AddProcess("p" + std::to_string(i), [&boots, i](Env& env) {
      if (i == 2) boots.push_back(env.incarnation());
      env.shutdown_requested().Wait();
    }).Start();
  }
  ApplyFaultPlan(simulation, SamplePlan());
  simulation.RunUntil(Instant::Zero() + Duration::Seconds(2));
  EXPECT_TRUE(simulation.network().Partitioned(0, 1));
  EXPECT_FALSE(simulation.network().Partitioned(1, 0));
  simulation.RunUntil(Instant::Zero() + Duration::Seconds(4));
  EXPECT_FALSE(simulation.network().Partitioned(0, 1));
  EXPECT_FALSE(simulation.process(2).up());
  simulation.RunUntil(Instant::Zero() + Duration::Seconds(9));
  EXPECT_TRUE(simulation.process(2).up());
  EXPECT_EQ(boots, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(simulation.process(1).clock().drift_ppb(), -50'000'000);
}

TEST(FaultPlanTest, FaultsNamingMissingProcessesAreSkipped) {
  Simulation simulation({.seed = 3});
  simulation.AddProcess("only", [](Env& env) { env.shutdown_requested().Wait(); }).Start();
  ApplyFaultPlan(simulation, SamplePlan());
  simulation.RunFor(Duration::Seconds(20));
  EXPECT_TRUE(simulation.process(0).up());
}

}  // namespace
}  // namespace storsim::sim
