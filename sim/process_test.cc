// Process lifecycle: crash, kill, restart, pause, graceful stop, exit.
#include "sim/process.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::sim {
namespace {

Instant At(int64_t millis) { return Instant::Zero() + Duration::Millis(millis); }

TEST(ProcessTest, CrashDropsUnsyncedWritesAndKeepsSyncedOnes) {
  Simulation simulation({.seed = 1});
  Process& p = simulation.AddProcess("p", [](Env& env) {
    env.disk().Append("wal", "synced");
    env.disk().Sync();
    env.disk().Append("wal", "unsynced");
    env.disk().Replace("meta", {"new"});
    env.Sleep(Duration::Seconds(100));
  });
  p.Start();
  simulation.RunFor(Duration::Seconds(1));
  EXPECT_EQ(p.disk().Read("wal").size(), 2u);
  p.Crash();
  EXPECT_EQ(p.disk().Read("wal"), (std::vector<std::string>{"synced"}));
  EXPECT_FALSE(p.disk().Exists("meta"));
}

TEST(ProcessTest, KillKeepsUnsyncedWrites) {
  Simulation simulation({.seed = 1});
  Process& p = simulation.AddProcess("p", [](Env& env) {
    env.disk().Append("wal", "unsynced");
    env.Sleep(Duration::Seconds(100));
  });
  p.Start();
  simulation.RunFor(Duration::Seconds(1));
  p.Kill();
  EXPECT_EQ(p.disk().Read("wal").size(), 1u);
}

TEST(ProcessTest, CrashDestroysEveryFiberAndRestartRunsMainAgainOnTheSameDisk) {
  Simulation simulation({.seed = 1});
  int background_ticks = 0;
  std::vector<uint64_t> incarnations;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    incarnations.push_back(env.incarnation());
    env.disk().Append("boots", "boot");
    env.disk().Sync();
    env.Spawn("ticker", [&] {
      while (true) {
        env.Sleep(Duration::Seconds(1));
        ++background_ticks;
      }
    });
    env.Sleep(Duration::Seconds(1000));
  });
  p.Start();
  simulation.RunFor(Duration::Millis(3500));
  EXPECT_EQ(background_ticks, 3);
  p.Crash();
  simulation.RunFor(Duration::Seconds(10));
  EXPECT_EQ(background_ticks, 3);  // the ticker died with the incarnation
  p.Start();
  simulation.RunFor(Duration::Millis(1500));
  EXPECT_EQ(background_ticks, 4);
  EXPECT_EQ(incarnations, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(p.disk().Read("boots").size(), 2u);
}

TEST(ProcessTest, PausedProcessResumesWithTheTimersItMissed) {
  Simulation simulation({.seed = 1});
  std::vector<int64_t> wakeups;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    for (int i = 0; i < 3; ++i) {
      env.Sleep(Duration::Seconds(1));
      wakeups.push_back(simulation.Now().nanos() / 1000'000);
    }
  });
  p.Start();
  simulation.RunUntil(At(1500));
  p.Pause();
  simulation.RunUntil(At(5000));
  EXPECT_EQ(wakeups, (std::vector<int64_t>{1000}));  // the 2 s timer fired but waits
  p.Resume();
  simulation.RunUntil(At(10000));
  // The missed timer runs at resume time; the next sleep starts from there.
  EXPECT_EQ(wakeups, (std::vector<int64_t>{1000, 5000, 6000}));
}

TEST(ProcessTest, GracefulStopRunsTheShutdownPath) {
  Simulation simulation({.seed = 1});
  bool shutdown_ran = false;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    env.shutdown_requested().Wait();
    env.Sleep(Duration::Millis(100));  // drain
    shutdown_ran = true;
  });
  p.Start();
  simulation.RunFor(Duration::Seconds(1));
  p.Stop(Duration::Seconds(5));
  simulation.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(shutdown_ran);
  EXPECT_FALSE(p.up());
}

TEST(ProcessTest, GracefulStopKillsAfterGrace) {
  Simulation simulation({.seed = 1});
  bool finished = false;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    env.shutdown_requested().Wait();
    env.Sleep(Duration::Seconds(60));  // ignores the grace period
    finished = true;
  });
  p.Start();
  simulation.RunFor(Duration::Seconds(1));
  p.Stop(Duration::Seconds(5));
  simulation.RunFor(Duration::Seconds(10));
  EXPECT_FALSE(finished);
  EXPECT_FALSE(p.up());
}

TEST(ProcessTest, ExitEndsTheIncarnationFromInside) {
  Simulation simulation({.seed = 1});
  bool after_exit = false;
  int background_ticks = 0;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    env.Spawn("ticker", [&] {
      while (true) {
        env.Sleep(Duration::Millis(100));
        ++background_ticks;
      }
    });
    env.Sleep(Duration::Millis(250));
    env.Exit();
    after_exit = true;
  });
  p.Start();
  simulation.RunFor(Duration::Seconds(2));
  EXPECT_FALSE(after_exit);
  EXPECT_FALSE(p.up());
  EXPECT_EQ(background_ticks, 2);
}

TEST(ProcessTest, SleepFollowsTheLocalClockRate) {
  Simulation simulation({.seed = 1});
  Instant woke;
  Process& p = simulation.AddProcess("p", [&](Env& env) {
    env.Sleep(Duration::Seconds(10));
    woke = simulation.Now();
  });
  // 10% fast: ten local seconds pass in 10/1.1 true seconds.
  p.clock().SetDriftPpb(simulation.Now(), 100'000'000);
  p.Start();
  simulation.Run();
  EXPECT_EQ(woke.nanos(), 9'090'909'091);
}

}  // namespace
}  // namespace storsim::sim
