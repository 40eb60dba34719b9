// Location slots: PUT location_config with the generation rules of SPEC §4.2, slot teardown and
// start, local data removal.
#include <algorithm>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

constexpr char kLocationPrefix[] = "ps/locations/";

int64_t GenerationField(api::Generation generation) {
  return generation.is_none() ? 0 : generation.value();
}

}  // namespace

sim::Mutex& Pageserver::SlotLock(const api::TenantShardId& shard) {
  std::unique_ptr<sim::Mutex>& lock = slot_locks_[shard];
  if (!lock) lock = std::make_unique<sim::Mutex>(env_->scheduler());
  return *lock;
}

Timeline* Pageserver::AttachedTimeline(const api::TenantShardId& shard) {
  auto it = slots_.find(shard);
  if (it == slots_.end()) return nullptr;
  return it->second.timeline.get();
}

void Pageserver::RemoveLocalData(const api::TenantShardId& shard) {
  for (const std::string& file : env_->disk().List(LocalShardPrefix(shard))) {
    env_->disk().Remove(file);
  }
  env_->disk().Remove(kLocationPrefix + shard.ToString());
  env_->disk().Sync();
}

void Pageserver::Teardown(Slot& slot, bool flush_deletions) {
  slot.transitioning = true;
  if (flush_deletions) {
    // Advisory: give pending deletions of this generation a chance before we lose it.
    deletion_queue_->Flush(env_->DeadlineAfter(options_.teardown_flush_timeout));
  }
  const sim::Instant deadline =
      env_->DeadlineAfter(options_.storage_timeout + options_.wal_read_timeout);
  if (slot.timeline) {
    std::shared_ptr<Timeline> timeline = std::move(slot.timeline);
    slot.timeline.reset();
    timeline->Shutdown(deadline);
  }
  if (slot.secondary) {
    std::shared_ptr<SecondaryLocation> secondary = std::move(slot.secondary);
    slot.secondary.reset();
    secondary->Shutdown(deadline);
  }
}

void Pageserver::StartSlot(const api::TenantShardId& shard, Slot& slot,
                           const api::LocationConfig& config) {
  SIM_CHECK(!slot.timeline && !slot.secondary);
  slot.config = config;
  if (api::IsAttached(config.mode)) {
    slot.timeline = std::make_shared<Timeline>(*context_, shard, config);
    slot.timeline->Start();
  } else if (config.mode == api::LocationMode::kSecondary) {
    slot.secondary = std::make_shared<SecondaryLocation>(*context_, shard, config);
    slot.secondary->Start();
  }
  slot.transitioning = false;
}

void Pageserver::EmitLocationConfig(const api::PutLocationConfigRequest& request,
                                    const Slot* previous, api::Http status, const char* action) {
  context_->Emit(events::kLocationConfig,
                 {sim::TraceField::Str("shard", request.shard.ToString()),
                  sim::TraceField::Str("mode", api::LocationModeName(request.config.mode)),
                  sim::TraceField::Int("gen", GenerationField(request.config.generation)),
                  sim::TraceField::Str("prev_mode", previous != nullptr
                                                        ? api::LocationModeName(previous->config.mode)
                                                        : ""),
                  sim::TraceField::Int("prev_gen", previous != nullptr
                                                       ? GenerationField(previous->config.generation)
                                                       : 0),
                  sim::TraceField::Int("status", static_cast<int64_t>(status)),
                  sim::TraceField::Str("action", action),
                  sim::TraceField::Int("term", static_cast<int64_t>(request.config.controller_term))});
}

api::PutLocationConfigResponse Pageserver::PutLocationConfig(
    const api::PutLocationConfigRequest& request) {
  api::PutLocationConfigResponse response;
  const api::LocationConfig& config = request.config;
  if (!re_attached_) {
    // The controller's view: no location_config before the re-attach response was processed.
    SIM_MARK("ps.location_config_before_re_attach");
    response.status = api::Http::kServiceUnavailable;
    EmitLocationConfig(request, nullptr, response.status, "refused_not_ready");
    return response;
  }
  if (options_.check_controller_term && !TermAllows(config.controller_term)) {
    SIM_MARK("ps.location_config_stale_term");
    response.status = api::Http::kBadRequest;
    EmitLocationConfig(request, nullptr, response.status, "refused_term");
    return response;
  }
  if (api::IsAttached(config.mode) && config.generation.is_none()) {
    response.status = api::Http::kBadRequest;  // attached modes require a generation
    EmitLocationConfig(request, nullptr, response.status, "refused_no_gen");
    return response;
  }
  sim::MutexLock lock(SlotLock(request.shard));
  auto it = slots_.find(request.shard);
  Slot* existing = it != slots_.end() ? &it->second : nullptr;
  if (existing != nullptr && existing->timeline && api::IsAttached(config.mode)) {
    const api::Generation current = existing->timeline->generation();
    if (config.generation < current) {
      SIM_MARK("ps.location_config_lower_generation");
      response.status = api::Http::kBadRequest;  // S5: never go back
      EmitLocationConfig(request, existing, response.status, "refused_lower_gen");
      return response;
    }
    if (config.generation == current) {
      const Slot previous = *existing;
      PersistConfig(request.shard, config);
      env_->disk().Sync();
      existing->config = config;
      existing->timeline->SetConfig(config);
      EmitLocationConfig(request, &previous, response.status, "in_place");
      if (config.mode == api::LocationMode::kAttachedStale && request.flush > sim::Duration::Zero()) {
        // Wait for uploads up to flush_ms, then proceed anyway.
        std::shared_ptr<Timeline> timeline = existing->timeline;
        timeline->FlushAndWaitUploads(env_->DeadlineAfter(request.flush));
      }
      return response;
    }
  }
  // Any other transition: tear down and start fresh.
  std::optional<Slot> previous;
  if (existing != nullptr) {
    previous = Slot{existing->config, nullptr, nullptr, false};
    const bool flush = existing->timeline &&
                       existing->timeline->mode() != api::LocationMode::kAttachedStale;
    Teardown(*existing, flush);
  }
  if (config.mode == api::LocationMode::kDetached) {
    RemoveLocalData(request.shard);
    slots_.erase(request.shard);
    EmitLocationConfig(request, previous ? &*previous : nullptr, response.status, "detach");
    return response;
  }
  PersistConfig(request.shard, config);
  env_->disk().Sync();
  Slot& slot = slots_[request.shard];
  StartSlot(request.shard, slot, config);
  EmitLocationConfig(request, previous ? &*previous : nullptr, response.status, "fresh");
  return response;
}

}  // namespace storsim::pageserver
