// The fake object storage server: admission, delays, injected faults, and the five S3 calls on
// top of ObjectStore, recording every executed mutation in the harness's StorageHistory.
#include "model/remote_storage/remote_storage_server.h"

#include <memory>
#include <optional>
#include <utility>

#include "sim/check.h"

namespace storsim::remote_storage {
namespace {

constexpr std::string_view kTokenPrefix = "ct:";

std::vector<sim::TraceField> IdentityFields(const std::string& key, const StorageWriter& who) {
  std::vector<sim::TraceField> fields;
  fields.reserve(10);
  fields.push_back(sim::TraceField::Str("key", key));
  fields.push_back(sim::TraceField::Int("writer", who.process));
  fields.push_back(sim::TraceField::Int("incarnation", static_cast<int64_t>(who.incarnation)));
  fields.push_back(sim::TraceField::Int("node", who.attachment.node_id));
  fields.push_back(sim::TraceField::Int("generation", who.attachment.generation));
  fields.push_back(sim::TraceField::Str("shard", who.attachment.tenant_shard));
  return fields;
}

// One incarnation of the server. Handlers hold it by shared_ptr, so a request fiber that is
// destroyed by a crash after main's stack is gone still finds it alive while it unwinds.
class Server {
 public:
  Server(sim::Env& env, RemoteStorageState& state)
      : env_(env), state_(state), store_(env.disk(), state.options().store) {}

  void Recover();
  void Serve(const std::shared_ptr<Server>& self);

  PutObjectResponse Put(const PutObjectRequest& request, const sim::CallContext& context);
  GetObjectResponse Get(const GetObjectRequest& request, const sim::CallContext& context);
  DeleteObjectResponse Delete(const DeleteObjectRequest& request, const sim::CallContext& context);
  DeleteObjectsResponse DeleteMany(const DeleteObjectsRequest& request,
                                   const sim::CallContext& context);
  ListObjectsResponse List(const ListObjectsRequest& request, const sim::CallContext& context);

 private:
  // Counts a request in flight for as long as its handler runs (or unwinds).
  class InFlight {
   public:
    explicit InFlight(Server& server) : server_(server) { ++server_.in_flight_; }
    ~InFlight() { --server_.in_flight_; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Server& server_;
  };

  // Admission, service delay and the faults decided before execution. Returns the status to
  // answer with instead of executing, or nullopt to go ahead.
  std::optional<HttpStatus> BeforeExecution(const char* method);
  // BeforeExecution, then the key check every single-key request makes: the status to answer
  // with instead of executing, or nullopt to go ahead.
  std::optional<HttpStatus> AdmitKeyed(const char* method, const std::string& key);
  // The response delay, then the 500-after-execution fault for mutations.
  HttpStatus AfterExecution(const char* method, HttpStatus success, bool mutation);
  void EmitFault(const char* method, HttpStatus status, const char* reason);
  // Records executed deletes (present or not) in the history and the trace, in key order.
  void RecordDeletes(const std::vector<std::string>& keys, const std::vector<bool>& removed,
                     const std::vector<StoredObject>& before, const StorageWriter& deleter,
                     bool batch, uint64_t call_id);

  sim::Env& env_;
  RemoteStorageState& state_;
  ObjectStore store_;
  size_t in_flight_ = 0;
};

void Server::Recover() {
  store_.Recover();
  ++state_.stats.recoveries;
  state_.stats.recovered_objects = store_.objects().size();
  if (!store_.objects().empty()) SIM_MARK("s3.recovered_objects");
  // Recovery must be exact: what survived is exactly what the history says executed.
  const std::map<std::string, ObjectVersion> expected = state_.history().CurrentObjects();
  SIM_CHECK_MSG(expected.size() == store_.objects().size(),
                "remote storage recovery lost or resurrected objects");
  for (const auto& [key, version] : expected) {
    const StoredObject* stored = store_.Find(key);
    SIM_CHECK_MSG(stored != nullptr && stored->content_hash == version.content_hash,
                  "remote storage recovery disagrees with the history");
  }
  env_.Emit("s3.recovered",
            {sim::TraceField::Int("objects", static_cast<int64_t>(store_.objects().size())),
             sim::TraceField::Int("log_records", static_cast<int64_t>(store_.log_records()))});
}

// Registers one handler that keeps the server alive for as long as a request fiber holds it.
template <typename Request, typename Response>
void ServeMethod(sim::Rpc& rpc, sim::RpcMethod<Request, Response> method,
                 const std::shared_ptr<Server>& server,
                 Response (Server::*handler)(const Request&, const sim::CallContext&)) {
  SIM_CHECK(server != nullptr && handler != nullptr);
  rpc.Serve(method, std::function<Response(const Request&, const sim::CallContext&)>(
                        [server, handler](const Request& request, const sim::CallContext& context) {
                          return ((*server).*handler)(request, context);
                        }));
}

void Server::Serve(const std::shared_ptr<Server>& self) {
  SIM_CHECK(self.get() == this);
  sim::Rpc& rpc = env_.rpc();
  ServeMethod(rpc, kPutObject, self, &Server::Put);
  ServeMethod(rpc, kGetObject, self, &Server::Get);
  ServeMethod(rpc, kDeleteObject, self, &Server::Delete);
  ServeMethod(rpc, kDeleteObjects, self, &Server::DeleteMany);
  ServeMethod(rpc, kListObjects, self, &Server::List);
}

void Server::EmitFault(const char* method, HttpStatus status, const char* reason) {
  env_.Emit("s3.fault", {sim::TraceField::Str("method", method),
                         sim::TraceField::Int("status", static_cast<int64_t>(status)),
                         sim::TraceField::Str("reason", reason)});
}

std::optional<HttpStatus> Server::BeforeExecution(const char* method) {
  const RemoteStorageOptions& options = state_.options();
  ++state_.stats.requests;
  if (in_flight_ > options.requests_in_flight_max) {
    ++state_.stats.throttled;
    SIM_MARK("s3.throttled");
    EmitFault(method, HttpStatus::kSlowDown, "throttled");
    return HttpStatus::kSlowDown;
  }
  sim::Duration delay =
      env_.random().DurationIn(options.service_delay_min, options.service_delay_max);
  if (state_.faults.slow) {
    delay += env_.random().DurationIn(options.slow_delay_min, options.slow_delay_max);
  }
  env_.Sleep(delay);
  // Faults are read after the delay: a switch flipped while the request waited applies to it.
  const RemoteStorageFaults& faults = state_.faults;
  if (faults.outage) {
    ++state_.stats.outage_answers;
    EmitFault(method, HttpStatus::kSlowDown, "outage");
    return HttpStatus::kSlowDown;
  }
  SIM_CHECK_MSG(faults.slowdown_denominator > 0,
                "remote storage: slowdown odds need a denominator");
  if (faults.slowdown_numerator > 0 &&
      env_.random().Chance(faults.slowdown_numerator, faults.slowdown_denominator)) {
    ++state_.stats.slowdowns_injected;
    EmitFault(method, HttpStatus::kSlowDown, "slowdown");
    return HttpStatus::kSlowDown;
  }
  return std::nullopt;
}

HttpStatus Server::AfterExecution(const char* method, HttpStatus success, bool mutation) {
  const RemoteStorageOptions& options = state_.options();
  // A crash during this delay leaves the request executed with no reply.
  env_.Sleep(env_.random().DurationIn(sim::Duration::Zero(), options.response_delay_max));
  const RemoteStorageFaults& faults = state_.faults;
  SIM_CHECK_MSG(faults.internal_error_denominator > 0,
                "remote storage: internal-error odds need a denominator");
  if (mutation && faults.internal_error_numerator > 0 &&
      env_.random().Chance(faults.internal_error_numerator, faults.internal_error_denominator)) {
    ++state_.stats.internal_errors_injected;
    SIM_MARK("s3.internal_error_after_execution");
    EmitFault(method, HttpStatus::kInternalError, "after_execution");
    return HttpStatus::kInternalError;
  }
  return success;
}

std::optional<HttpStatus> Server::AdmitKeyed(const char* method, const std::string& key) {
  if (auto fault = BeforeExecution(method)) return fault;
  if (!IsValidKey(key)) {
    ++state_.stats.bad_requests;
    return HttpStatus::kBadRequest;
  }
  return std::nullopt;
}

PutObjectResponse Server::Put(const PutObjectRequest& request, const sim::CallContext& context) {
  InFlight in_flight(*this);
  PutObjectResponse response;
  if (auto refused = AdmitKeyed("put", request.key)) {
    response.status = *refused;
    return response;
  }
  // Execution: durable, recorded and traced in one step (no yield in between).
  const bool overwrote = store_.Find(request.key) != nullptr;
  const uint64_t hash = store_.Put(request.key, request.bytes, env_.WallNanos());
  const StorageWriter writer{context.from, context.from_incarnation, request.attachment};
  const int64_t size = static_cast<int64_t>(request.bytes.size());
  state_.history().RecordPut(request.key, hash, size, writer, overwrote, context.call_id);
  std::vector<sim::TraceField> fields = IdentityFields(request.key, writer);
  fields.push_back(sim::TraceField::Int("hash", static_cast<int64_t>(hash)));
  fields.push_back(sim::TraceField::Int("size", size));
  fields.push_back(sim::TraceField::Int("overwrote", overwrote ? 1 : 0));
  env_.Emit("s3.put", std::move(fields));
  ++state_.stats.puts;
  response.content_hash = hash;
  response.status = AfterExecution("put", HttpStatus::kOk, /*mutation=*/true);
  return response;
}

GetObjectResponse Server::Get(const GetObjectRequest& request, const sim::CallContext& context) {
  InFlight in_flight(*this);
  GetObjectResponse response;
  if (auto refused = AdmitKeyed("get", request.key)) {
    response.status = *refused;
    return response;
  }
  const StoredObject* object = store_.Find(request.key);
  const StorageWriter reader{context.from, context.from_incarnation, request.reader};
  std::vector<sim::TraceField> fields = IdentityFields(request.key, reader);
  fields.push_back(sim::TraceField::Int("found", object != nullptr ? 1 : 0));
  if (object != nullptr) {
    response.bytes = object->bytes;
    response.content_hash = object->content_hash;
    response.last_modified_wall_nanos = object->last_modified_wall_nanos;
    fields.push_back(sim::TraceField::Int("hash", static_cast<int64_t>(object->content_hash)));
  }
  env_.Emit("s3.get", std::move(fields));
  ++state_.stats.gets;
  const HttpStatus found = object != nullptr ? HttpStatus::kOk : HttpStatus::kNotFound;
  response.status = AfterExecution("get", found, /*mutation=*/false);
  return response;
}

void Server::RecordDeletes(const std::vector<std::string>& keys, const std::vector<bool>& removed,
                           const std::vector<StoredObject>& before, const StorageWriter& deleter,
                           bool batch, uint64_t call_id) {
  SIM_CHECK(keys.size() == removed.size() && keys.size() == before.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t hash = removed[i] ? before[i].content_hash : 0;
    const int64_t size = removed[i] ? static_cast<int64_t>(before[i].bytes.size()) : 0;
    state_.history().RecordDelete(keys[i], deleter, removed[i], hash, size, batch, call_id);
    std::vector<sim::TraceField> fields = IdentityFields(keys[i], deleter);
    fields.push_back(sim::TraceField::Int("hash", static_cast<int64_t>(hash)));
    fields.push_back(sim::TraceField::Int("existed", removed[i] ? 1 : 0));
    fields.push_back(sim::TraceField::Int("batch", batch ? 1 : 0));
    env_.Emit("s3.delete", std::move(fields));
    ++state_.stats.deletes;
  }
}

DeleteObjectResponse Server::Delete(const DeleteObjectRequest& request,
                                    const sim::CallContext& context) {
  InFlight in_flight(*this);
  DeleteObjectResponse response;
  if (auto refused = AdmitKeyed("delete", request.key)) {
    response.status = *refused;
    return response;
  }
  const StoredObject* object = store_.Find(request.key);
  std::vector<StoredObject> before(1);
  if (object != nullptr) before[0] = *object;
  const std::vector<std::string> keys{request.key};
  const std::vector<bool> removed = store_.Delete(keys);
  const StorageWriter deleter{context.from, context.from_incarnation, request.attachment};
  RecordDeletes(keys, removed, before, deleter, /*batch=*/false, context.call_id);
  response.status = AfterExecution("delete", HttpStatus::kNoContent, /*mutation=*/true);
  return response;
}

DeleteObjectsResponse Server::DeleteMany(const DeleteObjectsRequest& request,
                                         const sim::CallContext& context) {
  InFlight in_flight(*this);
  DeleteObjectsResponse response;
  if (auto fault = BeforeExecution("delete_objects")) {
    response.status = *fault;
    return response;
  }
  if (request.keys.empty() || request.keys.size() > kDeleteObjectsKeysMax) {
    ++state_.stats.bad_requests;  // S3 answers MalformedXML
    response.status = HttpStatus::kBadRequest;
    return response;
  }
  const RemoteStorageFaults& faults = state_.faults;
  SIM_CHECK(faults.delete_key_error_denominator > 0);
  response.results.reserve(request.keys.size());
  std::vector<std::string> keys;
  std::vector<StoredObject> before;
  for (const std::string& key : request.keys) {
    response.results.push_back({key, HttpStatus::kNoContent});
    if (!IsValidKey(key)) {
      response.results.back().status = HttpStatus::kBadRequest;
      continue;
    }
    if (faults.delete_key_error_numerator > 0 &&
        env_.random().Chance(faults.delete_key_error_numerator,
                             faults.delete_key_error_denominator)) {
      ++state_.stats.delete_key_errors_injected;
      response.results.back().status = HttpStatus::kInternalError;
      continue;
    }
    const StoredObject* object = store_.Find(key);
    before.push_back(object != nullptr ? *object : StoredObject{});
    keys.push_back(key);
  }
  SIM_CHECK(response.results.size() == request.keys.size());
  // Every key that passed is deleted with one durable batch, then recorded in request order.
  const std::vector<bool> removed = store_.Delete(keys);
  const StorageWriter deleter{context.from, context.from_incarnation, request.attachment};
  RecordDeletes(keys, removed, before, deleter, /*batch=*/true, context.call_id);
  response.status = AfterExecution("delete_objects", HttpStatus::kOk, /*mutation=*/true);
  if (response.status != HttpStatus::kOk) response.results.clear();
  return response;
}

ListObjectsResponse Server::List(const ListObjectsRequest& request,
                                 const sim::CallContext& context) {
  InFlight in_flight(*this);
  ListObjectsResponse response;
  if (auto fault = BeforeExecution("list")) {
    response.status = *fault;
    return response;
  }
  std::string_view start_after;
  const std::string& token = request.continuation_token;
  const bool token_ok =
      token.empty() || (token.starts_with(kTokenPrefix) && token.size() > kTokenPrefix.size());
  if (!token_ok || request.max_keys < 1 || request.max_keys > kListKeysMax ||
      request.prefix.size() > kKeyBytesMax) {
    ++state_.stats.bad_requests;
    response.status = HttpStatus::kBadRequest;
    return response;
  }
  if (!token.empty()) start_after = std::string_view(token).substr(kTokenPrefix.size());
  ObjectPage page = store_.List(request.prefix, start_after, static_cast<size_t>(request.max_keys));
  response.objects.reserve(page.keys.size());
  for (std::string& key : page.keys) {
    const StoredObject* object = store_.Find(key);
    SIM_CHECK(object != nullptr);
    response.objects.push_back(ObjectInfo{std::move(key),
                                          static_cast<int64_t>(object->bytes.size()),
                                          object->content_hash, object->last_modified_wall_nanos});
  }
  response.is_truncated = page.truncated;
  if (page.truncated) {
    SIM_CHECK(!response.objects.empty());
    response.next_continuation_token = std::string(kTokenPrefix) + response.objects.back().key;
  }
  ++state_.stats.lists;
  response.status = AfterExecution("list", HttpStatus::kOk, /*mutation=*/false);
  return response;
}

}  // namespace

RemoteStorageState::RemoteStorageState(StorageHistory& history, RemoteStorageOptions options)
    : history_(history), options_(std::move(options)) {
  SIM_CHECK(options_.service_delay_min <= options_.service_delay_max);
  SIM_CHECK(options_.slow_delay_min <= options_.slow_delay_max);
  SIM_CHECK(options_.response_delay_max >= sim::Duration::Zero());
  SIM_CHECK(options_.requests_in_flight_max > 0);
}

void RunRemoteStorage(sim::Env& env, RemoteStorageState& state) {
  auto server = std::make_shared<Server>(env, state);
  server->Recover();
  server->Serve(server);
  env.shutdown_requested().Wait();
  // Graceful stop: stop accepting; requests in flight die with the incarnation when main returns.
  for (const char* method : {kPutObject.name, kGetObject.name, kDeleteObject.name,
                             kDeleteObjects.name, kListObjects.name}) {
    env.rpc().StopServing(method);
  }
}

sim::Process::Main RemoteStorageMain(RemoteStorageState& state) {
  return [&state](sim::Env& env) { RunRemoteStorage(env, state); };
}

}  // namespace storsim::remote_storage
