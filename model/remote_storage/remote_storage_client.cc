// RemoteStorageClient: RPC calls, status mapping, pagination and retry backoff.
#include "model/remote_storage/remote_storage_client.h"

#include "sim/hash.h"

namespace storsim::remote_storage {

absl::Status StatusFromHttp(HttpStatus status, const std::string& what) {
  const std::string message = std::string(HttpStatusName(status)) + ": " + what;
  switch (status) {
    case HttpStatus::kOk:
    case HttpStatus::kNoContent:
      return absl::OkStatus();
    case HttpStatus::kNotFound:
      return absl::NotFoundError(message);
    case HttpStatus::kBadRequest:
      return absl::InvalidArgumentError(message);
    case HttpStatus::kSlowDown:
      return absl::UnavailableError(message);
    case HttpStatus::kInternalError:
      return absl::InternalError(message);
  }
  return absl::InternalError("unknown status: " + what);
}

RemoteStorageClient::RemoteStorageClient(sim::Env& env, sim::ProcessId server,
                                         WriterAttachment attachment,
                                         RemoteStorageClientOptions options)
    : env_(&env), server_(server), attachment_(std::move(attachment)), options_(options) {
  SIM_CHECK(server_ >= 0);
  SIM_CHECK(options_.timeout > sim::Duration::Zero() && options_.list_pages_max > 0);
}

RemoteStorageClient RemoteStorageClient::WithAttachment(WriterAttachment attachment) const {
  return RemoteStorageClient(*env_, server_, std::move(attachment), options_);
}

absl::StatusOr<uint64_t> RemoteStorageClient::Put(std::string key, std::string bytes,
                                                  std::optional<sim::Duration> timeout) {
  const uint64_t expected_hash = sim::HashBytes(bytes);
  const std::string what = "put " + key;
  absl::StatusOr<PutObjectResponse> response = env_->rpc().Call(
      server_, kPutObject, PutObjectRequest{std::move(key), std::move(bytes), attachment_},
      TimeoutOr(timeout));
  if (!response.ok()) return response.status();
  if (absl::Status status = StatusFromHttp(response->status, what); !status.ok()) return status;
  SIM_CHECK_MSG(response->content_hash == expected_hash, "storage stored other bytes than sent");
  return response->content_hash;
}

absl::StatusOr<GetResult> RemoteStorageClient::Get(std::string key,
                                                   std::optional<sim::Duration> timeout) {
  const std::string what = "get " + key;
  absl::StatusOr<GetObjectResponse> response = env_->rpc().Call(
      server_, kGetObject, GetObjectRequest{std::move(key), attachment_}, TimeoutOr(timeout));
  if (!response.ok()) return response.status();
  if (absl::Status status = StatusFromHttp(response->status, what); !status.ok()) return status;
  SIM_CHECK_MSG(sim::HashBytes(response->bytes) == response->content_hash,
                "storage returned bytes that do not match their hash");
  return GetResult{std::move(response->bytes), response->content_hash,
                   response->last_modified_wall_nanos};
}

absl::Status RemoteStorageClient::Delete(std::string key, std::optional<sim::Duration> timeout) {
  const std::string what = "delete " + key;
  absl::StatusOr<DeleteObjectResponse> response = env_->rpc().Call(
      server_, kDeleteObject, DeleteObjectRequest{std::move(key), attachment_}, TimeoutOr(timeout));
  if (!response.ok()) return response.status();
  return StatusFromHttp(response->status, what);
}

absl::StatusOr<std::vector<DeleteObjectResult>> RemoteStorageClient::DeleteObjects(
    std::vector<std::string> keys, std::optional<sim::Duration> timeout) {
  SIM_CHECK_MSG(!keys.empty() && keys.size() <= kDeleteObjectsKeysMax,
                "DeleteObjects takes 1..1000 keys");
  const size_t count = keys.size();
  const std::string what = "delete_objects of " + std::to_string(count) + " keys";
  absl::StatusOr<DeleteObjectsResponse> response =
      env_->rpc().Call(server_, kDeleteObjects, DeleteObjectsRequest{std::move(keys), attachment_},
                       TimeoutOr(timeout));
  if (!response.ok()) return response.status();
  if (absl::Status status = StatusFromHttp(response->status, what); !status.ok()) return status;
  SIM_CHECK_MSG(response->results.size() == count, "DeleteObjects answers one result per key");
  return std::move(response->results);
}

absl::StatusOr<ListPage> RemoteStorageClient::List(std::string prefix,
                                                   std::string continuation_token, int32_t max_keys,
                                                   std::optional<sim::Duration> timeout) {
  const std::string what = "list " + prefix;
  absl::StatusOr<ListObjectsResponse> response = env_->rpc().Call(
      server_, kListObjects,
      ListObjectsRequest{std::move(prefix), std::move(continuation_token), max_keys},
      TimeoutOr(timeout));
  if (!response.ok()) return response.status();
  if (absl::Status status = StatusFromHttp(response->status, what); !status.ok()) return status;
  SIM_CHECK(response->is_truncated == !response->next_continuation_token.empty());
  return ListPage{std::move(response->objects), response->is_truncated,
                  std::move(response->next_continuation_token)};
}

absl::StatusOr<std::vector<ObjectInfo>> RemoteStorageClient::ListAll(
    std::string prefix, std::optional<sim::Duration> timeout_per_page) {
  std::vector<ObjectInfo> all;
  std::string token;
  for (size_t page = 0; page < options_.list_pages_max; ++page) {
    absl::StatusOr<ListPage> result = List(prefix, token, kListKeysMax, timeout_per_page);
    if (!result.ok()) return result.status();
    for (ObjectInfo& object : result->objects) {
      // Pages continue strictly after the previous one: keys only grow.
      SIM_CHECK_MSG(all.empty() || all.back().key < object.key, "listing went backwards");
      all.push_back(std::move(object));
    }
    if (!result->is_truncated) return all;
    token = std::move(result->next_continuation_token);
  }
  return absl::ResourceExhaustedError("list " + prefix + ": more than list_pages_max pages");
}

std::vector<std::string> FailedKeys(const std::vector<DeleteObjectResult>& results) {
  std::vector<std::string> failed;
  for (const DeleteObjectResult& result : results) {
    if (result.status != HttpStatus::kNoContent) failed.push_back(result.key);
  }
  return failed;
}

bool IsRetryableStorageError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsInternal(status);
}

namespace retry_internal {

sim::Duration Backoff(sim::Env& env, const RetryPolicy& policy, int attempt) {
  SIM_CHECK(attempt >= 2);
  sim::Duration backoff = policy.backoff_initial;
  // Doubling stops at the cap, so the loop runs at most ~64 times whatever `attempt` is.
  for (int i = 2; i < attempt && backoff < policy.backoff_max; ++i) backoff = backoff * 2;
  if (backoff > policy.backoff_max) backoff = policy.backoff_max;
  return env.random().DurationIn(backoff / 2, backoff);
}

}  // namespace retry_internal
}  // namespace storsim::remote_storage
