// RemoteStorageClient: the typed library other simulated processes use to talk to the fake
// object storage, plus a retry helper with bounded backoff that callers may wrap calls in.
//
// Every call is one RPC with a timeout (the client's default or the one given). Outcomes map to
// absl statuses so callers can branch on one value:
//   OK                 200/204;
//   NotFound           404 (GET of an absent key);
//   InvalidArgument    400 (bad key, too many keys, bad token) — a caller bug, never retried;
//   Unavailable        503 SlowDown or outage (did NOT execute), or connection refused;
//   Internal           500 after execution (a mutation MAY have executed);
//   DeadlineExceeded   no reply in time (the request MAY have executed).
// PUT and DELETE are idempotent, so retrying any of the last three is safe.
//
// The client carries the writer attachment (tenant shard, node, generation) that the storage
// records for every PUT and DELETE; a pageserver makes one client per attachment with
// WithAttachment. The client is a cheap value; it must be used only from fibers of the process
// whose Env it holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/remote_storage/remote_storage_types.h"
#include "sim/check.h"
#include "sim/env.h"
#include "sim/time.h"

namespace storsim::remote_storage {

struct RemoteStorageClientOptions {
  sim::Duration timeout = sim::Duration::Seconds(10);  // per call, on the caller's clock
  size_t list_pages_max = 10'000;                      // ListAll bound: 10 M keys
};

struct GetResult {
  std::string bytes;
  uint64_t content_hash = 0;
  int64_t last_modified_wall_nanos = 0;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  bool is_truncated = false;
  std::string next_continuation_token;
};

// The absl status for an HTTP-like answer (OK for 200 and 204). `what` names the call.
absl::Status StatusFromHttp(HttpStatus status, const std::string& what);

class RemoteStorageClient {
 public:
  RemoteStorageClient(sim::Env& env, sim::ProcessId server, WriterAttachment attachment = {},
                      RemoteStorageClientOptions options = {});

  // The same client writing as another attachment.
  RemoteStorageClient WithAttachment(WriterAttachment attachment) const;
  const WriterAttachment& attachment() const { return attachment_; }
  sim::ProcessId server() const { return server_; }

  // Stores `bytes` at `key`. Returns the content hash (sim::HashBytes(bytes)).
  absl::StatusOr<uint64_t> Put(std::string key, std::string bytes,
                               std::optional<sim::Duration> timeout = std::nullopt);
  // Reads `key`. NotFound when absent. The bytes are checked against their hash (a mismatch is
  // a storage bug and fails a SIM_CHECK).
  absl::StatusOr<GetResult> Get(std::string key,
                                std::optional<sim::Duration> timeout = std::nullopt);
  // Deletes `key`; OK whether or not it existed.
  absl::Status Delete(std::string key, std::optional<sim::Duration> timeout = std::nullopt);
  // Deletes up to kDeleteObjectsKeysMax keys (precondition: 1..1000 keys). OK means the call
  // ran: each result then says 204 (deleted or absent), 400 or 500 (not deleted) per key.
  absl::StatusOr<std::vector<DeleteObjectResult>> DeleteObjects(
      std::vector<std::string> keys, std::optional<sim::Duration> timeout = std::nullopt);
  // One page of keys under `prefix` after `continuation_token` ("" for the first page).
  absl::StatusOr<ListPage> List(std::string prefix, std::string continuation_token = "",
                                int32_t max_keys = kListKeysMax,
                                std::optional<sim::Duration> timeout = std::nullopt);
  // Every key under `prefix`, following continuation tokens; each page has its own timeout.
  // The first failing page's error is returned. ResourceExhausted past list_pages_max pages.
  absl::StatusOr<std::vector<ObjectInfo>> ListAll(
      std::string prefix, std::optional<sim::Duration> timeout_per_page = std::nullopt);

 private:
  sim::Duration TimeoutOr(std::optional<sim::Duration> timeout) const {
    return timeout.value_or(options_.timeout);
  }

  sim::Env* env_;
  sim::ProcessId server_;
  WriterAttachment attachment_;
  RemoteStorageClientOptions options_;
};

// Keys whose DeleteObjects result is not 204 (to retry or report).
std::vector<std::string> FailedKeys(const std::vector<DeleteObjectResult>& results);

// --- Retrying ----------------------------------------------------------------------------------

struct RetryPolicy {
  int attempts_max = 8;                                        // calls, including the first
  sim::Duration backoff_initial = sim::Duration::Millis(100);  // doubles after each failure
  sim::Duration backoff_max = sim::Duration::Seconds(3);
  sim::Duration total_max = sim::Duration::Seconds(60);  // no sleep starts past this budget
};

struct RetryStats {
  int attempts = 0;
  sim::Duration slept;
};

// Unavailable (503, refused), DeadlineExceeded (timeout) and Internal (500): worth another try.
bool IsRetryableStorageError(const absl::Status& status);

namespace retry_internal {
inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}
// Sleep before attempt `attempt` (2, 3, ...): a doubling backoff with jitter in [half, full].
sim::Duration Backoff(sim::Env& env, const RetryPolicy& policy, int attempt);
}  // namespace retry_internal

// Calls `call` (returning absl::Status or absl::StatusOr<T>) until it succeeds, fails with an
// error that is not retryable, or the policy runs out of attempts or time; sleeps a jittered,
// doubling backoff between attempts. Returns the last result. Bounded: at most attempts_max
// calls, and no sleep that would end past total_max after the first call started.
template <typename Call>
auto RetryStorageCall(sim::Env& env, const RetryPolicy& policy, Call&& call,
                      RetryStats* stats = nullptr) -> std::invoke_result_t<Call&> {
  SIM_CHECK(policy.attempts_max >= 1);
  SIM_CHECK(policy.backoff_initial > sim::Duration::Zero());
  const sim::Instant start = env.Now();
  RetryStats local;
  RetryStats& counts = stats != nullptr ? *stats : local;
  for (int attempt = 1;; ++attempt) {
    ++counts.attempts;
    auto result = call();
    const absl::Status& status = retry_internal::StatusOf(result);
    if (status.ok() || !IsRetryableStorageError(status) || attempt >= policy.attempts_max) {
      return result;
    }
    const sim::Duration backoff = retry_internal::Backoff(env, policy, attempt + 1);
    if ((env.Now() - start) + backoff > policy.total_max) return result;
    env.Sleep(backoff);
    counts.slept += backoff;
  }
}

}  // namespace storsim::remote_storage
