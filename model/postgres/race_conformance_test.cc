// Conformance, concurrent: two clients race on one row (increment vs increment, leader CAS vs
// leader CAS from one prev, first-ever INSERT vs INSERT into an empty controllers table, re_attach
// vs increment_generation). The fake's outcomes over many simulation seeds must be outcomes a real
// PostgreSQL also gives (run in both serial orders, concurrently from two threads on two
// connections, and with the second transaction forced into the first one's gap), and every real
// outcome must be one of the fake's serial outcomes (serializability as the fake models it).
// Bug #5 (read-then-write at READ COMMITTED) is raced the same way on both.
#include <gtest/gtest.h>

#include <chrono>              // determinism: ok (real-PostgreSQL rendezvous timeout)
#include <condition_variable>  // determinism: ok (real-PostgreSQL rendezvous)
#include <mutex>               // determinism: ok (real-PostgreSQL rendezvous)
#include <set>

#include "model/postgres/conformance_backends.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;

constexpr uint64_t kFakeSeeds = 40;
constexpr int kRealConcurrentRuns = 12;

std::string Canonical(const OpResult& result) {
  if (!result.status.ok()) return absl::StatusCodeToString(result.status.code());
  return result.ToString();
}

// The outcome of one race: both results and the final state, reduced by the scenario.
struct Race {
  const char* name;
  std::vector<Operation> setup;
  Operation a;
  Operation b;
  // Maps (result a, result b, database after) to the comparable outcome; also checks safety.
  std::function<std::string(const OpResult&, const OpResult&, Persistence&)> outcome;
};

std::string FullState(Persistence& db) {
  return Canonical(Execute(db, GetLeaderOp{})) + " | " +
         Canonical(Execute(db, ListTenantShardsOp{})) + " | " +
         Canonical(Execute(db, ListNodesOp{}));
}

std::string FullOutcome(const OpResult& a, const OpResult& b, Persistence& db) {
  return "a=" + Canonical(a) + " b=" + Canonical(b) + " | " + FullState(db);
}

TenantShardRow Shard(std::string tenant, uint32_t generation, std::optional<NodeId> node) {
  TenantShardRow row;
  row.id = {std::move(tenant), 0, 0};
  row.generation = Generation(generation);
  row.generation_pageserver = node;
  return row;
}

NodeRow Node(NodeId id) {
  NodeRow node;
  node.node_id = id;
  node.listen_http_addr = "ps" + std::to_string(id);
  return node;
}

const TenantShardId kShard{"t", 0, 0};

std::vector<Race> Races() {
  return {
      {"increment_vs_increment",
       {InsertTenantShardsOp{{Shard("t", 1, std::nullopt)}}},
       IncrementGenerationOp{kShard, 1},
       IncrementGenerationOp{kShard, 2},
       [](const OpResult& a, const OpResult& b, Persistence& db) {
         EXPECT_TRUE(a.status.ok() && b.status.ok());
         EXPECT_NE(Canonical(a), Canonical(b)) << "S1: two increments gave one generation";
         return FullOutcome(a, b, db);
       }},
      {"leader_cas_from_same_prev",
       {UpdateLeaderOp{std::nullopt, {"old", 1}}},
       UpdateLeaderOp{LeaderRow{"old", 1}, {"a", 2}},
       UpdateLeaderOp{LeaderRow{"old", 1}, {"b", 3}},
       [](const OpResult& a, const OpResult& b, Persistence& db) {
         EXPECT_EQ(a.status.ok() + b.status.ok(), 1) << "exactly one CAS winner";
         return FullOutcome(a, b, db);
       }},
      {"first_ever_double_insert",
       {},
       UpdateLeaderOp{std::nullopt, {"a", 2}},
       UpdateLeaderOp{std::nullopt, {"b", 3}},
       [](const OpResult& a, const OpResult& b, Persistence& db) {
         // SPEC §3.6 item 4: both INSERTs succeed, two rows, get_leader errors from then on.
         EXPECT_TRUE(a.status.ok() && b.status.ok());
         EXPECT_EQ(db.GetLeader().status().code(), absl::StatusCode::kInternal);
         return FullOutcome(a, b, db);
       }},
      {"re_attach_vs_increment",
       {InsertNodeOp{Node(1)}, InsertNodeOp{Node(2)},
        InsertTenantShardsOp{{Shard("t", 5, 1), Shard("u", 1, 1)}},
        UpdateNodeSchedulingPolicyOp{1, NodeSchedulingPolicy::kPauseForRestart}},
       ReAttachOp{1},
       IncrementGenerationOp{kShard, 2},
       [](const OpResult& a, const OpResult& b, Persistence& db) {
         EXPECT_TRUE(a.status.ok() && b.status.ok());
         return FullOutcome(a, b, db);
       }},
  };
}

std::string Show(const std::set<std::string>& outcomes) {
  std::string out;
  for (const std::string& outcome : outcomes) out += "  " + outcome + "\n";
  return out;
}

void RunSetup(auto& backend, const Race& race) {
  backend.Run([&race](Persistence& db) {
    for (const Operation& operation : race.setup) {
      ASSERT_TRUE(Execute(db, operation).status.ok()) << OperationToString(operation);
    }
  });
}

// Runs a then b (or b then a) one after the other, each on its own client.
template <typename Backend>
std::string Serial(Backend& backend, const Race& race, bool a_first) {
  OpResult a, b;
  const Operation& first = a_first ? race.a : race.b;
  const Operation& second = a_first ? race.b : race.a;
  OpResult& first_result = a_first ? a : b;
  OpResult& second_result = a_first ? b : a;
  backend.Run([&](Persistence& db) { first_result = Execute(db, first); });
  backend.Run([&](Persistence& db) { second_result = Execute(db, second); });
  std::string outcome;
  backend.Run([&](Persistence& db) { outcome = race.outcome(a, b, db); });
  return outcome;
}

template <typename Backend>
std::string Concurrent(Backend& backend, const Race& race) {
  OpResult a, b;
  backend.RunPair([&](Persistence& db) { a = Execute(db, race.a); },
                  [&](Persistence& db) { b = Execute(db, race.b); });
  std::string outcome;
  backend.Run([&](Persistence& db) { outcome = race.outcome(a, b, db); });
  return outcome;
}

class RaceConformanceTest : public ::testing::TestWithParam<int> {};

TEST_P(RaceConformanceTest, FakeOutcomesAreRealOutcomes) {
  const Race race = Races().at(static_cast<size_t>(GetParam()));
  FakeBackend fake;
  RealBackend real;
  std::set<std::string> fake_serial, fake_concurrent, real_observed, real_concurrent;
  for (bool a_first : {true, false}) {
    ASSERT_TRUE(fake.Reset(1).ok());
    RunSetup(fake, race);
    fake_serial.insert(Serial(fake, race, a_first));
    const absl::Status ready = real.Reset();
    ASSERT_TRUE(ready.ok()) << "real backend: " << ready;
    RunSetup(real, race);
    real_observed.insert(Serial(real, race, a_first));
  }
  for (uint64_t seed = 1; seed <= kFakeSeeds; ++seed) {
    ASSERT_TRUE(fake.Reset(seed).ok());
    RunSetup(fake, race);
    fake_concurrent.insert(Concurrent(fake, race));
  }
  for (int run = 0; run < kRealConcurrentRuns; ++run) {
    ASSERT_TRUE(real.Reset().ok());
    RunSetup(real, race);
    real_concurrent.insert(Concurrent(real, race));
  }
  // The second transaction forced into the gap of the first (re_attach's statements), on the
  // first attempt only: the first must then fail to serialize and retry.
  {
    ASSERT_TRUE(real.Reset().ok());
    RunSetup(real, race);
    bool injected = false;
    OpResult b;
    real.first().options().between_statements = [&] {
      if (injected) return;
      injected = true;
      b = Execute(real.second(), race.b);
    };
    const uint64_t retries_before = real.first().serialization_retries();
    OpResult a = Execute(real.first(), race.a);
    real.first().options().between_statements = nullptr;
    if (injected) {
      real_concurrent.insert(race.outcome(a, b, real.first()));
      EXPECT_GT(real.first().serialization_retries(), retries_before)
          << "the interrupted transaction must fail to serialize (40001) and be retried";
    }
    EXPECT_EQ(injected, std::holds_alternative<ReAttachOp>(race.a));
  }
  real_observed.insert(real_concurrent.begin(), real_concurrent.end());
  for (const std::string& outcome : fake_concurrent) {
    EXPECT_TRUE(real_observed.count(outcome) > 0)
        << race.name << ": the fake gave an outcome the real database did not:\n  " << outcome
        << "\nreal outcomes:\n" << Show(real_observed);
  }
  for (const std::string& outcome : real_concurrent) {
    EXPECT_TRUE(fake_serial.count(outcome) > 0)
        << race.name << ": the real database gave a non-serial outcome:\n  " << outcome
        << "\nfake serial outcomes:\n" << Show(fake_serial);
  }
  std::printf("%s: fake %zu distinct outcome(s) over %llu seeds, real %zu\n", race.name,
              fake_concurrent.size(), static_cast<unsigned long long>(kFakeSeeds),
              real_observed.size());
}

INSTANTIATE_TEST_SUITE_P(Races, RaceConformanceTest, ::testing::Range(0, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(Races().at(static_cast<size_t>(info.param)).name);
                         });

// Two threads meet here (with a timeout, so a failed peer cannot hang the test).
class Rendezvous {
 public:
  void ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mutex_);  // determinism: ok (real database threads)
    ++arrived_;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(5),  // determinism: ok (real database threads)
                      [this] { return arrived_ >= 2; });
  }

 private:
  std::mutex mutex_;                 // determinism: ok (real database threads)
  std::condition_variable changed_;  // determinism: ok (real database threads)
  int arrived_ = 0;
};

// Bug #5 on both sides: with both reads before either write, two increments return one
// generation and two CAS attempts from one prev both succeed. The fake's buggy outcomes must be
// outcomes of the real database run the same buggy way.
TEST(NonAtomicRaceConformanceTest, BugFiveGivesTheSameDuplicatesOnFakeAndReal) {
  const std::vector<Race> races = Races();
  // Reduced outcomes: which write lands last is a coin toss on both sides.
  auto reduce_increment = [](const OpResult& a, const OpResult& b, Persistence& db) {
    return "a=" + Canonical(a) + " b=" + Canonical(b) + " final=" +
           db.ShardGenerations({kShard})->at(kShard).ToString();
  };
  auto reduce_cas = [](const OpResult& a, const OpResult& b, Persistence& db) {
    auto leader = db.GetLeader();
    const bool winner_holds = leader.ok() && *leader &&
                              (((*leader)->address == "a" && a.status.ok()) ||
                               ((*leader)->address == "b" && b.status.ok()));
    return "a=" + Canonical(a) + " b=" + Canonical(b) + " winner_holds=" +
           std::to_string(winner_holds);
  };
  for (int which : {0, 1}) {
    Race race = races[static_cast<size_t>(which)];
    race.outcome = which == 0 ? std::function(reduce_increment) : std::function(reduce_cas);
    std::set<std::string> fake_outcomes, real_outcomes;
    FakeBackend fake;
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      PostgresOptions options;
      options.non_atomic_read_then_write = true;
      options.read_write_gap = sim::Duration::Millis(10);
      ASSERT_TRUE(fake.Reset(seed, options).ok());
      RunSetup(fake, race);
      fake_outcomes.insert(Concurrent(fake, race));
    }
    RealBackend real;
    for (int run = 0; run < 4; ++run) {
      auto rendezvous = std::make_shared<Rendezvous>();
      LibpqOptions options;
      options.non_atomic_read_then_write = true;
      options.between_statements = [rendezvous] { rendezvous->ArriveAndWait(); };
      const absl::Status ready = real.Reset(1, options);
      ASSERT_TRUE(ready.ok()) << "real backend: " << ready;
      RunSetup(real, race);
      real_outcomes.insert(Concurrent(real, race));
    }
    const std::string duplicate = which == 0 ? "a=generation 2 b=generation 2 final=2"
                                             : "a=ok b=ok winner_holds=1";
    EXPECT_TRUE(fake_outcomes.count(duplicate) > 0) << race.name << "\n" << Show(fake_outcomes);
    EXPECT_TRUE(real_outcomes.count(duplicate) > 0) << race.name << "\n" << Show(real_outcomes);
    for (const std::string& outcome : fake_outcomes) {
      EXPECT_TRUE(real_outcomes.count(outcome) > 0)
          << race.name << ": fake-only buggy outcome " << outcome << "\nreal:\n"
          << Show(real_outcomes);
    }
  }
}

}  // namespace
}  // namespace storsim::postgres
