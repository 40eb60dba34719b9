// Injected faults and the retry helper: SlowDown odds, outage and recovery, slow mode, 500 after
// execution, service-delay bounds, and the bounds of RetryStorageCall.
#include <gtest/gtest.h>

#include "model/remote_storage/remote_storage_test_util.h"

namespace storsim::remote_storage {
namespace {

using testing::StorageHarness;

TEST(RemoteStorageFaultsTest, SlowDownRateIsRoughlyTheConfiguredOdds) {
  StorageHarness harness(/*seed=*/3);
  harness.state.faults.slowdown_numerator = 1;
  harness.state.faults.slowdown_denominator = 4;
  int unavailable = 0;
  int ok = 0;
  constexpr int kRequests = 4000;
  ASSERT_TRUE(harness.RunScript([&](sim::Env&, RemoteStorageClient& client) {
    for (int i = 0; i < kRequests; ++i) {
      absl::Status status = client.Put("key-" + std::to_string(i % 100), "v").status();
      if (absl::IsUnavailable(status)) {
        ++unavailable;
        EXPECT_NE(status.message().find("503"), std::string_view::npos) << status;
      } else {
        ASSERT_TRUE(status.ok()) << status;
        ++ok;
      }
    }
  }));
  // Binomial(4000, 1/4): mean 1000, standard deviation ~27; allow about six of them.
  EXPECT_GT(unavailable, 840);
  EXPECT_LT(unavailable, 1160);
  EXPECT_EQ(static_cast<uint64_t>(unavailable), harness.state.stats.slowdowns_injected);
  // A SlowDown executes nothing: the history holds exactly the successful puts.
  EXPECT_EQ(harness.history.puts(), static_cast<uint64_t>(ok));
  EXPECT_EQ(harness.EventsOf("s3.fault").size(), static_cast<size_t>(unavailable));
}

TEST(RemoteStorageFaultsTest, OutageAnswers503ThenRecovers) {
  StorageHarness harness;
  ASSERT_TRUE(harness.RunScript(
      [](sim::Env&, RemoteStorageClient& client) { ASSERT_TRUE(client.Put("before", "1").ok()); }));
  harness.state.faults.outage = true;
  ASSERT_TRUE(harness.RunScript([](sim::Env&, RemoteStorageClient& client) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(absl::IsUnavailable(client.Put("during", "2").status()));
      EXPECT_TRUE(absl::IsUnavailable(client.Get("before").status()));
      EXPECT_TRUE(absl::IsUnavailable(client.Delete("before")));
      EXPECT_TRUE(absl::IsUnavailable(client.List("").status()));
      EXPECT_TRUE(absl::IsUnavailable(client.DeleteObjects({"before"}).status()));
    }
  }));
  EXPECT_EQ(harness.state.stats.outage_answers, 100u);
  EXPECT_EQ(harness.history.size(), 1u);  // nothing executed during the outage
  harness.state.faults.outage = false;
  ASSERT_TRUE(harness.RunScript([](sim::Env&, RemoteStorageClient& client) {
    EXPECT_EQ(client.Get("before").value_or(GetResult{}).bytes, "1");
    EXPECT_TRUE(client.Put("after", "3").ok());
    EXPECT_TRUE(absl::IsNotFound(client.Get("during").status()));
  }));
}

TEST(RemoteStorageFaultsTest, ServiceDelayStaysWithinItsBounds) {
  RemoteStorageOptions options;
  options.service_delay_min = sim::Duration::Millis(10);
  options.service_delay_max = sim::Duration::Millis(40);
  options.response_delay_max = sim::Duration::Millis(5);
  StorageHarness harness(/*seed=*/5, options);
  sim::Duration shortest = sim::Duration::Max();
  sim::Duration longest = sim::Duration::Zero();
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    for (int i = 0; i < 300; ++i) {
      const sim::Instant start = env.Now();
      ASSERT_TRUE(client.Put("k", "v").ok());
      const sim::Duration took = env.Now() - start;
      shortest = std::min(shortest, took);
      longest = std::max(longest, took);
    }
  }));
  // Network latency adds at most 2 ms each way (the default link).
  EXPECT_GE(shortest, sim::Duration::Millis(10));
  EXPECT_LT(shortest, sim::Duration::Millis(15));
  EXPECT_LE(longest, sim::Duration::Millis(49));
  EXPECT_GT(longest, sim::Duration::Millis(35));
}

TEST(RemoteStorageFaultsTest, SlowModeMakesShortTimeoutsFailButRequestsStillExecute) {
  StorageHarness harness;
  harness.state.faults.slow = true;
  absl::Status status;
  ASSERT_TRUE(harness.RunScript([&](sim::Env&, RemoteStorageClient& client) {
    status = client.Put("slow-key", "v", sim::Duration::Seconds(1)).status();
  }));
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  harness.simulation.RunFor(sim::Duration::Seconds(20));
  // The caller gave up, yet the PUT executed: the history says so.
  ASSERT_TRUE(harness.history.Current("slow-key").has_value());
  harness.state.faults.slow = false;
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    const sim::Instant start = env.Now();
    EXPECT_TRUE(client.Get("slow-key", sim::Duration::Seconds(1)).ok());
    EXPECT_LT(env.Now() - start, sim::Duration::Millis(100));
  }));
}

TEST(RemoteStorageFaultsTest, RequestsBeyondTheInFlightBoundAreThrottled) {
  RemoteStorageOptions options;
  options.requests_in_flight_max = 2;
  StorageHarness harness(/*seed=*/4, options);
  harness.state.faults.slow = true;  // the first two stay in flight for seconds
  std::vector<absl::Status> statuses(4);
  for (int i = 0; i < 4; ++i) {
    harness.StartClient("c" + std::to_string(i), [&statuses, i](sim::Env& env,
                                                                RemoteStorageClient& client) {
      env.Sleep(sim::Duration::Millis(100 * i));  // arrive in order
      statuses[i] = client.Put("k" + std::to_string(i), "v", sim::Duration::Seconds(30)).status();
    });
  }
  harness.simulation.RunFor(sim::Duration::Seconds(40));
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  EXPECT_TRUE(absl::IsUnavailable(statuses[2])) << statuses[2];
  EXPECT_TRUE(absl::IsUnavailable(statuses[3])) << statuses[3];
  EXPECT_EQ(harness.state.stats.throttled, 2u);
  EXPECT_EQ(harness.history.puts(), 2u);
}

TEST(RemoteStorageFaultsTest, InternalErrorAfterExecutionHidesASuccess) {
  StorageHarness harness;
  harness.state.faults.internal_error_numerator = 1;
  harness.state.faults.internal_error_denominator = 1;
  ASSERT_TRUE(harness.RunScript([](sim::Env&, RemoteStorageClient& client) {
    EXPECT_TRUE(absl::IsInternal(client.Put("k", "v").status()));
    EXPECT_TRUE(client.Get("k").ok());  // reads are never answered 500
    EXPECT_TRUE(absl::IsInternal(client.Delete("k")));
    EXPECT_TRUE(absl::IsNotFound(client.Get("k").status()));
  }));
  EXPECT_EQ(harness.history.puts(), 1u);
  EXPECT_EQ(harness.history.deletes(), 1u);
  EXPECT_EQ(harness.state.stats.internal_errors_injected, 2u);
}

TEST(RemoteStorageFaultsTest, RetryRidesOutSlowDowns) {
  StorageHarness harness(/*seed=*/9);
  harness.state.faults.slowdown_numerator = 1;
  harness.state.faults.slowdown_denominator = 2;
  int retried = 0;
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    const RetryPolicy policy{.attempts_max = 20};
    for (int i = 0; i < 50; ++i) {
      RetryStats stats;
      absl::StatusOr<uint64_t> result = RetryStorageCall(
          env, policy, [&] { return client.Put("key-" + std::to_string(i), "v"); }, &stats);
      EXPECT_TRUE(result.ok()) << result.status();
      if (stats.attempts > 1) ++retried;
      EXPECT_EQ(stats.slept > sim::Duration::Zero(), stats.attempts > 1);
    }
  }));
  EXPECT_GT(retried, 10);
  EXPECT_EQ(harness.history.CurrentObjects().size(), 50u);
}

TEST(RemoteStorageFaultsTest, RetryIsBoundedInAttemptsAndTime) {
  StorageHarness harness;
  harness.state.faults.outage = true;
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    RetryStats stats;
    const RetryPolicy by_attempts{.attempts_max = 5, .total_max = sim::Duration::Minutes(10)};
    absl::Status status = RetryStorageCall(
        env, by_attempts, [&] { return client.Delete("k"); }, &stats);
    EXPECT_TRUE(absl::IsUnavailable(status));
    EXPECT_EQ(stats.attempts, 5);

    RetryStats timed;
    const RetryPolicy by_time{.attempts_max = 1000,
                              .backoff_initial = sim::Duration::Millis(100),
                              .backoff_max = sim::Duration::Seconds(1),
                              .total_max = sim::Duration::Seconds(10)};
    const sim::Instant start = env.Now();
    status = RetryStorageCall(
        env, by_time, [&] { return client.Delete("k"); }, &timed);
    EXPECT_TRUE(absl::IsUnavailable(status));
    EXPECT_LE(env.Now() - start, sim::Duration::Seconds(11));  // plus the last call's own time
    EXPECT_GT(timed.attempts, 8);
    EXPECT_LT(timed.attempts, 40);

    // During an outage even a malformed request is answered 503 (faults come first), so it is
    // retried; once the outage ends (below) the 400 ends the loop at once.
    RetryStats once;
    (void)RetryStorageCall(
        env, by_attempts, [&] { return client.Put("", "x"); }, &once);
    EXPECT_EQ(once.attempts, 5);
  }));
  harness.state.faults.outage = false;
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    RetryStats once;
    absl::StatusOr<uint64_t> bad = RetryStorageCall(
        env, RetryPolicy{}, [&] { return client.Put("", "x"); }, &once);
    EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
    EXPECT_EQ(once.attempts, 1);
  }));
}

TEST(RemoteStorageFaultsTest, CrashedStorageRefusesAndRetryWaitsForTheRestart) {
  StorageHarness harness;
  harness.server->Crash();
  harness.simulation.SpawnKernel("restarter", [&] {
    harness.simulation.scheduler().SleepUntil(harness.simulation.Now() + sim::Duration::Seconds(2));
    harness.server->Start();
  });
  absl::Status first;
  RetryStats stats;
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    first = client.Put("k", "v").status();
    absl::StatusOr<uint64_t> result = RetryStorageCall(
        env, RetryPolicy{.attempts_max = 30}, [&] { return client.Put("k", "v"); }, &stats);
    EXPECT_TRUE(result.ok()) << result.status();
  }));
  EXPECT_TRUE(absl::IsUnavailable(first)) << first;
  EXPECT_GT(stats.attempts, 1);
  EXPECT_EQ(harness.history.puts(), 1u);
}

}  // namespace
}  // namespace storsim::remote_storage
