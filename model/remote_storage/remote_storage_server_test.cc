// The storage process over sim RPC: PUT/GET/DELETE semantics, LIST pagination and prefixes,
// DeleteObjects limits and partial results, durability and exact recovery across crashes.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/remote_storage/remote_storage_test_util.h"
#include "sim/hash.h"

namespace storsim::remote_storage {
namespace {

using testing::StorageHarness;

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const ObjectInfo& object : objects) keys.push_back(object.key);
  return keys;
}

TEST(RemoteStorageServerTest, PutGetDeleteRoundTrip) {
  StorageHarness harness;
  ASSERT_TRUE(harness.RunScript([](sim::Env&, RemoteStorageClient& client) {
    const std::string bytes = std::string("layer\0bytes", 11);
    absl::StatusOr<uint64_t> hash = client.Put("tenants/t1/layer-00000001", bytes);
    ASSERT_TRUE(hash.ok()) << hash.status();
    EXPECT_EQ(*hash, sim::HashBytes(bytes));
    absl::StatusOr<GetResult> got = client.Get("tenants/t1/layer-00000001");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->bytes, bytes);
    EXPECT_EQ(got->content_hash, *hash);
    // Overwrite replaces the bytes.
    ASSERT_TRUE(client.Put("tenants/t1/layer-00000001", "v2").ok());
    EXPECT_EQ(client.Get("tenants/t1/layer-00000001").value_or(GetResult{}).bytes, "v2");
    EXPECT_TRUE(absl::IsNotFound(client.Get("tenants/t1/absent").status()));
    EXPECT_TRUE(client.Delete("tenants/t1/layer-00000001").ok());
    EXPECT_TRUE(client.Delete("tenants/t1/layer-00000001").ok());  // idempotent
    EXPECT_TRUE(absl::IsNotFound(client.Get("tenants/t1/layer-00000001").status()));
    EXPECT_TRUE(absl::IsInvalidArgument(client.Put("", "x").status()));
    EXPECT_TRUE(
        absl::IsInvalidArgument(client.Put(std::string(kKeyBytesMax + 1, 'k'), "x").status()));
  }));
  EXPECT_EQ(harness.state.stats.puts, 2u);
  EXPECT_EQ(harness.state.stats.deletes, 2u);
  EXPECT_EQ(harness.state.stats.bad_requests, 2u);
  EXPECT_EQ(harness.history.puts(), 2u);
  EXPECT_EQ(harness.history.deletes(), 2u);
  EXPECT_TRUE(harness.history.CurrentObjects().empty());
}

TEST(RemoteStorageServerTest, ListPaginatesInKeyOrderAcrossPageBoundaries) {
  StorageHarness harness;
  std::vector<std::string> under_prefix;
  for (int i = 0; i < 2345; ++i) under_prefix.push_back("tenants/a/layer-" + std::to_string(i));
  std::sort(under_prefix.begin(), under_prefix.end());
  ASSERT_TRUE(harness.RunScript([&](sim::Env& env, RemoteStorageClient& client) {
    std::vector<std::string> order = under_prefix;
    for (const char* other : {"tenants/a", "tenants/a0", "tenants/b/x", "tenants/", "zzz"}) {
      order.push_back(other);
    }
    env.random().Shuffle(order);  // insertion order must not matter
    for (const std::string& key : order) ASSERT_TRUE(client.Put(key, key).ok());

    // Full pages of 1000: three pages, tokens chain, each page sorted and disjoint.
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    for (; pages < 10; ++pages) {
      absl::StatusOr<ListPage> page = client.List("tenants/a/", token);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_LE(page->objects.size(), 1000u);
      for (const ObjectInfo& object : page->objects) {
        seen.push_back(object.key);
        EXPECT_EQ(object.size, static_cast<int64_t>(object.key.size()));
        EXPECT_EQ(object.content_hash, sim::HashBytes(object.key));
      }
      if (!page->is_truncated) break;
      token = page->next_continuation_token;
    }
    EXPECT_EQ(pages, 2);  // pages 0, 1, 2
    EXPECT_EQ(seen, under_prefix);

    // Small pages whose boundary falls exactly at the end: the last page is not truncated.
    std::vector<std::string> small;
    token.clear();
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<ListPage> page = client.List("tenants/a/", token, 469);  // 2345 = 5 * 469
      ASSERT_TRUE(page.ok());
      for (const ObjectInfo& object : page->objects) small.push_back(object.key);
      if (!page->is_truncated) {
        EXPECT_EQ(i, 4);
        EXPECT_EQ(page->objects.size(), 469u);
        break;
      }
      token = page->next_continuation_token;
    }
    EXPECT_EQ(small, under_prefix);

    absl::StatusOr<std::vector<ObjectInfo>> all = client.ListAll("tenants/a/");
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(Keys(*all), under_prefix);
    EXPECT_EQ(Keys(client.ListAll("tenants/b").value_or(std::vector<ObjectInfo>{})),
              std::vector<std::string>{"tenants/b/x"});
    EXPECT_EQ(client.ListAll("").value_or(std::vector<ObjectInfo>{}).size(),
              under_prefix.size() + 5);
    absl::StatusOr<std::vector<ObjectInfo>> nothing = client.ListAll("nothing/");
    ASSERT_TRUE(nothing.ok());
    EXPECT_TRUE(nothing->empty());

    EXPECT_TRUE(absl::IsInvalidArgument(client.List("tenants/", "", 0).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(client.List("tenants/", "", 1001).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(client.List("tenants/", "bogus").status()));
  }));
  EXPECT_GE(harness.state.stats.lists, 15u);
}

TEST(RemoteStorageServerTest, DeleteObjectsReportsPerKeyResults) {
  StorageHarness harness;
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) keys.push_back(WithGenerationSuffix("k" + std::to_string(i), 3));
  std::vector<DeleteObjectResult> results;
  ASSERT_TRUE(harness.RunScript([&](sim::Env&, RemoteStorageClient& client) {
    for (const std::string& key : keys) ASSERT_TRUE(client.Put(key, "x").ok());
  }));
  harness.state.faults.delete_key_error_numerator = 1;
  harness.state.faults.delete_key_error_denominator = 2;
  const uint64_t deletes_before = harness.history.deletes();
  ASSERT_TRUE(harness.RunScript(
      [&](sim::Env& env, RemoteStorageClient& client) {
        std::vector<std::string> request = keys;
        request.push_back("");             // invalid: 400 for that key only
        request.push_back("never-there");  // absent: 204
        absl::StatusOr<std::vector<DeleteObjectResult>> answer = client.DeleteObjects(request);
        ASSERT_TRUE(answer.ok()) << answer.status();
        results = *answer;
        // Beyond 1000 keys the whole call is refused (the client would SIM_CHECK; go raw).
        DeleteObjectsRequest too_many{std::vector<std::string>(1001, "k"), {}};
        auto raw =
            env.rpc().Call(client.server(), kDeleteObjects, too_many, sim::Duration::Seconds(5));
        ASSERT_TRUE(raw.ok());
        EXPECT_EQ(raw->status, HttpStatus::kBadRequest);
        EXPECT_TRUE(raw->results.empty());
      },
      WriterAttachment{"t1", 4, 3}));
  ASSERT_EQ(results.size(), keys.size() + 2);
  EXPECT_EQ(results[keys.size()].status, HttpStatus::kBadRequest);
  EXPECT_EQ(results[keys.size() + 1].status, HttpStatus::kNoContent);
  size_t failed = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(results[i].key, keys[i]);
    const bool exists = harness.history.Current(keys[i]).has_value();
    if (results[i].status == HttpStatus::kInternalError) {
      ++failed;
      EXPECT_TRUE(exists) << keys[i];
    } else {
      EXPECT_EQ(results[i].status, HttpStatus::kNoContent);
      EXPECT_FALSE(exists) << keys[i];
    }
  }
  EXPECT_GT(failed, 150u);  // about half of 400
  EXPECT_LT(failed, 250u);
  EXPECT_EQ(FailedKeys(results).size(), failed + 1);
  // The history holds exactly the executed deletes (the absent key too), with the deleter.
  EXPECT_EQ(harness.history.deletes() - deletes_before, keys.size() - failed + 1);
  const StorageHistoryEntry& last = harness.history.entries().back();
  EXPECT_EQ(last.key, "never-there");
  EXPECT_FALSE(last.existed);
  EXPECT_TRUE(last.batch);
  EXPECT_EQ(last.writer.attachment, (WriterAttachment{"t1", 4, 3}));
}

TEST(RemoteStorageServerTest, SyncedStateSurvivesCrashesAndRecoveryIsExact) {
  StorageHarness harness(/*seed=*/11);
  std::map<std::string, uint64_t> acknowledged;  // key -> hash of the last acknowledged put
  auto writer = [&](sim::Env& env, RemoteStorageClient& client) {
    for (int i = 0; i < 600; ++i) {
      const std::string key = "obj-" + std::to_string(env.random().Below(50));
      if (env.random().Chance(1, 5)) {
        if (client.Delete(key, sim::Duration::Millis(200)).ok()) {
          acknowledged.erase(key);
        }
      } else {
        const std::string bytes = "v" + std::to_string(i);
        absl::StatusOr<uint64_t> hash = client.Put(key, bytes, sim::Duration::Millis(200));
        if (hash.ok()) acknowledged[key] = *hash;
      }
      env.Sleep(sim::Duration::Millis(10));
    }
  };
  // Crash the storage at arbitrary instants (mid-request included) and restart it.
  sim::Random faults = harness.simulation.root_random().Fork("test-crashes");
  harness.simulation.SpawnKernel("crasher", [&] {
    for (int i = 0; i < 12; ++i) {
      harness.simulation.scheduler().SleepUntil(
          harness.simulation.Now() +
          faults.DurationIn(sim::Duration::Millis(100), sim::Duration::Millis(900)));
      harness.server->Crash();
      harness.simulation.scheduler().SleepUntil(harness.simulation.Now() +
                                                sim::Duration::Millis(50));
      harness.server->Start();  // Recover() SIM_CHECKs store == history on every restart
    }
  });
  ASSERT_TRUE(harness.RunScript(writer));
  EXPECT_GE(harness.state.stats.recoveries, 13u);
  // Every acknowledged put executed (it is in the history with its hash), and what the storage
  // serves now is what the history says is live (a later put or delete may have executed
  // without an acknowledgement, so the history, not the client, is the reference).
  ASSERT_TRUE(harness.RunScript([&](sim::Env&, RemoteStorageClient& client) {
    for (const auto& [key, hash] : acknowledged) {
      bool found_put = false;
      for (const StorageHistoryEntry* entry : harness.history.EntriesOf(key)) {
        found_put |= entry->operation == StorageOperation::kPut && entry->content_hash == hash;
      }
      EXPECT_TRUE(found_put) << key;
    }
    for (int i = 0; i < 50; ++i) {
      const std::string key = "obj-" + std::to_string(i);
      absl::StatusOr<GetResult> got = client.Get(key);
      const std::optional<ObjectVersion> live = harness.history.Current(key);
      if (live.has_value()) {
        ASSERT_TRUE(got.ok()) << key << " " << got.status();
        EXPECT_EQ(got->content_hash, live->content_hash);
      } else {
        EXPECT_TRUE(absl::IsNotFound(got.status())) << key << " " << got.status();
      }
    }
  }));
  harness.server->Kill();
  harness.server->Start();
  harness.simulation.RunFor(sim::Duration::Millis(1));  // main recovers
  const std::map<std::string, ObjectVersion> current = harness.history.CurrentObjects();
  EXPECT_EQ(harness.state.stats.recovered_objects, current.size());
  EXPECT_FALSE(current.empty());
  EXPECT_FALSE(acknowledged.empty());
}

TEST(RemoteStorageServerTest, RequestsWhileDownAreRefused) {
  StorageHarness harness;
  harness.server->Crash();
  absl::Status status;
  ASSERT_TRUE(harness.RunScript(
      [&](sim::Env&, RemoteStorageClient& client) { status = client.Put("k", "v").status(); }));
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(harness.history.size(), 0u);
}

}  // namespace
}  // namespace storsim::remote_storage
