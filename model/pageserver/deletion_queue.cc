// The deletion queue: persisted lists, the validator (validate upcall, execute-or-drop rule) and
// the deleter (DeleteObjects), and the generation-minus-one relabel rule at recovery.
#include "model/pageserver/deletion_queue.h"

#include <algorithm>
#include <cstdio>

#include "model/api/upcall_api.h"
#include "model/pageserver/events.h"
#include "model/remote_storage/remote_storage_types.h"
#include "model/safekeeper/record_codec.h"
#include "sim/check.h"

namespace storsim::pageserver {
namespace {

constexpr char kListPrefix[] = "ps/deletion/list-";

std::string ListFile(uint64_t sequence) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(sequence));
  return std::string(kListPrefix) + buffer;
}

int64_t GenerationField(api::Generation generation) {
  return generation.is_none() ? 0 : generation.value();
}

}  // namespace

DeletionQueue::DeletionQueue(PageserverContext& context, DeletionQueueHost& host)
    : context_(context),
      host_(host),
      wake_(context.env->scheduler()),
      stop_(context.env->scheduler()),
      progress_(std::make_shared<sim::Event>(context.env->scheduler())) {}

void DeletionQueue::Persist(const List& list) {
  codec::RecordWriter writer;
  writer.Int(list.sequence).Str(list.shard.tenant_id).Int(list.shard.shard_number);
  writer.Int(list.shard.shard_count).Int(list.generation.value()).Int(list.keys.size());
  for (const std::string& key : list.keys) writer.Str(key);
  const std::string file = ListFile(list.sequence);
  context_.env->disk().Replace(file, {writer.Take()});
  context_.env->disk().SyncFile(file);
}

void DeletionQueue::Recover(const std::map<api::TenantShardId, api::Generation>& attached) {
  SIM_CHECK(lists_.empty());
  for (const std::string& file : context_.env->disk().List(kListPrefix)) {
    const std::vector<std::string>& records = context_.env->disk().Read(file);
    SIM_CHECK_MSG(records.size() == 1, "a deletion list file holds one record");
    codec::RecordReader reader(records[0]);
    List list;
    list.sequence = reader.Int();
    list.shard.tenant_id = reader.Str();
    list.shard.shard_number = static_cast<uint8_t>(reader.Int());
    list.shard.shard_count = static_cast<uint8_t>(reader.Int());
    list.generation = api::Generation(static_cast<uint32_t>(reader.Int()));
    const uint64_t count = reader.Int();
    SIM_CHECK(count <= records[0].size());
    for (uint64_t i = 0; i < count; ++i) list.keys.push_back(reader.Str());
    SIM_CHECK(reader.done() && file == ListFile(list.sequence));
    auto current = attached.find(list.shard);
    if (current != attached.end() && !current->second.is_none() &&
        list.generation.Next() == current->second) {
      // Same disk, generation - 1: no other node can have held the generation in between.
      context_.Emit(events::kDeletionRelabel,
                    {sim::TraceField::Str("shard", list.shard.ToString()),
                     sim::TraceField::Int("from_gen", GenerationField(list.generation)),
                     sim::TraceField::Int("to_gen", GenerationField(current->second)),
                     sim::TraceField::Int("seq", static_cast<int64_t>(list.sequence))});
      SIM_MARK("ps.deletion_relabel");
      list.generation = current->second;
      Persist(list);
    }
    for (const std::string& key : list.keys) ++pending_key_counts_[key];
    pending_keys_ += list.keys.size();
    next_sequence_ = std::max(next_sequence_, list.sequence + 1);
    lists_.emplace(list.sequence, std::move(list));
  }
}

void DeletionQueue::Start() {
  context_.env->Spawn("ps.deletion_validator", [this] { ValidatorLoop(); });
}

void DeletionQueue::Stop() {
  stop_.Set();
  NotifyProgress();
}

void DeletionQueue::Enqueue(const api::TenantShardId& shard, api::Generation generation,
                            std::vector<std::string> keys) {
  SIM_CHECK(!keys.empty());
  SIM_CHECK(!generation.is_none());
  List list{next_sequence_++, shard, generation, std::move(keys)};
  Persist(list);
  context_.Emit(events::kDeletionEnqueue,
                {sim::TraceField::Str("shard", shard.ToString()),
                 sim::TraceField::Int("gen", GenerationField(generation)),
                 sim::TraceField::Int("keys", static_cast<int64_t>(list.keys.size())),
                 sim::TraceField::Int("seq", static_cast<int64_t>(list.sequence))});
  for (const std::string& key : list.keys) ++pending_key_counts_[key];
  pending_keys_ += list.keys.size();
  lists_.emplace(list.sequence, std::move(list));
  if (pending_keys_ >= context_.options->deletion_flush_keys) wake_.Set();
}

void DeletionQueue::ProjectLsn(const api::TenantShardId& shard, api::Generation generation,
                               api::Lsn lsn) {
  SIM_CHECK(!generation.is_none());
  PendingLsn& pending = pending_lsns_[shard];
  if (pending.generation.is_none() || generation > pending.generation ||
      (generation == pending.generation && lsn > pending.lsn)) {
    pending = PendingLsn{generation, lsn};
  }
}

void DeletionQueue::DiscardLsn(const api::TenantShardId& shard) { pending_lsns_.erase(shard); }

bool DeletionQueue::HasPendingKey(const std::string& key) const {
  return pending_key_counts_.count(key) > 0;
}

void DeletionQueue::Forget(uint64_t sequence) {
  auto it = lists_.find(sequence);
  SIM_CHECK(it != lists_.end());
  for (const std::string& key : it->second.keys) {
    auto count = pending_key_counts_.find(key);
    SIM_CHECK(count != pending_key_counts_.end() && count->second > 0);
    if (--count->second == 0) pending_key_counts_.erase(count);
  }
  SIM_CHECK(pending_keys_ >= it->second.keys.size());
  pending_keys_ -= it->second.keys.size();
  const std::string file = ListFile(sequence);
  context_.env->disk().Remove(file);
  context_.env->disk().SyncFile(file);
  lists_.erase(it);
}

void DeletionQueue::NotifyProgress() {
  std::shared_ptr<sim::Event> old = progress_;
  progress_ = std::make_shared<sim::Event>(context_.env->scheduler());
  old->Set();
}

bool DeletionQueue::Flush(sim::Instant deadline) {
  // A pass running now may have taken its batch before this call: wait for the one after it.
  const uint64_t wanted = passes_completed_ + (pass_running_ ? 2 : 1);
  wake_.Set();
  // Each wake is a completed pass (or Stop); the deadline bounds the loop.
  while (passes_completed_ < wanted && !stop_.is_set()) {
    std::shared_ptr<sim::Event> progress = progress_;
    if (!progress->Wait(deadline)) break;
  }
  return passes_completed_ >= wanted;
}

void DeletionQueue::ValidatorLoop() {
  while (!stop_.is_set()) {
    const sim::Instant deadline = context_.env->DeadlineAfter(context_.options->deletion_flush_period);
    sim::WaitAny(context_.env->scheduler(), {&wake_, &stop_}, deadline);
    if (stop_.is_set()) break;
    wake_.Reset();
    pass_running_ = true;
    const bool completed = ProcessOnce();
    pass_running_ = false;
    if (completed) {
      ++passes_completed_;
      NotifyProgress();
    }
  }
  NotifyProgress();
}

bool DeletionQueue::ProcessOnce() {
  // The batch: every list pending now, and the pending lsn updates.
  std::vector<List> batch;
  for (const auto& [sequence, list] : lists_) batch.push_back(list);
  std::map<api::TenantShardId, PendingLsn> lsns = std::move(pending_lsns_);
  pending_lsns_.clear();
  if (batch.empty() && lsns.empty()) return true;
  // The generation to validate per shard: the newest pending one.
  std::map<api::TenantShardId, api::Generation> to_validate;
  for (const List& list : batch) {
    api::Generation& generation = to_validate[list.shard];
    generation = std::max(generation, list.generation);
  }
  for (const auto& [shard, pending] : lsns) {
    api::Generation& generation = to_validate[shard];
    generation = std::max(generation, pending.generation);
  }
  std::map<api::TenantShardId, bool> valid;
  std::vector<api::ValidateTenant> chunk;
  auto send = [&]() -> bool {
    if (chunk.empty()) return true;
    api::ValidateRequest request{chunk};
    std::optional<api::ValidateResponse> response = context_.CallController(
        api::kValidate, request, &stop_);
    if (!response) return false;  // shutting down: keep everything for the next incarnation
    ++counters_.validations;
    context_.Emit(events::kValidate,
                  {sim::TraceField::Int("shards", static_cast<int64_t>(chunk.size())),
                   sim::TraceField::Int("status", static_cast<int64_t>(response->status))});
    for (const api::ValidateResult& result : response->tenants) valid[result.id] = result.valid;
    chunk.clear();
    return true;
  };
  for (const auto& [shard, generation] : to_validate) {
    chunk.push_back(api::ValidateTenant{shard, generation});
    if (chunk.size() >= context_.options->validate_chunk_shards && !send()) return false;
  }
  if (!send()) return false;

  auto is_valid = [&](const api::TenantShardId& shard) {
    auto it = valid.find(shard);
    return it != valid.end() && it->second;  // omitted = invalid
  };
  for (const List& list : batch) {
    const api::Generation validated = to_validate.at(list.shard);
    const bool shard_valid = is_valid(list.shard);
    if (!shard_valid || list.generation != validated) {
      SIM_MARK("ps.deletion_dropped");
      context_.Emit(events::kDeletionDropped,
                    {sim::TraceField::Str("shard", list.shard.ToString()),
                     sim::TraceField::Int("gen", GenerationField(list.generation)),
                     sim::TraceField::Int("validated_gen", GenerationField(validated)),
                     sim::TraceField::Int("valid", shard_valid ? 1 : 0),
                     sim::TraceField::Int("keys", static_cast<int64_t>(list.keys.size())),
                     sim::TraceField::Int("seq", static_cast<int64_t>(list.sequence))});
      ++counters_.lists_dropped;
      Forget(list.sequence);
      continue;
    }
    if (host_.HoldIfBlocked(list.shard, list.generation, list.keys)) {
      Forget(list.sequence);  // now in the shard's blocked_deletions
      continue;
    }
    if (!Execute(list)) return false;  // stopping
    Forget(list.sequence);
  }
  for (const auto& [shard, pending] : lsns) {
    if (is_valid(shard) && to_validate.at(shard) == pending.generation) {
      host_.OnLsnValidated(shard, pending.generation, pending.lsn);
    }
  }
  return true;
}

bool DeletionQueue::Execute(const List& list) {
  context_.Emit(events::kDeletionExecute,
                {sim::TraceField::Str("shard", list.shard.ToString()),
                 sim::TraceField::Int("gen", GenerationField(list.generation)),
                 sim::TraceField::Int("keys", static_cast<int64_t>(list.keys.size())),
                 sim::TraceField::Int("seq", static_cast<int64_t>(list.sequence))});
  remote_storage::RemoteStorageClient client = context_.Storage(list.shard, list.generation);
  std::vector<std::string> remaining = list.keys;
  for (int attempt = 1; !remaining.empty(); ++attempt) {
    std::vector<std::string> failed;
    for (size_t begin = 0; begin < remaining.size();
         begin += remote_storage::kDeleteObjectsKeysMax) {
      const size_t end = std::min(remaining.size(), begin + remote_storage::kDeleteObjectsKeysMax);
      std::vector<std::string> keys(remaining.begin() + static_cast<std::ptrdiff_t>(begin),
                                    remaining.begin() + static_cast<std::ptrdiff_t>(end));
      auto result = client.DeleteObjects(keys);
      if (!result.ok()) {
        failed.insert(failed.end(), keys.begin(), keys.end());
        continue;
      }
      for (const std::string& key : remote_storage::FailedKeys(*result)) failed.push_back(key);
    }
    counters_.keys_executed += remaining.size() - failed.size();
    remaining = std::move(failed);
    if (remaining.empty()) break;
    if (context_.SleepOrCancel(context_.Backoff(attempt, context_.options->storage_backoff_max),
                               stop_)) {
      return false;
    }
  }
  ++counters_.lists_executed;
  return true;
}

DeletionQueueStats DeletionQueue::stats() const {
  DeletionQueueStats stats = counters_;
  stats.lists_pending = lists_.size();
  stats.keys_pending = pending_keys_;
  return stats;
}

}  // namespace storsim::pageserver
