// LocalClock: drift, re-anchoring, wall steps, deadlines never early.
#include "sim/clock.h"

#include <gtest/gtest.h>

namespace storsim::sim {
namespace {

TEST(ClockTest, NoDriftTracksTrueTime) {
  LocalClock clock;
  EXPECT_EQ(clock.Monotonic(Instant::FromNanos(12345)).nanos(), 12345);
  EXPECT_EQ(clock.TrueDeadline(Instant::FromNanos(100), Duration::Nanos(50)).nanos(), 150);
}

TEST(ClockTest, DriftBendsMonotonicTimeAndRateChangesReanchor) {
  LocalClock clock;
  clock.SetDriftPpb(Instant::Zero(), 1'000'000);  // +0.1%
  const Instant t1 = Instant::Zero() + Duration::Seconds(1000);
  EXPECT_EQ(clock.Monotonic(t1).nanos(), Duration::Seconds(1001).nanos());
  clock.SetDriftPpb(t1, -1'000'000);  // now 0.1% slow, from 1001 local seconds
  const Instant t2 = t1 + Duration::Seconds(1000);
  EXPECT_EQ(clock.Monotonic(t2).nanos(), Duration::Seconds(2000).nanos());
  EXPECT_GE(clock.Monotonic(t2), clock.Monotonic(t1));
}

TEST(ClockTest, TrueDeadlineNeverFiresEarlyByTheLocalClock) {
  LocalClock clock;
  for (int64_t drift : {-333'333'333LL, -7LL, 0LL, 13LL, 250'000'000LL}) {
    clock.SetDriftPpb(Instant::FromNanos(777), drift);
    for (int64_t local : {1LL, 999LL, 1'000'000'007LL}) {
      const Instant now = Instant::FromNanos(1'000'000);
      const Instant deadline = clock.TrueDeadline(now, Duration::Nanos(local));
      EXPECT_GE((clock.Monotonic(deadline) - clock.Monotonic(now)).nanos(), local)
          << "drift " << drift << " local " << local;
      // ...and not late by more than rounding: at most one true nanosecond per rate step.
      const __int128 rate = 1'000'000'000 + drift;
      const __int128 exact_true = static_cast<__int128>(local) * 1'000'000'000 / rate;
      EXPECT_LE((deadline - now).nanos(), static_cast<int64_t>(exact_true) + 2);
    }
  }
}

TEST(ClockTest, WallStepsMoveOnlyTheWallClock) {
  LocalClock clock;
  const Instant t = Instant::FromNanos(5'000'000'000);
  const int64_t before = clock.WallNanos(t);
  clock.StepWall(-Duration::Seconds(3).nanos());
  EXPECT_EQ(clock.WallNanos(t), before - Duration::Seconds(3).nanos());
  EXPECT_EQ(clock.Monotonic(t).nanos(), 5'000'000'000);
}

}  // namespace
}  // namespace storsim::sim
