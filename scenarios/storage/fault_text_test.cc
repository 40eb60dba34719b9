// Story actions print by name and plans print in time order; kernel faults print as before.
#include "scenarios/storage/fault_text.h"

#include <gtest/gtest.h>

#include "scenarios/storage/story_helpers.h"

namespace storsim::scenarios {
namespace {

using sim::Duration;

TEST(FaultTextTest, StoryActionsByNameKernelFaultsUnchanged) {
  const sim::Fault story = StoryFault(StoryAction::kDrain, Duration::Millis(46'763), 2,
                                      Duration::Millis(1'733), 7);
  EXPECT_EQ(DescribeFault(story), "at 46763ms drain subject=2 value=7 for 1733ms");
  sim::Fault crash;
  crash.at = Duration::Seconds(3);
  crash.kind = sim::FaultKind::kCrash;
  crash.a = 4;
  EXPECT_EQ(DescribeFault(crash), crash.ToString());
  sim::Fault heal;  // a real heal_all (no marker) is not a story action
  heal.at = Duration::Seconds(9);
  EXPECT_EQ(DescribeFault(heal), heal.ToString());
}

TEST(FaultTextTest, PlanInTimeOrder) {
  sim::FaultPlan plan;
  EXPECT_EQ(DescribeFaultPlan(plan), "(no faults)\n");
  sim::Fault late;
  late.at = Duration::Seconds(9);
  late.kind = sim::FaultKind::kRestart;
  late.a = 1;
  plan.faults.push_back(late);
  plan.faults.push_back(StoryFault(StoryAction::kFill, Duration::Seconds(2), 0));
  EXPECT_EQ(DescribeFaultPlan(plan), "at 2s fill subject=0\n" + late.ToString() + "\n");
}

}  // namespace
}  // namespace storsim::scenarios
