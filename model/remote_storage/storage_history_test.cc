// StorageHistory: queries on a hand-built history, consistency checks, completeness against the
// trace and the clients' acknowledgements under faults (lost replies, crashes, 503s, 500s), and
// determinism (same seed, same history).
#include "model/remote_storage/storage_history.h"

#include <gtest/gtest.h>

#include <memory>

#include "model/remote_storage/remote_storage_test_util.h"
#include "sim/check.h"

namespace storsim::remote_storage {
namespace {

using testing::AcknowledgedPut;
using testing::StorageHarness;

sim::Instant At(int64_t seconds) { return sim::Instant::Zero() + sim::Duration::Seconds(seconds); }

TEST(StorageHistoryTest, QueriesAnswerFromTheRecordedOrder) {
  sim::Simulation simulation(sim::SimulationOptions{.seed = 1});
  StorageHistory history(simulation.scheduler());
  int observed = 0;
  history.AddObserver([&](const StorageHistoryEntry& entry) {
    EXPECT_EQ(entry.sequence, static_cast<uint64_t>(observed));
    ++observed;
  });
  const StorageWriter w1{3, 1, {"t1", 10, 4}};
  const StorageWriter w2{4, 2, {"t1", 11, 5}};
  const StorageWriter w3{5, 1, {}};
  simulation.RunUntil(At(1));
  history.RecordPut("a", 111, 3, w1, false, 1);
  const uint64_t digest_one = history.Digest();
  simulation.RunUntil(At(2));
  history.RecordPut("a", 222, 4, w2, true, 2);
  history.RecordPut("b", 333, 5, w1, false, 3);
  simulation.RunUntil(At(3));
  history.RecordDelete("a", w3, true, 222, 4, false, 4);
  history.RecordDelete("zz", w3, false, 0, 0, true, 5);
  simulation.RunUntil(At(4));
  history.RecordPut("a", 444, 6, w1, false, 6);

  EXPECT_EQ(observed, 6);
  EXPECT_NE(history.Digest(), digest_one);
  EXPECT_EQ(history.puts(), 4u);
  EXPECT_EQ(history.deletes(), 2u);
  EXPECT_EQ(history.WritersOf("a"), (std::vector<StorageWriter>{w1, w2}));
  EXPECT_EQ(history.WritersOf("b"), (std::vector<StorageWriter>{w1}));
  EXPECT_TRUE(history.WritersOf("zz").empty());
  EXPECT_EQ(history.EntriesOf("a").size(), 4u);

  const std::map<std::string, ObjectVersion> current = history.CurrentObjects();
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current.at("a").content_hash, 444u);
  EXPECT_EQ(current.at("a").writer, w1);
  EXPECT_EQ(current.at("a").put_at, At(4));
  EXPECT_EQ(current.at("b").size, 5);
  EXPECT_FALSE(history.Current("zz").has_value());

  EXPECT_FALSE(history.ExistedAt("a", At(0)));
  EXPECT_TRUE(history.ExistedAt("a", At(1)));
  EXPECT_TRUE(history.ExistedAt("a", At(2) + sim::Duration::Millis(500)));
  EXPECT_FALSE(history.ExistedAt("a", At(3)));
  EXPECT_TRUE(history.ExistedAt("a", At(4)));
  EXPECT_FALSE(history.ExistedAt("b", At(1)));
  EXPECT_TRUE(history.ExistedAt("b", At(100)));
  EXPECT_FALSE(history.ExistedAt("zz", At(3)));
  EXPECT_TRUE(history.ExistedAfter("a", 2));
  EXPECT_FALSE(history.ExistedAfter("a", 3));
  EXPECT_FALSE(history.ExistedAfter("b", 1));
  EXPECT_TRUE(history.ExistedAfter("b", 2));

  EXPECT_EQ(history.entry(3).writer, w3);
  EXPECT_TRUE(history.entry(4).batch);
  EXPECT_THROW(history.entry(6), sim::InvariantViolation);
}

TEST(StorageHistoryTest, DisagreementWithTheStorageFailsACheck) {
  sim::Simulation simulation(sim::SimulationOptions{.seed = 1});
  StorageHistory history(simulation.scheduler());
  const StorageWriter writer{1, 1, {}};
  EXPECT_THROW(history.RecordDelete("a", writer, true, 1, 1, false, 1), sim::InvariantViolation);
  EXPECT_THROW(history.RecordPut("a", 1, 1, writer, true, 1), sim::InvariantViolation);
  history.RecordPut("a", 1, 1, writer, false, 1);
  EXPECT_THROW(history.RecordPut("a", 1, 1, writer, false, 2), sim::InvariantViolation);
  EXPECT_THROW(history.RecordDelete("a", writer, true, 99, 1, false, 3), sim::InvariantViolation);
}

TEST(StorageHistoryTest, PutWhoseReplyWasLostIsInTheHistory) {
  StorageHarness harness;
  const WriterAttachment attachment{"tenant-1-0102", 7, 12};
  absl::Status status;
  sim::Process& client = harness.StartClient(
      "writer",
      [&](sim::Env&, RemoteStorageClient& storage) {
        status =
            storage.Put("tenants/x/index_part.json-0000000c", "index", sim::Duration::Seconds(2))
                .status();
      },
      attachment);
  harness.simulation.network().PartitionOneWay(harness.server->id(), client.id());
  harness.simulation.RunFor(sim::Duration::Seconds(5));
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_EQ(client.rpc().stats().replies_lost, 1u);
  ASSERT_EQ(harness.history.size(), 1u);
  const StorageHistoryEntry& entry = harness.history.entry(0);
  EXPECT_EQ(entry.key, "tenants/x/index_part.json-0000000c");
  EXPECT_EQ(entry.writer, (StorageWriter{client.id(), client.incarnation(), attachment}));
  EXPECT_EQ(entry.content_hash, sim::HashBytes("index"));
  const std::vector<sim::TraceEvent> puts = harness.EventsOf("s3.put");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].Int("writer"), client.id());
  EXPECT_EQ(puts[0].Int("incarnation"), 1);
  EXPECT_EQ(puts[0].Int("node"), 7);
  EXPECT_EQ(puts[0].Int("generation"), 12);
  EXPECT_EQ(puts[0].Str("shard"), "tenant-1-0102");
  EXPECT_EQ(static_cast<uint64_t>(puts[0].Int("hash")), sim::HashBytes("index"));
  EXPECT_EQ(puts[0].at, entry.at);
}

// Three attachments write concurrently through lossy links while the storage throttles, answers
// 500 after execution, fails DeleteObjects keys, goes into outages and crashes.
struct FaultyRun {
  std::unique_ptr<StorageHarness> harness;
  std::vector<std::vector<AcknowledgedPut>> acknowledged;
  std::vector<sim::ProcessId> clients;
  int finished = 0;
};

std::unique_ptr<FaultyRun> RunFaultyWorkload(uint64_t seed) {
  auto run = std::make_unique<FaultyRun>();
  run->harness = std::make_unique<StorageHarness>(seed);
  StorageHarness& harness = *run->harness;
  harness.simulation.network().SetDefaultLink(
      sim::LinkOptions{.loss_ppm = 20'000, .duplicate_ppm = 10'000, .reorder_ppm = 50'000});
  RemoteStorageFaults& faults = harness.state.faults;
  faults.slowdown_numerator = 1;
  faults.slowdown_denominator = 10;
  faults.internal_error_numerator = 1;
  faults.internal_error_denominator = 20;
  faults.delete_key_error_numerator = 1;
  faults.delete_key_error_denominator = 10;
  run->acknowledged.resize(3);
  for (int i = 0; i < 3; ++i) {
    const WriterAttachment attachment{"shard" + std::to_string(i), 100 + i,
                                      static_cast<uint32_t>(i + 1)};
    sim::Process& process = harness.StartClient(
        "ps" + std::to_string(i),
        [run = run.get(), i](sim::Env& env, RemoteStorageClient& client) {
          testing::RunRandomWorkload(env, client, 250, run->acknowledged[i]);
          ++run->finished;
        },
        attachment);
    run->clients.push_back(process.id());
  }
  sim::Random chaos = harness.simulation.root_random().Fork("test-chaos");
  harness.simulation.SpawnKernel("chaos", [&harness, chaos]() mutable {
    for (int i = 0; i < 30; ++i) {
      sim::Scheduler& scheduler = harness.simulation.scheduler();
      scheduler.SleepUntil(harness.simulation.Now() +
                           chaos.DurationIn(sim::Duration::Millis(200), sim::Duration::Seconds(2)));
      switch (chaos.Below(3)) {
        case 0:
          harness.server->Crash();
          scheduler.SleepUntil(harness.simulation.Now() + sim::Duration::Millis(300));
          harness.server->Start();
          break;
        case 1:
          harness.state.faults.outage = true;
          scheduler.SleepUntil(harness.simulation.Now() + sim::Duration::Millis(500));
          harness.state.faults.outage = false;
          break;
        default:
          harness.state.faults.slow = !harness.state.faults.slow;
          break;
      }
    }
    harness.state.faults.slow = false;
  });
  for (int second = 0; second < 3600 && run->finished < 3; ++second) {
    harness.simulation.RunFor(sim::Duration::Seconds(1));
  }
  return run;
}

TEST(StorageHistoryTest, HistoryIsCompleteUnderFaults) {
  std::unique_ptr<FaultyRun> run = RunFaultyWorkload(21);
  StorageHarness& harness = *run->harness;
  ASSERT_EQ(run->finished, 3);
  const RemoteStorageStats& stats = harness.state.stats;
  EXPECT_GT(stats.recoveries, 3u);
  EXPECT_GT(stats.slowdowns_injected, 0u);
  EXPECT_GT(stats.outage_answers, 0u);
  EXPECT_GT(stats.internal_errors_injected, 0u);
  EXPECT_GT(stats.delete_key_errors_injected, 0u);

  // One trace event per history entry, in the same order, with the same identity.
  std::vector<sim::TraceEvent> mutations;
  for (const sim::TraceEvent& event : harness.trace.events()) {
    if (event.kind == "s3.put" || event.kind == "s3.delete") mutations.push_back(event);
  }
  const std::vector<StorageHistoryEntry>& entries = harness.history.entries();
  ASSERT_EQ(mutations.size(), entries.size());
  EXPECT_GT(entries.size(), 200u);
  for (size_t i = 0; i < entries.size(); ++i) {
    const StorageHistoryEntry& entry = entries[i];
    const sim::TraceEvent& event = mutations[i];
    EXPECT_EQ(event.kind, entry.operation == StorageOperation::kPut ? "s3.put" : "s3.delete");
    EXPECT_EQ(event.Str("key"), entry.key);
    EXPECT_EQ(event.at, entry.at);
    EXPECT_EQ(event.Int("writer"), entry.writer.process);
    EXPECT_EQ(static_cast<uint64_t>(event.Int("incarnation")), entry.writer.incarnation);
    EXPECT_EQ(event.Int("node"), entry.writer.attachment.node_id);
    EXPECT_EQ(event.Int("generation"), entry.writer.attachment.generation);
    EXPECT_EQ(static_cast<uint64_t>(event.Int("hash")), entry.content_hash);
  }

  // Every acknowledged put is in the history, by the acknowledging process and incarnation.
  size_t acknowledged = 0;
  for (const std::vector<AcknowledgedPut>& puts : run->acknowledged) {
    for (const AcknowledgedPut& put : puts) {
      ++acknowledged;
      bool found = false;
      for (const StorageHistoryEntry* entry : harness.history.EntriesOf(put.key)) {
        found |= entry->operation == StorageOperation::kPut &&
                 entry->content_hash == put.content_hash && entry->writer.process == put.process &&
                 entry->writer.incarnation == put.incarnation;
      }
      EXPECT_TRUE(found) << put.key;
    }
  }
  EXPECT_GT(acknowledged, 100u);
  EXPECT_GT(harness.history.puts(), acknowledged);  // executed puts with lost or 500 replies

  // Each key carries its writer's generation and has exactly one writer (the S6 shape).
  for (const StorageHistoryEntry& entry : entries) {
    if (entry.operation != StorageOperation::kPut) continue;
    const std::vector<StorageWriter> writers = harness.history.WritersOf(entry.key);
    ASSERT_EQ(writers.size(), 1u) << entry.key;
    EXPECT_EQ(ParseGenerationSuffix(entry.key), writers[0].attachment.generation);
  }
  // The storage's final contents are the history's current objects.
  harness.server->Crash();
  harness.server->Start();  // Recover() checks store == history
  harness.simulation.RunFor(sim::Duration::Millis(1));
  EXPECT_EQ(stats.recovered_objects, harness.history.CurrentObjects().size());
}

TEST(StorageHistoryTest, SameSeedGivesTheSameHistory) {
  std::unique_ptr<FaultyRun> first = RunFaultyWorkload(77);
  std::unique_ptr<FaultyRun> second = RunFaultyWorkload(77);
  std::unique_ptr<FaultyRun> other = RunFaultyWorkload(78);
  ASSERT_EQ(first->finished, 3);
  ASSERT_EQ(second->finished, 3);
  EXPECT_EQ(first->harness->history.size(), second->harness->history.size());
  EXPECT_EQ(first->harness->history.Digest(), second->harness->history.Digest());
  EXPECT_EQ(first->harness->simulation.trace().hash(), second->harness->simulation.trace().hash());
  const std::optional<size_t> divergence =
      sim::FirstDivergence(first->harness->trace.events(), second->harness->trace.events());
  EXPECT_FALSE(divergence.has_value()) << "first divergence at event " << *divergence;
  EXPECT_NE(first->harness->history.Digest(), other->harness->history.Digest());
}

}  // namespace
}  // namespace storsim::remote_storage
