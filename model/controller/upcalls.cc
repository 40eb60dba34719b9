// Pageserver upcalls (SPEC.md §4.1): re-attach hands out fresh generations for every shard whose
// generation_pageserver is the node (AttachedSingle, never Multi/Stale) and Secondary for the
// node's secondary intents; validate answers valid iff the in-memory generation AND the DB
// generation equal the requested one, omitting shards unknown in memory.
#include <algorithm>
#include <set>

#include "model/controller/defects.h"
#include "model/controller/events.h"
#include "model/controller/service.h"

namespace storsim::controller {

using sim::TraceField;

namespace {

api::Http HttpForDbError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound ? api::Http::kNotFound
                                                      : api::Http::kInternalError;
}

}  // namespace

api::ReAttachResponse Service::HandleReAttach(const api::ReAttachRequest& request) {
  api::ReAttachResponse response;
  if (request.register_node) {
    api::StatusResponse registered = HandleNodeRegister(*request.register_node);
    if (!api::IsSuccess(registered.status)) {
      response.status = registered.status;
      return response;
    }
  }
  if (!nodes_.count(request.node_id)) {
    response.status = api::Http::kNotFound;
    return response;
  }
  ++nodes_.at(request.node_id).re_attaches_begun;
  auto generations = db_.ReAttach(request.node_id);
  if (!generations.ok()) {
    response.status = HttpForDbError(generations.status());
    context_.Emit(events::kReAttach, {TraceField::Int("node", request.node_id),
                                      TraceField::Int("attached", 0), TraceField::Int("secondary", 0),
                                      TraceField::Str("result", generations.status().ToString())});
    return response;
  }
  // Every shard the DB says lives here and this instance knows: AttachedSingle at its new
  // generation. Upstream's re_attach answers from its in-memory shards: rows only in the DB (the
  // children of a split in flight, inserted by begin_shard_split with the parent's
  // generation_pageserver) get their generation incremented but are not handed out, so the
  // restarted pageserver drops them and the split's abort or completion decides their fate.
  // Handing them out attached them on the restarted node, where its activation then detached
  // them as unknown (shard-split seeds 372, 417). Pre-2024 upstream answered every DB row:
  // kDefectReAttachAnswersDbOnlyShards.
  std::set<TenantShardId> attached;
  for (const auto& [shard_id, generation] : *generations) {
    auto it = shards_.find(shard_id);
    if (it == shards_.end() && !context_.Defect(kDefectReAttachAnswersDbOnlyShards)) {
      SIM_MARK("ctl.re_attach.db_only_shard");
      continue;
    }
    attached.insert(shard_id);
    uint32_t stripe = 0;
    if (it != shards_.end()) {
      TenantShard& shard = it->second;
      stripe = shard.stripe_size;
      if (generation > shard.generation) shard.generation = generation;
      auto observed = shard.observed.locations.find(request.node_id);
      if (observed == shard.observed.locations.end()) {
        shard.observed.locations[request.node_id] = std::nullopt;
      } else if (observed->second.has_value()) {
        observed->second->generation = generation;
        // The node attaches in the mode the answer names, whatever it held before it restarted.
        if (!context_.Defect(kDefectReAttachKeepsObservedMode)) {
          observed->second->mode = api::LocationMode::kAttachedSingle;
        }
      }
      // In-flight reconcilers of these shards are not cancelled (TODO upstream).
    }
    response.tenants.push_back(
        {shard_id, generation, api::LocationMode::kAttachedSingle, stripe});
  }
  // The node restarted: whatever the controller last observed there for shards it does not
  // attach now (e.g. an AttachedSingle from before a crash) is no longer known. Keeping it made a
  // reconcile pick the restarted node as a live-migration origin and re-attach it, as
  // AttachedStale, at its pre-crash generation: one generation in two incarnations (S4, S6).
  // Uncertain (nullopt) is never an origin and makes the next reconcile re-establish the slot.
  if (!context_.Defect(kDefectReAttachKeepsStaleObserved)) {
    for (auto& [shard_id, shard] : shards_) {
      if (attached.count(shard_id)) continue;
      auto observed = shard.observed.locations.find(request.node_id);
      if (observed != shard.observed.locations.end() && observed->second.has_value()) {
        observed->second = std::nullopt;
      }
    }
  }
  // Every other shard with a secondary intent here: Secondary.
  for (const auto& [shard_id, shard] : shards_) {
    if (attached.count(shard_id)) continue;
    if (std::find(shard.intent.secondary.begin(), shard.intent.secondary.end(),
                  request.node_id) == shard.intent.secondary.end()) {
      continue;
    }
    response.tenants.push_back(
        {shard_id, std::nullopt, api::LocationMode::kSecondary, shard.stripe_size});
  }
  auto node = nodes_.find(request.node_id);
  if (node != nodes_.end()) {
    NodeState& state = node->second;
    ++state.re_attaches;
    state.warming_up_since = context_.env().Now();
    SetAvailability(state, api::NodeAvailability::kWarmingUp);
    // Memory policy reset. Upstream maps Deleting -> Active here while the DB maps it to Pause
    // (code-reading discrepancy, kept).
    const NodeSchedulingPolicy before = state.policy;
    state.policy = before == NodeSchedulingPolicy::kPause ? NodeSchedulingPolicy::kPause
                                                          : NodeSchedulingPolicy::kActive;
    if (state.policy != before) {
      context_.Emit(events::kNodePolicy,
                    {TraceField::Int("node", request.node_id),
                     TraceField::Str("policy", persistence::NodeSchedulingPolicyName(state.policy)),
                     TraceField::Str("where", "memory"), TraceField::Str("reason", "re_attach")});
    }
  }
  response.controller_term = context_.term();
  context_.Emit(events::kReAttach,
                {TraceField::Int("node", request.node_id),
                 TraceField::Int("attached", static_cast<int64_t>(attached.size())),
                 TraceField::Int("secondary",
                                 static_cast<int64_t>(response.tenants.size() - attached.size())),
                 TraceField::Str("result", "ok")});
  return response;
}

api::ValidateResponse Service::HandleValidate(const api::ValidateRequest& request) {
  api::ValidateResponse response;
  const bool trust_memory = context_.Defect(kDefectValidateTrustsMemory);
  std::vector<TenantShardId> known;
  for (const api::ValidateTenant& tenant : request.tenants) {
    if (shards_.count(tenant.id)) known.push_back(tenant.id);
  }
  persistence::GenerationMap db_generations;
  if (!trust_memory && !known.empty()) {
    // The DB re-read (PR #8784): memory can lag the DB during a live migration.
    auto read = db_.ShardGenerations(known);
    if (!read.ok()) {
      response.status = api::Http::kInternalError;
      return response;
    }
    db_generations = *read;
  }
  for (const api::ValidateTenant& tenant : request.tenants) {
    auto it = shards_.find(tenant.id);
    if (it == shards_.end()) {
      // Unknown shards are omitted (the pageserver treats that as invalid); the pre-#8784
      // code answered valid.
      if (trust_memory) {
        response.tenants.push_back({tenant.id, true});
        context_.Emit(events::kValidate,
                      {TraceField::Str("shard", tenant.id.ToString()),
                       TraceField::Int("generation", GenerationField(tenant.generation)),
                       TraceField::Int("valid", 1), TraceField::Int("memory_generation", -1),
                       TraceField::Int("db_generation", -1)});
      }
      continue;
    }
    const Generation memory = it->second.generation;
    auto db = db_generations.find(tenant.id);
    const Generation db_generation = db == db_generations.end() ? Generation() : db->second;
    const bool valid =
        memory == tenant.generation && (trust_memory || db_generation == tenant.generation);
    response.tenants.push_back({tenant.id, valid});
    context_.Emit(events::kValidate,
                  {TraceField::Str("shard", tenant.id.ToString()),
                   TraceField::Int("generation", GenerationField(tenant.generation)),
                   TraceField::Int("valid", valid ? 1 : 0),
                   TraceField::Int("memory_generation", GenerationField(memory)),
                   TraceField::Int("db_generation",
                                   trust_memory ? -1 : GenerationField(db_generation))});
  }
  return response;
}

}  // namespace storsim::controller
