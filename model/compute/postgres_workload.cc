// The Postgres side of a compute: one session writing key/value records through the safekeeper
// and reading them back through the pageserver of each key's shard, plus libpagestore's refresh
// triggers (lakebase mode). Every acknowledged write and every query result goes into the trace
// (events.h) so that checkers can prove S11 and "never reads older than its own last ack".
//
// libpagestore's local POST to compute_ctl is a direct call of the handler: it is in-process
// (localhost), never lost or partitioned, and the handler never blocks, so its 3 s timeout
// (SPEC §13.1) can never expire and is not modelled.
#include <algorithm>
#include <string>

#include "model/compute/compute_ctl.h"
#include "model/compute/events.h"
#include "model/compute/spec_codec.h"
#include "sim/check.h"

namespace storsim::compute {

void ComputeCtl::WorkloadLoop() {
  const WorkloadOptions& workload = options_.workload;
  SIM_CHECK(workload.op_interval > sim::Duration::Zero());
  // Runs until the process stops; every iteration sleeps, so the loop is paced.
  while (!env_->shutdown_requested().is_set()) {
    env_->Sleep(workload.op_interval);
    if (!postgres_running_ || !current_spec_) continue;
    const uint64_t key = env_->random().Below(workload.key_count);
    // Until the first write is acknowledged there is no LSN worth reading at.
    const bool write =
        env_->random().Below(100) < workload.write_percent || last_acked_lsn_ == 0;
    if (write) {
      DoWrite(key);
    } else {
      DoRead(key);
    }
  }
}

void ComputeCtl::DoWrite(uint64_t key) {
  SIM_CHECK(options_.safekeeper >= 0);
  ++write_sequence_;
  const std::string value = options_.tenant_id + ":k" + std::to_string(key) + ":i" +
                            std::to_string(env_->incarnation()) + ":n" +
                            std::to_string(write_sequence_);
  auto result = env_->rpc().Call(options_.safekeeper, api::kAppendWal,
                                 api::AppendWalRequest{options_.tenant_id, key, value},
                                 options_.workload.append_timeout);
  if (result.ok() && result->status == api::Http::kOk) {
    SIM_CHECK_MSG(result->lsn > 0, "an acknowledged record has an LSN");
    last_acked_lsn_ = std::max(last_acked_lsn_, result->lsn);
    key_acked_lsn_[key] = result->lsn;
    ++counters_.writes_acked;
    env_->Emit(events::kWriteAcked,
               {sim::TraceField::Str("tenant", options_.tenant_id),
                sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
                sim::TraceField::Int("key", static_cast<int64_t>(key)),
                sim::TraceField::Str("value", value),
                sim::TraceField::Int("lsn", static_cast<int64_t>(result->lsn)),
                sim::TraceField::Int("commit_lsn", static_cast<int64_t>(result->commit_lsn))});
    return;
  }
  ++counters_.writes_failed;
  const char* reason =
      !result.ok() ? (absl::IsUnavailable(result.status()) ? "unavailable" : "deadline") : "status";
  env_->Emit(
      events::kWriteFailed,
      {sim::TraceField::Str("tenant", options_.tenant_id),
       sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
       sim::TraceField::Int("key", static_cast<int64_t>(key)), sim::TraceField::Str("value", value),
       sim::TraceField::Str("reason", reason),
       sim::TraceField::Int("status", result.ok() ? static_cast<int64_t>(result->status) : 0)});
}

void ComputeCtl::SignalRefresh(const char* reason, std::optional<sim::Instant>& non_200_since) {
  ++counters_.refresh_signals;
  const api::Http answer = HandleRefresh("postgres");
  if (answer == api::Http::kOk) {
    non_200_since.reset();
  } else if (!non_200_since) {
    non_200_since = env_->Now();
  }
  const int64_t non_200_for_ms = non_200_since ? (env_->Now() - *non_200_since).millis() : 0;
  env_->Emit(events::kRefreshSignal,
             {sim::TraceField::Str("tenant", options_.tenant_id),
              sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
              sim::TraceField::Str("reason", reason),
              sim::TraceField::Int("status", static_cast<int64_t>(answer)),
              sim::TraceField::Int("non_200_for_ms", non_200_for_ms)});
}

void ComputeCtl::DoRead(uint64_t key) {
  const WorkloadOptions& workload = options_.workload;
  const sim::Instant started = env_->Now();
  const api::Lsn request_lsn = last_acked_lsn_;
  auto acked = key_acked_lsn_.find(key);
  const api::Lsn expected_lsn = acked == key_acked_lsn_.end() ? 0 : acked->second;
  SIM_CHECK(expected_lsn <= request_lsn);
  std::optional<sim::Instant> non_200_since;  // refresh answers non-200 since (this query)
  sim::Duration retry_sleep = workload.retry_sleep_min;
  uint32_t attempts = 0;
  api::NodeId node = 0;
  sim::ProcessId pageserver = -1;
  uint8_t shard_number = 0;
  uint64_t spec_version = 0;

  auto finish = [&](const std::string& outcome, const api::GetPageResponse* page) {
    if (page != nullptr) {
      ++counters_.reads_ok;
    } else {
      ++counters_.reads_failed;
    }
    env_->Emit(
        events::kRead,
        {sim::TraceField::Str("tenant", options_.tenant_id),
         sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
         sim::TraceField::Int("key", static_cast<int64_t>(key)),
         sim::TraceField::Int("request_lsn", static_cast<int64_t>(request_lsn)),
         sim::TraceField::Int("expected_lsn", static_cast<int64_t>(expected_lsn)),
         sim::TraceField::Int("found", page != nullptr && page->found ? 1 : 0),
         sim::TraceField::Str("value", page != nullptr ? page->value : ""),
         sim::TraceField::Int("value_lsn",
                              page != nullptr ? static_cast<int64_t>(page->value_lsn) : 0),
         sim::TraceField::Int("node_id", static_cast<int64_t>(node)),
         sim::TraceField::Int("pageserver", pageserver),
         sim::TraceField::Int("shard_number", shard_number),
         sim::TraceField::Int("spec_version", static_cast<int64_t>(spec_version)),
         sim::TraceField::Int("attempts", attempts), sim::TraceField::Str("outcome", outcome)});
  };

  // Bounded by query_timeout (and, in lakebase mode, by the 60 s of non-200 refresh answers).
  while (true) {
    if (!postgres_running_ || !current_spec_) return finish("cancelled", nullptr);
    ++attempts;
    // Each attempt reconnects with the conninfo in force now: a reload switches pageservers.
    const api::ComputeSpec spec = *current_spec_;
    spec_version = spec.version;
    shard_number = api::ShardOfKey(key, spec.shard_count, spec.stripe_size);
    const std::optional<api::NodeId> shard_node = NodeOfShard(spec, shard_number);
    if (!shard_node) return finish("no-shard", nullptr);
    node = *shard_node;
    const char* failure = nullptr;
    bool connect_failure = false;
    auto address = options_.pageservers.find(node);
    if (address == options_.pageservers.end()) {
      pageserver = -1;
      failure = "unknown-node";
      connect_failure = true;
    } else {
      pageserver = address->second;
      api::GetPageRequest request{
          api::TenantShardId{options_.tenant_id, shard_number, spec.shard_count}, key, request_lsn};
      auto result = env_->rpc().Call(pageserver, api::kGetPage, request, workload.getpage_timeout);
      if (!result.ok()) {
        failure = absl::IsUnavailable(result.status()) ? "unavailable" : "deadline";
        connect_failure = true;
      } else if (result->status == api::Http::kOk) {
        connect_failures_[shard_number] = 0;
        return finish("ok", &*result);
      } else if (result->status == api::Http::kNotFound) {
        failure = "404";  // connected, then a receive error: the shard is not attached there
      } else {
        return finish("error-" + std::to_string(static_cast<int32_t>(result->status)), nullptr);
      }
    }
    uint32_t& failures = connect_failures_[shard_number];
    failures = connect_failure ? failures + 1 : 0;
    env_->Emit(
        events::kGetPageFailed,
        {sim::TraceField::Str("tenant", options_.tenant_id),
         sim::TraceField::Int("incarnation", static_cast<int64_t>(env_->incarnation())),
         sim::TraceField::Int("key", static_cast<int64_t>(key)),
         sim::TraceField::Int("node_id", static_cast<int64_t>(node)),
         sim::TraceField::Int("pageserver", pageserver), sim::TraceField::Str("reason", failure),
         sim::TraceField::Int("consecutive_failures", failures)});
    if (options_.lakebase_mode) {
      if (!connect_failure) {
        SignalRefresh("not-found", non_200_since);
      } else if (failures > workload.connect_failures_before_refresh) {
        SignalRefresh("connect-failures", non_200_since);
      }
    }
    const sim::Instant now = env_->Now();
    if (non_200_since && now - *non_200_since > workload.refresh_non_200_cancel) {
      SIM_MARK("compute.query_cancelled_refresh_non_200");
      return finish("cancelled", nullptr);
    }
    if (now - started > workload.query_timeout) return finish("timeout", nullptr);
    env_->Sleep(retry_sleep);
    retry_sleep = std::min(retry_sleep * 2, workload.retry_sleep_max);
  }
}

}  // namespace storsim::compute
