// Scheduler: ordering at one instant, time jumps, limits, exceptions, kill.
#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

#include "sim/check.h"

namespace storsim::sim {
namespace {

TEST(SchedulerTest, ReadyFibersRunFifoBeforeTimeAdvances) {
  Scheduler scheduler;
  std::vector<std::string> log;
  scheduler.Spawn("a", nullptr, [&] {
    log.push_back("a1");
    scheduler.Yield();
    log.push_back("a2");
  });
  scheduler.Spawn("b", nullptr, [&] {
    log.push_back("b1");
    scheduler.SleepUntil(Instant::Zero() + Duration::Seconds(1));
    log.push_back("b2@" + scheduler.Now().ToString());
  });
  EXPECT_EQ(scheduler.Run(), RunOutcome::kIdle);
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "b1", "a2", "b2@1.000000000s"}));
}

TEST(SchedulerTest, TimersAtTheSameInstantFireInArmingOrder) {
  Scheduler scheduler;
  std::vector<int> log;
  for (int i = 0; i < 5; ++i) {
    scheduler.Spawn("f", nullptr, [&, i] {
      scheduler.SleepUntil(Instant::FromNanos(100));
      log.push_back(i);
    });
  }
  scheduler.Run();
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(scheduler.Now(), Instant::FromNanos(100));
}

TEST(SchedulerTest, ExceptionInFiberReachesCallerOfRun) {
  Scheduler scheduler;
  scheduler.Spawn("thrower", nullptr, [] { throw std::runtime_error("boom"); });
  EXPECT_THROW(
      {
        try {
          scheduler.Run();
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "boom");
          throw;
        }
      },
      std::runtime_error);
}

TEST(SchedulerTest, SimCheckInFiberReachesCallerAsInvariantViolation) {
  Scheduler scheduler;
  scheduler.Spawn("checker", nullptr, [] { SIM_CHECK(1 + 1 == 3); });
  EXPECT_THROW(scheduler.Run(), InvariantViolation);
}

TEST(SchedulerTest, StepLimitCatchesLivelockedFiber) {
  SchedulerOptions options;
  options.steps_max = 10'000;
  Scheduler scheduler(options);
  scheduler.Spawn("spinner", nullptr, [&] {
    while (true) scheduler.Yield();
  });
  EXPECT_EQ(scheduler.Run(), RunOutcome::kStepLimit);
  EXPECT_GE(scheduler.steps(), 10'000u);
}

TEST(SchedulerTest, TimeLimitStopsRunawayTimers) {
  SchedulerOptions options;
  options.time_max = Instant::Zero() + Duration::Seconds(10);
  Scheduler scheduler(options);
  scheduler.Spawn("ticker", nullptr, [&] {
    while (true) scheduler.SleepUntil(scheduler.Now() + Duration::Seconds(1));
  });
  EXPECT_EQ(scheduler.Run(), RunOutcome::kTimeLimit);
  EXPECT_LE(scheduler.Now(), Instant::Zero() + Duration::Seconds(10));
}

TEST(SchedulerTest, RunUntilStopsAtTheInstantAndResumes) {
  Scheduler scheduler;
  int ticks = 0;
  scheduler.Spawn("ticker", nullptr, [&] {
    for (int i = 0; i < 10; ++i) {
      scheduler.SleepUntil(scheduler.Now() + Duration::Seconds(1));
      ++ticks;
    }
  });
  EXPECT_EQ(scheduler.RunUntil(Instant::Zero() + Duration::Millis(3500)), RunOutcome::kReachedTime);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(scheduler.Now(), Instant::Zero() + Duration::Millis(3500));
  EXPECT_EQ(scheduler.Run(), RunOutcome::kIdle);
  EXPECT_EQ(ticks, 10);
}

TEST(SchedulerTest, KillUnwindsStackAndStaleWakesDoNothing) {
  Scheduler scheduler;
  bool destructor_ran = false;
  bool resumed = false;
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  WakeToken token;
  Fiber* victim = scheduler.Spawn("victim", nullptr, [&] {
    Guard guard{&destructor_ran};
    token = scheduler.PrepareWait();
    scheduler.Block();
    resumed = true;
  });
  scheduler.Run();
  EXPECT_FALSE(destructor_ran);
  scheduler.Kill(victim);
  EXPECT_TRUE(destructor_ran);
  EXPECT_FALSE(scheduler.Wake(token));
  scheduler.Run();
  EXPECT_FALSE(resumed);
  EXPECT_EQ(scheduler.fibers_live(), 0u);
}

TEST(SchedulerTest, WakeBeforeBlockReturnsImmediately) {
  Scheduler scheduler;
  WakeReason reason = WakeReason::kTimeout;
  scheduler.Spawn("self", nullptr, [&] {
    WakeToken token = scheduler.PrepareWait();
    EXPECT_TRUE(scheduler.Wake(token));
    reason = scheduler.Block(scheduler.Now() + Duration::Seconds(5));
  });
  scheduler.Run();
  EXPECT_EQ(reason, WakeReason::kNotified);
  EXPECT_EQ(scheduler.Now(), Instant::Zero());
}

TEST(SchedulerTest, AbandonedTimeoutsDoNotMoveTimeWhenTheRunGoesIdle) {
  Scheduler scheduler;
  WakeToken token;
  scheduler.Spawn("waiter", nullptr, [&] {
    token = scheduler.PrepareWait();
    // Woken long before its one-hour timeout.
    EXPECT_EQ(scheduler.Block(scheduler.Now() + Duration::Minutes(60)), WakeReason::kNotified);
  });
  scheduler.Spawn("waker", nullptr, [&] {
    scheduler.SleepUntil(Instant::Zero() + Duration::Seconds(2));
    scheduler.Wake(token);
  });
  EXPECT_EQ(scheduler.Run(), RunOutcome::kIdle);
  EXPECT_EQ(scheduler.Now(), Instant::Zero() + Duration::Seconds(2));
}

TEST(SchedulerTest, ManyFibersRecycleStacks) {
  Scheduler scheduler;
  int done = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      scheduler.Spawn("worker", nullptr, [&] {
        scheduler.Yield();
        ++done;
      });
    }
    scheduler.Run();
  }
  EXPECT_EQ(done, 3000);
  EXPECT_EQ(scheduler.fibers_live(), 0u);
}

}  // namespace
}  // namespace storsim::sim

namespace storsim::sim {
namespace {

// Never called: its mark must still be registered when the program loads.
[[maybe_unused]] void NeverRuns() { SIM_MARK("test.never_runs"); }

// A wait that ends early leaves its deadline timer stale; the heap drops stale timers in bulk
// once they are half of it, so a long run of early-answered waits keeps the heap small, and the
// live timers (sleepers here) still fire at their instants in (instant, arming) order.
TEST(SchedulerTest, EarlyEndedWaitsDoNotPileUpTimersAndLiveTimersKeepTheirOrder) {
  Scheduler scheduler;
  constexpr int kRequests = 5000;
  constexpr int kSleepers = 40;
  std::vector<std::string> log;
  for (int i = 0; i < kSleepers; ++i) {
    // Deadlines spread over the run, two sleepers per instant (arming order decides ties).
    const Instant wake_at = Instant::FromNanos(1000 + (i / 2) * 12'345 + (i % 3));
    scheduler.Spawn("sleeper", nullptr, [&, i, wake_at] {
      scheduler.SleepUntil(wake_at);
      log.push_back(std::to_string(i) + "@" + std::to_string(scheduler.Now().nanos()));
    });
  }
  WakeToken pending;
  bool has_pending = false;
  size_t timers_max = 0;
  int answered = 0;
  scheduler.Spawn("client", nullptr, [&] {
    for (int i = 0; i < kRequests; ++i) {
      pending = scheduler.PrepareWait();
      has_pending = true;
      // A 5 s timeout on a request answered 100 ns later.
      if (scheduler.Block(scheduler.Now() + Duration::Seconds(5)) == WakeReason::kNotified) {
        ++answered;
      }
      timers_max = std::max(timers_max, scheduler.timers_pending());
    }
  });
  scheduler.Spawn("server", nullptr, [&] {
    for (int i = 0; i < kRequests; ++i) {
      scheduler.SleepUntil(scheduler.Now() + Duration::Nanos(100));
      SIM_CHECK(has_pending);
      has_pending = false;
      SIM_CHECK(scheduler.Wake(pending));
    }
  });
  EXPECT_EQ(scheduler.Run(), RunOutcome::kIdle);
  EXPECT_EQ(answered, kRequests);
  // Live: the sleepers, the server's sleep and the client's current timeout; stale: fewer than
  // the compaction threshold or than half the heap.
  EXPECT_LE(timers_max, 2 * (kSleepers + 2) + 64u);
  EXPECT_EQ(scheduler.timers_pending(), 0u);
  std::vector<std::pair<int64_t, int>> expected_order;
  for (int i = 0; i < kSleepers; ++i) expected_order.push_back({1000 + (i / 2) * 12'345 + (i % 3), i});
  std::sort(expected_order.begin(), expected_order.end());
  std::vector<std::string> expected;
  for (const auto& [at, i] : expected_order) expected.push_back(std::to_string(i) + "@" + std::to_string(at));
  EXPECT_EQ(log, expected);
  // Idle at the last live event (the last answer), not at an abandoned 5 s timeout.
  EXPECT_EQ(scheduler.Now(), Instant::FromNanos(100 * kRequests));
}

TEST(SchedulerTest, KilledTimedWaitersLeaveNoTimersBehind) {
  Scheduler scheduler;
  std::vector<Fiber*> waiters;
  for (int i = 0; i < 300; ++i) {
    waiters.push_back(scheduler.Spawn("waiter", nullptr, [&] {
      scheduler.PrepareWait();
      scheduler.Block(Instant::Zero() + Duration::Seconds(10));
    }));
  }
  scheduler.RunFor(Duration::Millis(1));
  EXPECT_EQ(scheduler.timers_pending(), 300u);
  for (Fiber* waiter : waiters) scheduler.Kill(waiter);
  EXPECT_LT(scheduler.timers_pending(), 64u);
  EXPECT_EQ(scheduler.Run(), RunOutcome::kIdle);
  EXPECT_EQ(scheduler.Now(), Instant::Zero() + Duration::Millis(1));
}

TEST(MarksTest, MarksAreRegisteredBeforeTheyRunAndCountedWhenTheyDo) {
  const auto& counts = Marks::Global().counts();
  ASSERT_NE(counts.find("test.never_runs"), counts.end());
  EXPECT_EQ(counts.find("test.never_runs")->second, 0u);
  SIM_MARK("test.runs");
  SIM_MARK("test.runs");
  EXPECT_EQ(Marks::Global().counts().find("test.runs")->second, 2u);
}

}  // namespace
}  // namespace storsim::sim
