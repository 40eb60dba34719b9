// Conformance, random: RapidCheck generators build sequences of operations over a small universe
// of tenants, nodes and leader rows (so that collisions, missing rows and split edge cases are
// common); each sequence runs on the fake Postgres in a Simulation and on a real PostgreSQL, and
// every result is compared (status code and value). Zero divergences are allowed. The fake's WAL
// is also replayed after each sequence and must give its live state exactly.
#include <rapidcheck.h>

#include <gtest/gtest.h>

#include <cstdio>

#include "model/postgres/conformance_backends.h"
#include "model/postgres/postgres_client.h"

namespace storsim::postgres {
namespace {

using namespace storsim::persistence;

constexpr int kSequences = 70;
constexpr size_t kOperationsPerSequence = 150;
constexpr size_t kComparedMin = 10'000;

rc::Gen<std::string> TenantGen() { return rc::gen::element<std::string>("t0", "t1", "t2"); }
rc::Gen<uint8_t> CountGen() { return rc::gen::element<uint8_t>(0, 2, 4); }
rc::Gen<NodeId> NodeGen() { return rc::gen::inRange<NodeId>(1, 6); }

rc::Gen<TenantShardId> ShardIdGen() {
  return rc::gen::map(rc::gen::tuple(TenantGen(), CountGen(), rc::gen::inRange<int>(0, 6)),
                      [](const std::tuple<std::string, uint8_t, int>& t) {
                        const auto& [tenant, count, number] = t;
                        // Mostly valid ids; number 5 with count 4 gives an invalid one (5 >= 4).
                        const int range = count == 4 ? 6 : EffectiveShardCount(count);
                        return TenantShardId{tenant, static_cast<uint8_t>(number % range), count};
                      });
}

rc::Gen<Generation> GenerationGen() {
  return rc::gen::weightedOneOf<Generation>(
      {{1, rc::gen::just(Generation::None())},
       {9, rc::gen::map(rc::gen::inRange<uint32_t>(0, 6),
                        [](uint32_t value) { return Generation(value); })}});
}

rc::Gen<std::optional<NodeId>> OptionalNodeGen() {
  return rc::gen::map(rc::gen::inRange<NodeId>(0, 6), [](NodeId node) {
    return node == 0 ? std::optional<NodeId>() : std::optional<NodeId>(node);
  });
}

rc::Gen<PlacementPolicy> PlacementGen() {
  return rc::gen::map(rc::gen::inRange(0, 5), [](int kind) {
    if (kind == 3) return PlacementPolicy::Secondary();
    if (kind == 4) return PlacementPolicy::Detached();
    return PlacementPolicy::Attached(static_cast<uint32_t>(kind));
  });
}

rc::Gen<TenantShardRow> ShardRowGen() {
  return rc::gen::map(
      rc::gen::tuple(ShardIdGen(), GenerationGen(), OptionalNodeGen(), PlacementGen(),
                     rc::gen::inRange(0, 8)),
      [](const std::tuple<TenantShardId, Generation, std::optional<NodeId>, PlacementPolicy,
                          int>& t) {
        TenantShardRow row;
        std::tie(row.id, row.generation, row.generation_pageserver, row.placement_policy,
                 std::ignore) = t;
        const int bits = std::get<4>(t);
        row.shard_stripe_size = (bits & 1) ? 32768 : 0;
        row.splitting = (bits & 2) ? SplitState::kSplitting : SplitState::kIdle;
        row.config = (bits & 4) ? "{\"gc_period\":\"1h\"}" : "{}";
        if (bits == 5) row.preferred_az_id = "az-b";
        return row;
      });
}

// Every shard of one tenant at one count: the state a split starts from.
rc::Gen<std::vector<TenantShardRow>> WholeTenantGen() {
  return rc::gen::map(
      rc::gen::tuple(TenantGen(), CountGen(), GenerationGen(), OptionalNodeGen()),
      [](const std::tuple<std::string, uint8_t, Generation, std::optional<NodeId>>& t) {
        std::vector<TenantShardRow> rows;
        const auto& [tenant, count, generation, node] = t;
        for (uint8_t number = 0; number < EffectiveShardCount(count); ++number) {
          TenantShardRow row;
          row.id = {tenant, number, count};
          row.generation = generation;
          row.generation_pageserver = node;
          rows.push_back(row);
        }
        return rows;
      });
}

rc::Gen<NodeRow> NodeRowGen() {
  return rc::gen::map(rc::gen::tuple(NodeGen(), rc::gen::inRange(0, kNodeSchedulingPolicyCount),
                                     rc::gen::inRange(0, 10)),
                      [](const std::tuple<NodeId, int, int>& t) {
                        NodeRow node;
                        node.node_id = std::get<0>(t);
                        node.scheduling_policy = static_cast<NodeSchedulingPolicy>(std::get<1>(t));
                        node.listen_http_addr = "ps" + std::to_string(node.node_id);
                        node.listen_http_port = static_cast<uint16_t>(9000 + std::get<2>(t));
                        node.listen_pg_addr = node.listen_http_addr;
                        node.listen_pg_port = 6400;
                        node.availability_zone_id = std::get<2>(t) % 2 ? "az-a" : "az-b";
                        node.lifecycle =
                            std::get<2>(t) == 9 ? NodeLifecycle::kDeleted : NodeLifecycle::kActive;
                        return node;
                      });
}

rc::Gen<LeaderRow> LeaderGen() {
  return rc::gen::map(rc::gen::tuple(rc::gen::element<std::string>("a", "b", "c"),
                                     rc::gen::element<int64_t>(1, 1'000'000, -7,
                                                               1'700'000'000'123'456)),
                      [](const std::tuple<std::string, int64_t>& t) {
                        return LeaderRow{std::get<0>(t), std::get<1>(t)};
                      });
}

rc::Gen<Operation> OperationGen() {
  using rc::gen::map;
  using rc::gen::tuple;
  auto op = [](auto gen, auto make) { return map(gen, make); };
  return rc::gen::weightedOneOf<Operation>({
      {4, rc::gen::just<Operation>(GetLeaderOp{})},
      {8, op(tuple(rc::gen::inRange(0, 5), LeaderGen(), LeaderGen()),
             [](const std::tuple<int, LeaderRow, LeaderRow>& t) -> Operation {
               std::optional<LeaderRow> prev;
               if (std::get<0>(t) < 3) prev = std::get<1>(t);
               return UpdateLeaderOp{prev, std::get<2>(t)};
             })},
      {15, op(tuple(ShardIdGen(), NodeGen()),
              [](const std::tuple<TenantShardId, NodeId>& t) -> Operation {
                return IncrementGenerationOp{std::get<0>(t), std::get<1>(t)};
              })},
      {6, op(NodeGen(), [](NodeId node) -> Operation { return ReAttachOp{node}; })},
      {5, op(rc::gen::container<std::vector<TenantShardId>>(ShardIdGen()),
             [](std::vector<TenantShardId> ids) -> Operation {
               return ShardGenerationsOp{std::move(ids)};
             })},
      {8, op(tuple(ShardIdGen(), rc::gen::inRange(0, 4), PlacementGen(), GenerationGen(),
                   rc::gen::inRange(0, 16)),
             [](const std::tuple<TenantShardId, int, PlacementPolicy, Generation, int>& t)
                 -> Operation {
               const auto& [shard, filter_kind, placement, generation, bits] = t;
               UpdateTenantShardOp update;
               update.filter.tenant_id = filter_kind == 3 ? "t9" : shard.tenant_id;
               if (filter_kind >= 1) update.filter.shard = shard;
               if (bits & 1) update.update.placement_policy = placement;
               if (bits & 2) update.update.config = "{\"x\":" + std::to_string(bits) + "}";
               if (bits & 4) update.update.generation = generation;
               if (bits & 8) update.update.scheduling_policy = "\"Pause\"";
               return update;
             })},
      {5, op(ShardIdGen(), [](TenantShardId id) -> Operation { return DetachOp{std::move(id)}; })},
      {6, op(tuple(NodeGen(), rc::gen::inRange(0, kNodeSchedulingPolicyCount)),
             [](const std::tuple<NodeId, int>& t) -> Operation {
               return UpdateNodeSchedulingPolicyOp{
                   std::get<0>(t), static_cast<NodeSchedulingPolicy>(std::get<1>(t))};
             })},
      {6, op(NodeRowGen(), [](NodeRow node) -> Operation { return InsertNodeOp{std::move(node)}; })},
      {3, rc::gen::just<Operation>(ListNodesOp{})},
      {3, op(NodeGen(), [](NodeId node) -> Operation { return DeleteNodeOp{node}; })},
      {5, op(rc::gen::container<std::vector<TenantShardRow>>(ShardRowGen()),
             [](std::vector<TenantShardRow> rows) -> Operation {
               if (rows.size() > 4) rows.resize(4);
               return InsertTenantShardsOp{std::move(rows)};
             })},
      {7, op(WholeTenantGen(), [](std::vector<TenantShardRow> rows) -> Operation {
             return InsertTenantShardsOp{std::move(rows)};
           })},
      {4, rc::gen::just<Operation>(ListTenantShardsOp{})},
      {2, op(TenantGen(), [](std::string tenant) -> Operation { return DeleteTenantOp{tenant}; })},
      {6, op(tuple(TenantGen(), CountGen(), rc::gen::element<uint8_t>(2, 4, 8, 3)),
             [](const std::tuple<std::string, uint8_t, uint8_t>& t) -> Operation {
               return BeginShardSplitOp{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
             })},
      {5, op(tuple(TenantGen(), CountGen(), rc::gen::element<uint8_t>(2, 4, 8)),
             [](const std::tuple<std::string, uint8_t, uint8_t>& t) -> Operation {
               return CompleteShardSplitOp{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
             })},
      {5, op(tuple(TenantGen(), rc::gen::element<uint8_t>(2, 4, 8)),
             [](const std::tuple<std::string, uint8_t>& t) -> Operation {
               return AbortShardSplitOp{std::get<0>(t), std::get<1>(t)};
             })},
  });
}

std::string Canonical(const OpResult& result) {
  if (!result.status.ok()) return absl::StatusCodeToString(result.status.code());
  return result.ToString();
}

TEST(RandomConformanceTest, FakeAndRealGiveTheSameResultForEveryOperation) {
  FakeBackend fake;
  RealBackend real;
  const rc::Gen<std::vector<Operation>> sequence_gen =
      rc::gen::container<std::vector<Operation>>(kOperationsPerSequence, OperationGen());
  size_t compared = 0, errors = 0, divergences = 0;
  std::map<std::string, size_t> per_op;
  for (int sequence = 0; sequence < kSequences && divergences == 0; ++sequence) {
    const std::vector<Operation> operations =
        sequence_gen(rc::Random(0x5eed0000u + static_cast<uint64_t>(sequence)), 50).value();
    ASSERT_TRUE(fake.Reset(static_cast<uint64_t>(sequence) + 1).ok());
    const absl::Status real_ready = real.Reset();
    ASSERT_TRUE(real_ready.ok()) << "real backend: " << real_ready;
    std::vector<OpResult> fake_results, real_results;
    fake.Run([&](Persistence& db) {
      for (const Operation& operation : operations) fake_results.push_back(Execute(db, operation));
    });
    real.Run([&](Persistence& db) {
      for (const Operation& operation : operations) real_results.push_back(Execute(db, operation));
    });
    ASSERT_EQ(fake_results.size(), operations.size());
    ASSERT_EQ(real_results.size(), operations.size());
    for (size_t i = 0; i < operations.size(); ++i) {
      ++compared;
      ++per_op[OperationName(operations[i])];
      errors += !real_results[i].status.ok();
      if (!fake_results[i].SameAs(real_results[i])) {
        ++divergences;
        std::string history;
        for (size_t j = 0; j <= i; ++j) history += "  " + OperationToString(operations[j]) + "\n";
        ADD_FAILURE() << "sequence " << sequence << " op " << i << " diverges:\n"
                      << "  op:   " << OperationToString(operations[i]) << "\n"
                      << "  fake: " << Canonical(fake_results[i]) << "\n"
                      << "  real: " << Canonical(real_results[i]) << "\nhistory:\n"
                      << history;
        break;
      }
    }
    // The fake's WAL replays into exactly its live state.
    ASSERT_TRUE(fake.server().DurableTables() == *fake.server().live_tables());
  }
  EXPECT_EQ(divergences, 0u);
  EXPECT_GE(compared, kComparedMin);
  std::printf("random conformance: %zu operations compared (%zu errors on both sides), "
              "%zu divergences\n",
              compared, errors, divergences);
  for (const auto& [name, count] : per_op) std::printf("  %-30s %zu\n", name.c_str(), count);
}

}  // namespace
}  // namespace storsim::postgres
