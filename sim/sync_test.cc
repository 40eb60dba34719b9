// Event, Mutex, Channel, Promise/Future, WaitAny: FIFO wake order and deadlines.
#include "sim/sync.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace storsim::sim {
namespace {

Instant At(int64_t seconds) { return Instant::Zero() + Duration::Seconds(seconds); }

TEST(SyncTest, EventWakesAllWaitersInFifoOrder) {
  Scheduler scheduler;
  Event event(scheduler);
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    scheduler.Spawn("waiter", nullptr, [&, i] {
      EXPECT_TRUE(event.Wait());
      order.push_back(i);
    });
  }
  scheduler.Spawn("setter", nullptr, [&] {
    scheduler.SleepUntil(At(1));
    event.Set();
  });
  scheduler.Run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(SyncTest, EventWaitTimesOut) {
  Scheduler scheduler;
  Event event(scheduler);
  bool result = true;
  scheduler.Spawn("waiter", nullptr, [&] { result = event.Wait(At(2)); });
  scheduler.Run();
  EXPECT_FALSE(result);
  EXPECT_EQ(scheduler.Now(), At(2));
}

TEST(SyncTest, MutexHandsOffInFifoOrder) {
  Scheduler scheduler;
  Mutex mutex(scheduler);
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    scheduler.Spawn("locker", nullptr, [&, i] {
      MutexLock lock(mutex);
      order.push_back(i);
      scheduler.SleepUntil(scheduler.Now() + Duration::Seconds(1));
    });
  }
  scheduler.Run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(scheduler.Now(), At(3));
  EXPECT_FALSE(mutex.locked());
}

TEST(SyncTest, MutexLockTimesOut) {
  Scheduler scheduler;
  Mutex mutex(scheduler);
  bool second_got_it = true;
  scheduler.Spawn("holder", nullptr, [&] {
    mutex.Lock();
    scheduler.SleepUntil(At(10));
    mutex.Unlock();
  });
  scheduler.Spawn("impatient", nullptr, [&] { second_got_it = mutex.Lock(At(1)); });
  scheduler.Run();
  EXPECT_FALSE(second_got_it);
  EXPECT_FALSE(mutex.locked());
}

TEST(SyncTest, BoundedChannelBlocksSenderWhenFull) {
  Scheduler scheduler;
  Channel<int> channel(scheduler, 2);
  std::vector<std::string> log;
  scheduler.Spawn("sender", nullptr, [&] {
    for (int i = 0; i < 4; ++i) {
      channel.Send(i);
      log.push_back("sent" + std::to_string(i) + "@" + std::to_string(scheduler.Now().nanos()));
    }
    channel.Close();
  });
  scheduler.Spawn("receiver", nullptr, [&] {
    scheduler.SleepUntil(Instant::FromNanos(5));
    while (auto v = channel.Receive()) log.push_back("got" + std::to_string(*v));
  });
  scheduler.Run();
  EXPECT_EQ(log, (std::vector<std::string>{"sent0@0", "sent1@0", "got0", "got1", "sent2@5",
                                           "sent3@5", "got2", "got3"}));
}

TEST(SyncTest, ChannelReceiveTimesOut) {
  Scheduler scheduler;
  Channel<int> channel(scheduler, 1);
  std::optional<int> got = 7;
  scheduler.Spawn("receiver", nullptr, [&] { got = channel.Receive(At(3)); });
  scheduler.Run();
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(scheduler.Now(), At(3));
}

TEST(SyncTest, FutureDeliversValueOrTimesOut) {
  Scheduler scheduler;
  Promise<int> promise(scheduler);
  Future<int> future = promise.GetFuture();
  std::optional<int> early, late;
  scheduler.Spawn("early", nullptr, [&] { early = future.Wait(At(1)); });
  scheduler.Spawn("late", nullptr, [&] { late = future.Wait(At(5)); });
  scheduler.Spawn("setter", nullptr, [&] {
    scheduler.SleepUntil(At(2));
    EXPECT_TRUE(promise.Set(42));
    EXPECT_FALSE(promise.Set(43));
  });
  scheduler.Run();
  EXPECT_FALSE(early.has_value());
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(*late, 42);
}

TEST(SyncTest, WaitAnyReturnsFirstReadyOrDeadline) {
  Scheduler scheduler;
  Event a(scheduler), b(scheduler);
  Channel<int> c(scheduler, 1);
  std::vector<int> results;
  scheduler.Spawn("racer", nullptr, [&] {
    results.push_back(WaitAny(scheduler, {&a, &b, &c}, At(10)));
    b.Reset();
    results.push_back(WaitAny(scheduler, {&a, &b, &c}, At(20)));
    c.TryReceive();
    results.push_back(WaitAny(scheduler, {&a, &b, &c}, At(30)));
  });
  scheduler.Spawn("driver", nullptr, [&] {
    scheduler.SleepUntil(At(1));
    b.Set();
    scheduler.SleepUntil(At(11));
    c.TrySend(1);
  });
  scheduler.Run();
  EXPECT_EQ(results, (std::vector<int>{1, 2, -1}));
  EXPECT_EQ(scheduler.Now(), At(30));
}

TEST(SyncTest, RepeatedWaitAnyDoesNotGrowLoserQueuesWithoutBound) {
  Scheduler scheduler;
  Event never(scheduler);
  Channel<int> channel(scheduler, 1);
  int received = 0;
  scheduler.Spawn("consumer", nullptr, [&] {
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_EQ(WaitAny(scheduler, {&never, &channel}), 1);
      channel.TryReceive();
      ++received;
      ASSERT_LT(never.waiter_entries(), 64u);
    }
  });
  scheduler.Spawn("producer", nullptr, [&] {
    for (int i = 0; i < 10'000; ++i) channel.Send(i);
  });
  scheduler.Run();
  EXPECT_EQ(received, 10'000);
}

}  // namespace
}  // namespace storsim::sim
