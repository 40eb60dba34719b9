// Shard split on the pageserver (split_api.h): the attached parent stops after a last flush and
// index upload, its last uploaded index is copied to each child's prefix at the parent's
// generation, and the children are attached here in that generation; the parent's slot and local
// data go. Order matters for the WAL: the parent is stopped before its index is read, so no
// feedback (which only follows validated uploads) can have moved the safekeeper's trim horizon
// past the copied index's disk_consistent_lsn, and each child ingests from there.
#include <algorithm>

#include "model/pageserver/events.h"
#include "model/pageserver/layer.h"
#include "model/pageserver/pageserver.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

int64_t GenerationField(api::Generation generation) {
  return generation.is_none() ? 0 : generation.value();
}

std::string ChildrenString(const std::vector<api::TenantShardId>& children) {
  std::string out;
  for (const api::TenantShardId& child : children)
    out += (out.empty() ? "" : ",") + child.ToString();
  return out;
}

}  // namespace

bool Pageserver::CopyIndexToChildren(const std::vector<api::TenantShardId>& children,
                                     const IndexPart& index, sim::Instant deadline) {
  const std::string bytes = EncodeIndex(index);
  for (const api::TenantShardId& child : children) {
    remote_storage::RemoteStorageClient client = context_->Storage(child, index.generation);
    const std::string key = IndexKey(child, options_.timeline_id, index.generation);
    bool stored = false;
    // Bounded by the deadline: every failed attempt sleeps a capped back-off first.
    for (int attempt = 1; attempt <= 1000 && !stored; ++attempt) {
      if (env_->scheduler().Now() >= deadline) return false;
      auto result = client.Put(key, bytes);
      if (result.ok()) {
        stored = true;
        break;
      }
      env_->Sleep(context_->Backoff(attempt, options_.storage_backoff_max));
    }
    if (!stored) return false;
    context_->Emit(events::kIndexUpload,
                   {sim::TraceField::Str("shard", child.ToString()),
                    sim::TraceField::Int("gen", GenerationField(index.generation)),
                    sim::TraceField::Str("key", key),
                    sim::TraceField::Int("dcl", static_cast<int64_t>(index.disk_consistent_lsn)),
                    sim::TraceField::Int("layers", static_cast<int64_t>(index.layers.size()))});
  }
  return true;
}

ShardSplitResponse Pageserver::ShardSplit(const ShardSplitRequest& request) {
  ShardSplitResponse response;
  const std::vector<api::TenantShardId> children =
      SplitChildren(request.parent, request.new_shard_count);
  auto emit = [&](const char* result, api::Generation generation) {
    context_->Emit(events::kShardSplit,
                   {sim::TraceField::Str("shard", request.parent.ToString()),
                    sim::TraceField::Int("gen", GenerationField(generation)),
                    sim::TraceField::Str("children", ChildrenString(children)),
                    sim::TraceField::Int("status", static_cast<int64_t>(response.status)),
                    sim::TraceField::Str("result", result)});
  };
  if (!re_attached_) {
    response.status = api::Http::kServiceUnavailable;
    emit("not_ready", api::Generation::None());
    return response;
  }
  if (children.empty()) {
    response.status = api::Http::kBadRequest;
    emit("bad_count", api::Generation::None());
    return response;
  }
  sim::MutexLock lock(SlotLock(request.parent));
  auto it = slots_.find(request.parent);
  if (it == slots_.end() || !it->second.timeline) {
    // A retry of a split that already happened here: every child is attached.
    bool all_attached = true;
    for (const api::TenantShardId& child : children) {
      auto found = slots_.find(child);
      if (found == slots_.end() || !found->second.timeline) all_attached = false;
    }
    response.status = all_attached ? api::Http::kOk : api::Http::kNotFound;
    if (all_attached) response.children = children;
    emit(all_attached ? "already_split" : "no_parent", api::Generation::None());
    return response;
  }
  Slot& parent = it->second;
  const api::LocationConfig parent_config = parent.config;
  if (parent_config.mode != api::LocationMode::kAttachedSingle) {
    response.status = api::Http::kConflict;
    emit("not_single", parent_config.generation);
    return response;
  }
  const api::Generation generation = parent_config.generation;
  // Preparing the children takes time in proportion to the parent's data: split_prepare is the
  // whole tenant's, and a shard of a sharded tenant holds 1/shard_count of it (the controller
  // splits a tenant's shards one after another, so a whole split takes about split_prepare).
  const sim::Duration prepare =
      options_.split_prepare / std::max<int64_t>(1, request.parent.shard_count);
  // The flush and the index copies share one bound; preparing the children is not part of it.
  const sim::Instant deadline = env_->DeadlineAfter(options_.shutdown_flush_timeout + prepare);
  std::shared_ptr<Timeline> timeline = parent.timeline;
  if (!timeline->FlushAndWaitUploads(deadline)) {
    response.status = api::Http::kServiceUnavailable;
    emit("flush_timeout", generation);
    return response;
  }
  if (prepare > sim::Duration::Zero()) env_->Sleep(prepare);
  // Stop the parent, then read what it last uploaded (see the file comment).
  Teardown(parent, /*flush_deletions=*/false);
  IndexPart index = timeline->last_uploaded_index().value_or(IndexPart{});
  index.generation = generation;
  if (!CopyIndexToChildren(children, index, deadline)) {
    // The parent keeps its slot: start it again in its generation (it reloads its index).
    StartSlot(request.parent, parent, parent_config);
    response.status = api::Http::kServiceUnavailable;
    emit("copy_timeout", generation);
    return response;
  }
  for (const api::TenantShardId& child : children) {
    api::LocationConfig config = parent_config;
    config.shard_number = child.shard_number;
    config.shard_count = child.shard_count;
    sim::MutexLock child_lock(SlotLock(child));
    auto existing = slots_.find(child);
    if (existing != slots_.end()) Teardown(existing->second, /*flush_deletions=*/false);
    PersistConfig(child, config);
    env_->disk().Sync();
    Slot& slot = slots_[child];
    StartSlot(child, slot, config);
    api::PutLocationConfigRequest as_request{child, config, sim::Duration::Zero(), false};
    EmitLocationConfig(as_request, nullptr, api::Http::kOk, "split");
  }
  RemoveLocalData(request.parent);
  slots_.erase(request.parent);
  response.children = children;
  emit("split", generation);
  return response;
}

}  // namespace storsim::pageserver
