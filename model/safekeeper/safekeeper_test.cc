// Safekeeper tests: durability of acknowledged appends across crashes, the trim bound (never past
// the feedback of the highest generation, every shard must report), reads below the trim point.
#include "model/safekeeper/safekeeper.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::safekeeper {
namespace {

using sim::Duration;

class SafekeeperTest : public ::testing::Test {
 protected:
  SafekeeperTest()
      : simulation_(sim::SimulationOptions{.seed = 11}),
        safekeeper_(SafekeeperOptions{.trim_period = Duration::Seconds(1)}) {
    sk_ = &simulation_.AddProcess("safekeeper", safekeeper_.Main());
    sk_->Start();
  }

  // Runs `script` in a fresh client process until it returns.
  void RunClient(std::function<void(sim::Env&)> script) {
    auto done = std::make_shared<bool>(false);
    sim::Process& client = simulation_.AddProcess(
        "client" + std::to_string(++clients_), [script, done](sim::Env& env) {
          script(env);
          *done = true;
        });
    client.Start();
    for (int i = 0; i < 600 && !*done; ++i) simulation_.RunFor(Duration::Millis(100));
    ASSERT_TRUE(*done);
  }

  api::Lsn Append(sim::Env& env, const std::string& tenant, uint64_t key, std::string value) {
    auto result = env.rpc().Call(sk_->id(), api::kAppendWal,
                                 api::AppendWalRequest{tenant, key, std::move(value)},
                                 Duration::Seconds(1));
    SIM_CHECK(result.ok() && result->status == api::Http::kOk);
    return result->lsn;
  }
  api::ReadWalResponse Read(sim::Env& env, const std::string& tenant, api::Lsn from) {
    auto result = env.rpc().Call(sk_->id(), api::kReadWal, api::ReadWalRequest{tenant, from, 100},
                                 Duration::Seconds(1));
    SIM_CHECK(result.ok());
    return *result;
  }
  void Feedback(sim::Env& env, api::TenantShardId shard, uint32_t generation, api::Lsn lsn) {
    auto result = env.rpc().Call(
        sk_->id(), api::kFeedback,
        api::RemoteConsistentLsnFeedback{shard, 1, api::Generation(generation), lsn},
        Duration::Seconds(1));
    SIM_CHECK(result.ok() && result->status == api::Http::kOk);
  }
  api::Lsn TrimmedBelow(const std::string& tenant) const {
    for (const auto& timeline : safekeeper_.Snapshot().timelines) {
      if (timeline.tenant_id == tenant) return timeline.trimmed_below;
    }
    return 0;
  }

  sim::Simulation simulation_;
  Safekeeper safekeeper_;
  sim::Process* sk_;
  int clients_ = 0;
};

TEST_F(SafekeeperTest, AssignsConsecutiveLsnsAndAcknowledgedAppendsSurviveACrash) {
  RunClient([&](sim::Env& env) {
    for (uint64_t i = 1; i <= 5; ++i) EXPECT_EQ(Append(env, "t1", i, "v" + std::to_string(i)), i);
  });
  sk_->Crash();  // drops unsynced writes: every acknowledged record was synced
  sk_->Start();
  simulation_.RunFor(Duration::Millis(10));
  RunClient([&](sim::Env& env) {
    api::ReadWalResponse read = Read(env, "t1", 1);
    ASSERT_EQ(read.status, api::Http::kOk);
    ASSERT_EQ(read.records.size(), 5u);
    EXPECT_EQ(read.records[4].value, "v5");
    EXPECT_EQ(read.commit_lsn, 5u);
    EXPECT_EQ(Append(env, "t1", 9, "after"), 6u);  // numbering continues after recovery
  });
}

TEST_F(SafekeeperTest, TrimsOnlyUpToTheFeedbackOfTheHighestGeneration) {
  const api::TenantShardId shard{"t1", 0, 0};
  RunClient([&](sim::Env& env) {
    for (uint64_t i = 1; i <= 20; ++i) Append(env, "t1", i, "v");
    Feedback(env, shard, 5, 8);
  });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t1"), 9u);
  // A lower generation's larger report is ignored; a higher generation's smaller one is kept.
  RunClient([&](sim::Env& env) {
    Feedback(env, shard, 4, 19);
    Feedback(env, shard, 6, 7);
  });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t1"), 9u);
  RunClient([&](sim::Env& env) { Feedback(env, shard, 6, 15); });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t1"), 16u);
  // Feedback beyond commit_lsn is capped at commit_lsn.
  RunClient([&](sim::Env& env) { Feedback(env, shard, 6, 1000); });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t1"), 21u);
  // The trim point survives a crash.
  sk_->Crash();
  sk_->Start();
  simulation_.RunFor(Duration::Millis(10));
  EXPECT_EQ(TrimmedBelow("t1"), 21u);
}

TEST_F(SafekeeperTest, ShardedTenantTrimsOnlyWhenEveryShardReported) {
  RunClient([&](sim::Env& env) {
    for (uint64_t i = 1; i <= 10; ++i) Append(env, "t2", i, "v");
    Feedback(env, api::TenantShardId{"t2", 0, 2}, 1, 9);
  });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t2"), 1u);
  RunClient([&](sim::Env& env) { Feedback(env, api::TenantShardId{"t2", 1, 2}, 1, 4); });
  simulation_.RunFor(Duration::Seconds(2));
  EXPECT_EQ(TrimmedBelow("t2"), 5u);
}

TEST_F(SafekeeperTest, ReadBelowTheTrimPointFails) {
  RunClient([&](sim::Env& env) {
    for (uint64_t i = 1; i <= 10; ++i) Append(env, "t1", i, "v");
    Feedback(env, api::TenantShardId{"t1", 0, 0}, 1, 6);
  });
  simulation_.RunFor(Duration::Seconds(2));
  RunClient([&](sim::Env& env) {
    EXPECT_EQ(Read(env, "t1", 6).status, api::Http::kBadRequest);
    api::ReadWalResponse read = Read(env, "t1", 7);
    ASSERT_EQ(read.status, api::Http::kOk);
    EXPECT_EQ(read.trimmed_below, 7u);
    ASSERT_EQ(read.records.size(), 4u);
    EXPECT_EQ(read.records.front().lsn, 7u);
  });
}

}  // namespace
}  // namespace storsim::safekeeper
