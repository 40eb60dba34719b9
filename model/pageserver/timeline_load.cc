// Timeline loading on attach: index selection (SPEC §4.3: GET at g, else g-1, else LIST and take
// the newest <= g, else the legacy key), layer downloads (local copies reused), and future layers
// (local layers the index does not know).
#include <algorithm>
#include <set>

#include "model/pageserver/deletion_queue.h"
#include "model/pageserver/events.h"
#include "model/pageserver/timeline.h"
#include "model/remote_storage/remote_storage_types.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

enum class Fetch : uint8_t { kFound, kNotFound, kCancelled };

// GETs `key`, retrying transport and 5xx errors until found, absent, or `cancel` is set.
Fetch GetWithRetry(const PageserverContext& context, remote_storage::RemoteStorageClient& client,
                   const std::string& key, sim::Event& cancel, std::string* bytes) {
  for (int attempt = 1;; ++attempt) {
    if (cancel.is_set()) return Fetch::kCancelled;
    auto result = client.Get(key);
    if (result.ok()) {
      *bytes = std::move(result->bytes);
      return Fetch::kFound;
    }
    if (result.status().code() == absl::StatusCode::kNotFound) return Fetch::kNotFound;
    SIM_CHECK_MSG(remote_storage::IsRetryableStorageError(result.status()),
                  "a GET of a well-formed key can only fail transiently");
    if (context.SleepOrCancel(context.Backoff(attempt, context.options->storage_backoff_max),
                              cancel)) {
      return Fetch::kCancelled;
    }
  }
}

}  // namespace

std::optional<IndexPart> Timeline::SelectIndex(std::string* key) {
  remote_storage::RemoteStorageClient client = context_.Storage(shard_, config_.generation);
  const uint64_t timeline_id = context_.options->timeline_id;
  const uint32_t generation = config_.generation.value();
  std::string bytes;
  auto try_key = [&](const std::string& candidate) -> Fetch {
    Fetch fetch = GetWithRetry(context_, client, candidate, cancel_, &bytes);
    if (fetch == Fetch::kFound) *key = candidate;
    return fetch;
  };
  // 1. Our own generation (a stale re-attach in the same generation), 2. the previous one.
  std::vector<uint32_t> candidates = {generation};
  if (generation >= 2) candidates.push_back(generation - 1);
  for (uint32_t candidate : candidates) {
    const Fetch fetch = try_key(IndexKey(shard_, timeline_id, api::Generation(candidate)));
    if (fetch == Fetch::kCancelled) return std::nullopt;
    if (fetch == Fetch::kFound) return DecodeIndex(bytes);
  }
  // 3. LIST: the newest generation <= ours.
  const std::string base = IndexKeyBase(shard_, timeline_id);
  for (int attempt = 1;; ++attempt) {
    if (cancelled()) return std::nullopt;
    auto listing = client.ListAll(base);
    if (!listing.ok()) {
      if (context_.SleepOrCancel(context_.Backoff(attempt, context_.options->storage_backoff_max),
                                 cancel_)) {
        return std::nullopt;
      }
      continue;
    }
    std::optional<uint32_t> best;
    for (const remote_storage::ObjectInfo& object : *listing) {
      std::optional<uint32_t> suffix = remote_storage::ParseGenerationSuffix(object.key);
      if (!suffix || remote_storage::StripGenerationSuffix(object.key) != base) continue;
      if (*suffix <= generation && (!best || *suffix > *best)) best = suffix;
    }
    if (best) {
      SIM_MARK("ps.index_selected_by_list");
      const Fetch fetch = try_key(IndexKey(shard_, timeline_id, api::Generation(*best)));
      if (fetch == Fetch::kCancelled) return std::nullopt;
      if (fetch == Fetch::kFound) return DecodeIndex(bytes);
    }
    break;
  }
  // 4. The legacy, un-suffixed index.
  const Fetch fetch = try_key(base);
  if (fetch == Fetch::kFound) return DecodeIndex(bytes);
  return std::nullopt;
}

bool Timeline::DownloadLayers(const IndexPart& index, std::vector<std::string>* remote_garbage) {
  remote_storage::RemoteStorageClient client = context_.Storage(shard_, config_.generation);
  for (const LayerDesc& desc : index.layers) {
    Layer layer;
    layer.desc = desc;
    const std::string file = LocalLayerFile(shard_, desc);
    bool have_local = false;
    if (context_.env->disk().Exists(file) && context_.env->disk().Read(file).size() == 1) {
      LayerDesc local;
      DecodeLayer(context_.env->disk().Read(file)[0], &local, &layer.data);
      have_local = local == desc;
      if (!have_local) {
        // Same range and generation, another writer: an earlier incarnation of this shard (a
        // split's child attached before the split was aborted and retried) wrote it. Upstream
        // checks a local layer against the index's metadata and downloads again on a mismatch.
        SIM_MARK("ps.local_layer_mismatch");
        layer.data = {};
        DiscardLocalLayer(file, remote_garbage);
      }
    }
    if (!have_local) {
      std::string bytes;
      const std::string key = LayerKey(desc, context_.options->timeline_id);
      const Fetch fetch = GetWithRetry(context_, client, key, cancel_, &bytes);
      if (fetch == Fetch::kCancelled) return false;
      if (fetch == Fetch::kNotFound) {
        // The index references an object that is gone: S8 was violated somewhere.
        SIM_MARK("ps.layer_missing");
        layer.missing = true;
        context_.Emit(events::kLayerMissing, {sim::TraceField::Str("shard", shard_.ToString()),
                                              sim::TraceField::Int("gen", Gen()),
                                              sim::TraceField::Str("key", key)});
      } else {
        LayerDesc remote;
        DecodeLayer(bytes, &remote, &layer.data);
        SIM_CHECK(remote == desc);
        StoreLocal(layer);
      }
    }
    layers_[desc.FileName()] = std::move(layer);
  }
  return true;
}

void Timeline::DiscardLocalLayer(const std::string& file,
                                 std::vector<std::string>* remote_garbage) {
  const std::vector<std::string>& records = context_.env->disk().Read(file);
  if (records.size() == 1) {
    LayerDesc desc;
    VersionMap data;
    DecodeLayer(records[0], &desc, &data);
    if (desc.generation == config_.generation) {
      // Written (and maybe uploaded) by this generation before the index recorded it: its key
      // will be written again by re-ingest, so it must be deleted remotely first.
      const std::string key = LayerKey(desc, context_.options->timeline_id);
      SIM_MARK("ps.future_layer");
      context_.Emit(events::kFutureLayer, {sim::TraceField::Str("shard", shard_.ToString()),
                                           sim::TraceField::Int("gen", Gen()),
                                           sim::TraceField::Str("key", key)});
      remote_garbage->push_back(key);
    }
  }
  context_.env->disk().Remove(file);
}

void Timeline::HandleFutureLayers(const IndexPart& index, std::vector<std::string> remote_garbage) {
  std::set<std::string> referenced;
  for (const LayerDesc& desc : index.layers) referenced.insert(LocalLayerFile(shard_, desc));
  for (const std::string& file : context_.env->disk().List(LocalLayerPrefix(shard_))) {
    if (referenced.count(file) > 0) continue;
    DiscardLocalLayer(file, &remote_garbage);
  }
  context_.env->disk().Sync();
  QueueDeletion(std::move(remote_garbage));
}

bool Timeline::Load() {
  std::string key;
  std::optional<IndexPart> index = SelectIndex(&key);
  if (cancelled()) return false;
  int64_t index_generation = -1;
  if (index) {
    // S7: never an index from a newer generation.
    SIM_CHECK_MSG(index->generation <= config_.generation, "loaded an index above our generation");
    index_generation = index->generation.is_none() ? 0 : index->generation.value();
    loaded_index_generation_ = index->generation;
    last_uploaded_index_ = index;
  }
  context_.Emit(events::kIndexLoad,
                {sim::TraceField::Str("shard", shard_.ToString()), sim::TraceField::Int("gen", Gen()),
                 sim::TraceField::Int("index_gen", index_generation),
                 sim::TraceField::Int("dcl", index ? static_cast<int64_t>(index->disk_consistent_lsn) : 0),
                 sim::TraceField::Str("key", key)});
  const IndexPart loaded = index.value_or(IndexPart{});
  std::vector<std::string> remote_garbage;
  if (index && !DownloadLayers(loaded, &remote_garbage)) return false;
  disk_consistent_lsn_ = loaded.disk_consistent_lsn;
  last_record_lsn_ = loaded.disk_consistent_lsn;
  remote_projected_ = loaded.disk_consistent_lsn;
  gc_cutoff_ = loaded.gc_cutoff;
  if (config_.mode != api::LocationMode::kAttachedStale) {
    QueueIndexUpload();  // the index now exists in this generation
  }
  HandleFutureLayers(loaded, std::move(remote_garbage));
  state_ = TimelineState::kActive;
  active_.Set();
  context_.Emit(events::kActivate, {sim::TraceField::Str("shard", shard_.ToString()),
                                    sim::TraceField::Int("gen", Gen()),
                                    sim::TraceField::Int("lsn", static_cast<int64_t>(last_record_lsn_))});
  NotifyLsn();
  return true;
}

}  // namespace storsim::pageserver
