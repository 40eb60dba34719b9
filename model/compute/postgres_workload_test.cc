// The Postgres workload of a compute: acknowledged writes and read results in the trace with
// every field, libpagestore's refresh triggers (NotFound, >16 failed connects) in lakebase mode
// only, the self-heal to the new pageserver (L7), and the 60 s cancel of a query whose refresh
// requests keep failing.
#include <gtest/gtest.h>

#include "model/compute/compute_ctl.h"
#include "model/compute/compute_test_fakes.h"
#include "model/compute/events.h"

namespace storsim::compute {
namespace {

using api::ComputeStatus;
using sim::Duration;
using testing::ComputeHarness;
using testing::EventsOf;
using testing::FakePageserver;
using testing::MakeSpec;

api::ComputeSpec OnNode(api::NodeId node, uint64_t version) {
  return MakeSpec("t1", version, {{node, 0}});
}

void Configure(ComputeHarness& harness, bool lakebase,
               const api::ComputeSpec& spec = OnNode(1, 1)) {
  harness.options.lakebase_mode = lakebase;
  harness.options.workload.enabled = true;
  harness.options.workload.key_count = 8;
  harness.options.workload.op_interval = Duration::Millis(100);
  harness.spec_store.spec = spec;
  harness.Build();
  harness.Start();
}

// Moves the tenant from pageserver 1 to 2 at 5 s: 1 answers NotFound (or is down), the spec
// store already has the new spec. Returns the harness after 30 s.
void MoveAway(ComputeHarness& harness, bool crash_old) {
  harness.RunFor(Duration::Seconds(5));
  harness.spec_store.spec = OnNode(2, 2);
  if (crash_old) {
    harness.world.pageserver1_process->Crash();
  } else {
    harness.world.pageserver1.attached = false;
  }
  harness.RunFor(Duration::Seconds(25));
}

TEST(PostgresWorkloadTest, WritesAndReadsAreTracedWithEveryField) {
  ComputeHarness harness;
  Configure(harness, false);
  harness.RunFor(Duration::Seconds(20));
  auto writes = EventsOf(harness.world.sink, events::kWriteAcked);
  auto reads = EventsOf(harness.world.sink, events::kRead);
  ASSERT_GT(writes.size(), 20u);
  ASSERT_GT(reads.size(), 20u);
  const auto& records = harness.world.safekeeper.records();
  for (const sim::TraceEvent& write : writes) {
    const int64_t lsn = write.Int("lsn");
    ASSERT_GE(lsn, 1);
    ASSERT_LE(static_cast<size_t>(lsn), records.size());
    EXPECT_EQ(records[lsn - 1].value, write.Str("value"));
    EXPECT_EQ(static_cast<int64_t>(records[lsn - 1].key), write.Int("key"));
  }
  int found = 0;
  for (const sim::TraceEvent& read : reads) {
    for (const char* key : {"key", "request_lsn", "expected_lsn", "found", "value", "value_lsn",
                            "node_id", "pageserver", "shard_number", "spec_version", "outcome"}) {
      EXPECT_TRUE(read.Has(key)) << key;
    }
    EXPECT_EQ(read.Str("outcome"), "ok");
    EXPECT_EQ(read.Int("node_id"), 1);
    EXPECT_EQ(read.Int("pageserver"), harness.world.pageserver1_process->id());
    // Never older than this compute's own last acknowledged write of the key.
    EXPECT_GE(read.Int("value_lsn"), read.Int("expected_lsn"));
    EXPECT_LE(read.Int("value_lsn"), read.Int("request_lsn"));
    if (read.Int("found") == 1) {
      ++found;
      EXPECT_EQ(records[read.Int("value_lsn") - 1].value, read.Str("value"));
    }
  }
  EXPECT_GT(found, 10);
  const ComputeSnapshot snapshot = harness.Snapshot();
  EXPECT_EQ(snapshot.last_acked_lsn, records.size());
  EXPECT_EQ(snapshot.writes_acked, writes.size());
  // The pageserver saw GetPage at the compute's last acknowledged LSN.
  ASSERT_FALSE(harness.world.pageserver1.requests.empty());
  EXPECT_TRUE(harness.world.pageserver2.requests.empty());
}

TEST(PostgresWorkloadTest, ShardedTenantReadsEachKeyFromItsShardsPageserver) {
  ComputeHarness harness;
  Configure(harness, false, MakeSpec("t1", 1, {{1, 0}, {2, 1}}, 2, 2));
  harness.RunFor(Duration::Seconds(20));
  const FakePageserver* pageservers[] = {&harness.world.pageserver1, &harness.world.pageserver2};
  for (uint8_t shard = 0; shard < 2; ++shard) {
    const auto& requests = pageservers[shard]->requests;
    ASSERT_FALSE(requests.empty());
    for (const api::GetPageRequest& request : requests) {
      EXPECT_EQ(request.shard.tenant_id, "t1");
      EXPECT_EQ(request.shard.shard_number, shard);
      EXPECT_EQ(request.shard.shard_count, 2);
      EXPECT_EQ(api::ShardOfKey(request.key, 2, 2), shard) << request.key;
    }
  }
  for (const sim::TraceEvent& read : EventsOf(harness.world.sink, events::kRead)) {
    EXPECT_EQ(read.Str("outcome"), "ok");
    EXPECT_EQ(read.Int("node_id"), read.Int("shard_number") + 1);
  }
}

TEST(PostgresWorkloadTest, SameSeedSameTrace) {
  uint64_t fingerprints[3];
  uint64_t seeds[3] = {5, 5, 6};
  for (int run = 0; run < 3; ++run) {
    ComputeHarness harness(seeds[run]);
    Configure(harness, true);
    MoveAway(harness, false);
    fingerprints[run] = harness.world.simulation.Fingerprint();
  }
  EXPECT_EQ(fingerprints[0], fingerprints[1]);
  EXPECT_NE(fingerprints[0], fingerprints[2]);
}

TEST(PostgresWorkloadTest, UnacknowledgedWritesAreTracedAsFailed) {
  ComputeHarness harness;
  harness.world.safekeeper.fail_status = api::Http::kServiceUnavailable;
  Configure(harness, false);
  harness.RunFor(Duration::Seconds(5));
  EXPECT_TRUE(EventsOf(harness.world.sink, events::kWriteAcked).empty());
  auto failed = EventsOf(harness.world.sink, events::kWriteFailed);
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0].Int("status"), 503);
  EXPECT_EQ(harness.Snapshot().last_acked_lsn, 0u);
}

TEST(PostgresWorkloadTest, NotFoundTriggersRefreshAndTheComputeHealsToTheNewPageserver) {
  ComputeHarness harness;
  Configure(harness, true);
  MoveAway(harness, false);
  auto signals = EventsOf(harness.world.sink, events::kRefreshSignal);
  ASSERT_FALSE(signals.empty());
  EXPECT_EQ(signals[0].Str("reason"), "not-found");
  EXPECT_EQ(harness.Status(), ComputeStatus::kRunning);
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
  auto reads = EventsOf(harness.world.sink, events::kRead);
  ASSERT_FALSE(reads.empty());
  const sim::TraceEvent& last = reads.back();
  EXPECT_EQ(last.Str("outcome"), "ok");
  EXPECT_EQ(last.Int("node_id"), 2);
  for (const sim::TraceEvent& read : reads) {
    EXPECT_EQ(read.Str("outcome"), "ok");  // the query retried until the new conninfo
    EXPECT_GE(read.Int("value_lsn"), read.Int("expected_lsn"));
  }
}

TEST(PostgresWorkloadTest, RefreshOnlyAfterMoreThan16FailedConnects) {
  ComputeHarness harness;
  Configure(harness, true);
  MoveAway(harness, true);
  auto failures = EventsOf(harness.world.sink, events::kGetPageFailed);
  auto signals = EventsOf(harness.world.sink, events::kRefreshSignal);
  ASSERT_FALSE(signals.empty());
  EXPECT_EQ(signals[0].Str("reason"), "connect-failures");
  // Every failed connect before the first signal had a count of at most 17, and the one just
  // before it exactly 17.
  const sim::TraceEvent* before = nullptr;
  for (const sim::TraceEvent& failure : failures) {
    if (failure.sequence > signals[0].sequence) break;
    EXPECT_LE(failure.Int("consecutive_failures"), 17);
    before = &failure;
  }
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->Int("consecutive_failures"), 17);
  EXPECT_EQ(before->Str("reason"), "unavailable");
  EXPECT_EQ(harness.Snapshot().spec, OnNode(2, 2));
}

TEST(PostgresWorkloadTest, ClassicModeNeverSignalsAndQueriesTimeOut) {
  ComputeHarness harness;
  harness.options.workload.query_timeout = Duration::Seconds(5);
  Configure(harness, false);
  MoveAway(harness, false);
  EXPECT_TRUE(EventsOf(harness.world.sink, events::kRefreshSignal).empty());
  EXPECT_EQ(harness.Snapshot().spec, OnNode(1, 1));
  int timeouts = 0;
  for (const sim::TraceEvent& read : EventsOf(harness.world.sink, events::kRead)) {
    if (read.Str("outcome") == "timeout") ++timeouts;
  }
  EXPECT_GT(timeouts, 0);
}

TEST(PostgresWorkloadTest, QueryIsCancelledAfter60sOfNon200RefreshAnswers) {
  ComputeHarness harness;
  harness.options.get_spec_timeout = Duration::Seconds(300);
  Configure(harness, true);
  harness.RunFor(Duration::Seconds(5));
  // The refresh hangs in RefreshConfiguration (the spec store answers after 200 s), so every
  // further refresh request answers 500.
  harness.spec_store.delay = Duration::Seconds(200);
  harness.world.pageserver1.attached = false;
  harness.RunFor(Duration::Seconds(80));
  EXPECT_EQ(harness.Status(), ComputeStatus::kRefreshConfiguration);
  const std::vector<sim::TraceEvent> reads = EventsOf(harness.world.sink, events::kRead);
  const std::vector<sim::TraceEvent> signals = EventsOf(harness.world.sink, events::kRefreshSignal);
  const sim::TraceEvent* cancelled = nullptr;
  for (const sim::TraceEvent& read : reads) {
    if (read.Str("outcome") == "cancelled") {
      cancelled = &read;
      break;
    }
  }
  ASSERT_NE(cancelled, nullptr);
  EXPECT_GE(cancelled->at - sim::Instant::Zero(), Duration::Seconds(65));
  // The last refresh signal of that query had seen non-200 answers for over 60 s.
  const sim::TraceEvent* last_signal = nullptr;
  for (const sim::TraceEvent& signal : signals) {
    if (signal.sequence < cancelled->sequence) last_signal = &signal;
  }
  ASSERT_NE(last_signal, nullptr);
  EXPECT_EQ(last_signal->Int("status"), 500);
  EXPECT_GT(last_signal->Int("non_200_for_ms"), 60'000);
}

}  // namespace
}  // namespace storsim::compute
