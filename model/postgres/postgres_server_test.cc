// The fake Postgres process under faults: durability across crashes (a crash between WAL append
// and sync loses only that transaction), ambiguous commits, serialization-failure retries, the
// connection limit, down = Unavailable, checkpoints, trace events, and bug #5 on and off.
#include "model/postgres/postgres_server.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <variant>
#include <vector>

#include "model/postgres/postgres_client.h"
#include "model/postgres/wal.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/simulation.h"
#include "sim/sync.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;
using Script = std::function<void(sim::Env&, PostgresClient&)>;

const TenantShardId kShard{"t1", 0, 0};

TenantShardRow Shard(const TenantShardId& id, uint32_t generation) {
  TenantShardRow row;
  row.id = id;
  row.generation = Generation(generation);
  row.generation_pageserver = 1;
  return row;
}

class PostgresServerTest : public ::testing::Test {
 public:
  explicit PostgresServerTest(uint64_t seed = 11) { Reset(seed, PostgresOptions{}); }

  void Reset(uint64_t seed, PostgresOptions options) {
    clients_ = 0;
    server_.reset();
    simulation_ = std::make_unique<sim::Simulation>(sim::SimulationOptions{.seed = seed});
    server_ = std::make_unique<PostgresServer>(options);
    server_->AddTo(*simulation_);
    simulation_->trace().AddObserver(&sink_);
    server_->process().Start();
  }

  // Starts one client process per script, all at the same instant, and runs until idle.
  void RunClients(std::vector<Script> scripts, PostgresClientOptions options = {}) {
    for (Script& script : scripts) {
      sim::Process& process = simulation_->AddProcess(
          "client-" + std::to_string(clients_++),
          [this, script = std::move(script), options](sim::Env& env) {
            PostgresClient client(env, server_->id(), options);
            script(env, client);
          });
      process.Start();
    }
    simulation_->Run();
  }
  void RunClient(Script script, PostgresClientOptions options = {}) {
    RunClients({std::move(script)}, options);
  }

  size_t CountEvents(std::string_view kind) const {
    size_t count = 0;
    for (const sim::TraceEvent& event : sink_.events()) count += event.kind == kind;
    return count;
  }

  std::unique_ptr<sim::Simulation> simulation_;
  std::unique_ptr<PostgresServer> server_;
  sim::MemoryTraceSink sink_;
  int clients_ = 0;
};

// TxnReply carries every OpResult back unchanged, the small ones inside the RPC payload's inline
// buffer, and a duplicated reply (network duplication copies the payload) converts on both sides.
TEST(TxnReplyTest, RoundTripsEveryValueKindAndSurvivesDuplication) {
  static_assert(sizeof(TxnReply) <= 48, "a reply no longer fits sim::Payload's inline buffer");
  GenerationMap generations{{TenantShardId{"t", 0, 0}, Generation(4)},
                            {TenantShardId{"u", 1, 2}, Generation::None()}};
  NodeRow node;
  node.node_id = 7;
  TenantShardRow shard;
  shard.id = {"t", 0, 0};
  const std::vector<OpResult> results{
      OpResult{absl::OkStatus(), {}},
      OpResult{absl::NotFoundError("no shard t"), {}},
      OpResult{absl::OkStatus(), Generation(9)},
      OpResult{absl::OkStatus(), std::optional<LeaderRow>()},
      OpResult{absl::OkStatus(), std::optional<LeaderRow>(LeaderRow{"controller-1", 42})},
      OpResult{absl::OkStatus(), generations},
      OpResult{absl::OkStatus(), std::vector<NodeRow>{node}},
      OpResult{absl::OkStatus(), std::vector<TenantShardRow>{shard}},
      OpResult{absl::OkStatus(), AbortShardSplitStatus::kComplete},
  };
  for (const OpResult& original : results) {
    TxnReply reply = TxnReply::From(original);
    TxnReply duplicate = reply;
    const OpResult first = std::move(reply).ToResult();
    const OpResult second = std::move(duplicate).ToResult();
    for (const OpResult* back : {&first, &second}) {
      EXPECT_EQ(back->status, original.status) << original.ToString();
      EXPECT_TRUE(back->value == original.value)
          << original.ToString() << " / " << back->ToString();
    }
  }
}

TEST_F(PostgresServerTest, CommittedStateSurvivesCrashAndRestart) {
  RunClient([](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, {"c1", 10}).ok());
    EXPECT_EQ(*db.IncrementGeneration(kShard, 2), Generation(2));
  });
  const ControllerTables before = *server_->live_tables();
  server_->CrashAndRestart();
  RunClient([](sim::Env&, PostgresClient& db) {
    EXPECT_EQ(*db.GetLeader(), (LeaderRow{"c1", 10}));
    EXPECT_EQ(db.ShardGenerations({kShard})->at(kShard), Generation(2));
  });
  EXPECT_TRUE(*server_->live_tables() == before);
  EXPECT_TRUE(server_->DurableTables() == before);
  EXPECT_EQ(server_->stats().recoveries, 2u);
  // The one increment's generation is on its db.commit (not repeated as a db.generation).
  EXPECT_EQ(CountEvents("db.generation"), 0u);
  size_t increments = 0;
  for (const sim::TraceEvent& event : sink_.events()) {
    increments += event.kind == "db.commit" && event.Str("op") == "increment_generation" &&
                  event.Int("generation") == 2;
  }
  EXPECT_EQ(increments, 1u);
}

TEST_F(PostgresServerTest, CrashBetweenWalWriteAndSyncLosesOnlyThatTransaction) {
  absl::Status lost;
  RunClient([&lost, this](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    EXPECT_EQ(*db.IncrementGeneration(kShard, 2), Generation(2));
    server_->CrashBeforeNextSync();
    lost = db.IncrementGeneration(kShard, 3).status();
  });
  EXPECT_EQ(lost.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(server_->process().up());
  EXPECT_EQ(server_->DurableTables().shards().at(kShard).generation, Generation(2));
  server_->SetDown(false);
  RunClient([](sim::Env&, PostgresClient& db) {
    EXPECT_EQ(db.ShardGenerations({kShard})->at(kShard), Generation(2));
    EXPECT_EQ(db.ListTenantShards()->front().generation_pageserver, 2u);
  });
  EXPECT_EQ(CountEvents("db.fault"), 1u);
}

TEST_F(PostgresServerTest, AmbiguousCommitIsVisibleAfterRestart) {
  absl::Status seen;
  RunClient([&seen, this](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    server_->options().reply_lost_per_million = 1'000'000;
    seen = db.IncrementGeneration(kShard, 2).status();
    server_->options().reply_lost_per_million = 0;
  });
  EXPECT_EQ(seen.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->stats().replies_lost, 1u);
  server_->CrashAndRestart();
  RunClient([](sim::Env&, PostgresClient& db) {
    EXPECT_EQ(db.ShardGenerations({kShard})->at(kShard), Generation(2))
        << "the commit whose reply was lost is durable";
  });
}

TEST_F(PostgresServerTest, SerializationFailuresAreRetriedAndSucceed) {
  server_->options().serialization_failure_per_million = 500'000;
  uint64_t retries = 0;
  RunClient([&retries](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    for (uint32_t i = 0; i < 50; ++i) {
      auto generation = db.IncrementGeneration(kShard, 1);
      ASSERT_TRUE(generation.ok()) << generation.status();
      EXPECT_EQ(*generation, Generation(i + 2)) << "each increment committed exactly once";
    }
    retries = db.stats().serialization_retries;
  });
  EXPECT_GT(retries, 10u);
  EXPECT_EQ(retries, server_->stats().serialization_failures);
}

// A request's operation is shared by its message copies and refilled only when nobody else holds
// it: refilling a shared one fails.
TEST(SharedOperationTest, CountsCopiesAndRefillsOnlyWhenUnique) {
  SharedOperation operation(Operation(GetLeaderOp{}));
  EXPECT_EQ(operation.use_count(), 1);
  {
    const SharedOperation copy = operation;  // a message copy in flight
    EXPECT_EQ(operation.use_count(), 2);
    EXPECT_THROW(operation.Refill(DetachOp{kShard}), sim::InvariantViolation);
    EXPECT_TRUE(std::holds_alternative<GetLeaderOp>(copy.get()));
  }
  operation.Refill(DetachOp{kShard});
  EXPECT_TRUE(std::holds_alternative<DetachOp>(operation.get()));
  SharedOperation moved = std::move(operation);
  EXPECT_EQ(moved.use_count(), 1);
  EXPECT_TRUE(operation.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_THROW(operation.get(), sim::InvariantViolation);
}

// One PostgresClient used by two fibers at once, with serialization failures forcing retries:
// every attempt resends its own call's operation (the client's reused request operation is never
// refilled while another call still holds it).
TEST_F(PostgresServerTest, ConcurrentCallsOnOneClientEachSendTheirOwnOperation) {
  server_->options().serialization_failure_per_million = 500'000;
  const TenantShardId other{"t2", 0, 0};
  sim::Event first_done(simulation_->scheduler());
  sim::Event second_done(simulation_->scheduler());
  uint64_t retries = 0;
  RunClient([&](sim::Env& env, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1), Shard(other, 100)}).ok());
    auto run = [&db](const TenantShardId& shard, uint32_t start, sim::Event& done) {
      for (uint32_t i = 1; i <= 20; ++i) {
        auto generation = db.IncrementGeneration(shard, 1);
        EXPECT_TRUE(generation.ok()) << generation.status();
        if (generation.ok()) {
          EXPECT_EQ(*generation, Generation(start + i)) << shard.ToString();
        }
      }
      done.Set();
    };
    env.Spawn("a", [&] { run(kShard, 1, first_done); });
    env.Spawn("b", [&] { run(other, 100, second_done); });
    first_done.Wait();
    second_done.Wait();
    retries = db.stats().serialization_retries;
  });
  EXPECT_GT(retries, 5u);
  const ControllerTables* tables = server_->live_tables();
  ASSERT_NE(tables, nullptr);
  EXPECT_EQ(tables->shards().at(kShard).generation, Generation(21));
  EXPECT_EQ(tables->shards().at(other).generation, Generation(120));
}

TEST_F(PostgresServerTest, SerializationRetriesAreBoundedAt128) {
  server_->options().serialization_failure_per_million = 1'000'000;
  absl::Status status;
  RunClient([&status](sim::Env&, PostgresClient& db) { status = db.GetLeader().status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(server_->stats().serialization_failures, 128u);
}

TEST_F(PostgresServerTest, ConnectionLimitRefusesExcessTransactions) {
  server_->options().max_connections = 1;
  server_->options().extra_latency = sim::Duration::Millis(100);
  std::vector<absl::Status> statuses(3);
  std::vector<Script> scripts;
  for (size_t i = 0; i < statuses.size(); ++i) {
    scripts.push_back([&statuses, i](sim::Env&, PostgresClient& db) {
      statuses[i] = db.UpdateLeader(std::nullopt, {"c" + std::to_string(i), 1});
    });
  }
  RunClients(std::move(scripts));
  int ok = 0, refused = 0;
  for (const absl::Status& status : statuses) {
    ok += status.ok();
    refused += status.code() == absl::StatusCode::kResourceExhausted;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(server_->live_tables()->leaders().size(), 1u);
}

TEST_F(PostgresServerTest, DownMeansUnavailableAndUpRecovers) {
  RunClient([](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, {"c1", 1}).ok());
  });
  server_->SetDown(true);
  EXPECT_EQ(server_->live_tables(), nullptr);
  absl::Status status;
  RunClient([&status](sim::Env&, PostgresClient& db) { status = db.GetLeader().status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  server_->SetDown(false);
  RunClient([](sim::Env&, PostgresClient& db) {
    EXPECT_EQ(*db.GetLeader(), (LeaderRow{"c1", 1}));
  });
}

TEST_F(PostgresServerTest, SlowDatabaseTimesOutTheClient) {
  server_->options().extra_latency = sim::Duration::Seconds(2);
  absl::Status status;
  RunClient([&status](sim::Env&, PostgresClient& db) { status = db.GetLeader().status(); },
            PostgresClientOptions{.timeout = sim::Duration::Seconds(1)});
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(PostgresServerTest, CheckpointsBoundTheWalAndKeepTheState) {
  PostgresOptions options;
  options.wal_checkpoint_records = 8;
  Reset(5, options);
  RunClient([](sim::Env&, PostgresClient& db) {
    for (uint8_t i = 0; i < 20; ++i) {
      ASSERT_TRUE(db.InsertTenantShards({Shard({"t" + std::to_string(i), 0, 0}, 1)}).ok());
      ASSERT_TRUE(db.IncrementGeneration({"t" + std::to_string(i), 0, 0}, i).ok());
    }
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, {"c1", 1}).ok());
  });
  EXPECT_GT(server_->stats().checkpoints, 0u);
  EXPECT_LT(server_->process().disk().Read(kWalFile).size(), 16u);
  const ControllerTables before = *server_->live_tables();
  server_->CrashAndRestart();
  simulation_->Run();
  EXPECT_TRUE(*server_->live_tables() == before) << server_->live_tables()->Dump();
}

TEST_F(PostgresServerTest, CommitEventsCarryTheIdsCheckersNeed) {
  RunClient([](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    ASSERT_TRUE(db.IncrementGeneration(kShard, 7).ok());
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, {"c9", 3}).ok());
  });
  bool saw_generation = false, saw_leader = false;
  for (const sim::TraceEvent& event : sink_.events()) {
    if (event.kind != "db.commit") continue;
    if (event.Str("op") == "increment_generation") {
      saw_generation = event.Str("shard") == kShard.ToString() && event.Int("generation") == 2 &&
                       event.Int("node") == 7;
    }
    if (event.Str("op") == "update_leader") saw_leader = event.Str("address") == "c9";
  }
  EXPECT_TRUE(saw_generation);
  EXPECT_TRUE(saw_leader);
}

// re_attach issues one generation per shard attached to the node: each gets a db.generation with
// the ids a generation checker needs; shards of other nodes get none.
TEST_F(PostgresServerTest, ReAttachEmitsOneGenerationEventPerShard) {
  const TenantShardId other{"t2", 0, 0};
  const TenantShardId third{"t3", 1, 2};
  RunClient([&](sim::Env&, PostgresClient& db) {
    NodeRow node;
    node.node_id = 1;
    ASSERT_TRUE(db.InsertNode(node).ok());
    TenantShardRow elsewhere = Shard(other, 4);
    elsewhere.generation_pageserver = 2;
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1), elsewhere, Shard(third, 7)}).ok());
    ASSERT_TRUE(db.ReAttach(1).ok());
  });
  std::map<std::string, int64_t> issued;
  for (const sim::TraceEvent& event : sink_.events()) {
    if (event.kind != "db.generation") continue;
    EXPECT_EQ(event.Str("op"), "re_attach");
    EXPECT_EQ(event.Int("node"), 1);
    issued[std::string(event.Str("shard"))] = event.Int("generation");
  }
  EXPECT_EQ(issued, (std::map<std::string, int64_t>{{kShard.ToString(), 2}, {third.ToString(), 8}}));
}

// The same seed and knobs give the same run, faults included (the trace hash covers every event).
TEST_F(PostgresServerTest, SameSeedGivesTheSameTrace) {
  auto run = [this]() {
    PostgresOptions options;
    options.serialization_failure_per_million = 200'000;
    options.reply_lost_per_million = 50'000;
    Reset(77, options);
    std::vector<Script> scripts;
    for (int c = 0; c < 3; ++c) {
      scripts.push_back([c](sim::Env&, PostgresClient& db) {
        (void)db.InsertTenantShards({Shard({"t" + std::to_string(c), 0, 0}, 1)});
        for (int i = 0; i < 30; ++i) {
          (void)db.IncrementGeneration({"t" + std::to_string(i % 3), 0, 0},
                                       static_cast<NodeId>(c));
        }
      });
    }
    RunClients(std::move(scripts), PostgresClientOptions{.timeout = sim::Duration::Millis(50)});
    return std::make_pair(simulation_->trace().hash(), server_->stats().replies_lost);
  };
  const auto first = run();
  const auto second = run();
  EXPECT_EQ(first, second);
  EXPECT_GT(first.second, 0u) << "the run exercised lost replies";
}

// Bug #5: two clients increment one shard, and two candidates CAS from one prev, at once.
struct RaceOutcome {
  std::vector<uint32_t> generations;
  int cas_winners = 0;
};

RaceOutcome Race(PostgresServerTest& test, bool non_atomic) {
  RaceOutcome outcome;
  test.server_->options().non_atomic_read_then_write = non_atomic;
  test.RunClient([](sim::Env&, PostgresClient& db) {
    ASSERT_TRUE(db.InsertTenantShards({Shard(kShard, 1)}).ok());
    ASSERT_TRUE(db.UpdateLeader(std::nullopt, {"old", 1}).ok());
  });
  std::vector<Script> scripts;
  for (int i = 0; i < 2; ++i) {
    scripts.push_back([&outcome, i](sim::Env&, PostgresClient& db) {
      auto generation = db.IncrementGeneration(kShard, static_cast<NodeId>(i + 1));
      if (generation.ok()) outcome.generations.push_back(generation->value());
      if (db.UpdateLeader(LeaderRow{"old", 1}, {"new" + std::to_string(i), 2}).ok()) {
        ++outcome.cas_winners;
      }
    });
  }
  test.RunClients(std::move(scripts));
  return outcome;
}

class NonAtomicTest : public PostgresServerTest {};

TEST_F(NonAtomicTest, OffNeverDuplicatesOnDuplicates) {
  int duplicates_on = 0, double_winners_on = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Reset(seed, PostgresOptions{});
    RaceOutcome off = Race(*this, false);
    ASSERT_EQ(off.generations.size(), 2u);
    EXPECT_NE(off.generations[0], off.generations[1]) << "seed " << seed;
    EXPECT_EQ(off.cas_winners, 1) << "seed " << seed;
    PostgresOptions buggy;
    buggy.read_write_gap = sim::Duration::Millis(10);
    Reset(seed, buggy);
    RaceOutcome on = Race(*this, true);
    ASSERT_EQ(on.generations.size(), 2u);
    duplicates_on += on.generations[0] == on.generations[1];
    double_winners_on += on.cas_winners == 2;
  }
  EXPECT_GT(duplicates_on, 0) << "bug #5 must give equal generations";
  EXPECT_GT(double_winners_on, 0) << "bug #5 must give two CAS winners";
  std::printf("bug #5 on: %d/20 duplicate generations, %d/20 double CAS winners\n", duplicates_on,
              double_winners_on);
}

}  // namespace
}  // namespace storsim::postgres
