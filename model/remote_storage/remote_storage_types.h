// The wire types of the fake object storage (an S3 stand-in): requests, responses, the writer
// attachment every mutation carries, the RPC methods, and helpers for the generation suffix of
// remote keys (SPEC.md §4.3). Shared by the server, the client library and the checkers.
//
// Errors the storage itself decides (404, 400, 500, 503) travel inside the response as an
// HTTP-like status; the RPC layer's absl errors only ever mean "transport" (timeout, refused).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/rpc.h"

namespace storsim::remote_storage {

// HTTP-like statuses the fake storage answers with.
enum class HttpStatus : int32_t {
  kOk = 200,
  kNoContent = 204,
  kBadRequest = 400,
  kNotFound = 404,
  kInternalError = 500,  // the request may or may not have executed (S3 "InternalError")
  kSlowDown = 503,       // throttled or unavailable: the request did not execute
};
const char* HttpStatusName(HttpStatus status);

// Limits of the S3 API that the fake enforces (requests beyond them get 400).
inline constexpr size_t kKeyBytesMax = 1024;
inline constexpr size_t kDeleteObjectsKeysMax = 1000;
inline constexpr int32_t kListKeysMax = 1000;

// Who, in storage-controller terms, issued a mutation: the tenant shard, the pageserver node and
// the generation of the attachment. Writers that are not attachments (the harness, a scrubber)
// leave the defaults. The storage records it verbatim; it never trusts or checks it — that is
// the checkers' job (S6, S8).
struct WriterAttachment {
  std::string tenant_shard;
  int64_t node_id = -1;
  uint32_t generation = 0;

  bool is_attachment() const { return node_id >= 0; }
  auto operator<=>(const WriterAttachment&) const = default;
};

struct PutObjectRequest {
  std::string key;
  std::string bytes;
  WriterAttachment attachment;
};
struct PutObjectResponse {
  HttpStatus status = HttpStatus::kOk;
  uint64_t content_hash = 0;  // sim::HashBytes of the stored bytes (the ETag), when 200
};

struct GetObjectRequest {
  std::string key;
  WriterAttachment reader;  // recorded in the trace only (S7 evidence)
};
struct GetObjectResponse {
  HttpStatus status = HttpStatus::kOk;  // 200 or 404 (or a fault)
  std::string bytes;
  uint64_t content_hash = 0;
  int64_t last_modified_wall_nanos = 0;  // the storage's wall clock when the object was PUT
};

struct DeleteObjectRequest {
  std::string key;
  WriterAttachment attachment;
};
struct DeleteObjectResponse {
  HttpStatus status = HttpStatus::kNoContent;  // 204 whether or not the key existed
};

struct DeleteObjectsRequest {
  std::vector<std::string> keys;  // at most kDeleteObjectsKeysMax
  WriterAttachment attachment;
};
// Per-key outcome of a DeleteObjects call: 204 (deleted, or was already absent), 400 (invalid
// key), 500 (internal error: NOT deleted; retry the key).
struct DeleteObjectResult {
  std::string key;
  HttpStatus status = HttpStatus::kNoContent;
};
struct DeleteObjectsResponse {
  HttpStatus status = HttpStatus::kOk;      // 200 means "see results"; 400/503 mean nothing ran
  std::vector<DeleteObjectResult> results;  // one per requested key, in request order
};

struct ListObjectsRequest {
  std::string prefix;
  std::string continuation_token;   // "" for the first page; else the previous page's token
  int32_t max_keys = kListKeysMax;  // in [1, kListKeysMax]
};
struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  uint64_t content_hash = 0;
  int64_t last_modified_wall_nanos = 0;
  auto operator<=>(const ObjectInfo&) const = default;
};
struct ListObjectsResponse {
  HttpStatus status = HttpStatus::kOk;
  std::vector<ObjectInfo> objects;      // in key (byte) order
  bool is_truncated = false;            // more keys under the prefix follow
  std::string next_continuation_token;  // set iff is_truncated
};

inline constexpr sim::RpcMethod<PutObjectRequest, PutObjectResponse> kPutObject{"s3.put"};
inline constexpr sim::RpcMethod<GetObjectRequest, GetObjectResponse> kGetObject{"s3.get"};
inline constexpr sim::RpcMethod<DeleteObjectRequest, DeleteObjectResponse> kDeleteObject{
    "s3.delete"};
inline constexpr sim::RpcMethod<DeleteObjectsRequest, DeleteObjectsResponse> kDeleteObjects{
    "s3.delete_objects"};
inline constexpr sim::RpcMethod<ListObjectsRequest, ListObjectsResponse> kListObjects{"s3.list"};

// A key the storage accepts: 1..kKeyBytesMax bytes.
bool IsValidKey(std::string_view key);

// "{base}-{generation:08x}", the generation suffix of SPEC.md §4.3 (layers and index_part).
std::string WithGenerationSuffix(std::string_view base, uint32_t generation);
// The generation of a key ending in "-" and exactly 8 lowercase hex digits; nullopt for a legacy
// (un-suffixed) key or anything else.
std::optional<uint32_t> ParseGenerationSuffix(std::string_view key);
// The key without its generation suffix (the whole key when it has none).
std::string_view StripGenerationSuffix(std::string_view key);

}  // namespace storsim::remote_storage
