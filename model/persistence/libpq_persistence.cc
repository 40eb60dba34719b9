// The controller's database operations as SQL on a real PostgreSQL (see libpq_persistence.h). The
// statements follow upstream's diesel queries in persistence.rs; where the fake checks a request
// before any database work (ValidateSplitCounts, ...), this file runs the same check.
#include "model/persistence/libpq_persistence.h"

#include <libpq-fe.h>

#include <algorithm>

#include "model/persistence/controller_tables.h"
#include "model/persistence/libpq_result.h"
#include "sim/check.h"

namespace storsim::persistence {

namespace {

// started_at travels as Unix microseconds; these keep TIMESTAMPTZ exact (microsecond precision).
std::string Timestamp(int n) {
  const std::string p = "$" + std::to_string(n) + "::bigint";
  return "(to_timestamp(0) + (" + p + " / 1000000) * interval '1 second' + (" + p +
         " % 1000000) * interval '1 microsecond')";
}
constexpr const char* kStartedAtMicros =
    "(EXTRACT(EPOCH FROM started_at) * 1000000)::bigint";
constexpr const char* kShardColumns =
    "tenant_id, shard_number, shard_count, shard_stripe_size, generation, generation_pageserver, "
    "placement_policy, splitting, config, scheduling_policy, preferred_az_id";
constexpr const char* kNodeColumns =
    "node_id, scheduling_policy, listen_http_addr, listen_http_port, listen_pg_addr, "
    "listen_pg_port, availability_zone_id, lifecycle";

std::string Text(int64_t value) { return std::to_string(value); }

std::optional<std::string> GenerationParam(Generation generation) {
  if (generation.is_none()) return std::nullopt;
  return Text(generation.value());
}

Generation GenerationAt(const auto& result, int row, int column) {
  if (result.null(row, column)) return Generation::None();
  return Generation(static_cast<uint32_t>(result.integer(row, column)));
}

TenantShardId ShardIdAt(const auto& result, int row) {
  return TenantShardId{result.text(row, 0), static_cast<uint8_t>(result.integer(row, 1)),
                       static_cast<uint8_t>(result.integer(row, 2))};
}

}  // namespace

absl::StatusOr<std::optional<LeaderRow>> LibpqPersistence::GetLeader() {
  std::vector<LeaderRow> rows;
  bool undefined_table = false;
  absl::Status status = SingleStatement([&]() -> absl::Status {
    rows.clear();
    auto result = Exec(std::string("SELECT address, ") + kStartedAtMicros + " FROM controllers");
    if (!result.ok()) {
      if (last_sqlstate_ == "42P01") {
        undefined_table = true;  // first boot: migrations not run yet
        return absl::OkStatus();
      }
      return result.status();
    }
    for (int i = 0; i < result->rows(); ++i) {
      rows.push_back(LeaderRow{result->text(i, 0), result->integer(i, 1)});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (undefined_table || rows.empty()) return std::optional<LeaderRow>();
  if (rows.size() > 1) {
    return absl::InternalError("more than one row in controllers: " + std::to_string(rows.size()));
  }
  return std::optional<LeaderRow>(rows.front());
}

absl::Status LibpqPersistence::UpdateLeader(const std::optional<LeaderRow>& prev,
                                            const LeaderRow& next) {
  if (prev && options_.non_atomic_read_then_write) return UpdateLeaderNonAtomic(*prev, next);
  return SingleStatement([&]() -> absl::Status {
    if (!prev) {
      return Exec("INSERT INTO controllers (address, started_at) VALUES ($1, " + Timestamp(2) +
                      ")",
                  {next.address, Text(next.started_at)})
          .status();
    }
    auto result = Exec("UPDATE controllers SET address = $1, started_at = " + Timestamp(2) +
                           " WHERE address = $3 AND started_at = " + Timestamp(4),
                       {next.address, Text(next.started_at), prev->address,
                        Text(prev->started_at)});
    if (!result.ok()) return result.status();
    if (result->affected() == 0) return absl::FailedPreconditionError("leader CAS failed");
    return absl::OkStatus();
  });
}

absl::Status LibpqPersistence::UpdateLeaderNonAtomic(const LeaderRow& prev, const LeaderRow& next) {
  return Transaction("READ COMMITTED", [&]() -> absl::Status {
    auto rows = Exec(std::string("SELECT address, ") + kStartedAtMicros + " FROM controllers");
    if (!rows.ok()) return rows.status();
    bool found = false;
    for (int i = 0; i < rows->rows(); ++i) {
      found |= LeaderRow{rows->text(i, 0), rows->integer(i, 1)} == prev;
    }
    if (!found) return absl::FailedPreconditionError("leader CAS failed on read");
    BetweenStatements();
    auto result = Exec("UPDATE controllers SET address = $1, started_at = " + Timestamp(2),
                       {next.address, Text(next.started_at)});
    if (!result.ok()) return result.status();
    if (result->affected() == 0) return absl::FailedPreconditionError("leader overwrite: 0 rows");
    return absl::OkStatus();
  });
}

absl::StatusOr<Generation> LibpqPersistence::IncrementGeneration(const TenantShardId& shard,
                                                                 NodeId node) {
  if (options_.non_atomic_read_then_write) return IncrementGenerationNonAtomic(shard, node);
  Generation generation;
  absl::Status status = SingleStatement([&]() -> absl::Status {
    // One statement: whether the row exists, and its new generation when it was not NULL (a
    // NULL generation leaves the row unchanged).
    auto result = Exec(
        "WITH target AS (SELECT 1 FROM tenant_shards "
        "  WHERE tenant_id = $1 AND shard_number = $2 AND shard_count = $3), "
        "updated AS (UPDATE tenant_shards SET generation = generation + 1, "
        "  generation_pageserver = $4 WHERE tenant_id = $1 AND shard_number = $2 "
        "  AND shard_count = $3 AND generation IS NOT NULL RETURNING generation) "
        "SELECT (SELECT count(*) FROM target), (SELECT generation FROM updated)",
        {shard.tenant_id, Text(shard.shard_number), Text(shard.shard_count), Text(node)});
    if (!result.ok()) return result.status();
    if (result->integer(0, 0) == 0) return absl::NotFoundError("no shard " + shard.ToString());
    generation = GenerationAt(*result, 0, 1);
    if (generation.is_none()) return absl::FailedPreconditionError("generation is NULL");
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return generation;
}

absl::StatusOr<Generation> LibpqPersistence::IncrementGenerationNonAtomic(
    const TenantShardId& shard, NodeId node) {
  Generation generation;
  const Params key = {shard.tenant_id, Text(shard.shard_number), Text(shard.shard_count)};
  absl::Status status = Transaction("READ COMMITTED", [&]() -> absl::Status {
    auto read = Exec(
        "SELECT generation FROM tenant_shards WHERE tenant_id = $1 AND shard_number = $2 AND "
        "shard_count = $3",
        key);
    if (!read.ok()) return read.status();
    if (read->rows() == 0) return absl::NotFoundError("no shard " + shard.ToString());
    const Generation current = GenerationAt(*read, 0, 0);
    if (current.is_none()) return absl::FailedPreconditionError("generation is NULL");
    generation = current.Next();
    BetweenStatements();
    Params params = key;
    params.push_back(Text(generation.value()));
    params.push_back(Text(node));
    auto write = Exec(
        "UPDATE tenant_shards SET generation = $4, generation_pageserver = $5 "
        "WHERE tenant_id = $1 AND shard_number = $2 AND shard_count = $3",
        params);
    if (!write.ok()) return write.status();
    if (write->affected() == 0) return absl::NotFoundError("no shard " + shard.ToString());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return generation;
}

absl::StatusOr<GenerationMap> LibpqPersistence::ReAttach(NodeId node) {
  GenerationMap generations;
  absl::Status status = Serializable([&]() -> absl::Status {
    generations.clear();
    auto read = Exec("SELECT lifecycle, scheduling_policy FROM nodes WHERE node_id = $1",
                     {Text(node)});
    if (!read.ok()) return read.status();
    if (read->rows() == 0) return absl::NotFoundError("no node " + std::to_string(node));
    if (read->text(0, 0) == NodeLifecycleName(NodeLifecycle::kDeleted)) {
      return absl::FailedPreconditionError("re-attach of deleted node");
    }
    const auto policy = ParseNodeSchedulingPolicy(read->text(0, 1));
    if (!policy) return absl::DataLossError("bad scheduling_policy " + read->text(0, 1));
    BetweenStatements();
    auto updated = Exec(
        "UPDATE tenant_shards SET generation = generation + 1 WHERE generation_pageserver = $1 "
        "RETURNING tenant_id, shard_number, shard_count, generation",
        {Text(node)});
    if (!updated.ok()) return updated.status();
    for (int i = 0; i < updated->rows(); ++i) {
      generations[ShardIdAt(*updated, i)] = GenerationAt(*updated, i, 3);
    }
    const bool paused = *policy == NodeSchedulingPolicy::kPause ||
                        *policy == NodeSchedulingPolicy::kDeleting;
    const NodeSchedulingPolicy next =
        paused ? NodeSchedulingPolicy::kPause : NodeSchedulingPolicy::kActive;
    return Exec("UPDATE nodes SET scheduling_policy = $2 WHERE node_id = $1",
                {Text(node), NodeSchedulingPolicyName(next)})
        .status();
  });
  if (!status.ok()) return status;
  return generations;
}

absl::StatusOr<GenerationMap> LibpqPersistence::ShardGenerations(
    const std::vector<TenantShardId>& shards) {
  GenerationMap generations;
  for (size_t begin = 0; begin < shards.size(); begin += kShardGenerationsChunk) {
    const size_t end = std::min(shards.size(), begin + kShardGenerationsChunk);
    GenerationMap chunk;
    Params params;
    std::string keys;
    for (size_t i = begin; i < end; ++i) {
      const size_t n = params.size();
      keys += std::string(keys.empty() ? "" : ", ") + "($" + std::to_string(n + 1) + ", $" +
              std::to_string(n + 2) + "::integer, $" + std::to_string(n + 3) + "::integer)";
      params.push_back(shards[i].tenant_id);
      params.push_back(Text(shards[i].shard_number));
      params.push_back(Text(shards[i].shard_count));
    }
    absl::Status status = SingleStatement([&]() -> absl::Status {
      chunk.clear();
      auto result = Exec(
          "SELECT tenant_id, shard_number, shard_count, generation FROM tenant_shards "
          "WHERE (tenant_id, shard_number, shard_count) IN (" + keys + ")",
          params);
      if (!result.ok()) return result.status();
      for (int i = 0; i < result->rows(); ++i) chunk[ShardIdAt(*result, i)] = GenerationAt(*result, i, 3);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    generations.insert(chunk.begin(), chunk.end());
  }
  return generations;
}

absl::Status LibpqPersistence::UpdateTenantShard(const TenantFilter& filter,
                                                 const TenantShardUpdate& update) {
  if (absl::Status valid = ValidateTenantFilter(filter); !valid.ok()) return valid;
  Params params = {filter.tenant_id};
  std::string where = "tenant_id = $1";
  if (filter.shard) {
    params.push_back(Text(filter.shard->shard_number));
    params.push_back(Text(filter.shard->shard_count));
    where += " AND shard_number = $2 AND shard_count = $3";
  }
  std::string set;
  auto assign = [&](const char* column, std::optional<std::string> value) {
    params.push_back(std::move(value));
    set += std::string(set.empty() ? "" : ", ") + column + " = $" + std::to_string(params.size());
  };
  if (update.placement_policy) {
    assign("placement_policy", update.placement_policy->ToJson());
    if (update.placement_policy->kind != PlacementPolicy::Kind::kAttached) {
      set += ", generation_pageserver = NULL";
    }
  }
  if (update.config) assign("config", *update.config);
  if (update.generation) assign("generation", GenerationParam(*update.generation));
  if (update.scheduling_policy) assign("scheduling_policy", *update.scheduling_policy);
  if (set.empty()) return absl::OkStatus();  // nothing to set: no statement (as the fake)
  return SingleStatement([&]() -> absl::Status {
    return Exec("UPDATE tenant_shards SET " + set + " WHERE " + where, params).status();
  });
}

absl::Status LibpqPersistence::Detach(const TenantShardId& shard) {
  return SingleStatement([&]() -> absl::Status {
    auto result = Exec(
        "UPDATE tenant_shards SET generation_pageserver = NULL, placement_policy = $4 "
        "WHERE tenant_id = $1 AND shard_number = $2 AND shard_count = $3",
        {shard.tenant_id, Text(shard.shard_number), Text(shard.shard_count),
         PlacementPolicy::Detached().ToJson()});
    if (!result.ok()) return result.status();
    if (result->affected() != 1) return absl::NotFoundError("detach: no shard");
    return absl::OkStatus();
  });
}

absl::Status LibpqPersistence::UpdateNodeSchedulingPolicy(NodeId node,
                                                          NodeSchedulingPolicy policy) {
  return SingleStatement([&]() -> absl::Status {
    auto result = Exec(
        "UPDATE nodes SET scheduling_policy = $2 WHERE node_id = $1 AND lifecycle <> 'deleted'",
        {Text(node), NodeSchedulingPolicyName(policy)});
    if (!result.ok()) return result.status();
    if (result->affected() != 1) return absl::NotFoundError("no live node");
    return absl::OkStatus();
  });
}

absl::Status LibpqPersistence::InsertNode(const NodeRow& node) {
  return SingleStatement([&]() -> absl::Status {
    return Exec(std::string("INSERT INTO nodes (") + kNodeColumns +
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                {Text(node.node_id), NodeSchedulingPolicyName(node.scheduling_policy),
                 node.listen_http_addr, Text(node.listen_http_port), node.listen_pg_addr,
                 Text(node.listen_pg_port), node.availability_zone_id,
                 NodeLifecycleName(node.lifecycle)})
        .status();
  });
}

absl::StatusOr<std::vector<NodeRow>> LibpqPersistence::ListNodes() {
  std::vector<NodeRow> nodes;
  absl::Status status = SingleStatement([&]() -> absl::Status {
    nodes.clear();
    auto result = Exec(std::string("SELECT ") + kNodeColumns +
                       " FROM nodes WHERE lifecycle <> 'deleted' ORDER BY node_id");
    if (!result.ok()) return result.status();
    for (int i = 0; i < result->rows(); ++i) {
      NodeRow node;
      node.node_id = static_cast<NodeId>(result->integer(i, 0));
      auto policy = ParseNodeSchedulingPolicy(result->text(i, 1));
      auto lifecycle = ParseNodeLifecycle(result->text(i, 7));
      if (!policy || !lifecycle) return absl::DataLossError("bad node row");
      node.scheduling_policy = *policy;
      node.listen_http_addr = result->text(i, 2);
      node.listen_http_port = static_cast<uint16_t>(result->integer(i, 3));
      node.listen_pg_addr = result->text(i, 4);
      node.listen_pg_port = static_cast<uint16_t>(result->integer(i, 5));
      node.availability_zone_id = result->text(i, 6);
      node.lifecycle = *lifecycle;
      nodes.push_back(std::move(node));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return nodes;
}

absl::Status LibpqPersistence::DeleteNode(NodeId node) {
  return SingleStatement([&]() -> absl::Status {
    auto result = Exec("UPDATE nodes SET lifecycle = 'deleted' WHERE node_id = $1", {Text(node)});
    if (!result.ok()) return result.status();
    if (result->affected() == 0) return absl::NotFoundError("no node");
    return absl::OkStatus();
  });
}

absl::Status LibpqPersistence::InsertTenantShards(const std::vector<TenantShardRow>& shards) {
  if (absl::Status valid = ValidateShardRows(shards); !valid.ok()) return valid;
  if (shards.empty()) return absl::OkStatus();
  return Transaction(shards.size() == 1 ? nullptr : "SERIALIZABLE",[&]() -> absl::Status {
    for (const TenantShardRow& row : shards) {
      std::optional<std::string> node;
      if (row.generation_pageserver) node = Text(*row.generation_pageserver);
      auto result = Exec(
          std::string("INSERT INTO tenant_shards (") + kShardColumns +
              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
          {row.id.tenant_id, Text(row.id.shard_number), Text(row.id.shard_count),
           Text(row.shard_stripe_size), GenerationParam(row.generation), node,
           row.placement_policy.ToJson(), Text(static_cast<int>(row.splitting)), row.config,
           row.scheduling_policy, row.preferred_az_id});
      if (!result.ok()) return result.status();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TenantShardRow>> LibpqPersistence::ListTenantShards() {
  std::vector<TenantShardRow> rows;
  absl::Status status = SingleStatement([&]() -> absl::Status {
    rows.clear();
    auto result = Exec(std::string("SELECT ") + kShardColumns + " FROM tenant_shards");
    if (!result.ok()) return result.status();
    for (int i = 0; i < result->rows(); ++i) {
      TenantShardRow row;
      row.id = ShardIdAt(*result, i);
      row.shard_stripe_size = static_cast<uint32_t>(result->integer(i, 3));
      row.generation = GenerationAt(*result, i, 4);
      if (!result->null(i, 5)) row.generation_pageserver = result->integer(i, 5);
      auto policy = PlacementPolicy::FromJson(result->text(i, 6));
      if (!policy) return absl::DataLossError("bad placement_policy " + result->text(i, 6));
      row.placement_policy = *policy;
      row.splitting = static_cast<SplitState>(result->integer(i, 7));
      row.config = result->text(i, 8);
      row.scheduling_policy = result->text(i, 9);
      if (!result->null(i, 10)) row.preferred_az_id = result->text(i, 10);
      rows.push_back(std::move(row));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  // Byte order of tenant ids, whatever the database's collation.
  std::sort(rows.begin(), rows.end(),
            [](const TenantShardRow& a, const TenantShardRow& b) { return a.id < b.id; });
  return rows;
}

absl::Status LibpqPersistence::DeleteTenant(const std::string& tenant_id) {
  return SingleStatement([&]() -> absl::Status {
    return Exec("DELETE FROM tenant_shards WHERE tenant_id = $1", {tenant_id}).status();
  });
}

absl::Status LibpqPersistence::BeginShardSplit(const std::string& tenant_id, uint8_t old_count,
                                               uint8_t new_count) {
  if (absl::Status valid = ValidateSplitCounts(old_count, new_count); !valid.ok()) return valid;
  const uint8_t parents = EffectiveShardCount(old_count);
  return Serializable([&]() -> absl::Status {
    auto marked = Exec(
        "UPDATE tenant_shards SET splitting = 1 WHERE tenant_id = $1 AND shard_count = $2",
        {tenant_id, Text(old_count)});
    if (!marked.ok()) return marked.status();
    if (marked->affected() != parents) {
      return absl::FailedPreconditionError("unexpected existing shard count " +
                                           std::to_string(marked->affected()));
    }
    // Each parent's children copy its row, generation included.
    return Exec(std::string("INSERT INTO tenant_shards (") + kShardColumns +
                    ") SELECT tenant_id, shard_number + k * $3, $4, shard_stripe_size, "
                    "generation, generation_pageserver, placement_policy, 1, config, "
                    "scheduling_policy, preferred_az_id FROM tenant_shards, "
                    "generate_series(0, $5::integer - 1) AS k "
                    "WHERE tenant_id = $1 AND shard_count = $2",
                {tenant_id, Text(old_count), Text(parents), Text(new_count),
                 Text(new_count / parents)})
        .status();
  });
}

absl::Status LibpqPersistence::CompleteShardSplit(const std::string& tenant_id, uint8_t old_count,
                                                  uint8_t new_count) {
  if (absl::Status valid = ValidateSplitCounts(old_count, new_count); !valid.ok()) return valid;
  return Serializable([&]() -> absl::Status {
    auto children = Exec(
        "SELECT count(*) FROM tenant_shards WHERE tenant_id = $1 AND shard_count = $2",
        {tenant_id, Text(new_count)});
    if (!children.ok()) return children.status();
    if (children->integer(0, 0) != EffectiveShardCount(new_count)) {
      return absl::FailedPreconditionError("unexpected child shard count " +
                                           children->text(0, 0));
    }
    auto dropped = Exec("DELETE FROM tenant_shards WHERE tenant_id = $1 AND shard_count = $2",
                        {tenant_id, Text(old_count)});
    if (!dropped.ok()) return dropped.status();
    return Exec(
               "UPDATE tenant_shards SET splitting = 0 WHERE tenant_id = $1 AND shard_count = $2",
               {tenant_id, Text(new_count)})
        .status();
  });
}

absl::StatusOr<AbortShardSplitStatus> LibpqPersistence::AbortShardSplit(
    const std::string& tenant_id, uint8_t new_count) {
  AbortShardSplitStatus outcome = AbortShardSplitStatus::kAborted;
  absl::Status status = Serializable([&]() -> absl::Status {
    auto cleared = Exec(
        "UPDATE tenant_shards SET splitting = 0 WHERE tenant_id = $1 AND shard_count <> $2",
        {tenant_id, Text(new_count)});
    if (!cleared.ok()) return cleared.status();
    if (cleared->affected() == 0) {
      outcome = AbortShardSplitStatus::kComplete;
      return absl::OkStatus();
    }
    if (cleared->affected() >= EffectiveShardCount(new_count)) {
      return absl::FailedPreconditionError("unexpected parent shard count " +
                                           std::to_string(cleared->affected()));
    }
    outcome = AbortShardSplitStatus::kAborted;
    return Exec("DELETE FROM tenant_shards WHERE tenant_id = $1 AND shard_count = $2",
                {tenant_id, Text(new_count)})
        .status();
  });
  if (!status.ok()) return status;
  return outcome;
}

}  // namespace storsim::persistence
