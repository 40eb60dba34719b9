// The safekeeper of storsim's model (SPEC.md §9, S10): one process holding a durable WAL per
// tenant timeline on its sim Disk. The compute appends records (AppendWal): the safekeeper assigns
// LSNs 1, 2, 3, ... in arrival order, appends the record to the tenant's WAL file and syncs it
// before acknowledging, so an acknowledged record survives any crash. Pageservers read WAL from
// an LSN (ReadWal) and report their validated remote_consistent_lsn (RemoteConsistentLsnFeedback).
//
// Trimming (the WAL horizon): a background pass every trim_period removes records that no future
// attachment can need. For a tenant with shards 0..n-1 (n from the feedback's shard_count), the
// horizon is min over shards of the remote_consistent_lsn reported by that shard's *highest*
// generation (feedback from a lower generation never moves the horizon), capped at commit_lsn;
// nothing is trimmed until every shard reported. Records with lsn <= horizon are dropped and
// trimmed_below = horizon + 1. Pageservers only send remote_consistent_lsn values that passed
// validation, i.e. values at or below the disk_consistent_lsn of an index that every later
// attachment loads or supersedes (SPEC §4.4), which is what makes this bound safe (S10).
// Feedback is kept in memory only: after a restart nothing is trimmed until shards report again.
//
// Reading below trimmed_below answers kBadRequest (the reader needs WAL that no longer exists).
//
// Invariants:
//   1. Per tenant, held records have consecutive LSNs trimmed_below .. last_lsn.
//   2. trimmed_below never decreases and trimmed_below - 1 <= commit_lsn.
//   3. The WAL file replays to exactly the held records and trimmed_below.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/api/defects.h"
#include "model/api/safekeeper_api.h"
#include "sim/env.h"
#include "sim/process.h"
#include "sim/time.h"

namespace storsim::safekeeper {

struct SafekeeperOptions {
  sim::Duration trim_period = sim::Duration::Seconds(10);
  uint32_t read_records_max = 1024;     // cap on ReadWal's max_records
  uint64_t records_per_tenant_max = 1'000'000;  // bound on a tenant's untrimmed WAL (then 503)
};

// The safekeeper implements no switchable defect (SPEC §12 has none for it).
std::vector<api::DefectInfo> SafekeeperDefects();

struct SafekeeperFeedbackSnapshot {
  api::TenantShardId shard;
  api::NodeId node_id = 0;
  api::Generation generation;
  api::Lsn remote_consistent_lsn = 0;
};

struct SafekeeperTimelineSnapshot {
  std::string tenant_id;
  api::Lsn commit_lsn = 0;      // == last assigned LSN (a single durable safekeeper)
  api::Lsn trimmed_below = 1;   // oldest LSN still held
  size_t records_held = 0;
  std::vector<SafekeeperFeedbackSnapshot> feedback;  // per shard, the highest generation's report
};

struct SafekeeperSnapshot {
  bool running = false;
  uint64_t incarnation = 0;
  std::vector<SafekeeperTimelineSnapshot> timelines;  // ordered by tenant id
};

class Safekeeper {
 public:
  explicit Safekeeper(SafekeeperOptions options = {}, api::Defects defects = {});
  Safekeeper(const Safekeeper&) = delete;
  Safekeeper& operator=(const Safekeeper&) = delete;

  // Process main: recovers every WAL file, serves until shutdown is requested. Restartable.
  void Run(sim::Env& env);
  sim::Process::Main Main() {
    return [this](sim::Env& env) { Run(env); };
  }

  // For checkers and tests; reflects the last incarnation's memory.
  SafekeeperSnapshot Snapshot() const;

 private:
  struct Feedback {
    api::NodeId node_id = 0;
    api::Generation generation;
    api::Lsn lsn = 0;
  };
  struct Timeline {
    std::vector<api::WalRecord> records;  // ascending, consecutive LSNs
    api::Lsn last_lsn = 0;
    api::Lsn trimmed_below = 1;
    std::map<api::TenantShardId, Feedback> feedback;
  };

  void Recover(sim::Env& env);
  api::AppendWalResponse Append(sim::Env& env, const api::AppendWalRequest& request);
  api::ReadWalResponse Read(sim::Env& env, const api::ReadWalRequest& request);
  api::FeedbackResponse OnFeedback(sim::Env& env, const api::RemoteConsistentLsnFeedback& request);
  // The LSN up to which `timeline` may be trimmed (0 = nothing).
  static api::Lsn Horizon(const Timeline& timeline);
  void TrimAll(sim::Env& env);

  SafekeeperOptions options_;
  api::Defects defects_;
  std::map<std::string, Timeline> timelines_;
  bool running_ = false;
  uint64_t incarnation_ = 0;
};

}  // namespace storsim::safekeeper
