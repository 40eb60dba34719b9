// Test harness for the pageserver: one simulation with object storage, a safekeeper, a scripted
// fake controller (re-attach and validate answered from a table the test edits), and pageserver
// processes; helpers to run client scripts (WAL appends, location_config, GetPage) and to read
// the trace. Used only by the pageserver tests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/api/pageserver_api.h"
#include "model/api/safekeeper_api.h"
#include "model/api/service.h"
#include "model/api/upcall_api.h"
#include "model/pageserver/pageserver.h"
#include "model/remote_storage/remote_storage_client.h"
#include "model/remote_storage/remote_storage_server.h"
#include "model/remote_storage/storage_history.h"
#include "model/safekeeper/safekeeper.h"
#include "sim/env.h"
#include "sim/simulation.h"

namespace storsim::pageserver::testing {

// The controller stand-in: answers from tables, which tests edit between steps.
struct FakeController {
  // The "database": generation per shard, and which node holds it attached / as secondary.
  std::map<api::TenantShardId, uint32_t> generation;
  std::map<api::TenantShardId, api::NodeId> attached_node;
  std::map<api::TenantShardId, api::NodeId> secondary_node;
  bool answer_re_attach = true;        // false: 503
  bool answer_validate = true;         // false: 503
  bool increment_on_re_attach = true;  // false: hand back the same generation (RFC 025 unsafe)
  uint64_t controller_term = 0;
  int re_attach_calls = 0;
  int validate_calls = 0;
  std::vector<api::ValidateRequest> validate_requests;

  api::ReAttachResponse ReAttach(const api::ReAttachRequest& request) {
    ++re_attach_calls;
    api::ReAttachResponse response;
    response.controller_term = controller_term;
    if (!answer_re_attach) {
      response.status = api::Http::kServiceUnavailable;
      return response;
    }
    for (auto& [shard, node] : attached_node) {
      if (node != request.node_id) continue;
      if (increment_on_re_attach) ++generation[shard];
      response.tenants.push_back(api::ReAttachTenant{
          shard, api::Generation(generation[shard]), api::LocationMode::kAttachedSingle, 0});
    }
    for (auto& [shard, node] : secondary_node) {
      if (node != request.node_id) continue;
      response.tenants.push_back(
          api::ReAttachTenant{shard, std::nullopt, api::LocationMode::kSecondary, 0});
    }
    return response;
  }

  api::ValidateResponse Validate(const api::ValidateRequest& request) {
    ++validate_calls;
    validate_requests.push_back(request);
    api::ValidateResponse response;
    if (!answer_validate) {
      response.status = api::Http::kServiceUnavailable;
      return response;
    }
    for (const api::ValidateTenant& tenant : request.tenants) {
      auto it = generation.find(tenant.id);
      if (it == generation.end()) continue;  // unknown: omitted
      response.tenants.push_back(
          api::ValidateResult{tenant.id, api::Generation(it->second) == tenant.generation});
    }
    return response;
  }
};

class Harness {
 public:
  explicit Harness(uint64_t seed = 1, PageserverOptions options = DefaultOptions(),
                   api::Defects defects = {});
  ~Harness();

  static PageserverOptions DefaultOptions() {
    PageserverOptions options;
    options.checkpoint_records = 8;
    options.checkpoint_timeout = sim::Duration::Seconds(2);
    options.wait_lsn_timeout = sim::Duration::Seconds(5);
    options.deletion_flush_period = sim::Duration::Seconds(2);
    return options;
  }

  // Adds and starts another pageserver with `node_id` (same options otherwise).
  sim::Process& AddPageserver(api::NodeId node_id);
  Pageserver& ps(size_t index = 0) { return *pageservers_.at(index); }
  sim::Process& ps_process(size_t index = 0) { return *ps_processes_.at(index); }

  // Runs `script` in a fresh client process until it returns (at most `limit`).
  bool Run(std::function<void(sim::Env&)> script, sim::Duration limit = sim::Duration::Minutes(10));
  void RunFor(sim::Duration duration) { simulation.RunFor(duration); }

  // Client calls (from inside a Run script).
  api::Lsn Append(sim::Env& env, const std::string& tenant, uint64_t key, const std::string& value);
  api::Http PutConfig(sim::Env& env, size_t ps_index, const api::TenantShardId& shard,
                      api::LocationConfig config, sim::Duration flush = sim::Duration::Zero());
  api::GetPageResponse GetPage(sim::Env& env, size_t ps_index, const api::TenantShardId& shard,
                               uint64_t key, api::Lsn lsn);
  remote_storage::RemoteStorageClient Storage(sim::Env& env) {
    return remote_storage::RemoteStorageClient(env, storage_->id());
  }

  // Snapshot helpers.
  std::optional<SlotSnapshot> Slot(size_t ps_index, const api::TenantShardId& shard);
  bool StorageHas(const std::string& key) const {
    return storage_history.Current(key).has_value();
  }
  std::vector<sim::TraceEvent> EventsOf(std::string_view kind) const;
  // Runs until pageserver `index`'s current incarnation processed its re-attach answer.
  bool WaitReAttached(size_t index = 0, sim::Duration limit = sim::Duration::Minutes(2)) {
    return RunUntil(
        [this, index] {
          PageserverSnapshot snapshot = pageservers_.at(index)->Snapshot();
          return snapshot.re_attached &&
                 snapshot.incarnation == ps_processes_.at(index)->incarnation();
        },
        limit);
  }
  // Runs until pageserver `index`'s current incarnation has `shard` attached and active.
  bool WaitActive(size_t index, const api::TenantShardId& shard,
                  sim::Duration limit = sim::Duration::Minutes(2)) {
    if (!WaitReAttached(index, limit)) return false;
    return RunUntil(
        [this, index, shard] {
          std::optional<SlotSnapshot> slot = Slot(index, shard);
          return slot && slot->timeline.state == TimelineState::kActive;
        },
        limit);
  }
  // Runs until `predicate` holds (checked every 100 ms) or `limit` passes. Returns it.
  bool RunUntil(std::function<bool()> predicate, sim::Duration limit = sim::Duration::Minutes(2));

  static api::LocationConfig Attached(api::LocationMode mode, uint32_t generation,
                                      uint64_t term = 0) {
    api::LocationConfig config;
    config.mode = mode;
    config.generation = api::Generation(generation);
    config.controller_term = term;
    return config;
  }

  sim::Simulation simulation;
  remote_storage::StorageHistory storage_history;
  remote_storage::RemoteStorageState storage_state;
  safekeeper::Safekeeper safekeeper;
  FakeController controller;
  api::ServiceEndpoints controller_service{"controller"};
  sim::MemoryTraceSink trace;
  sim::Process* storage_ = nullptr;
  sim::Process* safekeeper_process = nullptr;
  sim::Process* controller_process = nullptr;

 private:
  PageserverOptions options_;
  api::Defects defects_;
  std::vector<std::unique_ptr<Pageserver>> pageservers_;
  std::vector<sim::Process*> ps_processes_;
  int clients_ = 0;
};

}  // namespace storsim::pageserver::testing
