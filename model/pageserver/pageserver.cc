// The pageserver process: start-up (local configs, re-attach, local reconciliation), the RPC
// surface, graceful shutdown, snapshots, and the deletion queue's hooks.
#include "model/pageserver/pageserver.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "model/api/upcall_api.h"
#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/safekeeper/record_codec.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

constexpr char kLocationPrefix[] = "ps/locations/";
constexpr char kTermFile[] = "ps/controller_term";

int64_t GenerationField(api::Generation generation) {
  return generation.is_none() ? 0 : generation.value();
}

// Registers `handler` for `method` on the process's RPC endpoint.
template <typename Req, typename Resp, typename Handler>
void Serve(sim::Env& env, sim::RpcMethod<Req, Resp> method, Handler handler) {
  env.rpc().Serve(method, std::function<Resp(const Req&, const sim::CallContext&)>(
                              [handler](const Req& request, const sim::CallContext&) {
                                return handler(request);
                              }));
}

}  // namespace

Pageserver::Pageserver(PageserverOptions options, api::ServiceEndpoints& controller,
                       sim::ProcessId safekeeper, sim::ProcessId storage, api::Defects defects)
    : options_(options),
      controller_(controller),
      safekeeper_(safekeeper),
      storage_(storage),
      defects_(std::move(defects)) {
  SIM_CHECK(options_.validate_chunk_shards > 0 && options_.checkpoint_records > 0);
  SIM_CHECK(options_.upcall_backoff_max > sim::Duration::Zero());
}

void Pageserver::Reset(sim::Env& env) {
  // Objects of the previous incarnation hold fibers that no longer exist: drop them first.
  slots_.clear();
  slot_locks_.clear();
  deletion_queue_.reset();
  env_ = &env;
  incarnation_ = env.incarnation();
  context_ = std::make_unique<PageserverContext>();
  context_->env = &env;
  context_->options = &options_;
  context_->defects = &defects_;
  context_->controller = &controller_;
  context_->safekeeper = safekeeper_;
  context_->storage = storage_;
  deletion_queue_ = std::make_unique<DeletionQueue>(*context_, *this);
  context_->deletion_queue = deletion_queue_.get();
  local_configs_.clear();
  running_ = false;
  re_attached_ = false;
  controller_term_ = 0;
}

void Pageserver::LoadLocalConfigs() {
  for (const std::string& file : env_->disk().List(kLocationPrefix)) {
    const std::vector<std::string>& records = env_->disk().Read(file);
    SIM_CHECK_MSG(records.size() == 1, "a location config file holds one record");
    api::TenantShardId shard;
    api::LocationConfig config;
    DecodeLocationConfig(records[0], &shard, &config);
    SIM_CHECK(file == kLocationPrefix + shard.ToString());
    local_configs_[shard] = config;
  }
  const std::vector<std::string>& term = env_->disk().Read(kTermFile);
  if (!term.empty()) {
    codec::RecordReader reader(term.back());
    controller_term_ = reader.Int();
  }
}

void Pageserver::PersistConfig(const api::TenantShardId& shard, const api::LocationConfig& config) {
  env_->disk().Replace(kLocationPrefix + shard.ToString(), {EncodeLocationConfig(shard, config)});
}

bool Pageserver::TermAllows(uint64_t term) {
  if (term == 0) return true;
  if (term < controller_term_) return false;
  if (term > controller_term_) {
    controller_term_ = term;
    codec::RecordWriter writer;
    writer.Int(term);
    env_->disk().Replace(kTermFile, {writer.Take()});
    env_->disk().SyncFile(kTermFile);
  }
  return true;
}

void Pageserver::ServeApi() {
  sim::Env& env = *env_;
  Serve(env, api::kPutLocationConfig,
        [this](const api::PutLocationConfigRequest& request) { return PutLocationConfig(request); });
  Serve(env, api::kListLocationConfigs, [this](const api::ListLocationConfigsRequest&) {
    api::ListLocationConfigsResponse response;
    if (!re_attached_) {
      response.status = api::Http::kServiceUnavailable;
      return response;
    }
    for (const auto& [shard, slot] : slots_) {
      response.shards.emplace_back(shard, slot.transitioning
                                              ? std::nullopt
                                              : std::optional<api::LocationConfig>(slot.config));
    }
    return response;
  });
  Serve(env, api::kGetLocationConfig, [this](const api::GetLocationConfigRequest& request) {
    api::GetLocationConfigResponse response;
    if (!re_attached_) {
      response.status = api::Http::kServiceUnavailable;
      return response;
    }
    auto it = slots_.find(request.shard);
    if (it == slots_.end()) {
      response.status = api::Http::kNotFound;
    } else if (!it->second.transitioning) {
      response.config = it->second.config;
    }
    return response;
  });
  Serve(env, api::kUtilization, [this](const api::UtilizationRequest&) {
    api::UtilizationResponse response;
    response.shard_count = static_cast<uint32_t>(slots_.size());
    uint64_t records = 0;
    for (const auto& [shard, slot] : slots_) {
      if (slot.timeline) records += slot.timeline->Snapshot().in_memory_records;
    }
    response.utilization_score = response.shard_count * 1024 + records;
    return response;
  });
  Serve(env, api::kGetPage, [this](const api::GetPageRequest& request) { return GetPage(request); });
  Serve(env, api::kTimelineLsns,
        [this](const api::TimelineLsnsRequest& request) { return TimelineLsns(request); });
  Serve(env, api::kWaitLsn, [this](const api::WaitLsnRequest& request) { return WaitLsn(request); });
  Serve(env, api::kSecondaryDownload, [this](const api::SecondaryDownloadRequest& request) {
    return SecondaryDownload(request);
  });
  Serve(env, kShardSplit, [this](const ShardSplitRequest& request) { return ShardSplit(request); });
}

bool Pageserver::ReAttach() {
  api::ReAttachRequest request;
  request.node_id = options_.node_id;
  request.register_node = api::NodeRegisterRequest{options_.node_id, env_->name(), 9898, ""};
  request.empty_local_disk = local_configs_.empty();
  std::optional<api::ReAttachResponse> response;
  sim::Event& shutdown = env_->shutdown_requested();
  // Retried forever (backoff capped at upcall_backoff_max) until answered or shut down.
  for (int attempt = 1; !response; ++attempt) {
    if (shutdown.is_set()) return false;
    int64_t status = 0;
    if (std::optional<sim::ProcessId> endpoint = controller_.Pick(env_->random())) {
      auto result = env_->rpc().Call(*endpoint, api::kReAttach, request, options_.upcall_timeout);
      if (result.ok()) {
        status = static_cast<int64_t>(result->status);
        if (result->status == api::Http::kOk) response = *std::move(result);
      }
    }
    context_->Emit(events::kReAttach, {sim::TraceField::Int("attempt", attempt),
                                       sim::TraceField::Int("status", status)});
    if (!response &&
        context_->SleepOrCancel(context_->Backoff(attempt, options_.upcall_backoff_max),
                                shutdown)) {
      return false;
    }
  }
  TermAllows(response->controller_term);

  std::map<api::TenantShardId, api::ReAttachTenant> answer;
  for (const api::ReAttachTenant& tenant : response->tenants) answer[tenant.id] = tenant;
  auto reconcile_event = [this](const api::TenantShardId& shard, const char* action,
                                api::Generation generation, api::Generation local) {
    context_->Emit(events::kLocalReconcile,
                   {sim::TraceField::Str("shard", shard.ToString()),
                    sim::TraceField::Str("action", action),
                    sim::TraceField::Int("gen", GenerationField(generation)),
                    sim::TraceField::Int("local_gen", GenerationField(local))});
  };
  for (const auto& [shard, local] : local_configs_) {
    if (answer.count(shard) > 0) continue;
    RemoveLocalData(shard);
    reconcile_event(shard, "delete", api::Generation::None(), local.generation);
  }
  std::map<api::TenantShardId, api::LocationConfig> wanted;
  std::map<api::TenantShardId, api::Generation> attached;
  for (const auto& [shard, tenant] : answer) {
    auto local = local_configs_.find(shard);
    api::LocationConfig config;
    config.shard_number = shard.shard_number;
    config.shard_count = shard.shard_count;
    config.stripe_size = tenant.stripe_size;
    if (local != local_configs_.end()) config.tenant_conf = local->second.tenant_conf;
    const api::Generation local_generation =
        local != local_configs_.end() && api::IsAttached(local->second.mode)
            ? local->second.generation
            : api::Generation::None();
    const bool attach = tenant.mode != api::LocationMode::kSecondary && tenant.generation;
    if (attach && !(local_generation > *tenant.generation)) {
      config.mode = api::LocationMode::kAttachedSingle;
      config.generation = *tenant.generation;
      attached[shard] = config.generation;
      reconcile_event(shard, "attach", config.generation, local_generation);
    } else {
      config.mode = api::LocationMode::kSecondary;
      config.secondary_warm =
          local != local_configs_.end() && local->second.mode == api::LocationMode::kSecondary
              ? local->second.secondary_warm
              : true;
      if (attach) SIM_MARK("ps.re_attach_demote");
      reconcile_event(shard, attach ? "demote" : "secondary",
                      tenant.generation.value_or(api::Generation::None()), local_generation);
    }
    wanted[shard] = config;
    PersistConfig(shard, config);
  }
  env_->disk().Sync();  // configs are durable before any tenant starts
  deletion_queue_->Recover(attached);
  deletion_queue_->Start();
  for (const auto& [shard, config] : wanted) {
    Slot& slot = slots_[shard];
    StartSlot(shard, slot, config);
  }
  re_attached_ = true;
  context_->Emit(events::kReAttachDone,
                 {sim::TraceField::Int("tenants", static_cast<int64_t>(answer.size())),
                  sim::TraceField::Int("term", static_cast<int64_t>(controller_term_))});
  return true;
}

void Pageserver::Run(sim::Env& env) {
  Reset(env);
  LoadLocalConfigs();
  running_ = true;
  context_->Emit(events::kStart, {});
  ServeApi();
  if (!ReAttach()) {
    running_ = false;
    return;
  }
  env.shutdown_requested().Wait();
  GracefulShutdown();
  running_ = false;
}

void Pageserver::GracefulShutdown() {
  const sim::Instant deadline = env_->DeadlineAfter(options_.shutdown_flush_timeout);
  // Every call below may block, and a location_config handler may change slots_ meanwhile (a
  // detach erasing a slot invalidated the iterator: a crash in the default sweep after ~2,000
  // runs in one process). Work on a copy of the slots' objects, which the shared pointers keep
  // alive.
  std::vector<std::pair<std::shared_ptr<Timeline>, std::shared_ptr<SecondaryLocation>>> held;
  held.reserve(slots_.size());
  for (const auto& [shard, slot] : slots_) held.push_back({slot.timeline, slot.secondary});
  for (const auto& [timeline, secondary] : held) {
    if (timeline && timeline->mode() != api::LocationMode::kAttachedStale) {
      timeline->FlushAndWaitUploads(deadline);
    }
  }
  // Give the deletion queue (and the remote_consistent_lsn updates just projected) one last
  // validation, bounded by the same deadline; whatever is left stays on disk for next time.
  deletion_queue_->Flush(deadline);
  deletion_queue_->Stop();
  for (const auto& [timeline, secondary] : held) {
    if (timeline) timeline->Shutdown(deadline);
    if (secondary) secondary->Shutdown(deadline);
  }
  context_->Emit(events::kShutdown, {});
}

bool Pageserver::HoldIfBlocked(const api::TenantShardId& shard, api::Generation generation,
                               const std::vector<std::string>& keys) {
  auto it = slots_.find(shard);
  if (it == slots_.end() || !it->second.timeline) return false;
  return it->second.timeline->HoldIfBlocked(generation, keys);
}

void Pageserver::OnLsnValidated(const api::TenantShardId& shard, api::Generation generation,
                                api::Lsn lsn) {
  auto it = slots_.find(shard);
  if (it == slots_.end() || !it->second.timeline) return;
  it->second.timeline->OnLsnValidated(generation, lsn);
}

PageserverSnapshot Pageserver::Snapshot() const {
  PageserverSnapshot snapshot;
  snapshot.node_id = options_.node_id;
  snapshot.incarnation = incarnation_;
  snapshot.running = running_;
  snapshot.re_attached = re_attached_;
  snapshot.controller_term = controller_term_;
  for (const auto& [shard, slot] : slots_) {
    SlotSnapshot entry;
    entry.shard = shard;
    entry.mode = slot.config.mode;
    entry.generation = slot.config.generation;
    entry.transitioning = slot.transitioning;
    entry.attached = slot.timeline != nullptr;
    if (slot.timeline) entry.timeline = slot.timeline->Snapshot();
    snapshot.slots.push_back(std::move(entry));
  }
  if (deletion_queue_) snapshot.deletion_queue = deletion_queue_->stats();
  return snapshot;
}

}  // namespace storsim::pageserver
