// Pageserver data path: GetPage returns the newest value at or below the LSN from memory and
// layers, wait_lsn times out (408) when ingest stalls, an acknowledged write survives a pageserver
// crash and re-attach, shard key filtering, graceful shutdown uploads, secondary warm-up.
#include <gtest/gtest.h>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver_test_util.h"

namespace storsim::pageserver::testing {
namespace {

using api::LocationMode;
using sim::Duration;

const api::TenantShardId kShard{"tenant-a", 0, 0};

// A harness whose pageserver 0 holds kShard attached through re-attach in generation 1.
void AttachThroughReAttach(Harness& harness) {
  harness.controller.generation[kShard] = 0;
  harness.controller.attached_node[kShard] = 1;
  ASSERT_TRUE(harness.WaitActive(0, kShard));
}

TEST(PageserverData, GetPageReturnsTheNewestValueAtOrBelowTheLsn) {
  Harness harness;
  AttachThroughReAttach(harness);
  std::vector<api::Lsn> lsns;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 40; ++i) {
      lsns.push_back(harness.Append(env, "tenant-a", i % 5, "v" + std::to_string(i)));
      env.Sleep(Duration::Millis(300));  // one flush per ~8 records
    }
  }));
  // Long enough for flushes and a compaction: reads must combine layers and memory.
  harness.RunFor(Duration::Seconds(15));
  ASSERT_GE(harness.EventsOf(events::kCompaction).size(), 1u);
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    api::GetPageResponse first = harness.GetPage(env, 0, kShard, 0, lsns[0]);
    ASSERT_EQ(first.status, api::Http::kOk);
    EXPECT_TRUE(first.found);
    EXPECT_EQ(first.value, "v0");
    api::GetPageResponse middle = harness.GetPage(env, 0, kShard, 0, lsns[7]);
    EXPECT_EQ(middle.value, "v5");  // key 0 was written at i = 0, 5, 10, ...
    EXPECT_EQ(middle.value_lsn, lsns[5]);
    api::GetPageResponse latest = harness.GetPage(env, 0, kShard, 3, lsns.back());
    EXPECT_EQ(latest.value, "v38");
    api::GetPageResponse never = harness.GetPage(env, 0, kShard, 77, lsns.back());
    EXPECT_EQ(never.status, api::Http::kOk);
    EXPECT_FALSE(never.found);
    api::GetPageResponse before = harness.GetPage(env, 0, kShard, 4, lsns[3]);
    EXPECT_FALSE(before.found);  // key 4 is first written at i = 4
  }));
}

TEST(PageserverData, WaitLsnTimesOutWhenIngestStalls) {
  Harness harness;  // wait_lsn_timeout 5 s
  AttachThroughReAttach(harness);
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) { last = harness.Append(env, "tenant-a", 1, "a"); }));
  harness.simulation.network().Partition(harness.ps_process().id(),
                                         harness.safekeeper_process->id());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) { last = harness.Append(env, "tenant-a", 1, "b"); }));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    const sim::Instant start = env.Now();
    EXPECT_EQ(harness.GetPage(env, 0, kShard, 1, last).status, api::Http::kRequestTimeout);
    EXPECT_GE(env.Now() - start, Duration::Seconds(5));
  }));
  harness.simulation.network().Heal(harness.ps_process().id(), harness.safekeeper_process->id());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    api::GetPageResponse response = harness.GetPage(env, 0, kShard, 1, last);
    EXPECT_EQ(response.status, api::Http::kOk);
    EXPECT_EQ(response.value, "b");
  }));
}

TEST(PageserverData, AcknowledgedWriteSurvivesPageserverCrashAndReAttach) {
  Harness harness;
  AttachThroughReAttach(harness);
  std::map<uint64_t, std::string> written;
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 30; ++i) {
      written[i % 7] = "w" + std::to_string(i);
      last = harness.Append(env, "tenant-a", i % 7, written[i % 7]);
    }
  }));
  harness.RunFor(Duration::Seconds(10));  // uploads, validation, feedback, safekeeper trim
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 30; i < 35; ++i) {  // the tail stays in memory only
      written[i % 7] = "w" + std::to_string(i);
      last = harness.Append(env, "tenant-a", i % 7, written[i % 7]);
    }
  }));
  harness.RunFor(Duration::Millis(500));
  harness.ps_process().Crash();
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitActive(0, kShard));
  EXPECT_EQ(harness.Slot(0, kShard)->generation, api::Generation(2));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (const auto& [key, value] : written) {
      api::GetPageResponse response = harness.GetPage(env, 0, kShard, key, last);
      ASSERT_EQ(response.status, api::Http::kOk);
      EXPECT_EQ(response.value, value) << "key " << key;
    }
  }));
  EXPECT_TRUE(harness.EventsOf(events::kWalGap).empty());
}

// A local layer file of the name the index references but holding another writer's layer (an
// earlier incarnation of the shard wrote the same range in the same generation: a split's child
// attached, aborted and split again) is not used: the layer is downloaded, and the stale one,
// written by this generation, is deleted remotely like a future layer.
TEST(PageserverData, ALocalLayerOfAnotherWriterIsDownloadedAgain) {
  Harness harness;
  AttachThroughReAttach(harness);
  std::vector<api::Lsn> lsns;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 20; ++i) lsns.push_back(harness.Append(env, "tenant-a", i % 4, "w"));
  }));
  harness.RunFor(Duration::Seconds(10));  // flushed, uploaded, indexed in generation 1
  harness.ps_process().Crash();
  // The index now names the same ranges written by another shard, with other values.
  std::vector<std::string> replaced_keys;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    auto client = harness.Storage(env);
    auto bytes = client.Get(IndexKey(kShard, 1, api::Generation(1)));
    ASSERT_TRUE(bytes.ok());
    IndexPart index = DecodeIndex(bytes->bytes);
    ASSERT_FALSE(index.layers.empty());
    for (LayerDesc& desc : index.layers) {
      auto layer = client.Get(LayerKey(desc, 1));
      ASSERT_TRUE(layer.ok());
      LayerDesc other;
      VersionMap data;
      DecodeLayer(layer->bytes, &other, &data);
      for (auto& [key, versions] : data) {
        for (auto& [lsn, value] : versions) value = "other";
      }
      replaced_keys.push_back(LayerKey(desc, 1));
      other.owner_shard = "tenant-a-other";
      ASSERT_TRUE(client.Put(LayerKey(other, 1), EncodeLayer(other, data)).ok());
      desc = other;
    }
    ASSERT_TRUE(client.Put(IndexKey(kShard, 1, api::Generation(1)), EncodeIndex(index)).ok());
  }));
  harness.controller.increment_on_re_attach = false;  // the same generation, as after a split
  harness.ps_process().Start();
  ASSERT_TRUE(harness.WaitActive(0, kShard));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    api::GetPageResponse response = harness.GetPage(env, 0, kShard, 0, lsns[0]);
    ASSERT_EQ(response.status, api::Http::kOk);
    EXPECT_EQ(response.value, "other");
  }));
  std::vector<std::string> future_keys;
  for (const sim::TraceEvent& event : harness.EventsOf(events::kFutureLayer)) {
    future_keys.push_back(std::string(event.Str("key")));
  }
  EXPECT_EQ(future_keys, replaced_keys);
}

TEST(PageserverData, ShardKeepsOnlyItsKeys) {
  Harness harness;
  const api::TenantShardId shard0{"tenant-s", 0, 2};
  ASSERT_TRUE(harness.WaitReAttached());
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, shard0, Harness::Attached(LocationMode::kAttachedSingle, 1)),
              api::Http::kOk);
    for (uint64_t key = 0; key < 6; ++key) last = harness.Append(env, "tenant-s", key, "x");
    EXPECT_TRUE(harness.GetPage(env, 0, shard0, 2, last).found);
    EXPECT_FALSE(harness.GetPage(env, 0, shard0, 3, last).found);  // shard 1's key
  }));
}

TEST(PageserverData, GracefulShutdownFlushesAndUploads) {
  Harness harness;
  AttachThroughReAttach(harness);
  api::Lsn last = 0;
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 3; ++i) last = harness.Append(env, "tenant-a", i, "s");
  }));
  harness.RunFor(Duration::Millis(500));
  ASSERT_EQ(harness.Slot(0, kShard)->timeline.last_record_lsn, last);
  ASSERT_EQ(harness.Slot(0, kShard)->timeline.disk_consistent_lsn, 0u);
  harness.ps_process().Stop(Duration::Seconds(30));
  harness.RunFor(Duration::Seconds(31));
  EXPECT_FALSE(harness.ps_process().up());
  ASSERT_FALSE(harness.EventsOf(events::kShutdown).empty());
  std::vector<sim::TraceEvent> uploads = harness.EventsOf(events::kIndexUpload);
  ASSERT_FALSE(uploads.empty());
  EXPECT_EQ(static_cast<api::Lsn>(uploads.back().Int("dcl")), last);
  // The final deletion-queue flush validated it too.
  std::vector<sim::TraceEvent> visible = harness.EventsOf(events::kRemoteLsnVisible);
  ASSERT_FALSE(visible.empty());
  EXPECT_EQ(static_cast<api::Lsn>(visible.back().Int("lsn")), last);
}

TEST(PageserverData, SecondaryDownloadsTheHeatmapLayers) {
  PageserverOptions options = Harness::DefaultOptions();
  options.heatmap_period = Duration::Seconds(2);
  Harness harness(5, options);
  harness.AddPageserver(2);
  harness.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    api::LocationConfig attached = Harness::Attached(LocationMode::kAttachedSingle, 1);
    attached.tenant_conf.heatmap_period_set = true;
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, attached), api::Http::kOk);
    api::LocationConfig secondary;
    secondary.mode = LocationMode::kSecondary;
    EXPECT_EQ(harness.PutConfig(env, 1, kShard, secondary), api::Http::kOk);
    for (int i = 0; i < 20; ++i) harness.Append(env, "tenant-a", i, "h");
  }));
  ASSERT_TRUE(harness.RunUntil([&] { return harness.EventsOf(events::kHeatmapUpload).size() >= 2; }));
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    auto result = env.rpc().Call(harness.ps_process(1).id(), api::kSecondaryDownload,
                                 api::SecondaryDownloadRequest{kShard, Duration::Seconds(20)},
                                 Duration::Seconds(30));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->status, api::Http::kOk);
    EXPECT_GT(result->bytes_total, 0u);
    EXPECT_EQ(result->bytes_downloaded, result->bytes_total);
    // A secondary serves no pages.
    EXPECT_EQ(harness.GetPage(env, 1, kShard, 1, 1).status, api::Http::kNotFound);
  }));
  EXPECT_FALSE(harness.ps_process(1).disk().List(LocalLayerPrefix(kShard)).empty());
}

// The same seed gives the same run, event for event.
uint64_t RunWorkload(uint64_t seed) {
  Harness harness(seed);
  harness.controller.attached_node[kShard] = 1;
  SIM_CHECK(harness.WaitActive(0, kShard));
  SIM_CHECK(harness.Run([&](sim::Env& env) {
    for (int i = 0; i < 40; ++i) {
      harness.Append(env, "tenant-a", i % 9, "x" + std::to_string(i));
      env.Sleep(env.random().DurationIn(Duration::Millis(10), Duration::Millis(400)));
    }
  }));
  harness.ps_process().Crash();
  harness.ps_process().Start();
  SIM_CHECK(harness.WaitActive(0, kShard));
  harness.RunFor(Duration::Seconds(20));
  return harness.simulation.Fingerprint();
}

TEST(PageserverData, SameSeedSameRun) {
  EXPECT_EQ(RunWorkload(21), RunWorkload(21));
  EXPECT_NE(RunWorkload(21), RunWorkload(22));
}

// A live migration O -> D (SPEC §5.3) driven by hand: O Stale, D Multi in g+1, D catches up,
// O Secondary, D Single. Deletions of D's compaction wait until Single; O's index lineage stays
// readable; afterwards D serves every acknowledged write and its index references only live
// objects (S8).
TEST(PageserverData, LiveMigrationKeepsDataAndIndexComplete) {
  Harness harness(8);
  harness.AddPageserver(2);
  harness.controller.generation[kShard] = 1;
  ASSERT_TRUE(harness.WaitReAttached(0));
  ASSERT_TRUE(harness.WaitReAttached(1));
  std::map<uint64_t, std::string> written;
  api::Lsn last = 0;
  auto write = [&](sim::Env& env, int count, const std::string& tag) {
    for (int i = 0; i < count; ++i) {
      written[i % 10] = tag + std::to_string(i);
      last = harness.Append(env, "tenant-a", i % 10, written[i % 10]);
      env.Sleep(Duration::Millis(250));
    }
  };
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedSingle, 1)),
              api::Http::kOk);
    write(env, 40, "o");
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, Harness::Attached(LocationMode::kAttachedStale, 1),
                                Duration::Seconds(10)),
              api::Http::kOk);
    harness.controller.generation[kShard] = 2;
    EXPECT_EQ(harness.PutConfig(env, 1, kShard, Harness::Attached(LocationMode::kAttachedMulti, 2)),
              api::Http::kOk);
    write(env, 40, "m");  // both ingest; D compacts in Multi, its deletions are held
    auto waited = env.rpc().Call(harness.ps_process(1).id(), api::kWaitLsn,
                                 api::WaitLsnRequest{kShard, {{1, last}}, Duration::Seconds(10)},
                                 Duration::Seconds(15));
    ASSERT_TRUE(waited.ok());
    EXPECT_EQ(waited->status, api::Http::kOk);
    // O (Stale) still serves correct pages.
    EXPECT_EQ(harness.GetPage(env, 0, kShard, 3, last).value, written[3]);
    api::LocationConfig secondary;
    secondary.mode = LocationMode::kSecondary;
    secondary.secondary_warm = true;
    EXPECT_EQ(harness.PutConfig(env, 0, kShard, secondary), api::Http::kOk);
    EXPECT_EQ(harness.PutConfig(env, 1, kShard, Harness::Attached(LocationMode::kAttachedSingle, 2)),
              api::Http::kOk);
    write(env, 20, "d");
  }));
  harness.RunFor(Duration::Seconds(20));
  // S13: O's deletions ran before it went Stale, D's only after it became Single.
  uint64_t origin_stale = 0;
  uint64_t destination_single = 0;
  for (const sim::TraceEvent& event : harness.EventsOf(events::kLocationConfig)) {
    if (event.Int("node") == 1 && event.Str("mode") == "AttachedStale") origin_stale = event.sequence;
    if (event.Int("node") == 2 && event.Str("mode") == "AttachedSingle") {
      destination_single = event.sequence;
    }
  }
  ASSERT_GT(origin_stale, 0u);
  ASSERT_GT(destination_single, origin_stale);
  for (const sim::TraceEvent& event : harness.EventsOf(events::kDeletionExecute)) {
    if (event.Int("node") == 1) {
      EXPECT_LT(event.sequence, origin_stale);
    } else {
      EXPECT_GT(event.sequence, destination_single);
    }
  }
  EXPECT_FALSE(harness.EventsOf(events::kDeletionBlocked).empty());
  ASSERT_TRUE(harness.Run([&](sim::Env& env) {
    for (const auto& [key, value] : written) {
      EXPECT_EQ(harness.GetPage(env, 1, kShard, key, last).value, value) << key;
    }
    EXPECT_EQ(harness.GetPage(env, 0, kShard, 1, last).status, api::Http::kNotFound);
    auto client = harness.Storage(env);
    auto bytes = client.Get(IndexKey(kShard, 1, api::Generation(2)));
    ASSERT_TRUE(bytes.ok());
    for (const LayerDesc& desc : DecodeIndex(bytes->bytes).layers) {
      EXPECT_TRUE(harness.StorageHas(LayerKey(desc, 1))) << LayerKey(desc, 1);
    }
  }));
}

}  // namespace
}  // namespace storsim::pageserver::testing
